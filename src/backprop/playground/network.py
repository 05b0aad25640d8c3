"""From a configuration and its data to the engine's objects: network, loss, optimiser,
targets. Shared by the live session and the exported snippet, so both build the same run."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import MLP, SGD, Adam
from .config import Config
from .data import PlaneData

OUTPUT_ACTIVATION = {"binary": "sigmoid", "multiclass": "softmax", "regression": "identity"}


def loss_name(config: Config, data: PlaneData) -> str:
    """The engine's loss for the page's choice: cross-entropy follows the output layer."""
    if config.loss == "cross_entropy":
        return "categorical_crossentropy" if data.task == "multiclass" else "binary_crossentropy"
    return config.loss


def n_outputs(data: PlaneData) -> int:
    return data.n_classes if data.task == "multiclass" else 1


def n_inputs(config: Config, data: PlaneData) -> int:
    pre = data.preprocessor
    return pre.n_features_out if pre is not None else len(config.features)


def build_model(config: Config, data: PlaneData) -> MLP:
    """The network: inputs → hidden layers → sigmoid, softmax or identity output."""
    return MLP([n_inputs(config, data), *config.hidden, n_outputs(data)],
               activation=list(config.activations), output_activation=OUTPUT_ACTIVATION[data.task],
               dropout=config.dropout, seed=config.seed)


def build_optimizer(config: Config, lr: float | None = None) -> Any:
    lr = config.lr if lr is None else lr
    if config.optimizer == "adam":
        return Adam(lr=lr)
    return SGD(lr=lr, momentum=0.9 if config.optimizer == "momentum" else 0.0)


def targets(data: PlaneData, y: np.ndarray) -> np.ndarray:
    """What ``fit`` gets as y: one-hot rows for several classes, else the labels/values."""
    if data.task == "multiclass":
        return np.eye(data.n_classes)[y]
    return y
