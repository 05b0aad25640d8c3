"""Sparse X (SciPy CSR/CSC, matrices and arrays): the engine trains and predicts on it without
densifying, and gets the numbers it gets on the same X dense."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import backprop as bp

sparse = pytest.importorskip("scipy.sparse")

# A few epochs on random labels: fit's verdict that nothing was learned is beside the point.
pytestmark = pytest.mark.filterwarnings("ignore::backprop.training.PoorFitWarning")

FORMATS = [sparse.csr_matrix, sparse.csr_array, sparse.csc_matrix, sparse.csc_array]


def _data(n=120, d=30, seed=0):
    gen = np.random.default_rng(seed)
    X = sparse.random(n, d, density=0.15, format="csr", rng=gen)
    y = (X @ gen.normal(size=d) > 0).astype(float)
    return X, y


def _model(d=30, first="tanh", seed=0):
    return bp.MLP([d, 6, 1], activation=first, output_activation="sigmoid", seed=seed,
                  dtype="float64")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])  # plain SGD: the fused step on dense
@pytest.mark.parametrize("batch_size, shuffle", [(None, True), (16, True), (16, False)])
def test_fit_on_sparse_equals_fit_on_dense(optimizer, batch_size, shuffle):
    X, y = _data()
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=X.shape[0])
    on_sparse, on_dense = _model(), _model()
    kwargs = dict(loss="binary_crossentropy", optimizer=optimizer, epochs=4,
                  batch_size=batch_size, shuffle=shuffle, sample_weight=weights,
                  validation_split=0.2)
    h_sparse = on_sparse.fit(X, y, **kwargs)
    h_dense = on_dense.fit(X.toarray(), y, **kwargs)
    np.testing.assert_allclose(on_sparse.get_flat_parameters(), on_dense.get_flat_parameters(),
                               rtol=1e-12, atol=1e-14)
    for key in ("loss", "val_loss", "grad_norm/layer1"):
        np.testing.assert_allclose(h_sparse.history[key], h_dense.history[key], rtol=1e-12)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.__name__)
def test_predict_evaluate_and_gradients_on_every_sparse_format(fmt):
    X, y = _data()
    model = _model()
    dense = X.toarray()
    X_fmt = fmt(X)
    np.testing.assert_allclose(model.predict(X_fmt), model.predict(dense), rtol=1e-13)
    np.testing.assert_allclose(model.predict(X_fmt, batch_size=50), model.predict(dense),
                               rtol=1e-13)
    assert model.evaluate(X_fmt, y) == pytest.approx(model.evaluate(dense, y), rel=1e-13)
    value, grads = model.loss_and_gradients(X_fmt, y, loss="binary_crossentropy")
    value_d, grads_d = model.loss_and_gradients(dense, y, loss="binary_crossentropy")
    assert value == pytest.approx(value_d, rel=1e-13)
    for (dW, db), (dW_d, db_d) in zip(grads, grads_d):
        np.testing.assert_allclose(dW, dW_d, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(db, db_d, rtol=1e-12, atol=1e-15)
    check = bp.gradcheck(model, X_fmt[:10], y[:10], loss="binary_crossentropy")
    assert check.max_error < 1e-6, check


def test_training_never_densifies_x():
    # 3,000 × 40,000 at 0.05%: dense it would take 960 MB; sparse 0.7 MB.
    gen = np.random.default_rng(0)
    X = sparse.random(3000, 40_000, density=0.0005, format="csr", rng=gen)
    y = gen.integers(0, 2, size=3000).astype(float)
    model = bp.MLP([40_000, 8, 1], output_activation="sigmoid", seed=0, dtype="float64")
    dense_bytes = X.shape[0] * X.shape[1] * 8
    tracemalloc.start()
    try:
        model.fit(X, y, loss="binary_crossentropy", optimizer="adam", epochs=2, batch_size=200,
                  validation_split=0.1)
        model.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The peak (about 50 MB) is copies of the 2.6 MB first layer: values and gradients,
    # Adam's moments, and the per-epoch norm snapshots of them (a few rows of 5 MB).
    assert peak < dense_bytes / 10


def test_sparse_input_is_validated_like_dense():
    X, y = _data()
    model = _model()
    bad = X.copy()
    bad.data[[3, 40]] = np.nan
    rows = sorted({int(np.searchsorted(bad.indptr, i, side="right") - 1) for i in (3, 40)})
    with pytest.raises(ValueError, match=f"X contains NaN at rows \\[{rows[0]}, {rows[1]}\\]"):
        model.predict(bad)
    with pytest.raises(ValueError, match="X has 29 features but the model's first layer "
                                         "expects 30"):
        model.fit(X[:, :29], y)
    with pytest.raises(TypeError, match="X must hold real numbers; got a sparse matrix of "
                                        "dtype complex128"):
        model.predict(X.astype(np.complex128))
    with pytest.raises(ValueError, match="X is empty"):
        model.predict(X[:0])
    dropout_first = bp.Sequential([bp.Dropout(0.5), bp.Dense(30, 1, activation="sigmoid")],
                                  seed=0)
    for call in (lambda: dropout_first.predict(X),
                 lambda: dropout_first.fit(X, y, loss="binary_crossentropy", epochs=1)):
        with pytest.raises(TypeError, match="sparse X needs a Dense first layer"):
            call()


def test_a_dense_layer_reads_sparse_input_directly():
    X, _ = _data(n=5, d=4)
    layer = bp.Dense(4, 3, activation="relu").build(seed=0, dtype="float64")
    a = layer.forward_sparse(X)
    np.testing.assert_allclose(a, np.maximum(X.toarray() @ layer.W.value, 0))
    delta = np.random.default_rng(2).normal(size=(5, 3))
    assert layer.backward_delta(delta.copy()) is not None  # ∂L/∂x = δ·Wᵀ, still dense
    np.testing.assert_allclose(layer.W.grad, X.toarray().T @ delta, rtol=1e-13)
    np.testing.assert_allclose(layer.b.grad, delta.sum(axis=0), rtol=1e-13)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        bp.Dense(4, 3).build(seed=0).backward(delta)
