"""Tables as they come: delimiter-separated files read with pandas into a :class:`Table`.

The delimiter is sniffed (comma, semicolon, tab or pipe; tab for ``.tsv``), cells are
stripped, ``NA``/``NaN``/empty cells are missing values, blank lines are skipped, and every
row keeps its line number in the file for messages. Feature columns stay raw (numbers,
booleans, text, gaps); the :class:`~.preprocessor.Preprocessor` turns them into numbers.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .columns import looks_like_free_text, looks_like_id, pandas

DELIMITERS = ",;\t|"
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
TASKS = ("binary", "multiclass", "classification", "regression")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(eq=False)
class Table:
    """A table's raw feature columns and its target.

    Attributes
    ----------
    X : pandas.DataFrame of shape (n_samples, n_features)
        The feature columns as read (numbers, booleans, text, missing values).
    y : ndarray of shape (n_samples,)
        Class indices 0..K−1 (int64) for classification, float64 values for regression.
    name, target, task : str
    classes : list or None
        Original class labels (``classes[k]`` for index k); None for regression.
    left_out : dict of str → str
        Columns not used as features and why (``"the target"``, ``"--drop"``, ...).
    lines : ndarray of shape (n_samples,)
        The line of the file each row came from (for messages).
    delimiter : str
    notes : list of str
        What a user should know (an ID column left out, the delimiter found, ...).
    """

    X: Any
    y: np.ndarray
    name: str
    target: str
    task: str
    classes: list[Any] | None = None
    left_out: dict[str, str] = field(default_factory=dict)
    lines: np.ndarray | None = None
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)

    @property
    def feature_names(self) -> list[str]:
        return [str(c) for c in self.X.columns]

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_classes(self) -> int | None:
        return None if self.classes is None else len(self.classes)


def is_table_path(name: Any) -> bool:
    """True for a Path, a name ending in .csv/.tsv/.tab/.txt, or an existing file."""
    if isinstance(name, Path):
        return True
    text = str(name)
    return text.lower().endswith(TABLE_SUFFIXES) or Path(text).is_file()


def sniff_delimiter(path: Path) -> str:
    """Tab for .tsv/.tab files; otherwise what ``csv.Sniffer`` finds among , ; tab | in the
    first lines (a comma when it cannot tell)."""
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    with path.open(newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(65536)
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def read_frame(path: str | Path) -> tuple[Any, np.ndarray, str]:
    """``(DataFrame of every column, file line of each row, delimiter)``.

    Raises ``ValueError`` naming the file for an empty file, a header without rows, repeated
    column names or a ragged row; ``FileNotFoundError`` when there is no file.
    """
    pd = pandas()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    delimiter = sniff_delimiter(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), [])
    header = [name.strip() for name in header]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ValueError(f"{path} needs unique, non-empty column names; {', '.join(repeated)} "
                         "repeat")
    try:
        frame = pd.read_csv(path, sep=delimiter, skipinitialspace=True, skip_blank_lines=False,
                            encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if found:
            header_fields, line, fields = found.groups()
            raise ValueError(f"line {line} of {path} has {fields} fields; the header has "
                             f"{header_fields}") from None
        raise ValueError(f"{path} cannot be read as a table: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    lines = np.arange(2, frame.shape[0] + 2)
    for name in frame.columns:
        if frame[name].dtype == object or str(frame[name].dtype) in ("str", "string"):
            stripped = frame[name].map(lambda v: v.strip() if isinstance(v, str) else v)
            frame[name] = stripped.where(stripped != "", np.nan)
    blank = frame.isna().all(axis=1).to_numpy()
    frame, lines = frame.loc[~blank].reset_index(drop=True), lines[~blank]
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"{path} needs a header row and at least one data row")
    return _decimal_commas(frame, delimiter), lines, delimiter


def _decimal_commas(frame: Any, delimiter: str) -> Any:
    """In a semicolon-separated file, text columns of numbers written ``3,14`` are numbers."""
    if delimiter != ";":
        return frame
    pattern = re.compile(r"^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$|^[+-]?\d+$")
    for name in frame.columns:
        values = frame[name].dropna()
        if len(values) and values.map(lambda v: isinstance(v, str)).all() and \
                values.map(lambda v: bool(pattern.match(v))).all():
            frame[name] = frame[name].map(
                lambda v: float(v.replace(",", ".")) if isinstance(v, str) else v)
    return frame


def read_table(path: str | Path, target: str, *, features: Any = None, drop: Any = None,
               task: str | None = None, max_classes: int = 20) -> Table:
    """Read a delimiter-separated file with a header row into a :class:`Table`.

    Parameters
    ----------
    path : str or Path
    target : str
        The column to predict. Its rows must all hold a value.
    features : list of str, optional
        The feature columns to use (default: every other column, less ID-like ones).
    drop : list of str, optional
        Columns to leave out.
    task : {"binary", "multiclass", "classification", "regression"}, optional
        By default text, booleans and whole numbers with at most ``max_classes`` distinct
        values are class labels; other numbers are a regression target.
    max_classes : int, default 20

    Notes
    -----
    A column named like a row identifier (``id``, ``customer_id``, ``Unnamed: 0``, ...)
    that holds a different value on every row is left out with a ``UserWarning``, unless
    ``features`` names it: it identifies rows, it does not describe them. So is a text
    column with a different value on every row (20 or more), such as names: one-hot encoded
    it would only let the network memorise the training rows.
    """
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be None or one of: {', '.join(TASKS)}; got task={task!r}")
    path = Path(path)
    frame, lines, delimiter = read_frame(path)
    columns = list(frame.columns)
    if target not in columns:
        raise ValueError(f"unknown target column {target!r} in {path}; columns: "
                         f"{', '.join(columns)}{_delimiter_hint(columns)}")
    notes = []
    if delimiter != ",":
        notes.append(f"{path.name}: {_DELIMITER_NAMES[delimiter]}-separated")
    left_out = {target: "the target"}
    chosen = _feature_columns(path, columns, target, features, drop, left_out)
    if features is None:
        for name in chosen:
            if looks_like_id(name, frame[name]):
                left_out[name] = "an ID column"
                notes.append(f"column {name!r} looks like a row identifier (named like an id, "
                             "a different value on every row): left out of the features; "
                             "name it in --features (features=) to keep it")
                warnings.warn(notes[-1], UserWarning, stacklevel=2)
            elif looks_like_free_text(frame[name]):
                left_out[name] = "text unique to each row"
                count = int(frame[name].notna().sum())
                notes.append(f"column {name!r} holds a different text on every row ({count} "
                             "distinct values): as categories it would only let the network "
                             "memorise the training rows, and every new row would be unseen; "
                             "left out of the features; name it in --features (features=) "
                             "to keep it")
                warnings.warn(notes[-1], UserWarning, stacklevel=2)
        chosen = [name for name in chosen if name not in left_out]
    if not chosen:
        raise ValueError(f"{path} has no feature columns left besides the target {target!r}")
    y, classes, task = _target(path, frame[target], lines, target, task, max_classes)
    return Table(frame[chosen].copy(), y, path.stem, target, task, classes, left_out, lines,
                 delimiter, notes)


def _delimiter_hint(columns: list[str]) -> str:
    if len(columns) == 1:
        found = [d for d in DELIMITERS if d in columns[0]]
        if found:
            return (f" (the header was read as one column: is the file separated by "
                    f"{_DELIMITER_NAMES[found[0]]}s? Check its first lines)")
    return ""


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def _feature_columns(path: Path, columns: list[str], target: str, features: Any, drop: Any,
                     left_out: dict[str, str]) -> list[str]:
    wanted, dropped = _names(features), _names(drop)
    unknown = [n for n in wanted + dropped if n not in columns]
    if unknown:
        raise ValueError(f"{path} has no column {', '.join(map(repr, unknown))}; its columns: "
                         f"{', '.join(columns)}")
    if target in wanted or target in dropped:
        raise ValueError(f"the target {target!r} cannot also be a feature or be dropped")
    for name in dropped:
        left_out[name] = "--drop"
    chosen = wanted or [c for c in columns if c != target]
    if wanted:
        for name in columns:
            if name not in wanted and name != target:
                left_out.setdefault(name, "not in --features")
    return [c for c in chosen if c not in dropped]


def _target(path: Path, values: Any, lines: np.ndarray, target: str, task: str | None,
            max_classes: int) -> tuple[np.ndarray, list[Any] | None, str]:
    pd = pandas()
    gaps = values.isna().to_numpy()
    if gaps.any():
        shown = [int(x) for x in lines[gaps][:10]]
        raise ValueError(f"target column {target!r} in {path} has missing values on lines "
                         f"{shown}: drop those rows (a filled-in target would be made up)")
    numbers = pd.to_numeric(values, errors="coerce") if values.dtype != bool else None
    numeric = numbers is not None and not numbers.isna().any()
    if numeric and not np.all(np.isfinite(numbers.to_numpy(dtype=np.float64))):
        bad = [int(x) for x in lines[~np.isfinite(numbers.to_numpy(dtype=np.float64))][:10]]
        raise ValueError(f"target column {target!r} in {path} has non-finite values on lines "
                         f"{bad}")
    if task is None:
        whole = numeric and np.all(numbers == np.round(numbers))
        few = whole and numbers.nunique() <= max_classes
        task = "classification" if not numeric or few else "regression"
    if task == "regression":
        if not numeric:
            first = values.iloc[int(np.flatnonzero(numbers.isna())[0])] if numbers is not None \
                else values.iloc[0]
            raise ValueError(f"target column {target!r} is not numeric, so it cannot be a "
                             f"regression target (it holds {first!r})")
        return numbers.to_numpy(dtype=np.float64), None, "regression"
    labels = numbers.to_numpy() if numeric else values.astype(object).to_numpy()
    if not numeric:
        labels = np.array([v if isinstance(v, (bool, np.bool_)) else str(v) for v in labels],
                          dtype=object)
    uniques, y = np.unique(labels, return_inverse=True)
    if uniques.size < 2:
        raise ValueError(f"target column {target!r} holds a single class ({uniques[0]!r}); "
                         "classification needs at least two")
    if task == "binary" and uniques.size != 2:
        raise ValueError(f"task='binary' but target column {target!r} has {uniques.size} "
                         "classes")
    kind = "binary" if uniques.size == 2 else "multiclass"
    return y.astype(np.int64), [json_label(v) for v in uniques], kind


def json_label(value: Any) -> Any:
    """A class label as a plain JSON value (whole-number floats become ints)."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
