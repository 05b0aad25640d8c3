"""Command-line plumbing: argument types, data loading, targets, metrics and tables.

Everything here is a thin layer over :mod:`backprop.datasets` and the model API; the command
functions in ``train`` and ``tools`` put the pieces together.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

# NumPy values as Python ones, NaN as None: one helper for every JSON the package writes
from ..doctor.findings import json_safe

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
    """True when ``--data`` names a file (a table) rather than a bundled data set."""
    from ..datasets.tables import is_table_path

    return is_table_path(data) or os.sep in data or Path(data).suffix != ""


def names(text: str | None) -> list[str] | None:
    """``"a,b"`` → ["a", "b"] (for --features and --drop)."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def load_table(data: str, target: str | None, *, n_samples: int | None = None,
               noise: float | None = None, seed: int | None = None, features: Any = None,
               drop: Any = None, task: str | None = None):
    """``--data`` as a ``datasets.Table``: a file read as it comes (the target column named
    by ``--target``), or a bundled data set with its feature names."""
    from .. import datasets

    if is_csv(data):
        if not Path(data).is_file():
            raise FileNotFoundError(f"data file not found: {data}")
        if target is None:
            raise ValueError(f"--data {data} is a file: name the column to predict with "
                             "--target COLUMN")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # read_table's notes say it all
            return datasets.read_table(data, target, features=features, drop=drop, task=task)
    given = [flag for flag, value in (("--target", target), ("--features", features),
                                      ("--drop", drop), ("--task", task)) if value]
    if given:
        raise ValueError(f"{', '.join(given)} appl{'y' if len(given) > 1 else 'ies'} to CSV "
                         f"files; the data set {data!r} has its own columns and target")
    ds = datasets.load(data, n_samples=n_samples, noise=noise, seed=seed)
    frame = pandas().DataFrame(ds.X, columns=ds.feature_names)
    return datasets.Table(frame, ds.y, ds.name, "target", ds.task, ds.classes)


def pandas():
    from ..datasets.columns import pandas as _pandas

    return _pandas()


REGRESSION_LOSSES = ("mse", "mae", "huber")


def resolve_task(args: Any) -> str | None:
    """The ``task`` to read a training file with: ``--task``, or regression when ``--loss``
    is a regression loss (a target of ratings 1–5 with --loss mse is a number to predict)."""
    if args.task is not None:
        return args.task
    if args.loss in REGRESSION_LOSSES and is_csv(args.data):
        return "regression"
    return None


def task_settings(task: str, n_classes: int | None, output_activation: str | None,
                  loss: str | None) -> tuple[int, str, str]:
    """(n_outputs, output activation, loss) for a task, filling in what was not given (the
    choices ``backprop run`` makes too: ``experiments.measure.heads``)."""
    from ..experiments.measure import heads

    if task == "regression" and loss is not None and loss not in REGRESSION_LOSSES:
        raise ValueError(f"--loss {loss} is a classification loss, but the target holds "
                         "numbers to predict (regression); use --loss mse (or mae, huber), "
                         "or --task classification if its values are classes")
    return heads(task, n_classes, output_activation, loss)


def training_targets(y: np.ndarray, task: str, n_outputs: int, loss: str) -> np.ndarray:
    """Class indices as the loss reads them (``experiments.measure.as_targets``, the same for
    ``backprop run``): one-hot rows for a loss other than categorical cross-entropy over
    several outputs (mse on classes, binary cross-entropy on two softmax units)."""
    from ..experiments.measure import as_targets

    return as_targets(y, task, n_outputs, loss)


def read_rows(path: str) -> Any:
    """Every column of a data file (sniffed delimiter), for a saved model to pick from."""
    from ..datasets.tables import read_frame

    return read_frame(path)[0]


def encode_labels(values: Any, classes: list[Any], source: str) -> np.ndarray:
    """Original labels (from a file or a data set) as indices into the model's ``classes``."""
    lookup = {_label_key(c): i for i, c in enumerate(classes)}
    keys = [_label_key(v) for v in values]
    unknown = sorted({k for k in keys if k not in lookup})
    if unknown:
        raise ValueError(f"the data {source} has labels the model never saw: "
                         f"{', '.join(unknown[:10])}; the model's classes: "
                         f"{', '.join(map(str, classes))}")
    return np.array([lookup[k] for k in keys], dtype=np.int64)


def _label_key(value: Any) -> str:
    # 1 and 1.0 and "1" name the same class in a CSV file.
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value.strip()
        value = number
    if isinstance(value, (int, float)) and not isinstance(value, bool) \
            and float(value).is_integer():
        return str(int(value))
    return str(value)


# -- metrics and tables -----------------------------------------------------------------------
def metrics(model: Any, X: Any, y: np.ndarray, task: str, targets: np.ndarray | None = None
            ) -> dict[str, float]:
    """The training loss (as ``evaluate`` measures it) and accuracy, or for regression the
    loss beside MSE, MAE and R² in the target's units. ``targets``: ``y`` as the loss reads
    it (see :func:`training_targets`)."""
    result = model.evaluate(X, y if targets is None else targets)
    if task != "regression":
        return {"n": int(len(y)), "loss": float(result["loss"]),
                "accuracy": float(result["accuracy"])}
    pred = np.asarray(model.predict(X), dtype=np.float64)
    Y = y.reshape(len(y), -1)
    err = pred - Y
    total = float(np.sum((Y - Y.mean(axis=0)) ** 2))
    return {"n": int(len(y)), "loss": float(result["loss"]), "mse": float(np.mean(err ** 2)),
            "mae": float(np.mean(np.abs(err))),
            "r2": 1.0 - float(np.sum(err ** 2)) / total if total > 0 else float("nan")}


def loss_caption(loss: str, task: str, target_scaling: bool) -> str:
    """What the ``loss`` column measures, and how it differs from the MSE column."""
    if loss == "mse":
        text = "loss: the training loss mse = ½·mean((ŷ − y)²)"
    else:
        text = f"loss: the training loss, {loss}"
    if task == "regression":
        text += (" on the standardised target" if target_scaling else "")
        text += "; MSE = mean((ŷ − y)²), MAE and R² in the target's units"
    return text


def console() -> Any:
    """A rich ``Console`` for the commands' output (rich is imported on first use)."""
    from rich.console import Console

    return Console()


def print_metrics(console: Any, title: str, rows: dict[str, dict[str, float]],
                  caption: str | None = None) -> None:
    """A rich table: one row per data split, one column per metric."""
    from rich.table import Table

    headers = {"loss": "loss", "accuracy": "accuracy", "mse": "MSE", "mae": "MAE", "r2": "R²"}
    columns = [k for k in next(iter(rows.values())) if k != "n"]
    table = Table(title=title)
    table.add_column("split")
    table.add_column("n", justify="right")
    for name in columns:
        table.add_column(headers.get(name, name), justify="right")
    for split, values in rows.items():
        cells = [f"{values[c]:.2%}" if c == "accuracy" else f"{values[c]:.4g}"
                 for c in columns]
        table.add_row(split, str(values["n"]), *cells)
    console.print(table)
    if caption:
        console.print(caption, markup=False)


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
