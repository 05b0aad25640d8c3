"""backprop.sklearn beyond the estimator checks: fitted attributes, stopping, partial_fit,
weights, our extras and parameter validation."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn_helpers
from sklearn.base import clone
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight
from sklearn_helpers import quiet_fit, regression_data

import backprop as bp
from backprop.sklearn import (
    InvalidParameterError,
    MLPClassifier,
    MLPRegressor,
    TrainingDivergedError,
)

# -- data ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris():
    return sklearn_helpers.standardised_iris()



# -- fitted attributes and the three kinds of classification ---------------------------------


def test_fitted_attributes_of_a_multiclass_classifier(iris):
    X, y = iris
    est = quiet_fit(MLPClassifier((10, 6), max_iter=15, random_state=0), X, y)
    assert [w.shape for w in est.coefs_] == [(4, 10), (10, 6), (6, 3)]
    assert [b.shape for b in est.intercepts_] == [(10,), (6,), (3,)]
    assert est.n_iter_ == len(est.loss_curve_) == 15 and est.t_ == 15 * 150
    assert est.best_loss_ == min(est.loss_curve_) and est.loss_ == est.loss_curve_[-1]
    assert est.validation_loss_curve_ is None and est.validation_scores_ is None
    assert (est.n_features_in_, est.n_outputs_, est.n_layers_) == (4, 3, 4)
    assert est.out_activation_ == "softmax" and list(est.classes_) == [0, 1, 2]
    assert est.coefs_[0].dtype == np.float64
    est.coefs_[0][...] = 0.0  # live views: editing them changes the network
    np.testing.assert_array_equal(est.model_.weights[0], 0.0)
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(est.predict_log_proba(X), np.log(proba))


def test_binary_string_labels_and_multilabel_targets(iris):
    X, y = iris
    labels = np.where(y == 0, "setosa", "other")
    binary = quiet_fit(MLPClassifier((8,), max_iter=50, learning_rate_init=0.01,
                                     random_state=0), X, labels)
    assert binary.out_activation_ == "logistic" and binary.n_outputs_ == 1
    assert list(binary.classes_) == ["other", "setosa"]
    assert binary.predict_proba(X).shape == (150, 2)
    assert binary.score(X, labels) > 0.98
    Xm, Ym = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
    multi = quiet_fit(MLPClassifier((32,), max_iter=200, random_state=0),
                      StandardScaler().fit_transform(Xm), Ym)
    assert multi.out_activation_ == "logistic" and list(multi.classes_) == [0, 1, 2, 3]
    predicted = multi.predict(StandardScaler().fit_transform(Xm))
    assert predicted.shape == (200, 4) and set(np.unique(predicted)) <= {0, 1}
    assert np.mean(predicted == Ym) > 0.85


def test_multi_output_regression():
    X, Y = regression_data(n=300, outputs=3)
    est = quiet_fit(MLPRegressor((32,), max_iter=300, learning_rate_init=0.01, random_state=0),
                    X, Y)
    assert est.predict(X).shape == (300, 3) and est.n_outputs_ == 3
    assert est.score(X, Y) > 0.9
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        single = quiet_fit(MLPRegressor((8,), max_iter=5, random_state=0), X, Y[:, :1])
    assert single.predict(X).shape == (300,)  # a column y is treated as 1-D, as scikit-learn


# -- stopping rules ---------------------------------------------------------------------------


def test_early_stopping_watches_the_validation_score_like_sklearn(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(16,), early_stopping=True, validation_fraction=0.3,
                  tol=1e-3, n_iter_no_change=4, max_iter=300, learning_rate_init=0.01,
                  random_state=2)
    est = MLPClassifier(**params).fit(X, y)
    scores = est.validation_scores_
    # scikit-learn's rule: an epoch counts as no improvement unless its score beats the best
    # so far by tol; it stops once the count exceeds n_iter_no_change.
    best, count, stop = -np.inf, 0, None
    for epoch, score in enumerate(scores, start=1):
        count = count + 1 if score < best + params["tol"] else 0
        best = max(best, score)
        if count > params["n_iter_no_change"]:
            stop = epoch
            break
    assert est.n_iter_ == stop == len(scores) == len(est.validation_loss_curve_)
    assert est.best_validation_score_ == max(scores) and est.best_loss_ is None
    kept = scores.index(max(scores))
    assert est.best_validation_loss_ == est.validation_loss_curve_[kept]


def test_early_stopping_on_loss_monitors_validation_loss_and_keeps_the_best_epoch(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(64,), early_stopping=True, validation_fraction=0.3,
                  tol=0.0, n_iter_no_change=5, max_iter=300, learning_rate_init=0.05,
                  random_state=1, early_stopping_on="loss")
    est = MLPClassifier(**params).fit(X, y)
    curve = est.validation_loss_curve_
    best = int(np.argmin(curve))
    # Stops n_iter_no_change + 1 epochs after the lowest validation loss (scikit-learn's rule).
    assert est.n_iter_ == best + 1 + params["n_iter_no_change"] + 1 < params["max_iter"]
    assert len(curve) == len(est.validation_scores_) == len(est.loss_curve_) == est.n_iter_
    assert est.best_validation_loss_ == curve[best]
    assert est.best_validation_score_ == est.validation_scores_[best]
    # The kept network is the one of the best epoch: training just that long gives it.
    again = MLPClassifier(**{**params, "max_iter": best + 1})
    with pytest.warns(ConvergenceWarning):
        again.fit(X, y)
    for kept, direct in zip(est.coefs_, again.coefs_):
        np.testing.assert_array_equal(kept, direct)


def sklearn_stop_epoch(curve, tol, patience):
    """The epoch (from 1) at which scikit-learn's rule stops on this loss curve, or None."""
    best, count = np.inf, 0
    for epoch, loss in enumerate(curve, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > patience:
            return epoch
    return None


def test_without_validation_the_training_loss_decides_and_max_iter_warns(iris):
    X, y = iris
    est = MLPClassifier((8,), tol=1e-2, n_iter_no_change=3, max_iter=500, random_state=0)
    est.fit(X, y)
    assert est.n_iter_ == sklearn_stop_epoch(est.loss_curve_, tol=1e-2, patience=3) < 500
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(4\) reached"):
        MLPClassifier((8,), max_iter=4, random_state=0).fit(X, y)


def test_adaptive_and_invscaling_learning_rates_for_sgd(iris):
    X, y = iris
    adaptive = MLPClassifier((8,), solver="sgd", learning_rate="adaptive", tol=1e-2,
                             n_iter_no_change=2, max_iter=300, random_state=0).fit(X, y)
    assert adaptive.model_.optimizer.lr <= 1e-6  # divided by 5 until the floor, then stopped
    inv = quiet_fit(MLPClassifier((8,), solver="sgd", learning_rate="invscaling", power_t=0.5,
                                  max_iter=3, random_state=0), X, y)
    assert inv.model_.optimizer.lr == pytest.approx(1e-3 / (3 * 150 + 1) ** 0.5)


# -- partial_fit and warm_start ---------------------------------------------------------------


def test_partial_fit_is_one_epoch_continuing_the_optimiser(iris):
    X, y = iris
    # SGD with momentum follows scikit-learn exactly: the same run of partial_fit calls
    # (each one draws its batch order from a fresh random_state, as there) carrying the
    # velocities on gives scikit-learn's losses and weights.
    params = dict(hidden_layer_sizes=(8,), solver="sgd", batch_size=30, random_state=0,
                  learning_rate_init=0.05)
    stepwise, theirs = MLPClassifier(**params, dtype="float64"), SkClassifier(**params)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        stepwise.partial_fit(X, y)
    for _ in range(3):
        stepwise.partial_fit(X, y, classes=[0, 1, 2])
        theirs.partial_fit(X, y, classes=[0, 1, 2])
        assert stepwise.n_iter_ == 1
    np.testing.assert_allclose(stepwise.loss_curve_, theirs.loss_curve_, rtol=1e-12)
    assert stepwise.t_ == 3 * 150
    for a, b in zip(stepwise.coefs_, theirs.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    with pytest.raises(ValueError, match="not the same as on last call"):
        stepwise.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(*regression_data())
    lbfgs = MLPRegressor(solver="lbfgs")
    assert not hasattr(lbfgs, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):
        lbfgs.partial_fit(*regression_data())


def test_partial_fit_encodes_labels_like_label_binarizer(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])
    fast = MLPClassifier((8,), random_state=0)  # str labels: encoded by searchsorted
    slow = MLPClassifier((8,), random_state=0)  # object labels: through LabelBinarizer
    for part in (slice(0, 100), slice(50, 150)):  # the first batch has no virginica
        fast.partial_fit(X[part], names[y[part]], classes=names)
        slow.partial_fit(X[part], names[y[part]].astype(object), classes=names.astype(object))
    np.testing.assert_array_equal(fast.predict_proba(X), slow.predict_proba(X))
    assert list(fast.predict(X[:3])) == list(slow.predict(X[:3]))
    assert set(fast.predict(X)) <= set(names)
    for est in (fast, slow):
        with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
            est.partial_fit(X[:2], np.array(["setosa", "rose"], dtype=est.classes_.dtype))


def test_warm_start_continues_from_the_current_weights(iris):
    X, y = iris
    cold = quiet_fit(MLPClassifier((8,), max_iter=10, random_state=0), X, y)
    first_run = list(cold.loss_curve_)
    warm = quiet_fit(clone(cold).set_params(warm_start=True), X, y)
    quiet_fit(warm, X, y)
    assert len(warm.loss_curve_) == 20 and warm.loss_curve_[:10] == first_run
    assert warm.loss_curve_[10] < first_run[0]  # picks up where it stopped
    quiet_fit(cold, X, y)  # without warm_start: a new network
    assert cold.loss_curve_ == first_run
    with pytest.raises(ValueError, match="same classes"):
        warm.fit(X[y < 2], y[y < 2])


# -- sample and class weights ----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Got `batch_size`")  # batch_size=1000 is one full batch
def test_integer_sample_weights_equal_repeated_rows_and_zero_equals_dropped(iris):
    X, y = iris
    weights = np.random.default_rng(0).integers(0, 4, size=150)
    params = dict(hidden_layer_sizes=(8,), batch_size=1000, max_iter=30, random_state=0)
    weighted = quiet_fit(MLPClassifier(**params), X, y, sample_weight=weights)
    repeated = quiet_fit(MLPClassifier(**params), np.repeat(X, weights, axis=0),
                         np.repeat(y, weights))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 5.0}])
def test_class_weight_is_a_per_class_sample_weight(class_weight):
    X, y = make_classification(n_samples=200, weights=[0.85], random_state=0)
    params = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    by_class = quiet_fit(MLPClassifier(**params, class_weight=class_weight), X, y)
    by_sample = quiet_fit(MLPClassifier(**params), X, y,
                          sample_weight=compute_sample_weight(class_weight, y))
    np.testing.assert_array_equal(by_class.predict_proba(X), by_sample.predict_proba(X))
    plain = quiet_fit(MLPClassifier(**params), X, y)
    assert np.mean(by_class.predict(X) == 1) > np.mean(plain.predict(X) == 1)


def test_class_weight_refusals():
    Xm, Ym = make_multilabel_classification(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match="multi-label"):
        MLPClassifier(class_weight="balanced").fit(Xm, Ym)
    with pytest.raises(ValueError, match="not supported for partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(Xm[:, :2], Ym[:, 0], classes=[0, 1])


# -- beyond scikit-learn: activations, losses, dropout, dtype, solvers ------------------------


@pytest.mark.parametrize("activation", [n for n in bp.activations.ACTIVATIONS.names()
                                        if n != "softmax"])
def test_every_registered_activation_trains(iris, activation):
    X, y = iris
    est = quiet_fit(MLPClassifier((16,), activation=activation, max_iter=100,
                                  learning_rate_init=0.01, random_state=0), X, y)
    assert est.model_.dense_layers[0].activation.name == activation
    assert est.score(X, y) > 0.85


def test_robust_regression_losses_resist_outliers():
    gen = np.random.default_rng(0)
    X = gen.uniform(-1, 1, size=(400, 1))
    clean = 2.0 * X[:, 0]
    y = clean + 0.05 * gen.normal(size=400)
    y[::10] += 20.0  # one row in ten is a gross outlier
    errors = {}
    for loss in ["squared_error", "absolute_error", "huber"]:
        est = quiet_fit(MLPRegressor((), activation="identity", loss=loss, max_iter=300,
                                     learning_rate_init=0.05, random_state=0), X, y)
        errors[loss] = np.abs(est.predict(X) - clean).mean()
    assert errors["squared_error"] > 1.5  # pulled up by the outliers' mean (≈ 2)
    assert errors["absolute_error"] < 0.3 and errors["huber"] < 0.3
    mae = quiet_fit(MLPRegressor(loss="absolute_error", max_iter=1), X, y)
    assert mae.model_.loss.name == "mae"


def test_dropout_trains_stochastically_and_predicts_deterministically(iris):
    X, y = iris
    est = quiet_fit(MLPClassifier((32, 16), dropout=[0.5, 0.2], max_iter=50,
                                  random_state=0), X, y)
    rates = [layer.rate for layer in est.model_.layers if isinstance(layer, bp.Dropout)]
    assert rates == [0.5, 0.2]
    np.testing.assert_array_equal(est.predict_proba(X), est.predict_proba(X))
    plain = quiet_fit(MLPClassifier((32, 16), max_iter=50, random_state=0), X, y)
    assert est.loss_curve_[-1] > plain.loss_curve_[-1]  # dropout is noise on the training loss


def test_dtype_follows_the_input_unless_given(iris):
    X, y = iris
    as32 = quiet_fit(MLPClassifier((4,), max_iter=3, random_state=0), X.astype(np.float32), y)
    assert as32.model_.dtype == np.float32 and as32.coefs_[0].dtype == np.float32
    assert as32.predict_proba(X.astype(np.float32)).dtype == np.float32
    forced = quiet_fit(MLPClassifier((4,), max_iter=3, dtype="float32", random_state=0), X, y)
    assert forced.model_.dtype == np.float32
    assert forced.predict_proba(X).dtype == np.float64  # answers in the query's precision
    ints = quiet_fit(MLPRegressor((4,), max_iter=3, random_state=0), (X * 10).astype(int), y)
    assert ints.model_.dtype == np.float64


@pytest.mark.parametrize("solver", ["adamw", "rmsprop", "adagrad", "lbfgs"])
def test_extra_solvers_fit_well(iris, solver):
    X, y = iris
    lr = 0.1 if solver == "adagrad" else 0.01  # Adagrad's steps shrink as it goes
    est = quiet_fit(MLPClassifier((16,), solver=solver, learning_rate_init=lr, max_iter=100,
                                  random_state=0), X, y)
    assert est.score(X, y) > 0.9 and est.n_iter_ >= 1
    if solver != "lbfgs":
        assert est.model_.optimizer.name == solver
    if solver == "adamw":
        assert est.model_.optimizer.weight_decay == est.alpha


def test_lbfgs_warns_when_it_runs_out_of_iterations(iris):
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        est = MLPClassifier((16,), solver="lbfgs", max_iter=3, random_state=0).fit(*iris)
    assert est.n_iter_ == 3


def test_divergence_is_a_value_error_that_keeps_the_last_finite_weights():
    X, y = regression_data()
    est = MLPRegressor((8,), solver="sgd", learning_rate_init=1e3, momentum=0.0, max_iter=50,
                       random_state=0)
    with pytest.raises(TrainingDivergedError, match="smaller learning rate") as info:
        est.fit(X * 1e3, y * 1e3)
    error = info.value
    assert isinstance(error, ValueError) and isinstance(error, bp.TrainingDiverged)
    assert error.epoch == len(error.history.epoch)  # counted from 0: the epochs completed
    for kept, carried in zip(est.coefs_ + est.intercepts_, error.coefs + error.intercepts):
        assert np.all(np.isfinite(kept))
        np.testing.assert_array_equal(kept, carried)
    # Non-finite values lead with scikit-learn's message (its test matches on it).
    with pytest.raises(TrainingDivergedError, match="^Solver produced non-finite parameter "
                                                    "weights.*training diverged in epoch 1"):
        # A seed: with four units some starting weights (5 of random_state 0–59) train five
        # epochs on these inputs without a non-finite loss (the test failed once so).
        MLPRegressor((4,), max_iter=5, random_state=0).fit(
            np.finfo(np.float64).max * np.ones((10, 2)), y[:10])


def test_lbfgs_ending_on_non_finite_weights_keeps_the_last_finite_ones(monkeypatch):
    import scipy.optimize

    X, y = regression_data()
    minimize = scipy.optimize.minimize

    def lands_on_nan(fun, x0, **kwargs):  # L-BFGS-B that ends on NaN weights
        result = minimize(fun, x0, **kwargs)
        result.x = np.full_like(result.x, np.nan)
        return result

    monkeypatch.setattr(scipy.optimize, "minimize", lands_on_nan)
    est = MLPRegressor((3,), solver="lbfgs", max_iter=5, random_state=0)
    with pytest.raises(TrainingDivergedError, match="^Solver produced non-finite.*last finite"):
        quiet_fit(est, X, y)
    assert all(np.all(np.isfinite(w)) for w in est.coefs_ + est.intercepts_)
    assert est.score(X, y) > -1


def test_divergence_with_early_stopping_records_nan_and_keeps_the_best_epoch():
    X, y = regression_data(n=200)
    est = MLPRegressor((16,), activation="identity", solver="sgd", learning_rate_init=0.3,
                       early_stopping=True, n_iter_no_change=1000, max_iter=40, batch_size=20,
                       random_state=0)
    with pytest.warns(ConvergenceWarning, match="training diverged in epoch 2.*keeps the "
                                                "weights of its best validation epoch"):
        est.fit(X, y)
    assert len(est.validation_scores_) == len(est.loss_curve_) == est.n_iter_ == 2
    assert np.isnan(est.validation_scores_[-1]) and np.isnan(est.loss_curve_[-1])
    first = est.validation_scores_[0]
    assert est.best_validation_score_ == first and np.isfinite(first)
    assert np.all(np.isfinite(est.predict(X)))  # the kept network is epoch 1's


def test_verbose_reports_each_epoch(iris, capsys):
    quiet_fit(MLPClassifier((4,), max_iter=2, verbose=True, early_stopping=True,
                            random_state=0), *iris)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 2, loss = " in out
    assert out.count("Validation loss: ") == 2


def test_feature_names_are_recorded():
    pd = pytest.importorskip("pandas")
    X, y = regression_data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = quiet_fit(MLPRegressor((4,), max_iter=2, random_state=0), frame, y)
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]


# -- validation: __init__ stores, fit checks --------------------------------------------------

BAD_PARAMETERS = [
    ({"hidden_layer_sizes": 0}, "'hidden_layer_sizes' parameter of MLPClassifier must be"),
    ({"hidden_layer_sizes": (10, -1)}, "Got \\(10, -1\\) instead"),
    ({"hidden_layer_sizes": "10"}, "hidden_layer_sizes"),
    ({"activation": "relu6"}, "'activation' parameter .* a str among .*'gelu'.*Got 'relu6'"),
    ({"activation": "softmax"}, "'activation' parameter"),
    ({"solver": "newton"}, "'solver' parameter .* among \\{'adagrad', 'adam', 'adamw', 'lbfgs'"),
    ({"alpha": -1.0}, "'alpha' parameter of MLPClassifier must be a float in the range "
                      "\\[0.0, inf\\). Got -1.0 instead"),
    ({"batch_size": 0}, "'batch_size' parameter .*'auto'"),
    ({"learning_rate": "fast"}, "'learning_rate' parameter"),
    ({"learning_rate_init": 0.0}, "range \\(0.0, inf\\)"),
    ({"max_iter": 2.5}, "'max_iter' parameter .* an int in the range \\[1, inf\\)"),
    ({"max_iter": True}, "'max_iter' parameter"),
    ({"tol": -1e-3}, "'tol' parameter"),
    ({"momentum": 1.0}, "'momentum' parameter .* \\[0.0, 1.0\\)"),
    ({"beta_2": 1.0}, "'beta_2' parameter"),
    ({"epsilon": 0.0}, "'epsilon' parameter"),
    ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter"),
    ({"shuffle": "yes"}, "'shuffle' parameter .* 'bool'"),
    ({"early_stopping": True, "validation_fraction": 0.0}, "'validation_fraction' parameter"),
    ({"dropout": 1.0}, "'dropout' parameter .* \\[0.0, 1.0\\)"),
    ({"dropout": [0.1, 0.2]}, "list of 1 such floats"),
    ({"init": "orthogonal"}, "'init' parameter .* 'he_normal'"),
    ({"dtype": "float16"}, "'dtype' parameter .* 'float32' or 'float64'"),
    ({"class_weight": "auto"}, "'class_weight' parameter"),
    ({"solver": "lbfgs", "dropout": 0.2}, "dropout needs a stochastic solver"),
]


def test_init_only_stores_and_fit_names_the_bad_parameter(iris):
    for params, match in BAD_PARAMETERS:
        est = MLPClassifier(**params)  # no error here: scikit-learn validates in fit
        with pytest.raises(InvalidParameterError, match=match):
            est.fit(*iris)
    with pytest.raises(ValueError, match="poisson needs non-negative targets"):
        MLPRegressor(loss="poisson").fit(*regression_data())
    with pytest.raises(InvalidParameterError, match="'early_stopping_on' parameter .* among "
                                                    "\\{'loss', 'score'\\}"):
        MLPRegressor(early_stopping_on="val_loss").fit(*regression_data())
    with pytest.raises(TypeError, match="'loss' parameter of MLPRegressor"):
        MLPRegressor(loss=bp.losses.get("categorical_crossentropy")).fit(*regression_data())


def test_bad_data_gets_scikit_learn_messages(iris):
    X, y = iris
    fitted = quiet_fit(MLPClassifier((4,), max_iter=2, random_state=0), X, y)
    cases = [
        (lambda: MLPClassifier().fit(np.where(X > 2, np.nan, X), y), ValueError,
         "Input X contains NaN"),
        (lambda: MLPClassifier().fit(X, y + 0.5), ValueError, "Unknown label type"),
        (lambda: fitted.predict(X[:, :3]), ValueError, "X has 3 features, but MLPClassifier "
                                                       "is expecting 4 features"),
        (lambda: MLPClassifier().fit(X, y, sample_weight=np.ones(3)), ValueError,
         "sample_weight.shape == \\(3,\\), expected \\(150,\\)"),
        (lambda: MLPClassifier().fit(X, y, sample_weight=-np.ones(150)), ValueError,
         "Negative values"),
        (lambda: MLPRegressor().fit(X, None), ValueError, "requires y to be passed"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
