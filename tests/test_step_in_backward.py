"""The fused step: plain SGD taken inside backpropagation, the same training as gradients
then a step.

``fit`` attaches a ``backprop._fast.fused_step.FusedStep`` to the Dense layers, which then
apply θ ← θ − η·∂L/∂θ in ``backward`` for plain SGD on every batch but an epoch's last; large
blocks do it inside the BLAS product (backprop._fast.blas). These tests pin that it is the
same arithmetic as ``optimizer.step`` (bit for bit where NumPy does the update, to rounding
where BLAS does) and that everything around it (step counts, norms, reproducibility,
divergence) is unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop._fast import blas as _blas
from backprop._fast.fused_step import FusedStep

BLAS_AVAILABLE = _blas.add_product_t(np.zeros((2, 2), np.float32), 1.0,
                                     np.ones((3, 2), np.float32), np.ones((3, 2), np.float32))
needs_blas = pytest.mark.skipif(not BLAS_AVAILABLE, reason="NumPy's BLAS cannot be called here")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 100))
    y = (X[:, :3].sum(axis=1) > 0).astype(int) + (X[:, 3] > 1)  # 3 classes
    return X, y


def train(data, dtype="float64", optimizer=None, epochs=3, **fit_options):
    X, y = data
    # [100, 96, 90, 3]: the first two blocks exceed the size at which BLAS takes the step.
    model = bp.MLP([100, 96, 90, 3], activation="tanh", output_activation="softmax",
                   seed=1, dtype=dtype)
    optimizer = optimizer or bp.SGD(lr=0.1)
    history = model.fit(X, y, loss="categorical_crossentropy", optimizer=optimizer,
                        epochs=epochs, batch_size=32, **fit_options)
    return model, history


def without_step_in_backward(monkeypatch):
    monkeypatch.setattr(FusedStep, "for_fit", classmethod(lambda cls, *args, **kwargs: None))


def without_blas(monkeypatch):
    monkeypatch.setattr(_blas, "add_product_t", lambda *args: False)


# -- _blas.add_product_t ----------------------------------------------------------------------


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_product_t_matches_numpy(dtype):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((37, 20)).astype(dtype)
    B = rng.standard_normal((37, 11)).astype(dtype)
    C = rng.standard_normal((20, 11)).astype(dtype)
    expected = C - 0.3 * (A.T @ B)
    assert _blas.add_product_t(C, -0.3, A, B)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C, expected, rtol=tolerance, atol=tolerance)


@needs_blas
def test_add_product_t_handles_row_views_and_single_rows():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((8, 5))
    B = rng.standard_normal((8, 6))
    block = rng.standard_normal((6, 6))
    expected = block.copy()
    expected[:5] += A.T @ B
    assert _blas.add_product_t(block[:5], 1.0, A, B)  # rows of a larger block (ldc = 6)
    np.testing.assert_allclose(block, expected, rtol=1e-12)
    bias = np.zeros(6)
    assert _blas.add_product_t(bias[None, :], -1.0, np.ones((8, 1)), B)  # b ← b − Σₙ δ
    np.testing.assert_allclose(bias, -B.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize(
    "C, A, B",
    [
        (np.zeros((3, 2)), np.ones((4, 3), np.float32), np.ones((4, 2))),  # mixed dtypes
        (np.zeros((3, 2), np.int64), np.ones((4, 3), np.int64), np.ones((4, 2), np.int64)),
        (np.zeros((2, 3)).T, np.ones((4, 3)), np.ones((4, 2))),  # C not row-contiguous
        (np.zeros((3, 2)), np.ones((3, 4)).T, np.ones((4, 2))),  # A column-major
        (np.zeros((3, 2)), np.ones((4, 3)), np.ones((5, 2))),  # rows disagree
        (np.zeros((3, 3)), np.ones((4, 3)), np.ones((4, 2))),  # C has the wrong shape
    ],
)
def test_add_product_t_declines_what_blas_cannot_take(C, A, B):
    before = C.copy()
    assert _blas.add_product_t(C, 1.0, A, B) is False
    np.testing.assert_array_equal(C, before)


# -- the layer -----------------------------------------------------------------------------


@pytest.mark.parametrize("n_in", [4, 200])  # a block below and above the BLAS-step size
def test_dense_backward_with_the_fused_step_takes_the_sgd_step(n_in):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, n_in))
    dy = rng.standard_normal((16, 50))
    layer = bp.Dense(n_in, 50, activation="tanh").build(seed=0, dtype="float64")
    W0, b0 = layer.W.value.copy(), layer.b.value.copy()
    layer.forward(x, training=True)
    dx_reference = layer.backward(dy.copy())
    dW, db = layer.W.grad.copy(), layer.b.grad.copy()
    fused = FusedStep(bp.SGD(lr=0.5), [layer])
    fused.attach()
    layer.forward(x, training=True)
    dx = layer.backward(dy.copy())
    fused.detach()
    np.testing.assert_allclose(layer.W.value, W0 - 0.5 * dW, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.b.value, b0 - 0.5 * db, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(dx, dx_reference)  # ∂L/∂x from the weights before the step
    # Detached, backward writes gradients again and leaves the weights alone.
    W1 = layer.W.value.copy()
    layer.forward(x, training=True)
    layer.backward(dy.copy())
    np.testing.assert_array_equal(layer.W.value, W1)


# -- training ------------------------------------------------------------------------------


def test_numpy_fallback_is_bit_identical_to_gradients_then_step(data, monkeypatch):
    model, history = train(data)
    with monkeypatch.context() as patch:
        without_step_in_backward(patch)
        reference, reference_history = train(data)
    with monkeypatch.context() as patch:
        without_blas(patch)
        fallback, fallback_history = train(data)
    np.testing.assert_array_equal(fallback.get_flat_weights(), reference.get_flat_weights())
    assert fallback_history.history == reference_history.history
    # With BLAS taking the step, only rounding differs.
    np.testing.assert_allclose(model.get_flat_weights(), reference.get_flat_weights(),
                               rtol=1e-9, atol=1e-11)
    for key, values in reference_history.history.items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-8, err_msg=key)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_same_weights(data, dtype):
    first, _ = train(data, dtype=dtype)
    second, _ = train(data, dtype=dtype)
    np.testing.assert_array_equal(first.get_flat_weights(), second.get_flat_weights())


def test_steps_are_counted_and_norms_come_from_a_real_gradient(data, monkeypatch):
    optimizer = bp.SGD(lr=0.1)
    model, history = train(data, optimizer=optimizer, epochs=2)
    assert optimizer.iterations == 2 * 10  # 300 rows in batches of 32: 10 a epoch
    # The last batch's gradient is written (not stale): the norms equal the unfused run's.
    with monkeypatch.context() as patch:
        without_step_in_backward(patch)
        _, reference = train(data, epochs=2)
    np.testing.assert_allclose(history.history["grad_norm/layer1"],
                               reference.history["grad_norm/layer1"], rtol=1e-8)


@needs_blas
def test_large_blocks_really_step_inside_the_product(data, monkeypatch):
    """The fast path is taken: between the epoch's last batches no gradient is written."""
    calls = []
    real = _blas.add_product_t
    monkeypatch.setattr(_blas, "add_product_t",
                        lambda *args: calls.append(args[0].shape) or real(*args))
    train(data, epochs=1)
    # 9 of the 10 batches step in backward; per batch the [W; b] block of layer 1 (101×96)
    # and W of layer 2 (96×90) are large enough; layer 3 (90×3) is not.
    assert sorted(set(calls)) == [(96, 90), (101, 96)]
    assert len(calls) == 2 * 9


@pytest.mark.parametrize(
    "optimizer, fit_options",
    [
        (bp.SGD(lr=0.1, momentum=0.9), {}),
        (bp.SGD(lr=0.1, clipnorm=1.0), {}),
        (bp.SGD(lr=0.1, weight_decay=1e-3), {}),
        (bp.SGD(lr=0.1), {"l2": 1e-3}),
        (bp.Adam(lr=1e-3), {}),
    ],
    ids=["momentum", "clipnorm", "weight_decay", "l2", "adam"],
)
def test_other_rules_keep_the_optimizer_step(data, monkeypatch, optimizer, fit_options):
    calls = []
    monkeypatch.setattr(_blas, "add_product_t", lambda *args: calls.append(1) or False)
    train(data, optimizer=optimizer, epochs=1, **fit_options)
    assert calls == []


def test_a_subclass_of_sgd_keeps_its_own_rule(data):
    class HalfSGD(bp.SGD):
        def _update(self, p, state):
            p.value -= 0.5 * self.lr * p.grad

    layers = bp.MLP([3, 2, 1], seed=0).dense_layers

    def fused(optimizer):
        return FusedStep.for_fit(optimizer, layers, layers[0], l2=0.0, batch_hooks=False)

    assert fused(HalfSGD(lr=0.1)) is None
    assert fused(bp.SGD(lr=0.1)).lr == 0.1


def test_batch_hooks_see_real_gradients(data):
    class GradientWatcher(bp.Callback):
        def __init__(self):
            self.norms = []

        def on_batch_end(self, batch, logs):
            self.norms.append(float(np.linalg.norm(self.model.dense_layers[0].W.grad)))

    watcher = GradientWatcher()
    train(data, epochs=1, callbacks=[watcher])
    assert len(watcher.norms) == 10 and len(set(watcher.norms)) == 10


def test_divergence_still_restores_the_last_good_weights(data):
    X, y = data
    model = bp.MLP([100, 96, 90, 3], activation="relu", output_activation="softmax", seed=1,
                   dtype="float64")
    model.fit(X, y, loss="categorical_crossentropy", optimizer=bp.SGD(lr=0.01), epochs=1,
              batch_size=32)
    good = model.get_flat_weights()
    with pytest.raises(bp.TrainingDiverged) as caught:
        model.fit(X * 1e6, y, loss="categorical_crossentropy", optimizer=bp.SGD(lr=1e6),
                  epochs=2, batch_size=32)
    weights = model.get_flat_weights()
    assert np.isfinite(weights).all()
    assert caught.value.epoch == 0
    np.testing.assert_array_equal(weights, good)
