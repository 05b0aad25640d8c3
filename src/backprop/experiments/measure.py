"""What a task needs and how a split is measured, as ``backprop train`` decides them.

The output layer and loss a task takes when the experiment says ``auto``, the targets as the
loss reads them, and the metrics of one split. The command line's helpers make the same
choices but live in ``cli``, which this package may not import (``cli`` imports it); the test
that ``backprop run`` repeats ``backprop train`` bit for bit holds the two together.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..doctor.findings import json_safe as plain

REGRESSION_LOSSES = ("mse", "mae", "huber")


def heads(task: str, n_classes: int | None, output_activation: str | None,
          loss: str | None) -> tuple[int, str, str]:
    """(outputs, output activation, loss), each one given kept.

    Regression: identity units and mse (a classification loss is refused). Two classes: one
    sigmoid unit and binary cross-entropy, unless a softmax output is asked for. More
    classes: a softmax unit per class and categorical cross-entropy.
    """
    if task == "regression":
        if loss is not None and loss not in REGRESSION_LOSSES:
            raise ValueError(f"training.loss {loss!r} is a classification loss, but the target "
                             "holds numbers to predict (regression); use mse, mae or huber, or "
                             "data.task = \"classification\" if its values are classes")
        return 1, output_activation or "identity", loss or "mse"
    if task == "binary" and output_activation != "softmax":
        return 1, output_activation or "sigmoid", loss or "binary_crossentropy"
    return int(n_classes or 2), output_activation or "softmax", loss or "categorical_crossentropy"


def as_targets(y: np.ndarray, task: str, n_outputs: int, loss: str) -> np.ndarray:
    """Class indices as the loss reads them: one-hot rows when several outputs meet a loss
    other than categorical cross-entropy (mse on classes, binary cross-entropy on two
    softmax units); indices or values otherwise."""
    one_hot = task != "regression" and n_outputs > 1 and loss != "categorical_crossentropy"
    return np.eye(n_outputs)[y] if one_hot else y


def split_metrics(model: Any, X: np.ndarray, y: np.ndarray, targets: np.ndarray, task: str,
                  loss: str, to_units: Callable[[np.ndarray], np.ndarray]) -> dict[str, float]:
    """Classification: the training loss and the accuracy. Regression: the training loss
    (on ``targets`` as the network learns them), then MSE, MAE and R² of
    ``to_units(outputs)`` against ``y``, in the target's own units."""
    scores = model.evaluate(X, targets, loss=loss)
    out = {"loss": float(scores["loss"])}
    if task != "regression":
        out["accuracy"] = float(scores["accuracy"])
        return out
    truth = y.reshape(len(y), -1).astype(np.float64)
    error = np.asarray(to_units(model.predict(X)), dtype=np.float64) - truth
    spread = float(((truth - truth.mean(axis=0)) ** 2).sum())
    out.update(mse=float(np.mean(error ** 2)), mae=float(np.mean(np.abs(error))),
               r2=1.0 - float((error ** 2).sum()) / spread if spread > 0 else float("nan"))
    return out


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(plain(value), indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")
