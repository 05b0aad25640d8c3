"""explain_step: one training step in the chapter's notation, held to the engine's
backpropagation, to the optimiser's step inside fit, and to PyTorch autograd (float64)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

import backprop as bp
from backprop.cli import main

TOL = 1e-12


def _data(n_features: int, n_outputs: int, loss: str, rows: int = 6, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, n_features))
    if loss == "categorical_crossentropy":
        y = rng.integers(0, n_outputs, rows)
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, (rows, n_outputs)).astype(float)
    else:
        y = rng.standard_normal((rows, n_outputs))
    return X, y


CASES = [  # hidden activation, output activation, loss (fused pairs and the general rule)
    ("relu", "sigmoid", "binary_crossentropy"),
    ("tanh", "sigmoid", "mse"),
    ("sigmoid", "softmax", "categorical_crossentropy"),
    ("elu", "identity", "mse"),
    ("relu", "softmax", "mse"),
    ("gelu", "identity", "huber"),
]


def _model(hidden, output, n_out=3, sizes=None):
    return bp.MLP(sizes or [3, 5, 4, n_out], activation=hidden, output_activation=output,
                  seed=2, dtype="float64")


def test_a_hand_worked_step():
    # One input, one ReLU unit, one sigmoid output, squared error, SGD with η = 0.1:
    # W⁽¹⁾ = 0.5, W⁽²⁾ = 2, biases 0, x = 1, y = 1.
    model = bp.MLP([1, 1, 1], activation="relu", output_activation="sigmoid", seed=0,
                   dtype="float64")
    model.weights[0][...] = 0.5
    model.weights[1][...] = 2.0
    step = bp.explain_step(model, [[1.0]], [1.0], loss="mse", optimizer=bp.SGD(lr=0.1))
    l1, l2 = step.layers
    # z⁽¹⁾ = 1·0.5 + 0 = 0.5, a⁽¹⁾ = relu(0.5) = 0.5; z⁽²⁾ = 0.5·2 = 1, a⁽²⁾ = σ(1)
    a2 = 1 / (1 + math.exp(-1))                      # 0.7310585786...
    assert l1.z[0, 0] == 0.5 and l1.a[0, 0] == 0.5 and l2.z[0, 0] == 1.0
    assert l2.a[0, 0] == pytest.approx(a2, abs=TOL)
    # L = ½(a⁽²⁾ − y)² = 0.0361647...; ∂L/∂a⁽²⁾ = a⁽²⁾ − y = −0.2689...
    assert step.loss_value == pytest.approx(0.5 * (a2 - 1) ** 2, abs=TOL)
    assert step.output_gradient[0, 0] == pytest.approx(a2 - 1, abs=TOL)
    # δ⁽²⁾ = (a⁽²⁾ − y)·σ'(z⁽²⁾) = (a⁽²⁾ − 1)·a⁽²⁾(1 − a⁽²⁾) = −0.05287...
    d2 = (a2 - 1) * a2 * (1 - a2)
    assert l2.delta[0, 0] == pytest.approx(d2, abs=TOL)
    # ∂L/∂W⁽²⁾ = a⁽¹⁾·δ⁽²⁾ = 0.5·δ⁽²⁾; δ⁽¹⁾ = δ⁽²⁾·W⁽²⁾·relu'(0.5) = 2δ⁽²⁾; ∂L/∂W⁽¹⁾ = x·δ⁽¹⁾
    assert l2.dW[0, 0] == pytest.approx(0.5 * d2, abs=TOL)
    assert l1.delta[0, 0] == pytest.approx(2 * d2, abs=TOL)
    assert l1.dW[0, 0] == pytest.approx(2 * d2, abs=TOL) and l1.db[0] == l1.dW[0, 0]
    # W ← W − η·∂L/∂W: 0.5 − 0.1·2δ⁽²⁾ = 0.51057..., 2 − 0.1·0.5δ⁽²⁾ = 2.00264...
    assert l1.W_new[0, 0] == pytest.approx(0.5 - 0.1 * 2 * d2, abs=TOL)
    assert l2.W_new[0, 0] == pytest.approx(2.0 - 0.1 * 0.5 * d2, abs=TOL)


@pytest.mark.parametrize("hidden, output, loss", CASES)
def test_gradients_are_the_engines_and_equal_the_chapters_formulas(hidden, output, loss):
    model = _model(hidden, output)
    X, y = _data(3, 3, loss)
    step = bp.explain_step(model, X, y, loss=loss)
    value, grads = model.loss_and_gradients(X, y, loss=loss)
    assert step.loss_value == value
    for s, (dW, db) in zip(step.layers, grads):
        np.testing.assert_array_equal(s.dW, dW)
        np.testing.assert_array_equal(s.db, db)
        # the chapter: ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾ and ∂L/∂b⁽ˡ⁾ = Σₙ δ⁽ˡ⁾, from this module's δ
        np.testing.assert_allclose(s.a_prev.T @ s.delta, dW, rtol=0, atol=TOL)
        np.testing.assert_allclose(s.delta.sum(axis=0), db, rtol=0, atol=TOL)
        assert s.check <= TOL
    fused = loss in ("binary_crossentropy", "categorical_crossentropy")
    assert (step.output_gradient is None) == fused
    assert ("fused" in step.output_delta) == fused


@pytest.mark.parametrize("optimizer", [
    lambda: bp.SGD(lr=0.1), lambda: bp.SGD(lr=0.05, momentum=0.9, nesterov=True),
    lambda: bp.Adam(lr=0.01), lambda: bp.RMSprop(lr=0.01), lambda: bp.AdamW(lr=0.01),
])
@pytest.mark.parametrize("hidden, output, loss", CASES[:3])
def test_new_weights_equal_one_full_batch_epoch_of_fit(hidden, output, loss, optimizer):
    model = _model(hidden, output)
    X, y = _data(3, 3, loss)
    step = bp.explain_step(model, X, y, loss=loss, optimizer=optimizer())
    trained = copy.deepcopy(model)
    trained.fit(X, y, loss=loss, optimizer=optimizer(), epochs=1, batch_size=None)
    for s, W, b in zip(step.layers, trained.weights, trained.biases):
        np.testing.assert_allclose(s.W_new, W, rtol=0, atol=TOL)
        np.testing.assert_allclose(s.b_new, b, rtol=0, atol=TOL)


@pytest.mark.parametrize("hidden, output, loss", [CASES[0], CASES[1], CASES[2]])
def test_every_delta_is_dL_dz_by_pytorch_autograd(torch, hidden, output, loss):
    model = _model(hidden, output)
    X, y = _data(3, 3, loss)
    step = bp.explain_step(model, X, y, loss=loss)
    acts = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
            "softmax": lambda z: torch.softmax(z, dim=1)}
    a = torch.as_tensor(X)
    zs = []
    for k, (W, b) in enumerate(zip(model.weights, model.biases)):
        W_t = torch.tensor(W, requires_grad=True)  # the graph needs a leaf that learns
        z = a @ W_t + torch.as_tensor(b)
        z.retain_grad()
        zs.append(z)
        a = acts[hidden if k < len(model.weights) - 1 else output](z)
    T = torch.as_tensor(step.T)
    if loss == "binary_crossentropy":
        L = -(T * torch.log(a) + (1 - T) * torch.log(1 - a)).mean()
    elif loss == "categorical_crossentropy":
        L = -(T * torch.log(a)).sum(dim=1).mean()
    else:
        L = 0.5 * ((a - T) ** 2).mean()
    L.backward()
    assert L.detach().item() == pytest.approx(step.loss_value, abs=TOL)
    for s, z in zip(step.layers, zs):
        np.testing.assert_allclose(s.delta, z.grad.numpy(), rtol=0, atol=TOL)


def test_large_layers_are_cut_and_keep_their_shapes():
    model = bp.MLP([64, 128, 10], output_activation="softmax", seed=0, dtype="float64")
    X, y = _data(64, 10, "categorical_crossentropy", rows=20)
    step = bp.explain_step(model, X, y, loss="categorical_crossentropy")
    tables = {t["symbol"]: t for t in step.tables(max_rows=4, max_cols=5)}
    z1 = tables["z⁽¹⁾"]
    assert z1["shape"] == [20, 128]
    assert z1["header"] == ["", "1", "2", "3", "4", "…", "128"]
    assert [row[0] for row in z1["rows"]] == ["1", "2", "3", "⋮", "20"]
    assert tables["b⁽¹⁾"]["shape"] == [128] and len(tables["b⁽¹⁾"]["rows"]) == 1
    md = step.to_markdown(max_rows=4, max_cols=5)
    assert "(20 × 128)" in md and "| ⋮ |" in md and "…" in md
    data = json.loads(json.dumps(step.to_dict(max_rows=4, max_cols=5), allow_nan=False))
    z = data["layers"][0]["z"]
    assert z["shape"] == [20, 128] and z["truncated"] and np.shape(z["values"]) == (4, 5)
    full = step.to_dict()["layers"][1]["W_new"]
    assert not full["truncated"] and np.shape(full["values"]) == (128, 10)


def test_the_markdown_follows_the_chapters_order_and_notation(xor_data):
    model = bp.MLP([2, 4, 1], activation="relu", output_activation="sigmoid", seed=0,
                   dtype="float64")
    md = bp.explain_step(model, *xor_data, loss="mse").to_markdown()
    order = ["### Forward pass", "**z⁽¹⁾** = a⁽⁰⁾W⁽¹⁾ + b⁽¹⁾", "**a⁽²⁾** = sigmoid(z⁽²⁾)",
             "### Loss: L = mse(a⁽²⁾, y)", "**δ⁽²⁾** = ∂L/∂a⁽²⁾ ⊙ sigmoid'(z⁽²⁾)",
             "**∂L/∂W⁽²⁾** = a⁽¹⁾ᵀδ⁽²⁾", "**δ⁽¹⁾** = (δ⁽²⁾W⁽²⁾ᵀ) ⊙ relu'(z⁽¹⁾)",
             "**∂L/∂b⁽¹⁾** = Σₙ δ⁽¹⁾", "### Update", "**W⁽¹⁾ new** = W⁽¹⁾ − η·∂L/∂W⁽¹⁾, η = 0.1"]
    positions = [md.index(part) for part in order]
    assert positions == sorted(positions)


def test_the_model_and_the_optimiser_passed_in_are_untouched(xor_data):
    model = bp.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    weights = model.get_flat_weights()
    opt = bp.Adam(lr=0.01)
    step = bp.explain_step(model, *xor_data, loss="binary_crossentropy", optimizer=opt)
    np.testing.assert_array_equal(model.get_flat_weights(), weights)
    assert opt.iterations == 0 and opt.state_arrays(model.flat_param) == {}
    assert step.max_check < 1e-6  # float32 model: float32 agreement
    assert step.layers[0].W_new.dtype == np.float32


@pytest.mark.parametrize("make, kwargs, error, match", [
    (lambda: bp.MLP([2, 4, 1], dropout=0.5, seed=0), {"loss": "mse"}, ValueError,
     "Dense layers only"),
    (lambda: bp.MLP([2, 4, 1], seed=0), {}, ValueError, "pass loss="),
    (lambda: bp.MLP([2, 4, 1], seed=0), {"loss": "mse", "optimizer": "sgdd"}, ValueError,
     "unknown optimizer"),
])
def test_explain_step_refuses_what_it_cannot_show(xor_data, make, kwargs, error, match):
    with pytest.raises(error, match=match):
        bp.explain_step(make(), *xor_data, **kwargs)


def test_backprop_explain_prints_tables_and_writes_markdown_and_json(tmp_path, capsys):
    md, js = tmp_path / "step.md", tmp_path / "step.json"
    assert main(["explain", "--loss", "mse", "--markdown", str(md), "--json", str(js)]) == 0
    printed = capsys.readouterr().out
    assert "forward pass" in printed and "δ⁽²⁾" in printed and "∂L/∂W⁽¹⁾" in printed
    assert md.read_text(encoding="utf-8").startswith("## One training step of [2, 4, 1]")
    data = json.loads(js.read_text(encoding="utf-8"))
    assert data["sizes"] == [2, 4, 1] and data["max_check"] < TOL
    assert data["layers"][0]["z"]["shape"] == [4, 4]


def test_backprop_explain_on_a_saved_model(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--data", "iris", "--hidden", "6", "--epochs", "3", "--quiet",
                 "--no-plots", "--out", str(run)]) == 0
    capsys.readouterr()
    assert main(["explain", "--model", str(run), "--data", "iris", "--samples", "5",
                 "--max-cols", "3"]) == 0
    printed = capsys.readouterr().out
    assert "[4, 6, 3]" in printed and "categorical_crossentropy" in printed
