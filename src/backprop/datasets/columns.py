"""What the columns of a table are: numbers, booleans, categories, row identifiers, gaps.

Shared by the CSV reader (:mod:`.tables`) and the :class:`~.preprocessor.Preprocessor`, so
that a file and a DataFrame are judged by the same rules.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

NUMERIC, BOOLEAN, CATEGORICAL = "numeric", "boolean", "categorical"
KINDS = (NUMERIC, BOOLEAN, CATEGORICAL)
#: a Preprocessor's scalings of numeric columns, and its ways of filling missing cells
SCALINGS = ("standard", "minmax", "none")
IMPUTERS = ("median", "most_frequent")

#: words that make a column name read like a row identifier
ID_WORDS = frozenset({"id", "ids", "uuid", "guid", "idx"})
ID_NAMES = frozenset({"index", "key", "row", "rownum", "row_number", "record"})
_TRUE = frozenset({"true", "yes"})
_FALSE = frozenset({"false", "no"})


def pandas():
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("reading tables needs pandas: pip install 'backprop[all]'") from exc
    return pd


def column_kind(values: Any) -> str:
    """``"numeric"``, ``"boolean"`` or ``"categorical"`` for a pandas Series.

    Booleans are pandas' bool columns (``True``/``False`` cells in a CSV file) and object
    columns holding only Python or NumPy booleans besides missing values; numbers are the
    numeric dtypes; anything else (text) is a category.
    """
    pd = pandas()
    if pd.api.types.is_bool_dtype(values.dtype):
        return BOOLEAN
    if pd.api.types.is_numeric_dtype(values.dtype):
        return NUMERIC
    present = values.dropna()
    if len(present) and all(isinstance(v, (bool, np.bool_)) for v in present):
        return BOOLEAN
    return CATEGORICAL


def as_booleans(values: Any, name: str) -> np.ndarray:
    """A boolean column as float64 1/0 with NaN where missing; True/False, 1/0 and the
    words true/false/yes/no are understood, anything else raises naming the column."""
    pd = pandas()
    series = pd.Series(values, dtype=object)
    out = np.full(len(series), np.nan)
    missing = series.isna().to_numpy()
    for i, v in enumerate(series.to_numpy()):
        if missing[i]:
            continue
        if isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, float, np.number))
                                                and v in (0, 1)):
            out[i] = float(bool(v))
        elif isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
            out[i] = float(v.strip().lower() in _TRUE)
        else:
            raise ValueError(f"boolean column {name!r} holds {v!r}; expected True or False")
    return out


def looks_like_id(name: str, values: Any) -> bool:
    """True for a column named like a row identifier (``id``, ``customer_id``, ``patientID``,
    ``index``, pandas' ``Unnamed: 0``) whose value differs on every row."""
    words = re.sub(r"([a-z])([A-Z])", r"\1_\2", str(name)).lower()
    tokens = [t for t in re.split(r"[^a-z0-9]+", words) if t]
    named = (bool(ID_WORDS.intersection(tokens)) or words.strip() in ID_NAMES
             or words.startswith("unnamed:"))
    if not named:
        return False
    present = values.dropna()
    return len(present) == len(values) and present.nunique() == len(values) > 1


#: a text column needs at least this many rows before "a different text on every row" counts
UNIQUE_TEXT_MIN_ROWS = 20


def looks_like_free_text(values: Any) -> bool:
    """True for a text column with a different value on every row that has one (names,
    comments, ticket numbers), over at least UNIQUE_TEXT_MIN_ROWS rows: its one-hot columns
    would only let a network memorise the training rows, and every new row is unseen."""
    if column_kind(values) != CATEGORICAL:
        return False
    present = values.dropna()
    return len(present) >= UNIQUE_TEXT_MIN_ROWS and present.nunique() == len(present)


def missing_summary(frame: Any, lines: np.ndarray | None = None) -> dict[str, str]:
    """``{column: "line 3" | "lines 3, 8, 9 and 4 more"}`` for every column of a DataFrame
    with missing cells (rows counted from 0 when ``lines`` is None)."""
    return gap_summary(frame.isna().to_numpy(), [str(c) for c in frame.columns], lines)


def gap_summary(gaps: np.ndarray, names: list[str],
                lines: np.ndarray | None = None) -> dict[str, str]:
    """:func:`missing_summary` of a boolean (n, k) mask whose columns are ``names``."""
    found = {}
    for j, name in enumerate(names):
        rows = np.flatnonzero(gaps[:, j])
        if rows.size:
            at = rows if lines is None else np.asarray(lines)[rows]
            word = ("row" if lines is None else "line") + ("s" if rows.size > 1 else "")
            shown = ", ".join(str(int(r)) for r in at[:3])
            more = f" and {rows.size - 3} more" if rows.size > 3 else ""
            found[name] = f"{word} {shown}{more}"
    return found


def missing_values_error(found: dict[str, str], where: str = "") -> ValueError:
    """One error naming every column with missing values, and what to do about them."""
    listed = "; ".join(f"{name!r} ({at})" for name, at in found.items())
    count = f"{len(found)} column{'s' if len(found) > 1 else ''}"
    return ValueError(
        f"missing values (empty, NA or NaN cells){where} in {count}: {listed}. Fill them with "
        "--impute median or --impute most_frequent (impute= in Python), or leave those "
        "columns out with --drop")
