"""Backpropagation is right: central differences and PyTorch autograd, every combination.

Every hidden activation × every output head × three small float64 networks (batch size 1, a
width-1 hidden layer, six hidden layers) is checked twice: against the fourth-order central
differences of ``bp.gradcheck`` (relative error < 1e-6) and against PyTorch autograd on a
graph built here by hand from ``torch.nn.functional`` with the same weights (< 1e-9).
"""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.losses import MeanSquaredError

HIDDEN = {
    "identity": "identity",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "elu",
    "selu": "selu",
    "softplus": "softplus",
    "swish": "swish",
    "gelu": {"name": "gelu", "approximate": "none"},
    "gelu_tanh": {"name": "gelu", "approximate": "tanh"},
}

# output activation, loss
HEADS = {
    "sigmoid+mse": ("sigmoid", "mse"),  # the chapter's set-up
    "sigmoid+bce": ("sigmoid", "binary_crossentropy"),
    "softmax+cce": ("softmax", "categorical_crossentropy"),
    "identity+mse": ("identity", "mse"),
    "identity+mae": ("identity", "mae"),
    "identity+huber": ("identity", "huber"),
    "tanh+mse": ("tanh", "mse"),
}

# hidden widths, batch size, outputs (softmax always gets 3 classes)
NETS = {
    "batch1": ([4], 1, 2),
    "width1": ([3, 1], 6, 1),
    "deep6": ([3] * 6, 5, 2),
}

N_FEATURES = 3
# Finite-difference step for every case. gradcheck's own default for a non-smooth net
# (1e-6, chosen blind to where the kinks are) leaves rounding noise of ~1e-10·|L| in each
# difference, which is above 1e-6 of the tiny first-layer gradients of a deep sigmoid net.
# Here every case is first verified to lie KINK_MARGIN clear of all kinks, so the smooth
# step applies: the ±2h = 2e-4 steps move no z or residual by more than ~2e-3.
FD_STEP = 1e-4
KINK_MARGIN = 2e-2


def torch_activation(torch, spec):
    F = torch.nn.functional
    name = spec["name"] if isinstance(spec, dict) else spec
    table = {
        "identity": lambda z: z,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
        "elu": lambda z: F.elu(z, alpha=1.0),
        "selu": F.selu,
        "softplus": F.softplus,
        "swish": F.silu,
        "softmax": lambda z: F.softmax(z, dim=1),
    }
    if name == "gelu":
        return lambda z: F.gelu(z, approximate=spec["approximate"])
    return table[name]


def torch_loss(torch, loss, a, z, target):
    """The loss with the engine's averaging: 0.5·mean for mse, means over all elements for
    mae, huber and bce, a mean over samples for cce (``target`` holds labels for cce)."""
    F = torch.nn.functional
    if loss == "mse":
        return 0.5 * F.mse_loss(a, target)
    if loss == "mae":
        return F.l1_loss(a, target)
    if loss == "huber":
        return F.huber_loss(a, target, delta=1.0)
    if loss == "binary_crossentropy":
        return F.binary_cross_entropy_with_logits(z, target)
    if loss == "categorical_crossentropy":
        return F.cross_entropy(z, target)
    raise AssertionError(loss)


def torch_loss_and_gradients(torch, model, X, y, loss):
    """Loss, output and [(dW, db)] from autograd on a graph built from the model's weights."""
    hidden = [torch_activation(torch, layer.activation.get_config())
              for layer in model.dense_layers]
    params = []
    h = torch.from_numpy(X)
    z = None
    for layer, act in zip(model.dense_layers, hidden):
        # torch's Linear weight is (n_out, n_in): the transpose of ours.
        W = torch.tensor(layer.W.value.T.copy(), requires_grad=True)
        b = None if layer.b is None else torch.tensor(layer.b.value.copy(), requires_grad=True)
        params.append((W, b))
        z = torch.nn.functional.linear(h, W, b)
        h = act(z)
    if loss == "categorical_crossentropy":
        target = torch.from_numpy(np.asarray(y, dtype=np.int64))
    else:
        target = torch.from_numpy(np.asarray(y, dtype=np.float64).reshape(h.shape))
    value = torch_loss(torch, loss, h, z, target)
    value.backward()
    grads = [(W.grad.numpy().T, None if b is None else b.grad.numpy()) for W, b in params]
    return value.item(), h.detach().numpy(), grads


def relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    """max|ours − ref| / max|ref| (the absolute error where the reference is all zero)."""
    scale = np.abs(reference).max()
    error = np.abs(ours - reference).max()
    return float(error / scale) if scale > 0 else float(error)


def _targets(gen, output, loss, n, k):
    if loss == "categorical_crossentropy":
        return gen.integers(0, k, size=n)
    if loss == "binary_crossentropy":
        y = gen.integers(0, 2, size=(n, k)).astype(np.float64)
    elif output == "sigmoid":
        y = gen.uniform(0.05, 0.95, size=(n, k))
    elif output == "tanh":
        y = gen.uniform(-0.9, 0.9, size=(n, k))
    else:  # identity: wide enough that huber sees residuals both inside and beyond δ = 1
        y = gen.normal(0.0, 2.0, size=(n, k))
    return y[:, 0] if k == 1 else y  # one output: exercise the 1-D y path


def _clear_of_kinks(model, X, y, loss) -> bool:
    """No pre-activation of a non-smooth activation, and no residual of mae/huber, lies
    within KINK_MARGIN of a kink, so finite differences never straddle one."""
    a = X
    for layer in model.dense_layers:
        z = a @ layer.W.value + layer.b.value
        if not layer.activation.smooth and np.abs(z).min() < KINK_MARGIN:
            return False
        a = layer.activation.forward(z.copy())
    if loss in ("mae", "huber"):
        r = np.abs(a - np.asarray(y).reshape(a.shape))
        kink = 0.0 if loss == "mae" else 1.0
        if np.abs(r - kink).min() < KINK_MARGIN:
            return False
    return True


def make_case(hidden, head, net):
    """A float64 model and data for one combination.

    Seeds are tried in order until the case is clear of kinks and every weight and bias
    tensor receives a gradient of real size: a dead relu unit in the width-1 layer would make
    the check vacuous, and a tensor whose true gradient is zero (mae's signs cancelling
    exactly) has no scale to measure a relative error against. The search is deterministic,
    so every run checks the same case.
    """
    output, loss = HEADS[head]
    widths, n, k = NETS[net]
    if output == "softmax":
        k = 3
    sizes = [N_FEATURES, *widths, k]
    for seed in range(200):
        gen = np.random.default_rng(seed)
        model = bp.MLP(sizes, activation=HIDDEN[hidden], output_activation=output,
                       seed=seed, dtype="float64")
        # Non-zero biases, so that their gradients and kinks are exercised too.
        for b in model.biases:
            b[...] = gen.normal(0.0, 0.3, size=b.shape)
        X = gen.normal(size=(n, N_FEATURES))
        y = _targets(gen, output, loss, n, k)
        if not _clear_of_kinks(model, X, y, loss):
            continue
        _, grads = model.loss_and_gradients(X, y, loss=loss)
        if min(np.abs(g).max() for pair in grads for g in pair) > 1e-6:
            return model, X, y, loss
    raise AssertionError(f"no usable case for {hidden}, {head}, {net}")


def test_every_registered_hidden_activation_is_covered():
    registered = set(bp.activations.ACTIVATIONS.names()) - {"softmax"}
    covered = {spec["name"] if isinstance(spec, dict) else spec for spec in HIDDEN.values()}
    assert covered == registered


@pytest.mark.parametrize("net", NETS)
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradients_match_finite_differences_and_torch(torch, hidden, head, net):
    model, X, y, loss = make_case(hidden, head, net)

    check = bp.gradcheck(model, X, y, loss=loss, eps=FD_STEP)
    assert check.max_error < 1e-6, check

    value, grads = model.loss_and_gradients(X, y, loss=loss)
    t_value, t_output, t_grads = torch_loss_and_gradients(torch, model, X, y, loss)
    assert value == pytest.approx(t_value, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(model.predict(X), t_output, rtol=1e-12, atol=1e-15)
    assert len(grads) == len(t_grads)
    for (dW, db), (t_dW, t_db) in zip(grads, t_grads):
        assert relative_error(dW, t_dW) < 1e-9
        assert relative_error(db, t_db) < 1e-9


def test_gradcheck_catches_a_wrong_gradient(rng):
    class DoubledMSE(MeanSquaredError):
        def gradient(self, a, T):
            return 2 * super().gradient(a, T)

    model = bp.MLP([3, 4, 2], activation="tanh", seed=0, dtype="float64")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    assert bp.gradcheck(model, X, y, loss="mse").max_error < 1e-8
    # Twice the gradient: |2g − g| / max(|2g|, |g|) = 1/2.
    assert bp.gradcheck(model, X, y, loss=DoubledMSE()).max_error == pytest.approx(0.5, rel=1e-6)


# -- dropout, l2, layers without bias ------------------------------------------------------


def _finite_difference(f, theta: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Fourth-order central differences of the scalar function f at theta."""
    grad = np.empty_like(theta)
    for i in range(theta.size):
        samples = []
        for step in (2 * eps, eps, -eps, -2 * eps):
            shifted = theta.copy()
            shifted[i] += step
            samples.append(f(shifted))
        grad[i] = (-samples[0] + 8 * samples[1] - 8 * samples[2] + samples[3]) / (12 * eps)
    return grad


def _flat_grads(grads) -> np.ndarray:
    """[(dW, db), ...] in the model's flat order: layer by layer, W then b."""
    return np.concatenate([part.ravel() for dW, db in grads
                           for part in (dW, db) if part is not None])


def test_dropout_gradient_with_a_fixed_mask(rng):
    dropout = bp.Dropout(0.4)
    model = bp.Sequential([bp.Dense(3, 6, activation="tanh"), dropout,
                           bp.Dense(6, 2, activation="sigmoid")], seed=3, dtype="float64")
    X, y = rng.normal(size=(7, 3)), rng.uniform(size=(7, 2))

    def loss_with_mask(theta):
        # The same generator state before every evaluation: the same dropout mask each time.
        dropout.rng = np.random.default_rng(99)
        model.set_flat_weights(theta)
        return model.loss_and_gradients(X, y, loss="mse")

    theta = model.get_flat_weights()
    _, grads = loss_with_mask(theta)
    numeric = _finite_difference(lambda t: loss_with_mask(t)[0], theta)
    assert relative_error(_flat_grads(grads), numeric) < 1e-8

    # The mask really dropped units: without dropout the gradient differs.
    plain = bp.Sequential([bp.Dense(3, 6, activation="tanh"),
                           bp.Dense(6, 2, activation="sigmoid")], dtype="float64")
    plain.set_flat_weights(theta)
    _, plain_grads = plain.loss_and_gradients(X, y, loss="mse")
    assert relative_error(_flat_grads(plain_grads), numeric) > 1e-2


def test_dropout_backward_is_its_mask(rng):
    layer = bp.Dropout(0.25).build(seed=0, dtype="float64")
    x = rng.uniform(0.5, 1.5, size=(200, 10))
    out = layer.forward(x, training=True)
    kept = out != 0
    # Survivors are scaled by 1/(1 − rate); about a quarter are dropped.
    np.testing.assert_allclose(out[kept], x[kept] / 0.75, rtol=1e-15)
    assert 0.2 < 1 - kept.mean() < 0.3
    # dL/dx is dL/dy through the same mask.
    dy = rng.normal(size=x.shape)
    np.testing.assert_allclose(layer.backward(dy.copy()), np.where(kept, dy / 0.75, 0.0),
                               rtol=1e-15, atol=0)
    # Inference is the identity.
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def test_l2_penalty_and_gradient(rng):
    lam = 0.05
    model = bp.MLP([3, 5, 4, 2], activation="tanh", output_activation="sigmoid", seed=1,
                   dtype="float64")
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=(6, 2))
    value0, grads0 = model.loss_and_gradients(X, y, loss="binary_crossentropy")
    value, grads = model.loss_and_gradients(X, y, loss="binary_crossentropy", l2=lam)
    penalty = sum(float(np.sum(W**2)) for W in model.weights)
    assert value == pytest.approx(value0 + lam * penalty, rel=1e-14)
    for (dW, db), (dW0, db0), W in zip(grads, grads0, model.weights):
        np.testing.assert_allclose(dW, dW0 + 2 * lam * W, rtol=1e-14, atol=1e-17)
        np.testing.assert_array_equal(db, db0)  # biases are not penalised
    assert bp.gradcheck(model, X, y, loss="binary_crossentropy", l2=lam).max_error < 1e-6


def test_layers_without_bias(torch, rng):
    model = bp.Sequential([bp.Dense(3, 4, activation="tanh", use_bias=False),
                           bp.Dense(4, 2, activation="sigmoid", use_bias=False)],
                          seed=2, dtype="float64")
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, size=(5, 2))
    assert [p.name for p in model.parameters()] == ["dense_1.W", "dense_2.W"]
    assert model.count_params() == 3 * 4 + 4 * 2
    value, grads = model.loss_and_gradients(X, y, loss="binary_crossentropy")
    assert all(db is None for _, db in grads)
    assert bp.gradcheck(model, X, y, loss="binary_crossentropy").max_error < 1e-6
    t_value, _, t_grads = torch_loss_and_gradients(torch, model, X, y, "binary_crossentropy")
    assert value == pytest.approx(t_value, rel=1e-12)
    for (dW, _), (t_dW, _) in zip(grads, t_grads):
        assert relative_error(dW, t_dW) < 1e-9


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_loss_and_gradients_shapes(rng, dtype):
    model = bp.MLP([3, 5, 4, 2], activation="relu", output_activation="softmax", seed=0,
                   dtype=dtype)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=8)
    before = model.get_flat_weights()
    value, grads = model.loss_and_gradients(X, y, loss="categorical_crossentropy")
    assert isinstance(value, float) and np.isfinite(value)
    assert [(dW.shape, db.shape) for dW, db in grads] == [((3, 5), (5,)), ((5, 4), (4,)),
                                                          ((4, 2), (2,))]
    assert all(dW.dtype == np.dtype(dtype) and db.dtype == np.dtype(dtype) for dW, db in grads)
    # The gradients are copies, and computing them leaves the weights alone.
    grads[0][0][...] = 123.0
    assert not np.any(model.dense_layers[0].W.grad == 123.0)
    np.testing.assert_array_equal(model.get_flat_weights(), before)
