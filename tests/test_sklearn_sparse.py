"""backprop.sklearn on sparse X: CSR and CSC, SciPy matrices and arrays, in fit, partial_fit,
predict and predict_proba, with the results of the same X dense and of scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn_helpers import quiet_fit

from backprop.sklearn import MLPClassifier, MLPRegressor

sparse = pytest.importorskip("scipy.sparse")

FORMATS = [sparse.csr_matrix, sparse.csr_array, sparse.csc_matrix, sparse.csc_array]


def _text_like(n=160, d=300, seed=0):
    """TF-IDF-shaped: few positive weights per row, rows of unit norm, three classes."""
    gen = np.random.default_rng(seed)
    X = sparse.random(n, d, density=0.03, format="csr", rng=gen)
    X = sparse.csr_matrix(sparse.diags(1 / np.maximum(sparse.linalg.norm(X, axis=1), 1e-12))
                          @ X)
    y = np.argmax(X @ gen.normal(size=(d, 3)), axis=1)
    return X, y


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("solver, early_stopping", [("adam", False), ("sgd", True),
                                                    ("lbfgs", False)])
def test_classifier_on_sparse_equals_dense(fmt, solver, early_stopping):
    X, y = _text_like()
    params = dict(hidden_layer_sizes=(12,), solver=solver, early_stopping=early_stopping,
                  max_iter=15, learning_rate_init=0.05, random_state=0)
    on_sparse = quiet_fit(MLPClassifier(**params), fmt(X), y)
    on_dense = quiet_fit(MLPClassifier(**params), X.toarray(), y)
    np.testing.assert_allclose(on_sparse.predict_proba(fmt(X)), on_dense.predict_proba(
        X.toarray()), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(on_sparse.predict(fmt(X)), on_dense.predict(X.toarray()))
    np.testing.assert_allclose(on_sparse.loss_curve_, on_dense.loss_curve_, rtol=1e-9)
    assert on_sparse.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("fmt", [sparse.csr_array, sparse.csc_matrix], ids=lambda f: f.__name__)
def test_partial_fit_and_regression_on_sparse(fmt):
    X, y = _text_like(seed=1)
    target = np.asarray(X @ np.linspace(-1, 1, X.shape[1])).ravel()
    reg_sparse, reg_dense = (MLPRegressor((8,), solver="sgd", random_state=0) for _ in range(2))
    for _ in range(3):
        reg_sparse.partial_fit(fmt(X), target)
        reg_dense.partial_fit(X.toarray(), target)
    np.testing.assert_allclose(reg_sparse.predict(fmt(X)), reg_dense.predict(X.toarray()),
                               rtol=1e-9, atol=1e-12)
    clf = MLPClassifier((8,), random_state=0)
    clf.partial_fit(fmt(X[:80]), y[:80], classes=[0, 1, 2])
    clf.partial_fit(fmt(X[80:]), y[80:])
    assert clf.predict_proba(fmt(X)).shape == (X.shape[0], 3)


def test_sparse_training_follows_sklearn_on_the_same_sparse_input():
    X, y = _text_like(n=120)
    params = dict(hidden_layer_sizes=(10,), solver="sgd", momentum=0.9, alpha=1e-3,
                  batch_size=20, learning_rate_init=0.1, max_iter=8, random_state=3)
    ours = quiet_fit(MLPClassifier(**params, dtype="float64"), X, y)
    theirs = quiet_fit(SkClassifier(**params), X, y)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9)


def test_float32_sparse_input_trains_in_float32():
    X, y = _text_like()
    est = quiet_fit(MLPClassifier((6,), max_iter=3, random_state=0), X.astype(np.float32), y)
    assert est.coefs_[0].dtype == np.float32
    assert est.predict_proba(X.astype(np.float32)).dtype == np.float32
