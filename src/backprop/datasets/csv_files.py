"""Reading CSV files for :func:`backprop.datasets.from_csv` (standard library ``csv``)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np


def read_csv(path: Path) -> tuple[list[str], dict[str, list[str]], list[int]]:
    """Header, columns (lists of stripped strings) and the file line number of each row.

    Blank lines are skipped; a ragged row, an empty cell or a repeated column name raises
    ``ValueError`` naming the line or column.
    """
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {path}")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [(number, [cell.strip() for cell in row])
                for number, row in enumerate(csv.reader(handle), start=1)
                if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise ValueError(f"{path} needs a header row and at least one data row; "
                         f"got {len(rows)} non-empty line(s)")
    header = rows[0][1]
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated or "" in header:
        raise ValueError(f"{path} needs unique, non-empty column names; got {header}")
    columns: dict[str, list[str]] = {name: [] for name in header}
    for number, row in rows[1:]:
        if len(row) != len(header):
            raise ValueError(f"line {number} of {path} has {len(row)} fields; the header has "
                             f"{len(header)}")
        for name, cell in zip(header, row):
            if cell == "":
                raise ValueError(f"missing value in column {name!r} on line {number} of "
                                 f"{path}; fill or drop incomplete rows first")
            columns[name].append(cell)
    return header, columns, [number for number, _ in rows[1:]]


def try_float(values: list[str]) -> np.ndarray | None:
    """The column as float64, or None if some value is not a number."""
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return None


def numeric_column(path: Path, name: str, values: list[str], lines: list[int]) -> np.ndarray:
    """A feature column as float64; a word or a non-finite value raises naming the line."""
    for row, text in zip(lines, values):
        try:
            number = float(text)
        except ValueError:
            raise ValueError(
                f"feature column {name!r} in {path} is not numeric (line {row}: {text!r}); "
                "encode it as numbers or remove the column"
            ) from None
        if not math.isfinite(number):
            raise ValueError(f"feature column {name!r} in {path} has the non-finite value "
                             f"{text!r} on line {row}")
    return np.array(values, dtype=np.float64)


def json_label(value: Any) -> Any:
    """A class label as a plain JSON value (whole-number floats become ints)."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
