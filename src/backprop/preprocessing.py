"""What a model does to raw rows before its first layer: ``model.preprocessor``.

A model carries its preprocessing. ``Sequential.preprocessor`` is None or an object with
this small protocol, which ``fit``, ``predict`` and ``evaluate`` apply, ``bp.save`` stores
(JSON for names and categories, safetensors tensors for the numbers) and the ONNX and
TorchScript exports build into their graphs:

``transform(X) -> ndarray of shape (n_samples, n_features)``
    Raw rows (a NumPy array, a list of rows, or a pandas DataFrame, whose columns are taken
    by name) to the network's float inputs.
``transform_target(y) -> ndarray``
    Targets as the network is trained on them (regression targets standardised, say).
``inverse_transform_target(out) -> ndarray``
    The network's outputs back in the target's units (what ``predict`` returns).
``feature_names``
    The raw input columns, in order (None when unnamed).
``get_config() -> dict`` and ``get_arrays() -> dict of str → ndarray``
    Everything needed to rebuild it; ``get_config()["kind"]`` says which class reads it back.

The engine holds, applies and checks it, but builds only the simplest one,
:class:`ColumnNames`: when ``fit`` sees a DataFrame with string column names, the model
remembers them, and later DataFrames are reordered by name (missing or extra columns are an
error naming them). The tabular preprocessor (one-hot encoding, booleans, imputation,
scaling, target scaling) is :class:`backprop.datasets.Preprocessor`, at the edge, where
pandas and scikit-learn are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ColumnNames", "column_names_of", "select_columns", "is_frame"]


def is_frame(X: Any) -> bool:
    """True for a pandas DataFrame (recognised by its shape, without importing pandas)."""
    return hasattr(X, "columns") and hasattr(X, "iloc") and hasattr(X, "dtypes")


def column_names_of(X: Any) -> list[str] | None:
    """The column names of a DataFrame when every one is a string, else None."""
    if not is_frame(X):
        return None
    names = list(X.columns)
    return names if names and all(isinstance(n, str) for n in names) else None


def select_columns(X: Any, names: list[str], ignored: tuple[str, ...] = ()) -> Any:
    """``X[names]`` for a DataFrame, in the order of ``names``; anything else unchanged.

    Columns listed in ``ignored`` (a training table's target, say) are dropped without a
    word; any other difference between the frame's columns and ``names`` raises a
    ``ValueError`` naming the missing and the unexpected columns.
    """
    if not is_frame(X):
        return X
    present = [str(c) for c in X.columns]
    missing = [n for n in names if n not in present]
    extra = [c for c in present if c not in names and c not in ignored]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing {_listed(missing)}")
        if extra:
            parts.append(f"unexpected {_listed(extra)}")
        raise ValueError(f"the columns do not match the model's: {'; '.join(parts)}. The model "
                         f"takes {_listed(names)} (in any order)")
    if present[: len(names)] == names and len(present) == len(names):
        return X
    return X[names]


def _listed(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class ColumnNames:
    """The column names a model was trained on: DataFrames are reordered by name.

    Numbers pass through unchanged; a NumPy array is taken as it is (its columns in the
    training order). Set by ``fit`` when ``X`` is a DataFrame and the model has no
    preprocessor yet.

    Parameters
    ----------
    names : list of str

    Examples
    --------
    >>> columns = ColumnNames(["a", "b"])
    >>> columns.transform([[1.0, 2.0]]).tolist()
    [[1.0, 2.0]]
    """

    kind = "columns"

    def __init__(self, names: list[str]) -> None:
        names = list(names)
        if not names or not all(isinstance(n, str) for n in names):
            raise ValueError(f"column names must be a non-empty list of strings; got {names!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"column names must be unique; got {names!r}")
        self.feature_names = names

    @property
    def n_features_out(self) -> int:
        return len(self.feature_names)

    def transform(self, X: Any) -> Any:
        X = select_columns(X, self.feature_names)
        return X.to_numpy() if is_frame(X) else X

    def transform_target(self, y: Any) -> Any:
        return y

    def inverse_transform_target(self, out: np.ndarray) -> np.ndarray:
        return out

    def get_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "feature_names": list(self.feature_names)}

    def get_arrays(self) -> dict[str, np.ndarray]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any], arrays: dict[str, np.ndarray] | None = None
                    ) -> ColumnNames:
        if arrays:
            raise ValueError(f"a ColumnNames preprocessor holds no arrays; got {sorted(arrays)}")
        return cls(config.get("feature_names"))

    def __repr__(self) -> str:
        return f"ColumnNames({self.feature_names!r})"
