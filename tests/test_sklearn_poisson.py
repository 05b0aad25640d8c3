"""``loss="poisson"``: half the Poisson deviance with a log link, as scikit-learn's MLPRegressor.

The engine's "poisson" loss reads the network's identity output as log μ; the estimator
predicts μ = e^output and reports scikit-learn's ``out_activation_ = "exp"``.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import PoissonRegressor
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn_helpers import quiet_fit

import backprop as bp
from backprop.sklearn import MLPRegressor


def _counts(n=300, k=1, seed=0, offset=0.5):
    gen = np.random.default_rng(seed)
    X = gen.normal(size=(n, 3))
    log_mu = 0.4 * X[:, :1] - 0.3 * X[:, 1:2] + np.arange(k) * 0.2 + offset
    return X, gen.poisson(np.exp(log_mu)).astype(float).reshape(n, k).squeeze()


def test_network_gradient_matches_finite_differences_and_torch(torch):
    X, y = _counts(n=12, k=2)
    model = bp.MLP([3, 5, 2], activation="tanh", output_activation="identity", seed=1,
                   dtype="float64")
    check = bp.gradcheck(model, X, y, loss="poisson")
    assert check.max_error < 1e-7, check
    value, grads = model.loss_and_gradients(X, y, loss="poisson")
    # PyTorch's PoissonNLLLoss(log_input=True) is e^a − y·a, the same up to the constant
    # mean(y·log y − y), which has no gradient.
    params = [torch.tensor(a, requires_grad=True) for pair in
              zip(model.weights, model.biases) for a in pair]
    W1, b1, W2, b2 = params
    log_mu = torch.tanh(torch.from_numpy(X) @ W1 + b1) @ W2 + b2
    target = torch.from_numpy(y)
    nll = torch.nn.PoissonNLLLoss(log_input=True, full=False)(log_mu, target)
    nll.backward()
    constant = float((torch.special.xlogy(target, target) - target).mean())
    assert value == pytest.approx(nll.item() + constant, rel=1e-12)
    for ours, theirs in zip([g for pair in grads for g in pair], params):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_loss_value_is_half_the_poisson_deviance():
    # y = 2 at μ = e^0.5: e^0.5 − 2·0.5 + 2·ln 2 − 2 = 1.6487213 − 1 + 1.3862944 − 2 = 0.0350157
    # y = 0 at μ = e^-1: e^-1 − 0 + 0 = 0.3678794 (0·log 0 counts as 0); mean 0.2014476
    loss = bp.losses.get("poisson")
    a = np.array([[0.5], [-1.0]])
    T = np.array([[2.0], [0.0]])
    expected = ((np.exp(0.5) - 1.0 + 2 * np.log(2) - 2) + np.exp(-1.0)) / 2
    assert loss.value(a, T) == pytest.approx(expected, rel=1e-14)
    assert loss.value(np.log([[2.0], [3.0]]), np.array([[2.0], [3.0]])) == pytest.approx(
        0.0, abs=1e-15)  # zero at a perfect prediction
    with pytest.raises(ValueError, match="poisson needs non-negative targets.*row 1"):
        loss.prepare_targets(np.array([1.0, -2.0]), 1, np.float64)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_regressor_predicts_the_mean_like_sklearn(solver):
    X, y = _counts()
    # The same start, objective and gradient: L-BFGS walks scikit-learn's path (15 steps,
    # before rounding differences grow); Adam's differs only by where ε sits.
    params = dict(loss="poisson", hidden_layer_sizes=(8,), activation="tanh", solver=solver,
                  max_iter=15 if solver == "lbfgs" else 300, learning_rate_init=0.01,
                  random_state=0)
    ours = quiet_fit(MLPRegressor(**params, dtype="float64"), X, y)
    theirs = quiet_fit(SkRegressor(**params), X, y)
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    prediction = ours.predict(X)
    np.testing.assert_allclose(prediction, np.exp(ours.model_.predict(X).ravel()))
    assert prediction.min() > 0
    if solver == "lbfgs":
        np.testing.assert_allclose(prediction, theirs.predict(X), rtol=1e-10)
        assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)
    else:
        assert ours.model_.loss.name == "poisson"
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-3)


def test_without_hidden_layers_it_is_the_poisson_glm():
    X, y = _counts(n=200)
    glm = PoissonRegressor(alpha=0.0, tol=1e-8).fit(X, y)
    est = MLPRegressor(hidden_layer_sizes=(), loss="poisson", solver="lbfgs", alpha=0.0,
                       tol=1e-9, max_iter=500, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.coefs_[0].ravel(), glm.coef_, rtol=1e-4)
    assert est.intercepts_[0][0] == pytest.approx(glm.intercept_, rel=1e-4)


def test_multi_output_and_early_stopping_score_the_mean_like_sklearn():
    # Counts around e^3 ≈ 20: an R² of log μ against them would be far below zero.
    X, Y = _counts(n=400, k=2, offset=3.0)
    params = dict(hidden_layer_sizes=(16,), loss="poisson", early_stopping=True, max_iter=200,
                  learning_rate_init=0.05, random_state=0)
    ours = quiet_fit(MLPRegressor(**params), X, Y)
    theirs = quiet_fit(SkRegressor(**params), X, Y)
    assert ours.predict(X).shape == (400, 2)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-3)
    assert ours.best_validation_score_ == max(ours.validation_scores_) > 0.5
