"""Losses: worked examples, PyTorch, fused vs general paths, extreme logits, sample weights."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import backprop as bp
from backprop.activations import get as activation
from backprop.losses import LOSSES, BinaryCrossEntropy, CategoricalCrossEntropy


def test_hand_worked_mse_on_two_samples():
    loss = bp.losses.get("mse")
    a = np.array([[0.8], [0.2]])
    y = np.array([[1.0], [0.0]])
    # residuals a − y = (−0.2, 0.2); squares (0.04, 0.04); mean 0.04; L = ½ · 0.04 = 0.02
    assert loss.value(a, y) == pytest.approx(0.02, rel=1e-14)
    # ∂L/∂a = (a − y)/N with N = 2 elements: (−0.1, 0.1)
    np.testing.assert_allclose(loss.gradient(a, y), [[-0.1], [0.1]], rtol=1e-14)


def test_hand_worked_network_gradient():
    # One linear unit a = 2x + 0.5 on x = (1, 2) with targets y = (3, 4):
    # a = (2.5, 4.5), r = a − y = (−0.5, 0.5), L = ½ · mean(0.25, 0.25) = 0.125
    # ∂L/∂a = r/2 = (−0.25, 0.25);  ∂L/∂W = Σ x·∂L/∂a = −0.25 + 0.5 = 0.25;  ∂L/∂b = 0
    model = bp.MLP([1, 1], output_activation="identity", dtype="float64")
    model.weights[0][...] = 2.0
    model.biases[0][...] = 0.5
    value, [(dW, db)] = model.loss_and_gradients([[1.0], [2.0]], [3.0, 4.0], loss="mse")
    assert value == pytest.approx(0.125, rel=1e-15)
    assert dW.tolist() == [[pytest.approx(0.25, rel=1e-15)]]
    assert db.tolist() == [pytest.approx(0.0, abs=1e-16)]


def test_hand_worked_values_of_the_other_losses():
    a = np.array([[0.8], [0.2]])
    y = np.array([[1.0], [0.0]])
    # mae: mean(|−0.2|, |0.2|) = 0.2
    assert bp.losses.get("mae").value(a, y) == pytest.approx(0.2, rel=1e-14)
    # bce: both samples are 80% right: −ln 0.8 = 0.22314355...
    assert bp.losses.get("binary_crossentropy").value(a, y) == pytest.approx(-math.log(0.8))
    # huber (δ = 1) with residuals 0.5 and 3: ½·0.5² = 0.125 and 1·(3 − ½) = 2.5; mean 1.3125
    huber = bp.losses.get("huber")
    assert huber.value(np.array([[0.5], [3.0]]), np.zeros((2, 1))) == pytest.approx(1.3125)
    # cce: softmax(0, ln 3) = (¼, ¾); the true class 1 costs −ln ¾ = 0.28768...
    cce = bp.losses.get("categorical_crossentropy")
    z = np.array([[0.0, math.log(3)]])
    T = cce.prepare_targets(np.array([1]), 2, np.float64)
    assert cce.value(activation("softmax")(z), T, z) == pytest.approx(-math.log(0.75))


def _torch_value(torch, name, a, T, z):
    F = torch.nn.functional
    ta, tT, tz = (torch.from_numpy(v) for v in (a, T, z))
    return {
        "mse": lambda: 0.5 * F.mse_loss(ta, tT),
        "mae": lambda: F.l1_loss(ta, tT),
        "huber": lambda: F.huber_loss(ta, tT, delta=1.0),
        "binary_crossentropy": lambda: F.binary_cross_entropy_with_logits(tz, tT),
        "categorical_crossentropy": lambda: F.cross_entropy(tz, tT.argmax(dim=1)),
        # PyTorch leaves out the constant mean(y·log y − y) of half the Poisson deviance
        "poisson": lambda: F.poisson_nll_loss(ta, tT, log_input=True, full=False)
        + (torch.special.xlogy(tT, tT) - tT).mean(),
    }[name]().item()


def _case(name, gen, n=6, k=3):
    """Logits z, output a and targets T (n, k) suited to the loss."""
    z = gen.normal(0, 2, size=(n, k))
    if name == "binary_crossentropy":
        return z, activation("sigmoid")(z), gen.integers(0, 2, size=(n, k)).astype(float)
    if name == "categorical_crossentropy":
        return z, activation("softmax")(z), np.eye(k)[gen.integers(0, k, size=n)]
    if name == "poisson":  # the output is log μ ∈ about ±2; targets are counts, zeros too
        z = z / 2
        return z, z.copy(), gen.poisson(np.exp(z)).astype(float)
    return z, z.copy(), gen.normal(0, 2, size=(n, k))


@pytest.mark.parametrize("name", LOSSES.names())
def test_value_matches_torch(torch, name, rng):
    z, a, T = _case(name, rng)
    loss = bp.losses.get(name)
    expected = _torch_value(torch, name, a, T, z)
    assert loss.value(a, T, z) == pytest.approx(expected, rel=1e-13)
    assert loss.value(a, T) == pytest.approx(expected, rel=1e-12)  # from the outputs alone


@pytest.mark.parametrize("name", LOSSES.names())
def test_value_is_the_mean_of_elementwise_and_gradient_is_its_slope(name, rng):
    z, a, T = _case(name, rng)
    loss = bp.losses.get(name)
    for logits in (z, None):
        assert loss.value(a, T, logits) == pytest.approx(
            float(np.mean(loss.elementwise(a, T, logits))), rel=1e-13)
    # ∂L/∂a by central differences of the value computed from the outputs.
    h = 1e-6
    numeric = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        up, down = a.copy(), a.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (loss.value(up, T) - loss.value(down, T)) / (2 * h)
    np.testing.assert_allclose(loss.gradient(a, T), numeric, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("name, output", [("binary_crossentropy", "sigmoid"),
                                          ("categorical_crossentropy", "softmax")])
def test_fused_and_general_paths_agree(name, output, rng):
    z, a, T = _case(name, rng)
    loss, act = bp.losses.get(name), activation(output)
    assert loss.fuses_with == output
    # ∂L/∂z: (p − y)/N versus ∂L/∂a pushed back through the activation's Jacobian.
    general = act.backward(loss.gradient(a, T), z, a)
    np.testing.assert_allclose(loss.fused_gradient(a, T), general, rtol=1e-10, atol=1e-15)
    value, grad = loss.fused_value_and_gradient(a, T, z)
    assert value == pytest.approx(loss.value(a, T), rel=1e-12)
    np.testing.assert_allclose(grad, general, rtol=1e-10, atol=1e-15)


class _UnfusedBCE(BinaryCrossEntropy):
    fuses_with = None  # forces the general chain rule through σ'


class _UnfusedCCE(CategoricalCrossEntropy):
    fuses_with = None


@pytest.mark.parametrize("output, fused, unfused, k", [
    ("sigmoid", "binary_crossentropy", _UnfusedBCE(), 2),
    ("softmax", "categorical_crossentropy", _UnfusedCCE(), 3),
])
def test_network_gradients_agree_with_and_without_fusion(output, fused, unfused, k, rng):
    model = bp.MLP([3, 5, k], activation="tanh", output_activation=output, seed=4,
                   dtype="float64")
    X = rng.normal(size=(7, 3))
    y = rng.integers(0, 2, size=(7, k)) if k == 2 else rng.integers(0, k, size=7)
    value_f, grads_f = model.loss_and_gradients(X, y, loss=fused)
    value_u, grads_u = model.loss_and_gradients(X, y, loss=unfused)
    assert value_f == pytest.approx(value_u, rel=1e-12)
    for (dW_f, db_f), (dW_u, db_u) in zip(grads_f, grads_u):
        np.testing.assert_allclose(dW_f, dW_u, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(db_f, db_u, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropies_are_finite_at_extreme_logits(torch, dtype):
    bce, cce = bp.losses.get("binary_crossentropy"), bp.losses.get("categorical_crossentropy")
    z = np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype)
    T = np.array([[0.0], [1.0], [1.0], [0.0]], dtype=dtype)
    zc = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
    Tc = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        a, ac = activation("sigmoid")(z), activation("softmax")(zc)
        b_value, b_grad = bce.fused_value_and_gradient(a, T, z)
        c_value, c_grad = cce.fused_value_and_gradient(ac, Tc, zc)
    # Two samples wrong by a logit of 1e4 cost 1e4 each, two right ones cost 0: mean 5000.
    assert b_value == pytest.approx(5000.0, rel=1e-6)
    assert b_value == pytest.approx(_torch_value(torch, "binary_crossentropy", a.astype(float),
                                                 T.astype(float), z.astype(float)), rel=1e-6)
    # The first row puts its true class 2e4 below the winner; the second is right.
    assert c_value == pytest.approx(1e4, rel=1e-6)
    np.testing.assert_allclose(b_grad.ravel(), [0.25, -0.25, 0.0, 0.0])
    np.testing.assert_allclose(c_grad, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]])


def test_model_with_huge_logits_evaluates_and_trains_finitely():
    model = bp.MLP([2, 3, 1], activation="relu", output_activation="sigmoid", seed=0,
                   dtype="float32")
    for W in model.weights:
        W *= 1e3
    X = np.array([[3.0, -2.0], [-1.0, 4.0], [2.0, 2.0]])
    y = np.array([0, 1, 1])
    hidden = np.maximum(X @ model.weights[0] + model.biases[0], 0)
    assert np.abs(hidden @ model.weights[1] + model.biases[1]).min() > 1e3  # logits, not probs
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        # saturated on purpose: that it fits worse than a constant is true, and beside the point
        warnings.simplefilter("ignore", bp.PoorFitWarning)
        result = model.evaluate(X, y, loss="binary_crossentropy")
        value, grads = model.loss_and_gradients(X, y, loss="binary_crossentropy")
        model.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=1e-6), epochs=2)
    assert math.isfinite(result["loss"]) and result["loss"] > 10
    assert math.isfinite(value)
    assert all(np.all(np.isfinite(g)) for pair in grads for g in pair)
    assert np.all(np.isfinite(model.get_flat_weights()))


# -- sample weights -----------------------------------------------------------------------


def _per_sample_losses(model, X, y, loss):
    """lᵢ: each sample's loss (its mean over outputs) at the model's current weights."""
    return np.array([model.evaluate(X[i:i + 1], y[i:i + 1], loss=loss)["loss"]
                     for i in range(len(X))])


@pytest.mark.parametrize("output, loss, k", [
    ("sigmoid", "binary_crossentropy", 1),
    ("sigmoid", "binary_crossentropy", 2),
    ("softmax", "categorical_crossentropy", 3),
    ("identity", "mse", 2),
])
def test_weighted_loss_is_sum_w_l_over_sum_w(output, loss, k, rng):
    model = bp.MLP([3, 4, k], activation="tanh", output_activation=output, seed=5,
                   dtype="float64")
    X = rng.normal(size=(9, 3))
    if loss == "categorical_crossentropy":
        y = rng.integers(0, k, size=9)
    elif loss == "mse":
        y = rng.normal(size=(9, k))
    else:
        y = rng.integers(0, 2, size=(9, k) if k > 1 else 9)
    w = rng.uniform(0.0, 3.0, size=9)
    w[2] = 0.0
    expected = float(np.sum(w * _per_sample_losses(model, X, y, loss)) / np.sum(w))
    # History's loss is measured before the step, at the starting weights.
    for batch_size in (None, 4):
        fresh = bp.MLP([3, 4, k], activation="tanh", output_activation=output, seed=5,
                       dtype="float64")
        history = fresh.fit(X, y, loss=loss, optimizer=bp.SGD(lr=1e-300), epochs=1,
                            batch_size=batch_size, shuffle=False, sample_weight=w)
        assert history.history["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_integer_weights_equal_repeated_rows(rng):
    X = rng.normal(size=(8, 2))
    y = rng.integers(0, 2, size=8)
    w = np.array([1, 2, 0, 1, 3, 1, 1, 2])
    kwargs = dict(loss="binary_crossentropy", epochs=5, batch_size=None)
    weighted = bp.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=1,
                      dtype="float64")
    h_w = weighted.fit(X, y, optimizer=bp.Adam(lr=0.05), sample_weight=w, **kwargs)
    repeated = bp.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=1,
                      dtype="float64")
    h_r = repeated.fit(np.repeat(X, w, axis=0), np.repeat(y, w), optimizer=bp.Adam(lr=0.05),
                       **kwargs)
    np.testing.assert_allclose(h_w.history["loss"], h_r.history["loss"], rtol=1e-12)
    np.testing.assert_allclose(weighted.get_flat_weights(), repeated.get_flat_weights(),
                               rtol=1e-10, atol=1e-13)


def test_accuracy_worked_example():
    # One output, threshold 0.5: predictions (1, 0, 1, 0) against (1, 0, 0, 0): 3 of 4 right.
    a = np.array([[0.9], [0.1], [0.6], [0.4]])
    assert bp.losses.accuracy(a, np.array([[1.0], [0.0], [0.0], [0.0]])) == 0.75
    # One-hot targets: arg-max (2, 0) against classes (2, 1): 1 of 2 right.
    a = np.array([[0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    assert bp.losses.accuracy(a, np.array([[0, 0, 1], [0, 1, 0]], dtype=float)) == 0.5


@pytest.mark.parametrize("name", LOSSES.all_names())
def test_registry_contract(name):
    loss = bp.losses.get(name)
    assert isinstance(loss, bp.losses.Loss)
    assert loss.name == LOSSES.canonical(name)
    assert bp.losses.get(loss) is loss
    assert bp.losses.get(loss.get_config()).get_config() == loss.get_config()


def test_unknown_loss_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown loss 'hinge'; choose one of: ") as info:
        bp.losses.get("hinge")
    assert all(name in str(info.value) for name in LOSSES.all_names())
