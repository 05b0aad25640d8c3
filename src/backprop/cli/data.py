"""Command-line plumbing: argument types, data loading, targets, metrics and tables.

Everything here is a thin layer over :mod:`backprop.datasets` and the model API; the command
functions in ``_cli_train`` and ``_cli_tools`` put the pieces together.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

#: the model file inside a model directory
MODEL_FILE = "model.safetensors"


# -- argument types (argparse turns their ArgumentTypeError into a usage error) -------------
def hidden_sizes(text: str) -> list[int]:
    """``"10,10"`` → [10, 10]; ``""`` or ``"none"`` → [] (no hidden layer)."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer widths such as 10,10; got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer widths must be at least 1; got {text!r}")
    return sizes


def _number(text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected {'an integer' if kind is int else 'a number'}; got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number; got {text!r}")
    return value


def _bounded(kind: type, accepts, requirement: str):
    """An argparse type: a finite ``kind`` for which ``accepts(value)`` holds."""
    def parse(text: str) -> Any:
        value = _number(text, kind)
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}; got {text}")
        return value
    return parse


positive_float = _bounded(float, lambda v: v > 0, "a positive number")
nonnegative_float = _bounded(float, lambda v: v >= 0, "a number ≥ 0")
fraction = _bounded(float, lambda v: 0 <= v < 1, "a fraction in [0, 1)")
positive_int = _bounded(int, lambda v: v >= 1, "an integer ≥ 1")
nonnegative_int = _bounded(int, lambda v: v >= 0, "an integer ≥ 0")


# -- data -------------------------------------------------------------------------------------
def is_csv(data: str) -> bool:
    return data.lower().endswith(".csv") or os.sep in data or Path(data).suffix != ""


def load_dataset(data: str, target: str | None, n_samples: int | None = None,
                 noise: float | None = None, seed: int | None = None):
    """A named data set (``moons``) or a CSV file (needs ``target``) as a ``Dataset``."""
    from .. import datasets

    if is_csv(data):
        if not Path(data).is_file():
            raise FileNotFoundError(f"data file not found: {data}")
        if target is None:
            raise ValueError(f"--data {data} is a CSV file: name the column to predict with "
                             "--target COLUMN")
        return datasets.load(data, target=target)
    if target is not None:
        raise ValueError(f"--target applies to CSV files; the data set {data!r} has its own "
                         "target")
    return datasets.load(data, n_samples=n_samples, noise=noise, seed=seed)


def task_settings(task: str, n_classes: int | None, n_targets: int,
                  output_activation: str | None, loss: str | None) -> tuple[int, str, str]:
    """(n_outputs, output activation, loss) for a task, filling in what was not given."""
    if task == "regression":
        return n_targets, output_activation or "identity", loss or "mse"
    if task == "binary" and (output_activation or "sigmoid") != "softmax" \
            and loss != "categorical_crossentropy":
        return 1, output_activation or "sigmoid", loss or "binary_crossentropy"
    return n_classes, output_activation or "softmax", loss or "categorical_crossentropy"


def read_feature_csv(path: str, feature_names: list[str]) -> np.ndarray:
    """The named feature columns of a CSV file, in the model's order (other columns, such as
    the target, are ignored)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"data file not found: {path}")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise ValueError(f"{path} is empty; expected a header row") from None
        missing = [name for name in feature_names if name not in header]
        if missing:
            raise ValueError(f"{path} has no column {', '.join(map(repr, missing))}, which the "
                             f"model was trained on; its columns: {', '.join(header)}")
        index = [header.index(name) for name in feature_names]
        rows = []
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(f"{path} line {line} has {len(row)} fields; the header has "
                                 f"{len(header)}")
            try:
                rows.append([float(row[i]) for i in index])
            except ValueError:
                bad = next(feature_names[j] for j, i in enumerate(index)
                           if not _is_float(row[i]))
                raise ValueError(f"{path} line {line}: column {bad!r} holds "
                                 f"{row[header.index(bad)]!r}, not a number") from None
    if not rows:
        raise ValueError(f"{path} has a header but no data rows")
    X = np.array(rows, dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{path} holds non-finite feature values")
    return X


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_features(X: np.ndarray, model: Any, source: str) -> None:
    if X.shape[1] != model.n_features:
        raise ValueError(f"the data {source} has {X.shape[1]} features but the model expects "
                         f"{model.n_features}")


def encode_labels(ds: Any, classes: list[Any], source: str) -> np.ndarray:
    """The data set's labels as indices into the model's ``classes``."""
    if ds.classes is None:
        raise ValueError(f"the data {source} has a regression target but the model is a "
                         "classifier")
    lookup = {_label_key(c): i for i, c in enumerate(classes)}
    originals = [ds.classes[k] for k in ds.y]
    unknown = sorted({str(v) for v in originals if _label_key(v) not in lookup})
    if unknown:
        raise ValueError(f"the data {source} has labels the model never saw: "
                         f"{', '.join(unknown[:10])}; the model's classes: "
                         f"{', '.join(map(str, classes))}")
    return np.array([lookup[_label_key(v)] for v in originals], dtype=np.int64)


def _label_key(value: Any) -> str:
    # 1 and 1.0 and "1" name the same class in a CSV file.
    if isinstance(value, (int, float)) and float(value).is_integer():
        return str(int(value))
    return str(value)


# -- targets for regression -------------------------------------------------------------------
def target_scaling(y: np.ndarray) -> dict[str, list[float]]:
    """Mean and standard deviation of a regression target (training rows)."""
    Y = y.reshape(len(y), -1)
    std = Y.std(axis=0)
    return {"mean": Y.mean(axis=0).tolist(), "scale": np.where(std > 0, std, 1.0).tolist()}


def scale_target(y: np.ndarray, scaling: dict[str, list[float]]) -> np.ndarray:
    return (y.reshape(len(y), -1) - np.array(scaling["mean"])) / np.array(scaling["scale"])


def unscale_target(out: np.ndarray, scaling: dict[str, list[float]] | None) -> np.ndarray:
    if not scaling:
        return out
    return out * np.array(scaling["scale"]) + np.array(scaling["mean"])


# -- metrics and tables -----------------------------------------------------------------------
def metrics(model: Any, X: np.ndarray, y: np.ndarray, task: str, loss: str,
            scaling: dict[str, list[float]] | None) -> dict[str, float]:
    """Loss and accuracy (classification) or MSE, MAE and R² in the target's units."""
    if task != "regression":
        result = model.evaluate(X, y, loss=loss)
        return {"n": int(len(X)), "loss": float(result["loss"]),
                "accuracy": float(result["accuracy"])}
    pred = unscale_target(model.predict(X), scaling)
    Y = y.reshape(len(y), -1)
    err = pred - Y
    total = float(np.sum((Y - Y.mean(axis=0)) ** 2))
    return {"n": int(len(X)), "mse": float(np.mean(err ** 2)),
            "mae": float(np.mean(np.abs(err))),
            "r2": 1.0 - float(np.sum(err ** 2)) / total if total > 0 else float("nan")}


def print_metrics(console: Any, title: str, rows: dict[str, dict[str, float]]) -> None:
    """A rich table: one row per data split, one column per metric."""
    from rich.table import Table

    columns = [k for k in next(iter(rows.values())) if k != "n"]
    table = Table(title=title)
    table.add_column("split")
    table.add_column("n", justify="right")
    for name in columns:
        table.add_column(name, justify="right")
    for split, values in rows.items():
        cells = [f"{values[c]:.2%}" if c == "accuracy" else f"{values[c]:.4g}"
                 for c in columns]
        table.add_row(split, str(values["n"]), *cells)
    console.print(table)


def json_safe(value: Any) -> Any:
    """NumPy scalars and arrays as Python values; NaN and infinities as None (JSON has none)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(json_safe(value), indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")


def model_file(model_dir: str) -> Path:
    """The model file of ``--model``: a directory holding model.safetensors, or the file."""
    path = Path(model_dir)
    if path.is_dir():
        path = path / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no model at {model_dir}: expected a directory written by "
                                f"'backprop train' (with {MODEL_FILE}) or a model file")
    return path


def load_model(model_dir: str) -> Any:
    import backprop as bp

    return bp.load(model_file(model_dir))
