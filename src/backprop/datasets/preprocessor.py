"""``Preprocessor``: raw table rows → the network's inputs, carried by the model.

Learning happens once, with scikit-learn: ``SimpleImputer`` finds the fill values,
``OneHotEncoder`` the categories, ``StandardScaler``/``MinMaxScaler`` the offsets and scales,
a ``StandardScaler`` the target's. What they learned is then kept as plain numbers and
strings, and one small NumPy/pandas function applies it, at training time and after
loading alike: a model file holds data, never code or pickled objects, and loads without
scikit-learn. ``tests/test_workflow_preprocessing.py`` holds that function equal to
scikit-learn's own transforms.

The network's inputs are laid out as the numeric and boolean columns (scaled) in table
order, then one block of one-hot columns per categorical column, in table order, as a
``ColumnTransformer`` with those two parts would.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..preprocessing import is_frame, select_columns
from .columns import (
    BOOLEAN,
    CATEGORICAL,
    IMPUTERS,
    KINDS,
    SCALINGS,
    as_booleans,
    column_kind,
    gap_summary,
    missing_summary,
    missing_values_error,
    pandas,
)


class UnseenCategoryWarning(UserWarning):
    """``transform`` met a category the preprocessor never saw; its one-hot row is zeros."""


class Preprocessor:
    """Raw rows (a DataFrame, or an array in the same column order) → float network inputs.

    Parameters
    ----------
    scale : {"standard", "minmax", "none"}, default "standard"
        Scaling of the numeric and boolean columns; one-hot columns stay 0/1.
    impute : {"median", "most_frequent"} or None, default None
        Fill missing numeric cells with the column's median (or most frequent value), and
        missing categories with the most frequent one. None: missing cells are an error
        that names every column holding them.
    target_scaling : bool, default False
        Standardise regression targets (``transform_target``); ``predict`` returns outputs
        in the target's units through ``inverse_transform_target``.
    ignore : list of str, optional
        Columns a DataFrame may hold that the model does not use (a table's target or ID
        column): dropped without a word. Any other unknown column is an error.

    Notes
    -----
    A category that ``fit`` never saw is encoded as a row of zeros in its one-hot block
    (scikit-learn's ``handle_unknown="ignore"``; the exported ONNX graph does the same),
    and ``transform`` warns with :class:`UnseenCategoryWarning` naming the column and the
    values.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"size": [1.0, 2.0, 3.0], "colour": ["red", "blue", "red"]})
    >>> pre = Preprocessor().fit(frame)
    >>> pre.output_names
    ['size', 'colour=blue', 'colour=red']
    >>> pre.transform(frame[["colour", "size"]]).round(3).tolist()[0]
    [-1.225, 0.0, 1.0]
    """

    kind = "tabular"

    def __init__(self, scale: str = "standard", impute: str | None = None,
                 target_scaling: bool = False, ignore: Any = ()) -> None:
        if scale not in SCALINGS:
            raise ValueError(f"unknown scaling {scale!r}; choose one of: {', '.join(SCALINGS)}")
        if impute is not None and impute not in IMPUTERS:
            raise ValueError(f"unknown imputation {impute!r}; choose one of: "
                             f"{', '.join(IMPUTERS)} (or None to refuse missing values)")
        self.scale = scale
        self.impute = impute
        self.target_scaling = bool(target_scaling)
        self.ignore = [str(c) for c in ignore]
        self.feature_names: list[str] | None = None
        self.kinds: dict[str, str] = {}
        self.categories: dict[str, list[str]] = {}
        self.category_fill: dict[str, str | None] = {}
        self.named = True
        self.offset_ = self.scale_ = self.fill_ = None
        self.target_offset_ = self.target_scale_ = None

    # -- what it holds --------------------------------------------------------------------
    @property
    def fitted(self) -> bool:
        return self.feature_names is not None

    @property
    def numeric_columns(self) -> list[str]:
        """Numeric and boolean columns, in table order (the first block of inputs)."""
        return [n for n in self.feature_names if self.kinds[n] != CATEGORICAL]

    @property
    def categorical_columns(self) -> list[str]:
        return [n for n in self.feature_names if self.kinds[n] == CATEGORICAL]

    @property
    def output_names(self) -> list[str]:
        """The network's input names: numeric columns, then ``column=category``."""
        return self.numeric_columns + [f"{name}={c}" for name in self.categorical_columns
                                       for c in self.categories[name]]

    @property
    def n_features_out(self) -> int:
        return len(self.output_names)

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> Preprocessor:
        """Learn column kinds, fill values, categories and scales from the training rows.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
            An array gets the names ``x1, x2, ...`` and is read by position later.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), optional
            Regression targets, needed when ``target_scaling``.
        """
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

        frame = self._as_frame(X, fitting=True)
        self.kinds = {name: column_kind(frame[name]) for name in self.feature_names}
        found = missing_summary(frame)
        empty = [n for n in self.feature_names if frame[n].isna().all()]
        if empty:
            raise ValueError(f"the columns {', '.join(map(repr, empty))} hold no values at "
                             "all; leave them out")
        if found and self.impute is None:
            raise missing_values_error(found)
        numeric = self.numeric_columns
        if numeric:
            A = self._numeric_block(frame)
            if self.impute is not None:
                imputer = SimpleImputer(strategy=self.impute).fit(A)
                self.fill_ = np.asarray(imputer.statistics_, dtype=np.float64)
                A = imputer.transform(A)
            if self.scale == "standard":
                scaler = StandardScaler().fit(A)
                offset, scale = scaler.mean_, scaler.scale_
            elif self.scale == "minmax":
                scaler = MinMaxScaler().fit(A)
                offset, scale = scaler.data_min_, scaler.data_range_
            else:
                offset, scale = np.zeros(A.shape[1]), np.ones(A.shape[1])
            self.offset_ = np.asarray(offset, dtype=np.float64)
            self.scale_ = np.where(scale > 0, scale, 1.0).astype(np.float64)
        for name in self.categorical_columns:
            column = _as_text(frame[name]).to_numpy().reshape(-1, 1)
            fill = None
            if self.impute is not None:
                # The median of words is undefined: categories always take the most frequent.
                imputer = SimpleImputer(strategy="most_frequent", missing_values=np.nan)
                column = imputer.fit_transform(column)
                fill = str(imputer.statistics_[0])
            encoder = OneHotEncoder(handle_unknown="ignore").fit(column)
            self.categories[name] = [str(c) for c in encoder.categories_[0]]
            self.category_fill[name] = fill
        if self.target_scaling:
            if y is None:
                raise ValueError("target_scaling=True needs the regression targets: fit(X, y)")
            Y = self._target_matrix(y, frame.shape[0])
            scaler = StandardScaler().fit(Y)
            self.target_offset_ = np.asarray(scaler.mean_, dtype=np.float64)
            self.target_scale_ = np.asarray(scaler.scale_, dtype=np.float64)
        return self

    def _as_frame(self, X: Any, fitting: bool = False) -> Any:
        pd = pandas()
        if is_frame(X):
            if fitting:
                self.feature_names = [str(c) for c in X.columns if str(c) not in self.ignore]
                self.named = True
                if len(set(self.feature_names)) != len(self.feature_names):
                    raise ValueError(f"column names must be unique; got {self.feature_names}")
                X = X[[c for c in X.columns if str(c) not in self.ignore]]
                X.columns = self.feature_names
                return X
            if not self.named:
                return self._positional(pd, X.to_numpy(dtype=object))
            return select_columns(X.rename(columns=str), self.feature_names,
                                  tuple(self.ignore))
        arr = np.asarray(X, dtype=None if np.asarray(X).dtype.kind in "biuf" else object)
        if arr.ndim != 2:
            hint = ""
            if arr.ndim == 1 and self.fitted and arr.shape[0] == len(self.feature_names):
                hint = f" (one sample of {len(self.feature_names)} columns: X.reshape(1, -1))"
            raise ValueError(f"X must be 2-D of shape (n_samples, n_columns); got an array of "
                             f"shape {arr.shape}{hint}")
        if fitting:
            self.feature_names = [f"x{i + 1}" for i in range(arr.shape[1])]
            self.named = False
        return self._positional(pd, arr)

    def _positional(self, pd: Any, arr: np.ndarray) -> Any:
        if arr.shape[1] != len(self.feature_names):
            raise ValueError(f"X has {arr.shape[1]} columns but the preprocessor was fitted on "
                             f"{len(self.feature_names)}: {', '.join(self.feature_names)}")
        return pd.DataFrame(arr, columns=self.feature_names)

    def _numeric_block(self, frame: Any) -> np.ndarray:
        """Numeric and boolean columns as float64 (n, k), NaN where missing."""
        pd = pandas()
        columns = []
        for name in self.numeric_columns:
            if self.kinds[name] == BOOLEAN:
                columns.append(as_booleans(frame[name], name))
                continue
            values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
            bad = np.isnan(values) & frame[name].notna().to_numpy()
            if bad.any():
                example = frame[name].to_numpy()[np.flatnonzero(bad)[0]]
                raise ValueError(f"column {name!r} holds {example!r}, not a number")
            if np.isinf(values).any():
                raise ValueError(f"column {name!r} holds an infinite value")
            columns.append(values)
        return np.column_stack(columns) if columns else np.empty((len(frame), 0))

    def _target_matrix(self, y: Any, n: int) -> np.ndarray:
        try:
            Y = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError("target scaling needs numeric regression targets; y holds "
                             "values such as " + repr(list(np.asarray(y).ravel()[:3]))) from None
        Y = Y.reshape(Y.shape[0], -1) if Y.ndim else Y.reshape(1, 1)
        if Y.shape[0] != n:
            raise ValueError(f"X has {n} rows but y has {Y.shape[0]}")
        if not np.all(np.isfinite(Y)):
            raise ValueError("regression targets must be finite numbers; y holds NaN or inf")
        return Y

    # -- applying ----------------------------------------------------------------------------
    def transform(self, X: Any) -> np.ndarray:
        """The network's inputs for raw rows: float64 of shape (n_samples, n_features_out).

        A DataFrame's columns are matched by name (any order; the ``ignore`` columns may be
        present); missing or unexpected columns raise a ``ValueError`` naming them.
        """
        if not self.fitted:
            raise ValueError("this Preprocessor is not fitted yet; call fit(X_train) first")
        numeric_only = not self.categorical_columns and not any(
            k == BOOLEAN for k in self.kinds.values())
        if numeric_only and not is_frame(X):
            arr = np.asarray(X)
            if arr.dtype.kind in "biuf" and arr.ndim == 2 and arr.shape[1] == len(
                    self.feature_names):
                return self._finish_numeric(arr.astype(np.float64), None)
        frame = self._as_frame(X)
        blocks = []
        problems: dict[str, str] = {}
        if self.numeric_columns:
            blocks.append(self._finish_numeric(self._numeric_block(frame), problems))
        unseen: dict[str, list[str]] = {}
        for name in self.categorical_columns:
            blocks.append(self._one_hot(frame[name], name, problems, unseen))
        if problems:
            raise missing_values_error(problems, " in columns the model was trained without "
                                                 "gaps in")
        if unseen:
            listed = "; ".join(f"{name!r}: {', '.join(map(repr, values[:5]))}"
                               for name, values in unseen.items())
            warnings.warn(f"categories never seen in training, encoded as all-zero one-hot "
                          f"rows: {listed}", UnseenCategoryWarning, stacklevel=3)
        return np.concatenate(blocks, axis=1) if blocks else np.empty((len(frame), 0))

    def _finish_numeric(self, A: np.ndarray, problems: dict[str, str] | None) -> np.ndarray:
        gaps = np.isnan(A)
        if gaps.any():
            if self.fill_ is not None:
                A = np.where(gaps, self.fill_, A)
            else:
                found = gap_summary(gaps, self.numeric_columns)
                if problems is None:
                    raise missing_values_error(found, " in columns the model was trained "
                                                      "without gaps in")
                problems.update(found)
        return (A - self.offset_) / self.scale_

    def _one_hot(self, values: Any, name: str, problems: dict[str, str],
                 unseen: dict[str, list[str]]) -> np.ndarray:
        pd = pandas()
        categories = self.categories[name]
        missing = values.isna().to_numpy()
        text = _as_text(values)
        if missing.any():
            if self.category_fill[name] is None:
                problems.update(gap_summary(missing.reshape(-1, 1), [name]))
            else:
                text = text.where(~missing, self.category_fill[name])
        codes = pd.Index(categories).get_indexer(text.to_numpy())
        out = np.zeros((len(values), len(categories)))
        known = codes >= 0
        out[np.flatnonzero(known), codes[known]] = 1.0
        new = sorted({str(v) for v, k, m in zip(text, known, missing) if not k and not m})
        if new:
            unseen[name] = new
        return out

    def raw_columns(self, X: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The rows as the exported graphs take them, before any fitted number is applied:
        the numeric and boolean columns as float64 (n, n_numeric), NaN where missing, and
        each categorical column as str (n,), the empty string where missing."""
        frame = self._as_frame(X)
        numeric = self._numeric_block(frame)
        text = {name: _as_text(frame[name]).fillna("").to_numpy(dtype=object).astype(str)
                for name in self.categorical_columns}
        return numeric, text

    def transform_target(self, y: Any) -> Any:
        """Targets as the network learns them: standardised (n, k) with target scaling,
        else ``y`` unchanged."""
        if not self.target_scaling:
            return y
        Y = self._target_matrix(y, np.shape(y)[0] if np.ndim(y) else 1)
        return (Y - self.target_offset_) / self.target_scale_

    def inverse_transform_target(self, out: np.ndarray) -> np.ndarray:
        """Network outputs in the target's units."""
        if not self.target_scaling:
            return out
        return np.asarray(out, dtype=np.float64) * self.target_scale_ + self.target_offset_

    # -- saving ----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Names, kinds and categories (JSON); the numbers are in :meth:`get_arrays`."""
        if not self.fitted:
            raise ValueError("this Preprocessor is not fitted yet; fit it before saving it")
        return {
            "kind": self.kind, "version": 1, "scale": self.scale, "impute": self.impute,
            "target_scaling": self.target_scaling, "ignore": list(self.ignore),
            "named": self.named,
            "columns": [{"name": n, "kind": self.kinds[n]} for n in self.feature_names],
            "categories": {n: list(self.categories[n]) for n in self.categorical_columns},
            "category_fill": {n: self.category_fill[n] for n in self.categorical_columns},
        }

    def get_arrays(self) -> dict[str, np.ndarray]:
        """float64 vectors: ``offset``, ``scale`` and ``fill`` (one per numeric column),
        ``target_offset`` and ``target_scale`` (one per target)."""
        arrays = {}
        for key, value in (("offset", self.offset_), ("scale", self.scale_),
                           ("fill", self.fill_), ("target_offset", self.target_offset_),
                           ("target_scale", self.target_scale_)):
            if value is not None:
                arrays[key] = np.asarray(value, dtype=np.float64)
        return arrays

    @classmethod
    def from_config(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> Preprocessor:
        """Rebuild a fitted preprocessor from :meth:`get_config` and :meth:`get_arrays`,
        checking every entry (a model file may be damaged or hostile)."""
        from .preprocessor_config import rebuild

        return rebuild(cls, config, arrays)

    @classmethod
    def from_scaler(cls, scaler: Any) -> Preprocessor:
        """A numeric preprocessor doing what a fitted ``datasets.Scaler`` does (its columns
        read by position), so that a model saved with ``scaler=`` predicts on raw rows."""
        from .preprocessor_config import from_scaler

        return from_scaler(cls, scaler)

    def __repr__(self) -> str:
        if not self.fitted:
            return f"Preprocessor(scale={self.scale!r}, impute={self.impute!r}, not fitted)"
        counts = {k: sum(v == k for v in self.kinds.values()) for k in KINDS}
        parts = ", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k])
        return (f"Preprocessor({parts} → {self.n_features_out} inputs, scale={self.scale!r}, "
                f"impute={self.impute!r}, target_scaling={self.target_scaling})")


def _as_text(values: Any) -> Any:
    """A column of categories as an object Series of str, NaN where missing (CSV files give
    strings; a DataFrame may hold numbers or mixed values in a text column)."""
    pd = pandas()
    series = pd.Series(values).astype(object)
    missing = series.isna()
    return series.where(missing, series.map(str)).where(~missing, np.nan)
