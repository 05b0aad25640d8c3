"""Validation at the public boundary: clear messages naming what was expected and what came."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._fast.sparse import is_sparse

VALID_DTYPES = ("float32", "float64")


def as_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Convert ``seed`` (None, int or Generator) into a ``np.random.Generator`` once.

    Library code never touches NumPy's global random state.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got seed={seed}")
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be None, an int or a numpy Generator; got {type(seed).__name__}")


def check_dtype(dtype: Any) -> np.dtype:
    """Resolve a model dtype; only float32 and float64 are supported."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in VALID_DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of: {', '.join(VALID_DTYPES)}")
    return resolved


def check_positive(name: str, value: Any, *, integer: bool = False) -> Any:
    """Raise unless ``value`` is a positive (integer) number; return it unchanged."""
    kind = "integer" if integer else "number"
    ok_type = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, ok_type):
        raise TypeError(f"{name} must be a positive {kind}; got {name}={value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive {kind}; got {name}={value!r}")
    return value


def check_nonnegative(name: str, value: Any) -> float:
    """Raise unless ``value`` is a finite number ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a non-negative number; got {name}={value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number; got {name}={value!r}")
    return float(value)


def check_in_range(name: str, value: Any, low: float, high: float, *, closed_low: bool) -> float:
    """Raise unless ``low (≤|<) value < high``."""
    left = "[" if closed_low else "("
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in {left}{low}, {high}); got {name}={value!r}")
    inside = (value >= low if closed_low else value > low) and value < high
    if not inside:
        raise ValueError(f"{name} must be in {left}{low}, {high}); got {name}={value!r}")
    return float(value)


def _rows_with(mask: np.ndarray, limit: int = 10) -> str:
    rows = np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1))
    shown = ", ".join(str(r) for r in rows[:limit])
    return f"[{shown}{', ...' if rows.size > limit else ''}]"


def _finite_sum(arr: np.ndarray) -> bool:
    """Whether a sum of every entry is finite: NaN or inf anywhere makes it NaN or inf; a
    finite sum can overflow too, which the caller then settles entry by entry."""
    with np.errstate(over="ignore", invalid="ignore"):
        if (arr.ndim == 2 and arr.shape[1] > 1 and arr.dtype in _BLAS_FLOATS
                and (arr.flags.c_contiguous or arr.flags.f_contiguous)):
            # The row sums as one matrix-vector product: BLAS reads X once with every core
            # (a 60000 × 784 float32 X: 7 ms, against 24 ms for one reduction on one core).
            row_sums = np.dot(arr, np.ones(arr.shape[1], dtype=arr.dtype))
            return bool(np.isfinite(np.add.reduce(row_sums)))
        return bool(np.isfinite(np.add.reduce(arr, axis=None)))


_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def check_numeric_array(name: str, values: Any) -> np.ndarray:
    """Convert to an ndarray and require a real numeric dtype and finite, non-empty values."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers; got an array of dtype {arr.dtype} "
            "(encode categories as numbers first)"
        )
    if arr.size == 0 or arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); need at least one sample")
    # A sum is NaN/inf when any entry is (one pass, no boolean temporary); only then, or on
    # overflow of the sum itself, look entry by entry.
    if arr.dtype.kind == "f" and not _finite_sum(arr):
        bad = ~np.isfinite(arr)
        if bad.any():
            what = "NaN" if np.isnan(arr).any() else "inf"
            raise ValueError(f"{name} contains {what} at rows {_rows_with(bad)}")
    return arr


def check_X(X: Any, n_features: int | None = None, dtype: np.dtype | None = None) -> Any:
    """Validate a feature matrix of shape (n_samples, n_features) and cast it to ``dtype``.

    Integer and boolean inputs are converted to the model's floating dtype (the values are
    exactly representable for any realistic feature); strings and objects are refused.
    A SciPy sparse matrix or array stays sparse: it comes back in CSR format (rows are what
    training slices), never densified.
    """
    if is_sparse(X):
        return _check_sparse_X(X, n_features, dtype)
    arr = check_numeric_array("X", X)
    if arr.ndim != 2:
        raise ValueError(
            f"X must be 2-D of shape (n_samples, n_features); got an array of shape {arr.shape}"
            + (_one_dimensional_hint(arr.shape[0], n_features) if arr.ndim == 1 else "")
        )
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"X has {arr.shape[1]} features but the model's first layer expects {n_features}"
        )
    if dtype is not None:
        arr = np.ascontiguousarray(arr, dtype=dtype)
    return arr


def _one_dimensional_hint(length: int, n_features: int | None) -> str:
    """Which reshape a 1-D X needs: one sample (1, -1) or one feature (-1, 1)."""
    if n_features == 1:
        return " (one feature: pass X.reshape(-1, 1))"
    if n_features is not None and length == n_features:
        return f" (one sample of {n_features} features: pass X.reshape(1, -1))"
    if n_features is not None and length % n_features == 0:
        return f" (rows of {n_features} features: X.reshape(-1, {n_features}))"
    if n_features is not None:
        return f" (the model expects rows of {n_features} features)"
    return " (one sample: X.reshape(1, -1); one feature per sample: X.reshape(-1, 1))"


def _check_sparse_X(X: Any, n_features: int | None, dtype: np.dtype | None) -> Any:
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D of shape (n_samples, n_features); got a sparse array "
                         f"of shape {X.shape}")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers; got a sparse matrix of dtype {X.dtype}")
    if X.shape[0] == 0:
        raise ValueError(f"X is empty (shape {X.shape}); need at least one sample")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"X has {X.shape[1]} features but the model's first layer expects {n_features}"
        )
    X = X.tocsr()
    if X.dtype.kind == "f" and not _finite_sum(X.data):
        bad = ~np.isfinite(X.data)
        if bad.any():
            rows = np.zeros(X.shape[0], dtype=bool)
            rows[np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))[bad]] = True
            what = "NaN" if np.isnan(X.data).any() else "inf"
            raise ValueError(f"X contains {what} at rows {_rows_with(rows)}")
    if dtype is not None:
        X = X.astype(dtype, copy=False)
    return X


def check_same_rows(X: np.ndarray, y: np.ndarray) -> None:
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y have different numbers of rows: X has {X.shape[0]}, y has {y.shape[0]}"
        )
