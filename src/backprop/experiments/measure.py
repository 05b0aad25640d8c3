"""The task's defaults and its measures: the output layer and loss a task needs, the
standardised regression target, and the metrics of one split.

``backprop train`` makes the same choices (its command-line helpers live in ``cli``, which this
package may not import: ``cli`` imports it), so a run folder's numbers mean the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .common import plain


def heads(task: str, n_classes: int, n_targets: int, output_activation: str | None,
          loss: str | None) -> tuple[int, str, str]:
    """(outputs, output activation, loss), each given one kept: regression → identity and
    mse; two classes → one sigmoid unit and binary cross-entropy unless softmax or the
    categorical loss is asked for; more classes → softmax and categorical cross-entropy."""
    if task == "regression":
        return n_targets, output_activation or "identity", loss or "mse"
    wants_classes = output_activation == "softmax" or loss == "categorical_crossentropy"
    if task == "binary" and not wants_classes:
        return 1, output_activation or "sigmoid", loss or "binary_crossentropy"
    return n_classes, output_activation or "softmax", loss or "categorical_crossentropy"


def target_scaling(y: np.ndarray) -> dict[str, list[float]]:
    """Mean and standard deviation (1 where constant) of each target column, training rows."""
    columns = y.reshape(len(y), -1)
    spread = columns.std(axis=0)
    return {"mean": columns.mean(axis=0).tolist(),
            "scale": np.where(spread > 0, spread, 1.0).tolist()}


def standardise(y: np.ndarray, scaling: dict[str, list[float]]) -> np.ndarray:
    return (y.reshape(len(y), -1) - np.asarray(scaling["mean"])) / np.asarray(scaling["scale"])


def split_metrics(model: Any, X: np.ndarray, y: np.ndarray, task: str, loss: str,
                  scaling: dict[str, list[float]] | None) -> dict[str, float]:
    """Classification: the loss and the accuracy. Regression: the loss on the standardised
    target, then MSE, MAE and R² in the target's own units."""
    if task != "regression":
        scores = model.evaluate(X, y, loss=loss)
        return {"loss": float(scores["loss"]), "accuracy": float(scores["accuracy"])}
    truth = y.reshape(len(y), -1)
    learned = standardise(truth, scaling) if scaling else truth
    out = {"loss": float(model.evaluate(X, learned, loss=loss)["loss"])}
    predicted = model.predict(X)
    if scaling:
        predicted = predicted * np.asarray(scaling["scale"]) + np.asarray(scaling["mean"])
    error = predicted - truth
    total = float(((truth - truth.mean(axis=0)) ** 2).sum())
    out.update(mse=float(np.mean(error ** 2)), mae=float(np.mean(np.abs(error))),
               r2=1.0 - float((error ** 2).sum()) / total if total > 0 else float("nan"))
    return out


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(plain(value), indent=2, allow_nan=False) + "\n",
                    encoding="utf-8")
