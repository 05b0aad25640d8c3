"""backprop.sklearn: ``coefs_`` and ``intercepts_`` can be assigned, as scikit-learn's lists."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import sklearn_helpers
from sklearn.exceptions import NotFittedError
from sklearn_helpers import quiet_fit

from backprop.sklearn import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def iris():
    return sklearn_helpers.standardised_iris()


@pytest.fixture
def fitted(iris):
    return quiet_fit(MLPClassifier((5,), max_iter=3, random_state=0), *iris)


def test_assigning_lists_of_the_right_shapes_sets_the_network(fitted, iris):
    X, _ = iris
    gen = np.random.default_rng(0)
    coefs = [gen.normal(size=(4, 5)), gen.normal(size=(5, 3))]
    intercepts = [gen.normal(size=5), gen.normal(size=3)]
    fitted.coefs_ = coefs
    fitted.intercepts_ = intercepts
    for mine, given in zip(fitted.model_.weights + fitted.model_.biases, coefs + intercepts):
        np.testing.assert_array_equal(mine, given)
    # The network computes with them: a relu hidden layer and a softmax output, by hand.
    hidden = np.maximum(X @ coefs[0] + intercepts[0], 0)
    logits = hidden @ coefs[1] + intercepts[1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fitted.predict_proba(X), expected, rtol=1e-12)


def test_item_assignment_writes_into_the_network(fitted):
    new = np.full((5, 3), 0.25)
    fitted.coefs_[1] = new
    fitted.intercepts_[0] = np.arange(5.0)
    np.testing.assert_array_equal(fitted.model_.weights[1], new)
    np.testing.assert_array_equal(fitted.model_.biases[0], np.arange(5.0))
    assert fitted.coefs_ + fitted.intercepts_  # still lists: concatenation works
    assert [w.shape for w in copy.copy(fitted.coefs_)] == [(4, 5), (5, 3)]
    assert type(pickle.loads(pickle.dumps(fitted.coefs_))) is list


@pytest.mark.parametrize("assign, error, match", [
    (lambda est: setattr(est, "coefs_", [np.zeros((4, 5))]), ValueError,
     r"coefs_ must be a list of 2 arrays of shapes \[\(4, 5\), \(5, 3\)\].*got 1 items"),
    (lambda est: setattr(est, "coefs_", [np.zeros((4, 5)), np.zeros((3, 5))]), ValueError,
     r"coefs_\[1\] must have shape \(5, 3\); got \(3, 5\)"),
    (lambda est: setattr(est, "intercepts_", [np.zeros(5), np.zeros(2)]), ValueError,
     r"intercepts_\[1\] must have shape \(3,\); got \(2,\)"),
    (lambda est: est.coefs_.__setitem__(0, np.zeros((5, 4))), ValueError,
     r"coefs_\[0\] must have shape \(4, 5\)"),
    (lambda est: est.coefs_.__setitem__(0, np.full((4, 5), np.nan)), ValueError,
     r"coefs_\[0\] contains NaN"),
    (lambda est: est.coefs_.append(np.zeros((3, 3))), TypeError,
     "one array per layer of the network; to change the architecture"),
    (lambda est: setattr(est, "intercepts_", np.zeros(5)), TypeError,
     "intercepts_ must be a list with one array per layer"),
    (lambda est: setattr(est, "coefs_", [np.zeros((4, 5)), np.array([["a"] * 3] * 5)]),
     TypeError, r"coefs_\[1\] must hold real numbers"),
])
def test_wrong_assignments_are_refused_and_change_nothing(fitted, assign, error, match):
    before = fitted.model_.get_flat_weights()
    with pytest.raises(error, match=match):
        assign(fitted)
    np.testing.assert_array_equal(fitted.model_.get_flat_weights(), before)


def test_weights_assigned_before_fitting_are_where_partial_fit_starts():
    # scikit-learn's test_fit, in the regressor: one SGD step of ½(a − y)² from given weights.
    # h = tanh(x·W1 + b1) = tanh(0.5·1 + 0.25·2 + 0) = tanh(1.0) = 0.76159416
    # a = h·W2 + b2 = 0.76159416·2 − 1 = 0.52318831;  a − y = 0.52318831 − 1.5 = −0.97681169
    # ∂L/∂W2 = h·(a − y) = −0.74393... ;  W2 ← 2 − 0.1·(−0.74393) = 2.07439...
    # ∂L/∂b2 = a − y;  b2 ← −1 − 0.1·(−0.97681169) = −0.90231883
    est = MLPRegressor(hidden_layer_sizes=1, activation="tanh", solver="sgd", momentum=0.0,
                       alpha=0.0, learning_rate_init=0.1, random_state=0)
    est.coefs_ = [0] * 2  # scikit-learn's idiom: assign a list, then fill it in
    est.coefs_[0] = np.array([[0.5], [0.25]])
    est.coefs_[1] = np.array([[2.0]])
    est.intercepts_ = [np.array([0.0]), np.array([-1.0])]
    est.partial_fit(np.array([[1.0, 2.0]]), np.array([1.5]))
    h = np.tanh(1.0)
    residual = h * 2.0 - 1.0 - 1.5
    assert est.coefs_[1][0, 0] == pytest.approx(2.0 - 0.1 * h * residual, rel=1e-12)
    assert est.intercepts_[1][0] == pytest.approx(-1.0 - 0.1 * residual, rel=1e-12)
    assert (est.n_layers_, est.n_outputs_, est.n_features_in_, est.n_iter_) == (3, 1, 2, 1)


def test_fit_without_warm_start_draws_new_weights_over_assigned_ones(iris):
    X, y = iris
    est = MLPClassifier((5,), max_iter=1, random_state=0)
    est.coefs_ = [np.zeros((4, 5)), np.zeros((5, 3))]
    est.intercepts_ = [np.zeros(5), np.zeros(3)]
    quiet_fit(est, X, y)
    fresh = quiet_fit(MLPClassifier((5,), max_iter=1, random_state=0), X, y)
    for a, b in zip(est.coefs_, fresh.coefs_):
        np.testing.assert_array_equal(a, b)


def test_assigned_weights_are_checked_against_the_data_when_training_starts():
    X, y = np.ones((3, 2)), np.array([0.0, 1.0, 2.0])
    est = MLPRegressor(solver="sgd")
    est.coefs_ = [np.zeros((3, 4)), np.zeros((4, 1))]
    est.intercepts_ = [np.zeros(4), np.zeros(1)]
    with pytest.raises(ValueError, match=r"shapes \[\(3, 4\), \(4, 1\)\].*2 features to its 1"):
        est.partial_fit(X, y)
    only_coefs = MLPRegressor(solver="sgd")
    only_coefs.coefs_ = [np.zeros((2, 1))]
    with pytest.raises(ValueError, match="intercepts_ was not assigned"):
        only_coefs.partial_fit(X, y)
    with pytest.raises(NotFittedError):
        MLPRegressor().coefs_
