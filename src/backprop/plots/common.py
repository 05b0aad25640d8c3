"""What every figure module shares: the lazy matplotlib import, saving, history access."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

INSTALL_HINT = "pip install 'backprop[all]'"
#: class colours (matplotlib's tab10); binary problems use the two ends of RdBu_r instead
CLASS_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
BINARY_COLOURS = ["#2166ac", "#b2182b"]
POSITIVE, NEGATIVE = "#1f77b4", "#d62728"


def pyplot():
    """``matplotlib.pyplot``, on the Agg backend unless the user already chose one.

    Agg draws without a display, so figures work on servers and in tests; a backend set by
    ``MPLBACKEND``, a matplotlibrc, ``matplotlib.use`` or an earlier pyplot import is kept.
    """
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"backprop.plots needs matplotlib: {INSTALL_HINT}") from exc
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        chosen = getattr(matplotlib.rcParams, "_get_backend_or_none", lambda: "unknown")()
        if chosen is None:
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def finish(fig: Any, path: str | Path | None, dpi: int = 120) -> Any:
    """Save ``fig`` to ``path`` (format from the suffix, PNG usually) and return it."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi, bbox_inches="tight", facecolor="white")
    return fig


def history_of(obj: Any) -> tuple[dict[str, list[float]], np.ndarray, Any]:
    """``(history dict, epoch numbers starting at 1, History or None)`` from a History,
    its ``.history`` dict, or a model that has been fitted."""
    if isinstance(obj, dict):
        record, source = obj, None
    elif isinstance(getattr(obj, "history", None), dict):
        record, source = obj.history, obj
    elif isinstance(getattr(getattr(obj, "history", None), "history", None), dict):
        source = obj.history
        record = source.history
    else:
        raise TypeError("expected a History (returned by fit), its .history dict or a fitted "
                        f"model; got {type(obj).__name__}")
    lengths = {len(v) for v in record.values()}
    n = max(lengths, default=0)
    epochs = getattr(source, "epoch", None)
    if epochs is not None and len(epochs) == n:
        x = np.asarray(epochs, dtype=float) + 1
    else:
        x = np.arange(1, n + 1, dtype=float)
    return record, x, source


def layer_keys(record: dict[str, list[float]], prefix: str) -> list[str]:
    """``prefix/layer1, prefix/layer2, ...`` present in ``record``, in layer order."""
    keys = [k for k in record if k.startswith(prefix + "/layer")]
    return sorted(keys, key=lambda k: int(k.rsplit("layer", 1)[1]))


def class_labels(y: Any, n: int) -> np.ndarray:
    """Integer class labels from 0/1 or integer labels (n,), (n, 1) or one-hot (n, k)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    elif y.ndim == 2:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"y must hold one class label per row of X ({n}); got shape {y.shape}")
    if y.dtype.kind not in "biuf" or not np.all(np.mod(y, 1) == 0) or np.any(y < 0):
        raise ValueError("y must hold class labels 0, 1, 2, ... (or one-hot rows); got "
                         f"values such as {y[:5].tolist()}")
    return y.astype(np.int64)


def check_2d_points(name: str, X: Any) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision boundaries are drawn for 2-D inputs: {name} must have "
                         f"shape (n_samples, 2); got shape {X.shape}")
    return X
