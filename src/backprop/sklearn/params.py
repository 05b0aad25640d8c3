"""Constructor-parameter checks for the scikit-learn estimators, with scikit-learn's messages.

scikit-learn's contract is that ``__init__`` only stores its arguments and ``fit`` validates
them. :func:`resolve` does that once per fit and returns a :class:`Settings` holding the
resolved values (canonical names, tuples, dtypes), so the rest of the code never re-checks.
Messages follow scikit-learn's form: "The 'alpha' parameter of MLPClassifier must be a float in
the range [0.0, inf). Got -1 instead."
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import activations as _activations
from .. import initializers as _initializers
from .. import losses as _losses

#: solvers backed by a ``backprop`` optimiser (mini-batch, one update per batch)
STOCHASTIC_SOLVERS = ("adam", "sgd", "adamw", "rmsprop", "adagrad")
SOLVERS = (*STOCHASTIC_SOLVERS, "lbfgs")
LEARNING_RATES = ("constant", "invscaling", "adaptive")
#: what early stopping watches: scikit-learn's validation score, or the validation loss
EARLY_STOPPING_ON = ("score", "loss")
#: scikit-learn's regression loss names, mapped onto the engine's registry names
SKLEARN_LOSS_NAMES = {"squared_error": "mse", "absolute_error": "mae"}


class InvalidParameterError(ValueError, TypeError):
    """A constructor parameter has a wrong type or value.

    Subclasses both ``ValueError`` and ``TypeError``, as scikit-learn's own error does, so
    code written against either estimator catches it.
    """


@dataclass(frozen=True)
class Settings:
    """The validated hyper-parameters of one ``fit``/``partial_fit`` call."""

    hidden: tuple[int, ...]
    activation: Any  # a registry name or an Activation instance, or one per hidden layer
    solver: str
    batch_size: int | None  # None means "auto": min(200, n_samples)
    n_iter_no_change: float
    dtype: np.dtype | None  # None: float32 stays float32, anything else becomes float64
    dropout: Any
    loss: Any  # regressor only: a Loss instance
    log_link: bool  # the network outputs log μ and predictions are e^output (Poisson loss)
    early_stopping_on: str  # "score" (scikit-learn's rule) or "loss"


def _fail(est: Any, name: str, expected: str, value: Any) -> InvalidParameterError:
    return InvalidParameterError(
        f"The {name!r} parameter of {type(est).__name__} must be {expected}. "
        f"Got {value!r} instead."
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _interval(est, name, low, high, *, integer=False, closed="left"):
    """Check ``getattr(est, name)`` is an int/float in the interval; return it."""
    value = getattr(est, name)
    kind = "an int" if integer else "a float"
    left = "[" if closed in ("left", "both") else "("
    right = "]" if closed in ("right", "both") else ")"
    shown_low = low if integer else float(low)
    shown_high = "inf" if high is None else (high if integer else float(high))
    expected = f"{kind} in the range {left}{shown_low}, {shown_high}{right}"
    ok_type = _is_int(value) if integer else _is_real(value)
    if not ok_type:
        raise _fail(est, name, expected, value)
    above = value >= low if closed in ("left", "both") else value > low
    below = True if high is None else (value <= high if closed in ("right", "both")
                                       else value < high)
    if not (above and below) or (not integer and np.isnan(value)):
        raise _fail(est, name, expected, value)
    return value


def _boolean(est, name):
    value = getattr(est, name)
    if not isinstance(value, (bool, np.bool_)):
        raise _fail(est, name, "an instance of 'bool'", value)
    return bool(value)


def _options(est, name, options):
    value = getattr(est, name)
    if not isinstance(value, str) or value not in options:
        shown = "{" + ", ".join(repr(o) for o in sorted(options)) + "}"
        raise _fail(est, name, f"a str among {shown}", value)
    return value


def _hidden_layer_sizes(est) -> tuple[int, ...]:
    value = est.hidden_layer_sizes
    expected = "an int in the range [1, inf) or an array-like of such ints"
    if _is_int(value):
        sizes = [value]
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise _fail(est, "hidden_layer_sizes", expected, value)
    else:
        sizes = list(value)
    if not all(_is_int(s) and s >= 1 for s in sizes):
        raise _fail(est, "hidden_layer_sizes", expected, value)
    return tuple(int(s) for s in sizes)


def _activation(est, n_hidden: int) -> Any:
    value = est.activation
    names = [n for n in _activations.ACTIVATIONS.all_names() if n != "softmax"]
    expected = ("a str among {" + ", ".join(repr(n) for n in names) + "}, an Activation "
                f"or a list of {n_hidden} of them (one per hidden layer)")
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, (list, tuple)) and len(items) != n_hidden:
        raise _fail(est, "activation", expected, value)
    for item in items:
        if isinstance(item, _activations.Activation):
            continue
        if not isinstance(item, str) or item.strip().lower() not in names:
            raise _fail(est, "activation", expected, value)
    return list(items) if isinstance(value, (list, tuple)) else value


def _dropout(est, n_hidden: int) -> Any:
    value = est.dropout
    expected = f"a float in the range [0.0, 1.0) or a list of {n_hidden} such floats"
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if isinstance(value, (list, tuple)) and len(items) != n_hidden:
        raise _fail(est, "dropout", expected, value)
    if not all(_is_real(r) and 0.0 <= r < 1.0 for r in items):
        raise _fail(est, "dropout", expected, value)
    return [float(r) for r in items] if isinstance(value, (list, tuple)) else float(value)


def _init(est) -> None:
    value = est.init
    if value is None or (callable(value) and not isinstance(value, str)):
        return
    names = _initializers.INITIALIZERS.all_names()
    if not isinstance(value, str) or value.strip().lower() not in names:
        raise _fail(est, "init", "None, a callable f(shape, rng, dtype) or a str among {"
                    + ", ".join(repr(n) for n in names) + "}", value)


def _dtype(est) -> np.dtype | None:
    value = est.dtype
    if value is None:
        return None
    try:
        resolved = np.dtype(value)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in ("float32", "float64"):
        raise _fail(est, "dtype", "None, 'float32' or 'float64'", value)
    return resolved


def _class_weight(est) -> None:
    value = est.class_weight
    if value is None or value == "balanced" or isinstance(value, dict):
        return
    raise _fail(est, "class_weight", "None, 'balanced' or a dict {class label: weight}", value)


def _regression_loss(est) -> _losses.Loss:
    value = est.loss
    if isinstance(value, _losses.Loss):
        if value.classification:
            raise _fail(est, "loss", "a regression loss", value)
        return value
    regression = ["absolute_error", "huber", "l1", "mae", "mean_absolute_error",
                  "mean_squared_error", "mse", "poisson", "smooth_l1", "squared_error"]
    if not isinstance(value, str) or value not in regression:
        raise _fail(est, "loss", "a regression Loss or a str among {"
                    + ", ".join(repr(n) for n in regression) + "}", value)
    return _losses.get(SKLEARN_LOSS_NAMES.get(value, value))


def resolve(est: Any) -> Settings:
    """Validate every constructor parameter of ``est`` and return the resolved settings.

    Raises
    ------
    InvalidParameterError
        For the first parameter with a wrong type or value.
    """
    hidden = _hidden_layer_sizes(est)
    activation = _activation(est, len(hidden))
    solver = _options(est, "solver", SOLVERS)
    _interval(est, "alpha", 0.0, None)
    batch_size = est.batch_size
    if not (batch_size == "auto" if isinstance(batch_size, str) else _is_int(batch_size)
            and batch_size >= 1):
        raise _fail(est, "batch_size", "a str among {'auto'} or an int in the range [1, inf)",
                    batch_size)
    _options(est, "learning_rate", LEARNING_RATES)
    _interval(est, "learning_rate_init", 0.0, None, closed="neither")
    _interval(est, "power_t", 0.0, None)
    _interval(est, "max_iter", 1, None, integer=True)
    _boolean(est, "shuffle")
    _interval(est, "tol", 0.0, None)
    verbose = est.verbose
    if not (isinstance(verbose, (bool, np.bool_)) or (_is_int(verbose) and verbose >= 0)):
        raise _fail(est, "verbose", "an int in the range [0, inf) or a bool", verbose)
    _boolean(est, "warm_start")
    _interval(est, "momentum", 0.0, 1.0)
    _boolean(est, "nesterovs_momentum")
    early_stopping = _boolean(est, "early_stopping")
    if early_stopping and solver != "lbfgs":
        _interval(est, "validation_fraction", 0.0, 1.0, closed="neither")
    else:
        _interval(est, "validation_fraction", 0.0, 1.0)
    _interval(est, "beta_1", 0.0, 1.0)
    _interval(est, "beta_2", 0.0, 1.0)
    _interval(est, "epsilon", 0.0, None, closed="neither")
    patience = est.n_iter_no_change
    if not ((_is_int(patience) and patience >= 1) or (_is_real(patience) and patience == np.inf)):
        raise _fail(est, "n_iter_no_change", "an int in the range [1, inf) or inf", patience)
    _interval(est, "max_fun", 1, None, integer=True)
    _init(est)
    dropout = _dropout(est, len(hidden))
    if solver == "lbfgs" and np.any(np.asarray(dropout) > 0):
        raise InvalidParameterError(
            "dropout needs a stochastic solver: L-BFGS assumes the same loss at every "
            f"evaluation, and dropout makes it random. Got solver='lbfgs' with dropout={dropout!r}"
        )
    dtype = _dtype(est)
    if hasattr(est, "class_weight"):
        _class_weight(est)
    loss = _regression_loss(est) if hasattr(est, "loss") else None
    early_stopping_on = _options(est, "early_stopping_on", EARLY_STOPPING_ON)
    return Settings(
        hidden=hidden,
        activation=activation,
        solver=solver,
        batch_size=None if batch_size == "auto" else int(batch_size),
        n_iter_no_change=float(patience),
        dtype=dtype,
        dropout=dropout,
        loss=loss,
        log_link=isinstance(loss, _losses.Poisson),
        early_stopping_on=early_stopping_on,
    )
