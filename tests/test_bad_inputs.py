"""Bad input is refused at the public boundary with a message that names the problem."""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.validation import check_numeric_array

X = np.random.default_rng(0).normal(size=(10, 2))
Y = np.array([0, 1] * 5)


def _model(**kwargs):
    options = dict(activation="tanh", output_activation="sigmoid", seed=0)
    return bp.MLP([2, 3, 1], **{**options, **kwargs})


def _fit(X_=X, y=Y, **kwargs):
    options = dict(loss="binary_crossentropy", epochs=1)
    return _model().fit(X_, y, **{**options, **kwargs})


def _with(value, row, col=0, base=X):
    bad = base.copy()
    bad[row, col] = value
    return bad


def _softmax_fit(y):
    model = bp.MLP([2, 3, 3], output_activation="softmax", seed=0)
    return model.fit(X, y, loss="categorical_crossentropy", epochs=1)


CASES = {
    # data
    "rows differ": (lambda: _fit(y=Y[:9]), ValueError,
                    r"X and y have different numbers of rows: X has 10, y has 9"),
    "rows differ (gradients)": (lambda: _model().loss_and_gradients(X, Y[:7]), ValueError,
                                r"different numbers of rows: X has 10, y has 7"),
    "feature count": (lambda: _fit(X_=np.ones((10, 3))), ValueError,
                      r"X has 3 features but the model's first layer expects 2"),
    "feature count (predict)": (lambda: _model().predict(np.ones((4, 5))), ValueError,
                                r"X has 5 features but the model's first layer expects 2"),
    "NaN in X": (lambda: _fit(X_=_with(np.nan, 4)), ValueError, r"X contains NaN at rows \[4\]"),
    "inf in X": (lambda: _fit(X_=_with(np.inf, 7, 1)), ValueError,
                 r"X contains inf at rows \[7\]"),
    "-inf in X (predict)": (lambda: _model().predict(_with(-np.inf, 2)), ValueError,
                            r"X contains inf at rows \[2\]"),
    "NaN in y": (lambda: _fit(y=np.where(np.arange(10) == 3, np.nan, 1.0)), ValueError,
                 r"y contains NaN at rows \[3\]"),
    "empty X": (lambda: _fit(X_=np.empty((0, 2)), y=np.empty(0)), ValueError,
                r"X is empty \(shape \(0, 2\)\)"),
    "1-D X": (lambda: _fit(X_=np.ones(10)), ValueError,
              r"X must be 2-D .* got an array of shape \(10,\).*reshape"),
    "3-D X": (lambda: _fit(X_=np.ones((10, 2, 1))), ValueError,
              r"X must be 2-D .* got an array of shape \(10, 2, 1\)"),
    "strings in X": (lambda: _fit(X_=[["a", "b"]] * 10), TypeError,
                     r"X must hold real numbers; got an array of dtype <U1"),
    "objects in X (predict)": (lambda: _model().predict(np.array([[1, None]], dtype=object)),
                               TypeError, r"X must hold real numbers"),
    "label 2 for binary cross-entropy": (lambda: _fit(y=np.arange(10) % 3), ValueError,
                                         r"binary_crossentropy needs labels 0 or 1; y contains 2"),
    "label -1 for binary cross-entropy": (lambda: _fit(y=-(np.arange(10) % 2)), ValueError,
                                          r"needs labels 0 or 1; y contains -1"),
    "class index = outputs": (lambda: _softmax_fit(np.arange(10) % 4), ValueError,
                              r"class label 3 is outside 0\.\.2 for a model with 3 outputs"),
    "negative class index": (lambda: _softmax_fit(-(np.arange(10) % 3)), ValueError,
                             r"class label -1 is outside 0\.\.2"),
    "y columns": (lambda: _fit(y=np.zeros((10, 2))), ValueError,
                  r"y must have shape \(n_samples,\) or \(n_samples, 1\).*got shape \(10, 2\)"),
    # names
    "unknown activation": (lambda: _model(activation="relu6"), ValueError,
                           r"unknown activation 'relu6'; choose one of: .*relu"),
    "unknown output activation": (lambda: _model(output_activation="sigmod"), ValueError,
                                  r"unknown activation 'sigmod'; choose one of: .*sigmoid"),
    "unknown loss": (lambda: _fit(loss="hinge"), ValueError,
                     r"unknown loss 'hinge'; choose one of: .*binary_crossentropy"),
    "unknown initialiser": (lambda: _model(init="orthogonal"), ValueError,
                            r"unknown initializer 'orthogonal'; choose one of: .*he_normal"),
    "unknown optimiser": (lambda: _fit(optimizer="lbfgs"), ValueError,
                          r"unknown optimizer 'lbfgs'; choose one of: .*adam"),
    "unknown dtype": (lambda: _model(dtype="float16"), ValueError,
                      r"unknown dtype 'float16'; choose one of: float32, float64"),
    "nonsense dtype": (lambda: _model(dtype="double-ish"), ValueError,
                       r"unknown dtype 'double-ish'; choose one of: float32, float64"),
    # numbers
    "zero learning rate": (lambda: bp.SGD(lr=0), ValueError,
                           r"learning rate must be a positive number; got learning rate=0"),
    "negative learning rate": (lambda: bp.Adam(lr=-0.001), ValueError,
                               r"learning rate must be a positive number; got .*-0\.001"),
    "learning rate set to zero": (lambda: setattr(bp.RMSprop(), "lr", 0.0), ValueError,
                                  r"learning rate must be a positive number"),
    "zero epochs": (lambda: _fit(epochs=0), ValueError,
                    r"epochs must be a positive integer; got epochs=0"),
    "negative epochs": (lambda: _fit(epochs=-5), ValueError,
                        r"epochs must be a positive integer; got epochs=-5"),
    "fractional epochs": (lambda: _fit(epochs=2.5), TypeError,
                          r"epochs must be a positive integer; got epochs=2\.5"),
    "zero batch size": (lambda: _fit(batch_size=0), ValueError,
                        r"batch_size must be a positive integer; got batch_size=0"),
    "negative batch size": (lambda: _fit(batch_size=-32), ValueError,
                            r"batch_size must be a positive integer; got batch_size=-32"),
    "dropout 1": (lambda: bp.Dropout(1.0), ValueError,
                  r"dropout rate must be in \[0\.0, 1\.0\); got dropout rate=1\.0"),
    "dropout 1.5": (lambda: bp.Dropout(1.5), ValueError, r"dropout rate must be in \[0\.0, 1"),
    "dropout -0.1": (lambda: bp.Dropout(-0.1), ValueError,
                     r"dropout rate must be in \[0\.0, 1\.0\); got dropout rate=-0\.1"),
    "MLP dropout 1": (lambda: _model(dropout=1.0), ValueError,
                      r"dropout rate must be in \[0\.0, 1\.0\); got dropout rate=1\.0"),
    "MLP dropout -0.2": (lambda: _model(dropout=-0.2), ValueError,
                         r"dropout rate must be in \[0\.0, 1\.0\); got dropout rate=-0\.2"),
    "MLP dropout list": (lambda: bp.MLP([2, 4, 4, 1], dropout=[0.1, 1.2]), ValueError,
                         r"dropout rate must be in \[0\.0, 1\.0\); got dropout rate=1\.2"),
    "MLP dropout list length": (lambda: bp.MLP([2, 4, 4, 1], dropout=[0.1]), ValueError,
                                r"dropout list must have one entry per hidden layer \(2\)"),
    "layer size 0": (lambda: bp.MLP([2, 0, 1]), ValueError,
                     r"layer sizes must be at least 1; got \[2, 0, 1\]"),
    "negative layer size": (lambda: bp.MLP([2, 4, -3]), ValueError,
                            r"layer sizes must be at least 1; got \[2, 4, -3\]"),
    "one layer size": (lambda: bp.MLP([2]), ValueError,
                       r"layer_sizes needs at least two sizes \(inputs and outputs\); got \[2\]"),
    "no layer sizes": (lambda: bp.MLP([]), ValueError, r"needs at least two sizes.*got \[\]"),
    "fractional layer size": (lambda: bp.MLP([2, 2.5, 1]), TypeError,
                              r"layer sizes must be integers"),
    "Dense width 0": (lambda: bp.Dense(3, 0), ValueError,
                      r"n_out must be a positive integer; got n_out=0"),
    "validation split 0": (lambda: _fit(validation_split=0), ValueError,
                           r"validation_split must be in \(0\.0, 1\.0\); got validation_split=0"),
    "validation split 1": (lambda: _fit(validation_split=1), ValueError,
                           r"validation_split must be in \(0\.0, 1\.0\); got validation_split=1"),
    "validation split -0.1": (lambda: _fit(validation_split=-0.1), ValueError,
                              r"validation_split must be in \(0\.0, 1\.0\); got .*=-0\.1"),
    "validation split 1.5": (lambda: _fit(validation_split=1.5), ValueError,
                             r"validation_split must be in \(0\.0, 1\.0\); got .*=1\.5"),
    "split and data": (lambda: _fit(validation_split=0.2, validation_data=(X, Y)), ValueError,
                       r"either validation_data or validation_split, not both"),
    "negative l2": (lambda: _fit(l2=-0.1), ValueError,
                    r"l2 must be a non-negative number; got l2=-0\.1"),
    "momentum 1": (lambda: bp.SGD(momentum=1.0), ValueError, r"momentum must be in \[0\.0, 1"),
    "nesterov without momentum": (lambda: bp.SGD(nesterov=True), ValueError,
                                  r"nesterov=True needs momentum > 0"),
    "negative sample weight": (lambda: _fit(sample_weight=-np.ones(10)), ValueError,
                               r"sample_weight must be finite and non-negative"),
    "sample weight length": (lambda: _fit(sample_weight=np.ones(4)), ValueError,
                             r"sample_weight must have shape \(10,\) to match X; got \(4,\)"),
    "negative seed": (lambda: _model(seed=-1), ValueError,
                      r"seed must be a non-negative integer; got seed=-1"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_refused_with_a_clear_message(case):
    make, error, match = CASES[case]
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("make, registry", [
    (lambda: _model(activation="relu6"), bp.activations.ACTIVATIONS),
    (lambda: _fit(loss="hinge"), bp.losses.LOSSES),
    (lambda: _model(init="orthogonal"), bp.initializers.INITIALIZERS),
    (lambda: _fit(optimizer="lbfgs"), bp.optimizers.OPTIMIZERS),
])
def test_unknown_names_list_every_valid_name(make, registry):
    with pytest.raises(ValueError) as info:
        make()
    assert all(name in str(info.value) for name in registry.all_names())


def test_rejected_fit_leaves_the_model_untouched():
    model = _model()
    before = model.get_flat_weights()
    with pytest.raises(ValueError):
        model.fit(_with(np.nan, 0), Y, loss="binary_crossentropy")
    np.testing.assert_array_equal(model.get_flat_weights(), before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_entry_is_found_in_any_layout(dtype, order, bad):
    # 2-D float arrays are checked through one matrix-vector product (BLAS), others by a sum
    X = np.asarray(np.random.default_rng(0).standard_normal((60, 7)), dtype=dtype, order=order)
    y = np.zeros(60)
    X[41, 3] = bad
    what = "NaN" if np.isnan(bad) else "inf"
    with pytest.raises(ValueError, match=rf"X contains {what} at rows \[41\]"):
        bp.MLP([7, 2, 1], seed=0).fit(X, y, epochs=1)
    X[41, 3] = X[40, 3] = np.finfo(dtype).max  # finite: the sums overflow, the entries pass
    assert check_numeric_array("X", X) is X
