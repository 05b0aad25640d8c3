"""A CSV upload as playground data, read by the library's own tabular pipeline.

The file goes through :func:`backprop.datasets.read_table` (delimiter sniffed, ``NA`` and
empty cells missing, ID-like columns left out) and a :class:`backprop.datasets.Preprocessor`
fitted on the training rows (numbers standardised, text one-hot encoded, gaps filled with
the median or the most frequent category, a regression target standardised). The network
trains on every feature column; the plane spans two numeric ones, every other column held
at its training mean (a category: its most frequent value). The exported model carries the
same preprocessor, so ``bp.load(file).predict(raw_rows)`` gives the page's numbers.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .data import PlaneData

#: uploads above these sizes are refused with a message saying so
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 20_000
MAX_CSV_COLUMNS = 100
MAX_CSV_CLASSES = 10
#: network inputs after encoding (a text column becomes one input per category)
MAX_INPUTS = 256


def check_csv_size(text: Any) -> None:
    """Refuse what is not text or is over the limits, with a message naming them."""
    if not isinstance(text, str):
        raise ValueError(f"the CSV must arrive as text; got {type(text).__name__}")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CSV_BYTES:
        raise ValueError(f"the CSV is {size / 2**20:.1f} MB; the playground takes files up to "
                         f"{MAX_CSV_BYTES // 2**20} MB and {MAX_CSV_ROWS:,} rows")
    rows = text.count("\n")
    if rows > MAX_CSV_ROWS + 1:
        raise ValueError(f"the CSV has about {rows:,} rows; the playground takes at most "
                         f"{MAX_CSV_ROWS:,}")


@contextmanager
def _as_file(text: str, name: str) -> Iterator[str]:
    """The text in a temporary file named like the upload; messages name the upload."""
    check_csv_size(text)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:60] or "upload"
    if not safe.lower().endswith((".csv", ".tsv", ".txt", ".tab")):
        safe += ".csv"
    with tempfile.TemporaryDirectory(prefix="playground-") as folder:
        path = os.path.join(folder, safe)
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an ID column left out: reported as a note
                yield path
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(str(exc).replace(path, safe).replace(folder + os.sep, "")) \
                from None


def csv_columns(text: str, name: str = "upload.csv") -> tuple[list[str], tuple[str, ...]]:
    """The header of an upload, and a first choice of (target, x column, y column, problem).

    The target is the last column; the plane spans the first two numeric others (not an
    ID-like column, which :func:`~backprop.datasets.read_table` leaves out). The
    problem is classification for words, booleans or at most :data:`MAX_CSV_CLASSES`
    distinct whole numbers, regression otherwise; the page can change each choice.
    """
    from ..datasets.columns import NUMERIC, column_kind, looks_like_id
    from ..datasets.tables import read_frame

    with _as_file(text, name) as path:
        frame, _, _ = read_frame(path)
    header = [str(c) for c in frame.columns]
    if len(header) > MAX_CSV_COLUMNS:
        raise ValueError(f"the CSV has {len(header)} columns; the playground takes at most "
                         f"{MAX_CSV_COLUMNS}")
    target = header[-1]
    numeric = [c for c in header[:-1]  # an ID column is left out by read_table too
               if column_kind(frame[c]) == NUMERIC and not looks_like_id(c, frame[c])]
    if len(numeric) < 2:
        raise ValueError("the playground draws two numeric columns against each other; this "
                         f"CSV has {len(numeric)} besides its last column ({target!r}); "
                         f"columns: {', '.join(header)}")
    values = frame[target].dropna()
    numbers = column_kind(frame[target]) == NUMERIC
    few = values.nunique() <= MAX_CSV_CLASSES
    whole = numbers and bool(np.all(np.asarray(values, dtype=float) % 1 == 0))
    problem = "classification" if not numbers or (whole and few) else "regression"
    return header, (target, numeric[0], numeric[1], problem)


def csv_data(text: str, target: str, x_column: str, y_column: str, task: str,
             train_percent: float = 50, seed: int = 0, name: str = "upload.csv") -> PlaneData:
    """An upload as :class:`PlaneData`.

    Parameters
    ----------
    text : str
        The file's contents (header row first; comma, semicolon, tab or pipe separated).
    target : str
        The column to predict; every other column is a network input.
    x_column, y_column : str
        The two numeric feature columns that span the drawn plane.
    task : {"classification", "regression"}
    train_percent, seed :
        As for :func:`~.data.make_data`: a seeded shuffle, then the first share trains.
    name : str
        The file's name, for messages.
    """
    from ..datasets import Preprocessor, read_table
    from ..datasets.columns import NUMERIC, column_kind

    with _as_file(text, name) as path:
        table = read_table(path, target, task=task, max_classes=MAX_CSV_CLASSES)
    frame = table.X
    names = table.feature_names
    for label, column in (("x", x_column), ("y", y_column)):
        if column not in names:
            raise ValueError(f"the {label} column {column!r} is not a feature column of the "
                             f"CSV; feature columns: {', '.join(names)}")
        if column_kind(frame[column]) != NUMERIC:
            raise ValueError(f"the {label} column {column!r} does not hold numbers; the plane "
                             "needs numeric columns")
    if x_column == y_column:
        raise ValueError(f"the plane needs two different columns; got {x_column!r} twice")
    if table.task != "regression" and table.n_classes > MAX_CSV_CLASSES:
        raise ValueError(f"the target {target!r} has {table.n_classes} classes; the playground "
                         f"colours at most {MAX_CSV_CLASSES} (choose regression for numbers)")
    n = table.n_samples
    if n < 4:
        raise ValueError(f"the CSV needs at least 4 data rows; got {n}")
    order = np.random.default_rng(seed).permutation(n)
    cut = max(1, min(n - 1, int(round(n * float(train_percent) / 100.0))))
    train, test = order[:cut], order[cut:]
    X_train = frame.iloc[train].reset_index(drop=True)
    X_test = frame.iloc[test].reset_index(drop=True)
    regression = table.task == "regression"
    pre = Preprocessor(scale="standard", impute="median", target_scaling=regression)
    pre.fit(X_train, table.y[train] if regression else None)
    if pre.n_features_out > MAX_INPUTS:
        wide = sorted(pre.categorical_columns, key=lambda c: -len(pre.categories[c]))[:3]
        raise ValueError(f"the CSV's columns make {pre.n_features_out} network inputs (each "
                         "category of a text column is one); the playground takes at most "
                         f"{MAX_INPUTS}: leave out columns with many categories "
                         f"({', '.join(f'{c!r}: {len(pre.categories[c])}' for c in wide)})")
    y = table.y
    if regression:  # standardised, as the network learns them
        y = np.asarray(pre.transform_target(y), dtype=np.float64)[:, 0]
    domain: list[float] = []
    for column in (x_column, y_column):
        values = np.asarray(frame[column], dtype=np.float64)
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        pad = 0.1 * (hi - lo) if hi > lo else 1.0
        domain += [lo - pad, hi + pad]
    fill = {}
    for column in names:  # what the plane holds fixed: the training mean, or the mode
        values = X_train[column]
        if column_kind(values) == NUMERIC:
            fill[column] = float(np.nanmean(np.asarray(values, dtype=np.float64)))
        else:
            mode = values.dropna().mode()
            fill[column] = mode.iloc[0] if len(mode) else values.iloc[0]
    return PlaneData(X_train, y[train], X_test, y[test], table.task,
                     1 if regression else int(table.n_classes), tuple(domain),
                     (x_column, y_column), tuple(names), fill,
                     tuple(table.classes or ()), pre)
