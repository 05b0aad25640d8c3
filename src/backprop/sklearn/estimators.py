"""``MLPClassifier`` and ``MLPRegressor``: the estimator classes (see the package docstring)."""

from __future__ import annotations

try:
    from sklearn.base import ClassifierMixin, RegressorMixin
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "backprop.sklearn needs scikit-learn: pip install 'backprop[all]'"
    ) from exc

import numpy as np
from sklearn.metrics import r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels

from .base import BaseMLP, store_parameters
from .docs import COMMON_ATTRIBUTES, COMMON_NOTES, COMMON_PARAMETERS
from .params import InvalidParameterError

__all__ = ["MLPClassifier", "MLPRegressor", "InvalidParameterError"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron classifier trained by backprop.

    Binary, multi-class and multi-label classification: a sigmoid output with binary
    cross-entropy for two classes and for multi-label indicator targets, a softmax output
    with categorical cross-entropy for more classes.

    Parameters
    ----------{COMMON_PARAMETERS}
    class_weight : dict, "balanced" or None, default=None
        Weight per class, multiplied into ``sample_weight``; "balanced" uses
        ``n_samples / (n_classes · count(class))``. Not for multi-label targets.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (label indices for multi-label targets).{COMMON_ATTRIBUTES}
{COMMON_NOTES}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from backprop.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((32,), activation="gelu", max_iter=300, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=1e-4, batch_size="auto", learning_rate="constant",
                 learning_rate_init=1e-3, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 init=None, dropout=0.0, class_weight=None, dtype=None,
                 early_stopping_on="score"):
        store_parameters(self, locals())

    def fit(self, X, y, sample_weight=None):
        """Train a new network (or continue one with ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 indicator matrix for multi-label classification.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight)

    @available_if(lambda est: est._check_stochastic())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y), continuing the weights and the optimiser's moments.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), optional
        classes : array-like of shape (n_classes,), optional
            Every class of the whole data set; required on the first call (except for
            multi-label targets).

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    # -- targets --------------------------------------------------------------------------
    def _encode_targets(self, y, *, incremental, fresh, classes):
        # As scikit-learn: fit defines the classes (unless it warm-starts a fitted model),
        # the first partial_fit takes them from `classes`; after that warm_start needs the
        # same set of classes and partial_fit any subset of them.
        define = fresh or not hasattr(self, "classes_")
        if define:
            check_classification_targets(y)
            multilabel = type_of_target(y).startswith("multilabel")
            if incremental and classes is None and not multilabel:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            binarizer = LabelBinarizer().fit(classes if incremental and not multilabel else y)
            self._label_binarizer, self.classes_ = binarizer, binarizer.classes_
        elif incremental and classes is not None and not np.array_equal(np.unique(classes),
                                                                        self.classes_):
            raise ValueError(f"`classes={np.unique(classes)!r}` is not the same as on last "
                             f"call to partial_fit, was: {self.classes_!r}")
        check = incremental or not define
        T = self._binarize(y, check=check, same_set=check and bool(self.warm_start))
        kind = self._label_binarizer.y_type_
        if kind == "multiclass":
            labels = T.argmax(axis=1)
        elif kind.startswith("multilabel"):
            labels = None
        else:
            labels = T[:, 0]
        return T, labels

    def _stratify(self, T):
        # scikit-learn stratifies on the binarised y only when it is one column (binary
        # classification): its split, and its error for a class of one member, come out.
        return T.astype(bool) if T.shape[1] == 1 else None

    def _binarize(self, y, *, check: bool, same_set: bool) -> np.ndarray:
        """One-hot (multi-class), one 0/1 column (binary) or the indicator matrix itself."""
        classes, kind = self.classes_, self._label_binarizer.y_type_
        both_numeric = y.dtype.kind in "biuf" and classes.dtype.kind in "biuf"
        if y.ndim == 1 and kind != "multilabel-indicator" and (
                both_numeric or y.dtype.kind == classes.dtype.kind == "U"):
            # LabelBinarizer.transform re-derives the target type on every call (about
            # 1 ms); with sorted classes_ the encoding is one searchsorted.
            index = np.searchsorted(classes, y)
            known = classes[np.minimum(index, classes.size - 1)] == y
            if check:
                subset = bool(known.all())
                same = subset and np.unique(index).size == classes.size
                self._check_labels(y, subset, same, same_set)
            if kind == "multiclass":
                T = np.zeros((y.size, classes.size))
                T[np.arange(y.size), index] = 1.0
                return T
            return (index == 1).astype(np.float64).reshape(-1, 1)
        if check:
            seen = unique_labels(y)
            self._check_labels(y, not np.setdiff1d(seen, classes).size,
                               set(seen) == set(classes), same_set)
        return self._label_binarizer.transform(y).astype(np.float64)

    def _check_labels(self, y, subset: bool, same: bool, same_set: bool) -> None:
        if same_set and not same:
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in the "
                f"previous call to fit. Previously got {self.classes_}, `y` has "
                f"{unique_labels(y)}")
        if not subset:
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{self.classes_}. 'y' has {unique_labels(y)}.")

    def _extra_sample_weight(self, labels, incremental):
        if self.class_weight is None:
            return None
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("class_weight is not supported for multi-label targets; pass "
                             "sample_weight instead")
        if incremental and self.class_weight == "balanced":
            raise ValueError("class_weight='balanced' is not supported for partial_fit: the "
                             "class frequencies of one batch are not those of the data; pass "
                             "a dict of class weights instead")
        y = self.classes_[labels.astype(np.intp)]
        per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        return per_class[np.searchsorted(self.classes_, y)]

    def _output(self, settings, n_outputs):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax", "softmax", "categorical_crossentropy"
        return "sigmoid", "logistic", "binary_crossentropy"

    def _score_function(self, T_val, w_val):
        softmax = self.out_activation_ == "softmax"
        truth = T_val.argmax(axis=1) if softmax else T_val > 0.5

        def accuracy(a):
            correct = a.argmax(axis=1) == truth if softmax else np.all((a > 0.5) == truth, 1)
            return float(np.average(correct, weights=w_val))

        return accuracy

    # -- prediction -----------------------------------------------------------------------
    def predict(self, X):
        """Predicted class labels: shape (n_samples,), or (n_samples, n_labels) multi-label."""
        out = self._forward(X)
        if self.n_outputs_ == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def predict_proba(self, X):
        """Class probabilities of shape (n_samples, n_classes), columns in ``classes_`` order.

        Multi-label: the probability of each label, independently.
        """
        out = self._forward(X)
        if self.n_outputs_ == 1:
            p = out.ravel()
            return np.column_stack([1.0 - p, p])
        return out

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``."""
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    __doc__ = f"""Multi-layer perceptron regressor trained by backprop.

    An identity output layer, one unit per target; several targets are fitted at once.

    Parameters
    ----------{COMMON_PARAMETERS}
    loss : str or Loss, default="squared_error"
        ``"squared_error"`` (= ``"mse"``, ½·mean squared error as scikit-learn),
        ``"poisson"`` (half the Poisson deviance with a log link, as scikit-learn: the
        network outputs log μ, ``predict`` returns μ, ``out_activation_`` is "exp"; y ≥ 0),
        ``"absolute_error"`` (= ``"mae"``), ``"huber"`` (δ = 1; pass
        ``backprop.losses.Huber(delta)`` for another δ), or any regression ``Loss``.

    Attributes
    ----------{COMMON_ATTRIBUTES}
{COMMON_NOTES}

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from backprop.sklearn import MLPRegressor
    >>> X, y = make_regression(n_samples=200, n_features=4, random_state=0)
    >>> reg = MLPRegressor((32,), loss="huber", max_iter=20, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=1e-4, batch_size="auto", learning_rate="constant",
                 learning_rate_init=1e-3, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 init=None, dropout=0.0, loss="squared_error", dtype=None,
                 early_stopping_on="score"):
        store_parameters(self, locals())

    def fit(self, X, y, sample_weight=None):
        """Train a new network (or continue one with ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight)

    @available_if(lambda est: est._check_stochastic())
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing the weights and the optimiser's moments.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_targets(self, y, *, incremental, fresh, classes):
        T = np.asarray(y, dtype=np.float64)
        return (T.reshape(-1, 1) if T.ndim == 1 else T), None

    def _output(self, settings, n_outputs):
        # The Poisson loss works on log μ (the identity output); predict returns e^output,
        # which scikit-learn calls its "exp" output activation.
        return "identity", "exp" if settings.log_link else "identity", settings.loss

    def _score_function(self, T_val, w_val):
        log_link = self.out_activation_ == "exp"

        def r2(a):
            if log_link:
                a = np.exp(a)
            if not np.all(np.isfinite(a)):
                return float("nan")
            return float(r2_score(T_val, a, sample_weight=w_val))

        return r2

    def predict(self, X):
        """Predicted targets: shape (n_samples,) for one target, else (n_samples, n_targets).

        With ``loss="poisson"`` the predicted mean e^output (the network ``model_`` outputs
        its logarithm).
        """
        out = self._forward(X)
        if self.out_activation_ == "exp":
            np.exp(out, out=out)
        return out.ravel() if self.n_outputs_ == 1 else out
