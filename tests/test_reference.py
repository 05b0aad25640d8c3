"""The engine held equal to the plain reference (backprop/reference.py), and the reference
checked on its own.

Every comparison trains a float64 model through the engine's public API (``fit``, or
``loss_and_gradients`` with ``optimizer.step``) and the same weights through
``reference.train`` for 50 steps, then asserts that every weight and bias, and the loss of
every step (or epoch), agree to 1e-10. ``fit`` goes through the engine's fast paths (flat
parameter storage, the first layer's [X 1]·[W; b] product, fused output gradients, plain SGD
taken inside backpropagation, the BLAS step on large blocks): the point is that the fast
engine computes the chapter's algorithm.

Mini-batches are taken in row order (``fit(shuffle=False)``), except in
``test_shuffled_batches_follow_the_model_seed``, which reproduces the engine's per-epoch
permutations from a copy of the model's generator.
"""

from __future__ import annotations

import ast
import copy
import doctest
import inspect
import itertools

import numpy as np
import pytest
from activation_specs import ACTIVATION_SPECS, spec_id

import backprop as bp
from backprop import reference

N_ROWS = 38  # with BATCH = 8: five batches per epoch, the last of 6 rows
BATCH = 8
STEPS = 50
TOL = 1e-10

#: every valid output activation / loss pair: (output activation, loss, outputs, targets)
PAIRS = {
    "identity-mse": ("identity", "mse", 2, lambda g, k: 2 * g.standard_normal((N_ROWS, k))),
    "identity-mae": ("identity", "mae", 1, lambda g, k: 2 * g.standard_normal((N_ROWS, k))),
    # residuals both inside and beyond huber's δ = 1
    "identity-huber": ("identity", "huber", 1, lambda g, k: 3 * g.standard_normal((N_ROWS, k))),
    # the output is log μ; counts as targets, zeros included
    "identity-poisson": ("identity", "poisson", 2,
                         lambda g, k: g.poisson(1.5, (N_ROWS, k)).astype(float)),
    "sigmoid-mse": ("sigmoid", "mse", 1, lambda g, k: g.uniform(0, 1, (N_ROWS, k))),
    "tanh-mse": ("tanh", "mse", 1, lambda g, k: g.uniform(-1, 1, (N_ROWS, k))),
    "sigmoid-bce": ("sigmoid", "binary_crossentropy", 1, lambda g, k: g.integers(0, 2, N_ROWS)),
    "softmax-cce": ("softmax", "categorical_crossentropy", 3,
                    lambda g, k: g.integers(0, k, N_ROWS)),
}

OPTIMIZERS = {
    "sgd": {"name": "sgd", "lr": 0.1},
    "momentum": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
    "adam": {"name": "adam", "lr": 0.01},
}

#: (optimizer, l2) beyond the main matrix
VARIANTS = {
    "nesterov": ({"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True}, 0.0),
    "sgd-l2": (OPTIMIZERS["sgd"], 1e-2),
    "momentum-l2": (OPTIMIZERS["momentum"], 1e-2),
    "adam-l2": (OPTIMIZERS["adam"], 1e-2),
}


def data(pair):
    """X (N_ROWS, 3) and targets for ``pair``, the same for every test."""
    _, _, k, make_y = PAIRS[pair]
    gen = np.random.default_rng(0)
    return gen.standard_normal((N_ROWS, 3)), make_y(gen, k)


def make_model(hidden, pair, widths=(5, 4), seed=5):
    out, _, k, _ = PAIRS[pair]
    return bp.MLP([3, *widths, k], activation=hidden, output_activation=out, seed=seed,
                  dtype="float64")


def batch_sizes(batch_size):
    """Rows in each step of one epoch."""
    size = batch_size or N_ROWS
    return [min(size, N_ROWS - start) for start in range(0, N_ROWS, size)]


def epochs_for(batch_size):
    steps = len(batch_sizes(batch_size))
    assert STEPS % steps == 0
    return STEPS // steps


def fit_both(hidden, pair, optimizer, batch_size, l2=0.0, widths=(5, 4), callbacks=None,
             shuffle=False):
    """Train one model through ``fit`` and a copy through the reference; both results."""
    X, y = data(pair)
    model = make_model(hidden, pair, widths)
    Ws, bs, activations = reference.from_model(model)
    generator = copy.deepcopy(model.rng)  # the engine draws each epoch's order from it
    opt = bp.optimizers.get(dict(optimizer))
    epochs = epochs_for(batch_size)
    history = model.fit(X, y, loss=PAIRS[pair][1], optimizer=opt, epochs=epochs,
                        batch_size=batch_size, shuffle=shuffle, l2=l2, callbacks=callbacks)
    assert opt.iterations == STEPS
    orders = [generator.permutation(N_ROWS) for _ in range(epochs)] if shuffle else None
    loss = bp.losses.get(PAIRS[pair][1])
    T = loss.prepare_targets(y, model.n_outputs, model.dtype)
    step_losses = reference.train(Ws, bs, activations, loss, X, T, opt.get_config(), epochs,
                                  batch_size, l2, orders)
    return model, history, Ws, bs, step_losses


def parameter_difference(model, Ws, bs):
    """max |engine − reference| over every weight and bias."""
    pairs = [*zip(model.weights, Ws), *zip(model.biases, bs)]
    return max(float(np.max(np.abs(mine - theirs))) for mine, theirs in pairs)


def epoch_losses(step_losses, batch_size):
    """The engine's epoch loss: each batch's loss weighted by its rows."""
    sizes = np.array(batch_sizes(batch_size), dtype=float)
    per_epoch = np.reshape(step_losses, (-1, sizes.size))
    return per_epoch @ sizes / N_ROWS


def assert_equal_training(model, history, Ws, bs, step_losses, batch_size):
    assert parameter_difference(model, Ws, bs) < TOL
    expected = epoch_losses(step_losses, batch_size)
    np.testing.assert_allclose(history.history["loss"], expected, rtol=0, atol=TOL)


# -- the engine equals the reference ------------------------------------------------------------


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("batch_size", [None, BATCH], ids=["full", "mini"])
@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("hidden", ACTIVATION_SPECS, ids=spec_id)
def test_fit_equals_reference(hidden, pair, batch_size, optimizer):
    results = fit_both(hidden, pair, OPTIMIZERS[optimizer], batch_size)
    assert_equal_training(*results, batch_size)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("batch_size", [None, BATCH], ids=["full", "mini"])
@pytest.mark.parametrize("pair", PAIRS)
def test_fit_equals_reference_with_nesterov_and_l2(pair, batch_size, variant):
    optimizer, l2 = VARIANTS[variant]
    results = fit_both("tanh", pair, optimizer, batch_size, l2=l2)
    assert_equal_training(*results, batch_size)


@pytest.mark.parametrize("batch_size", [None, BATCH], ids=["full", "mini"])
@pytest.mark.parametrize("pair", PAIRS)
def test_fit_equals_reference_on_blocks_large_enough_for_the_blas_step(pair, batch_size):
    # W⁽²⁾ and b⁽²⁾ of [3, 128, 64, k] make a (129, 64) block of 8256 values, above the size
    # from which the engine takes plain SGD's step inside its BLAS product.
    # e^output of this wide network makes full-batch steps of lr 0.1 diverge: smaller ones
    sgd = {"name": "sgd", "lr": 0.01} if pair == "identity-poisson" else OPTIMIZERS["sgd"]
    results = fit_both("relu", pair, sgd, batch_size, widths=(128, 64))
    assert_equal_training(*results, batch_size)


class StepLosses(bp.Callback):
    """Records the loss of every step (a batch hook: fit then takes no step in backward)."""

    def __init__(self):
        self.losses = []

    def on_batch_end(self, batch, logs):
        self.losses.append(logs["loss"])


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("pair", PAIRS)
def test_every_step_loss_equals_reference(pair, optimizer):
    recorder = StepLosses()
    model, history, Ws, bs, step_losses = fit_both("swish", pair, OPTIMIZERS[optimizer], BATCH,
                                                   callbacks=[recorder])
    assert len(recorder.losses) == STEPS
    np.testing.assert_allclose(recorder.losses, step_losses, rtol=0, atol=TOL)
    assert_equal_training(model, history, Ws, bs, step_losses, BATCH)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("pair", ["identity-mse", "softmax-cce"])
def test_shuffled_batches_follow_the_model_seed(pair, optimizer):
    # fit(shuffle=True) draws one permutation per epoch from model.rng; the reference gets
    # the same permutations from a copy of that generator taken before fit.
    results = fit_both("elu", pair, OPTIMIZERS[optimizer], BATCH, shuffle=True)
    assert_equal_training(*results, BATCH)


@pytest.mark.parametrize("widths", [(5, 4), (128, 64)], ids=["small", "blas-step"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("pair", ["identity-mse", "softmax-cce"])
def test_batches_gathered_without_the_ones_column_follow_the_reference(
        pair, optimizer, widths, monkeypatch):
    # Large gathered batches (W3's 128 × 784) go into a plain buffer: the first layer then
    # adds its bias and sums its bias gradient, and the fused step updates W and b apart.
    from backprop._fast import loop

    monkeypatch.setattr(loop, "ONES_GATHER_LIMIT", 0)
    built = []
    monkeypatch.setattr(loop._Loop, "_plan_batches", record_plan(built))
    results = fit_both("relu", pair, OPTIMIZERS[optimizer], BATCH, widths=widths, shuffle=True)
    assert [(plan.by_index, plan.with_ones) for plan in built] == [(True, False)]
    assert_equal_training(*results, BATCH)


def record_plan(built):
    """_Loop._plan_batches, recording each loop it plans for."""
    from backprop._fast import loop

    original = loop._Loop._plan_batches

    def plan(self, *args):
        original(self, *args)
        built.append(self)

    return plan


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("pair", PAIRS)
def test_gradients_and_steps_by_hand_equal_reference(pair, optimizer):
    # The engine's public step path without fit: loss_and_gradients, then optimizer.step.
    X, y = data(pair)
    model = make_model("sigmoid", pair)
    Ws, bs, activations = reference.from_model(model)
    loss = bp.losses.get(PAIRS[pair][1])
    T = loss.prepare_targets(y, model.n_outputs, model.dtype)
    config = OPTIMIZERS[optimizer]
    opt = bp.optimizers.get(dict(config))
    params = model.parameters()
    velocities_or_m = [np.zeros_like(p) for p in [*Ws, *bs]]
    v = [np.zeros_like(p) for p in [*Ws, *bs]]
    starts = itertools.cycle(range(0, N_ROWS, BATCH))  # mini-batches in row order
    for t, start in zip(range(1, STEPS + 1), starts):
        rows = slice(start, start + BATCH)
        value, grads = model.loss_and_gradients(X[rows], y[rows], loss=loss, l2=1e-3)
        zs, As = reference.forward(Ws, bs, activations, X[rows])
        assert abs(value - reference.loss_value(loss, zs, As, activations, T[rows], Ws,
                                                1e-3)) < TOL
        dWs, dbs = reference.backward(Ws, zs, As, activations, loss, T[rows], 1e-3)
        for (dW, db), dW_ref, db_ref in zip(grads, dWs, dbs):
            assert np.max(np.abs(dW - dW_ref)) < TOL and np.max(np.abs(db - db_ref)) < TOL
        opt.step(params)
        if config["name"] == "sgd":
            reference.sgd_step([*Ws, *bs], [*dWs, *dbs], velocities_or_m, t, config["lr"],
                               config.get("momentum", 0.0))
        else:
            reference.adam_step([*Ws, *bs], [*dWs, *dbs], velocities_or_m, v, t, config["lr"])
        assert parameter_difference(model, Ws, bs) < TOL


def test_pairs_cover_every_registered_loss():
    assert {loss for _, loss, _, _ in PAIRS.values()} == set(bp.losses.LOSSES.names())


# -- the reference on its own ---------------------------------------------------------------


def test_one_step_worked_by_hand():
    # One input, one identity unit, half-MSE: x = 2, W = 0.5, b = 0.1, y = 1.
    identity, mse = bp.activations.get("identity"), bp.losses.get("mse")
    Ws, bs, X, T = [np.array([[0.5]])], [np.array([0.1])], np.array([[2.0]]), np.array([[1.0]])
    zs, As = reference.forward(Ws, bs, [identity], X)
    assert zs[0][0, 0] == pytest.approx(1.1)  # z = 2·0.5 + 0.1
    # L = ½(1.1 − 1)² = 0.005, plus λW² = 0.1·0.25 = 0.025
    assert reference.loss_value(mse, zs, As, [identity], T, Ws, l2=0.1) == pytest.approx(0.03)
    dWs, dbs = reference.backward(Ws, zs, As, [identity], mse, T, l2=0.1)
    # δ = 1.1 − 1 = 0.1;  ∂L/∂W = x·δ + 2λW = 0.2 + 0.1;  ∂L/∂b = δ = 0.1
    assert dWs[0][0, 0] == pytest.approx(0.3) and dbs[0][0] == pytest.approx(0.1)
    reference.sgd_step([*Ws, *bs], [*dWs, *dbs], [None, None], t=1, lr=0.5)
    assert Ws[0][0, 0] == pytest.approx(0.35) and bs[0][0] == pytest.approx(0.05)


def test_momentum_and_adam_steps_by_hand():
    theta, v = np.array([1.0]), np.zeros(1)
    reference.sgd_step([theta], [np.array([2.0])], [v], t=1, lr=0.1, momentum=0.9)
    assert v[0] == 2.0 and theta[0] == pytest.approx(0.8)  # v = g on the first step
    reference.sgd_step([theta], [np.array([1.0])], [v], t=2, lr=0.1, momentum=0.9)
    assert v[0] == pytest.approx(2.8) and theta[0] == pytest.approx(0.52)  # v = 0.9·2 + 1
    # Adam's first step: m̂ = g, v̂ = g², so every parameter moves by η·g/(|g| + ε) ≈ ±η.
    theta, m, v = np.array([1.0, 1.0]), np.zeros(2), np.zeros(2)
    reference.adam_step([theta], [np.array([3.0, -1e-3])], [m], [v], t=1, lr=0.01)
    np.testing.assert_allclose(theta, [0.99, 1.01], rtol=0, atol=1e-7)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("hidden", ["tanh", "softplus", "softmax"])
def test_reference_gradients_match_central_differences(hidden, pair):
    X, y = data(pair)
    Ws, bs, activations = reference.from_model(make_model(hidden, pair))
    loss = bp.losses.get(PAIRS[pair][1])
    T = loss.prepare_targets(y, PAIRS[pair][2], np.float64)

    def value():
        zs, As = reference.forward(Ws, bs, activations, X)
        return reference.loss_value(loss, zs, As, activations, T, Ws, l2=0.05)

    zs, As = reference.forward(Ws, bs, activations, X)
    dWs, dbs = reference.backward(Ws, zs, As, activations, loss, T, l2=0.05)
    h = 1e-6
    for theta, grad in zip([*Ws, *bs], [*dWs, *dbs]):
        numeric = np.zeros_like(theta)
        for i in np.ndindex(theta.shape):
            kept = theta[i]
            theta[i] = kept + h
            up = value()
            theta[i] = kept - h
            numeric[i] = (up - value()) / (2 * h)
            theta[i] = kept
        assert np.max(np.abs(numeric - grad)) < 1e-6 * max(1.0, np.max(np.abs(grad)))


def test_from_model_copies_and_train_leaves_the_model_alone():
    model = make_model("relu", "identity-mse")
    before = [W.copy() for W in model.weights]
    Ws, bs, activations = reference.from_model(model)
    X, y = data("identity-mse")
    reference.train(Ws, bs, activations, bp.losses.get("mse"), X, y, OPTIMIZERS["sgd"], 2)
    assert all(np.array_equal(W, kept) for W, kept in zip(model.weights, before))
    assert not np.array_equal(Ws[0], before[0])
    assert activations == [layer.activation for layer in model.layers]


@pytest.mark.parametrize(
    "model, match",
    [
        (bp.MLP([3, 4, 1], dropout=0.1, seed=0), "Dense layers with biases only"),
        (bp.Sequential([bp.Dense(3, 1, use_bias=False)], seed=0), "Dense layers with biases"),
    ],
    ids=["dropout", "no-bias"],
)
def test_from_model_refuses_what_the_chapter_lacks(model, match):
    with pytest.raises(ValueError, match=match):
        reference.from_model(model)


@pytest.mark.parametrize(
    "optimizer",
    [{"name": "rmsprop", "lr": 0.1}, {"name": "adam", "lr": 0.1, "weight_decay": 0.1},
     {"name": "sgd", "lr": 0.1, "clipnorm": 1.0}],
    ids=["rmsprop", "weight_decay", "clipnorm"],
)
def test_train_refuses_optimizers_it_does_not_write_out(optimizer):
    Ws, bs, activations = reference.from_model(make_model("tanh", "identity-mse"))
    X, y = data("identity-mse")
    with pytest.raises(ValueError, match="sgd or adam"):
        reference.train(Ws, bs, activations, bp.losses.get("mse"), X, y, optimizer, 1)


def test_reference_imports_numpy_and_engine_modules_only():
    # Every import, also inside functions: NumPy and the engine's numeric modules.
    tree = ast.parse(inspect.getsource(reference))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    assert modules <= {"__future__", "typing", "numpy", "activations", "layers", "losses"}


def test_module_example_runs():
    assert doctest.testmod(reference).failed == 0
