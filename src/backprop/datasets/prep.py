"""Preparing data: train/validation/test splits and the :class:`Scaler`.

Public through :mod:`backprop.datasets`. The scaler needs NumPy alone (a saved model's scaler
must load without scikit-learn); the split uses scikit-learn's ``train_test_split``.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import numpy as np

from ..validation import as_rng, check_X


def sklearn_seed(seed: Any) -> int:
    """An int ``random_state`` for scikit-learn from our seed (never NumPy's global state).

    An int passes through, so ``moons(seed=3)`` equals ``make_moons(random_state=3)``.
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        as_rng(int(seed))  # validates (non-negative)
        return int(seed)
    return int(as_rng(seed).integers(2**31 - 1))


def sklearn_module(submodule: str = "datasets"):
    try:
        return importlib.import_module(f"sklearn.{submodule}")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "backprop.datasets needs scikit-learn here: pip install 'backprop[all]'"
        ) from exc


# -- splits ---------------------------------------------------------------------------------
class Split(NamedTuple):
    """Train/validation/test parts; the validation or test pair is None when its size is 0."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None


def _is_class_labels(y: np.ndarray) -> bool:
    return y.ndim == 1 and y.dtype.kind in "biuUSO"


def split(X: Any, y: Any, test_size: float = 0.2, val_size: float = 0.0,
          stratify: bool = True, seed: Any = None) -> Split:
    """Shuffle and split rows into train, validation and test parts.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    test_size, val_size : float in [0, 1)
        Fractions of *all* rows; their sum must stay below 1.
    stratify : bool, default True
        Keep the class proportions in every part when ``y`` is 1-D class labels (integers,
        booleans or strings); ignored for float (regression) targets.
    seed : int or numpy Generator, optional

    Returns
    -------
    Split
        ``(X_train, y_train, X_val, y_val, X_test, y_test)``.
    """
    X = check_X(X)
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y have different numbers of rows: X has {X.shape[0]}, "
                         f"y has shape {y.shape}")
    for name, size in (("test_size", test_size), ("val_size", val_size)):
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 <= size < 1:
            raise ValueError(f"{name} must be a fraction in [0, 1); got {name}={size!r}")
    if test_size + val_size >= 1:
        raise ValueError(f"test_size + val_size must be below 1 to leave training rows; "
                         f"got {test_size} + {val_size}")
    train_test_split = sklearn_module("model_selection").train_test_split
    stratified = bool(stratify) and _is_class_labels(y)
    random_state = sklearn_seed(seed)
    rows = np.arange(X.shape[0])
    test = val = None
    try:
        if test_size:
            rows, test = train_test_split(rows, test_size=test_size, random_state=random_state,
                                          stratify=y if stratified else None)
        if val_size:
            # The remaining rows are (1 − test_size) of the whole; rescale the fraction.
            rows, val = train_test_split(rows, test_size=val_size / (1 - test_size),
                                         random_state=random_state + 1,
                                         stratify=y[rows] if stratified else None)
    except ValueError as exc:
        hint = " or pass stratify=False" if stratified else ""
        raise ValueError(f"cannot split {X.shape[0]} samples with test_size={test_size} and "
                         f"val_size={val_size}: {exc}. Use more data, smaller fractions{hint}."
                         ) from None

    def part(index):
        return (None, None) if index is None else (X[index], y[index])

    return Split(X[rows], y[rows], *part(val), *part(test))


# -- scaling --------------------------------------------------------------------------------
class Scaler:
    """Standardise (``x' = (x − mean)/std``) or min-max scale (``x' = (x − min)/range``).

    Fit it on the training rows only, so that nothing about the validation or test rows
    leaks into training, then transform every part with the same numbers. A constant column
    gets scale 1 (it becomes 0 rather than NaN). Written with NumPy alone so that a saved
    model's scaler loads without scikit-learn; it matches ``StandardScaler`` and
    ``MinMaxScaler``.

    Parameters
    ----------
    kind : {"standard", "minmax", "none"}

    Examples
    --------
    >>> import numpy as np
    >>> s = Scaler("minmax").fit(np.array([[0.0], [2.0], [4.0]]))
    >>> s.transform(np.array([[1.0]])).tolist()
    [[0.25]]
    """

    KINDS = ("standard", "minmax", "none")

    def __init__(self, kind: str = "standard") -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown scaler kind {kind!r}; choose one of: "
                             f"{', '.join(self.KINDS)}")
        self.kind = kind
        self.offset_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self.n_features: int | None = None

    @property
    def fitted(self) -> bool:
        return self.n_features is not None

    def fit(self, X: Any) -> Scaler:
        """Learn the per-column offset and scale from ``X`` (n_samples, n_features)."""
        X = check_X(X).astype(np.float64, copy=False)
        self.n_features = X.shape[1]
        if self.kind == "standard":
            offset, scale = X.mean(axis=0), X.std(axis=0)
        elif self.kind == "minmax":
            offset = X.min(axis=0)
            scale = X.max(axis=0) - offset
        else:
            offset, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        self.offset_ = offset
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def _check(self, X: Any) -> np.ndarray:
        if not self.fitted:
            raise ValueError("this Scaler is not fitted yet; call fit(X_train) first")
        X = check_X(X)
        if X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} features but the scaler was fitted on "
                             f"{self.n_features}")
        return X if X.dtype.kind == "f" else X.astype(np.float64)

    def transform(self, X: Any) -> np.ndarray:
        """Scaled copy of ``X``; float32 input stays float32."""
        X = self._check(X)
        return ((X - self.offset_) / self.scale_).astype(X.dtype, copy=False)

    def fit_transform(self, X: Any) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`."""
        X = self._check(X)
        return (X * self.scale_ + self.offset_).astype(X.dtype, copy=False)

    def get_config(self) -> dict[str, Any]:
        """JSON-safe: ``{"kind", "mean", "scale"}`` or ``{"kind", "min", "range"}``."""
        config: dict[str, Any] = {"kind": self.kind}
        if self.fitted and self.kind != "none":
            first, second = ("mean", "scale") if self.kind == "standard" else ("min", "range")
            config[first] = self.offset_.tolist()
            config[second] = self.scale_.tolist()
        elif self.fitted:
            config["n_features"] = self.n_features
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Scaler:
        """Rebuild a (fitted) scaler from :meth:`get_config` output."""
        if not isinstance(config, dict) or "kind" not in config:
            raise ValueError(f"scaler config must be a dict with a 'kind' key; got {config!r}")
        scaler = cls(config["kind"])
        keys = {"standard": ("mean", "scale"), "minmax": ("min", "range")}.get(scaler.kind)
        if keys is None:
            if "n_features" in config:
                n = int(config["n_features"])
                scaler.n_features = n
                scaler.offset_, scaler.scale_ = np.zeros(n), np.ones(n)
            return scaler
        present = [k for k in keys if k in config]
        if not present:
            return scaler
        if len(present) != 2:
            raise ValueError(f"{scaler.kind} scaler config needs both {keys[0]!r} and "
                             f"{keys[1]!r}; got keys {sorted(config)}")
        offset = np.asarray(config[keys[0]], dtype=np.float64)
        scale = np.asarray(config[keys[1]], dtype=np.float64)
        if offset.ndim != 1 or offset.shape != scale.shape:
            raise ValueError(f"scaler {keys[0]!r} and {keys[1]!r} must be lists of equal "
                             f"length; got shapes {offset.shape} and {scale.shape}")
        if not (np.all(np.isfinite(offset)) and np.all(np.isfinite(scale))
                and np.all(scale > 0)):
            raise ValueError(f"scaler config must hold finite values and a positive "
                             f"{keys[1]!r}")
        scaler.offset_, scaler.scale_, scaler.n_features = offset, scale, offset.size
        return scaler

    def __repr__(self) -> str:
        state = f"n_features={self.n_features}" if self.fitted else "not fitted"
        return f"Scaler({self.kind!r}, {state})"
