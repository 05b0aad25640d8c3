"""backprop: multi-layer perceptrons made visible, verified and fast.

>>> import backprop as bp
>>> model = bp.MLP([2, 4, 1], activation="relu", output_activation="sigmoid", seed=0)
"""

from __future__ import annotations

import importlib

from . import activations, initializers, losses, optimizers
from .callbacks import Callback, EarlyStopping, History, ProgressBar
from .doctor import Diagnosis, Doctor, Finding, StepExplanation, diagnose, explain_step
from .gradcheck import GradcheckResult, gradcheck
from .layers import Dense, Dropout, Layer, Param
from .mlp import MLP
from .network import Sequential
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from .schedules import CosineDecay, ExponentialDecay, ReduceLROnPlateau, StepDecay
from .training import PoorFitWarning, TrainingDiverged, fit
from .training import set_resumer as _set_resumer

__version__ = "0.1.0"

# The edge (io, plots, ...) is imported here on first use, never by the engine: names backed
# by optional dependencies load lazily, so `import backprop` needs NumPy only.
_LAZY = {
    "save": "io", "load": "io", "export_onnx": "io", "from_torch": "io", "to_torch": "io",
    "ModelCheckpoint": "io", "ModelFileError": "io",
    "sweep": "experiments",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'backprop' has no attribute {name!r}")


def _resume(model, path, optimizer):
    """``fit(..., resume_from=path)``: the io package reads the checkpoint."""
    return importlib.import_module(".io", __name__).resume(model, path, optimizer)


_set_resumer(_resume)

__all__ = [
    "MLP", "Sequential", "Dense", "Dropout", "Layer", "Param",
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Optimizer",
    "StepDecay", "ExponentialDecay", "CosineDecay", "ReduceLROnPlateau",
    "Callback", "EarlyStopping", "History", "ProgressBar",
    "TrainingDiverged", "PoorFitWarning", "fit", "gradcheck", "GradcheckResult",
    "diagnose", "Doctor", "Diagnosis", "Finding", "explain_step", "StepExplanation",
    "activations", "initializers", "losses", "optimizers",
    "save", "load", "export_onnx", "to_torch", "from_torch", "ModelCheckpoint",
    "ModelFileError", "sweep",
]
