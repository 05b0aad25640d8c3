"""Measurements the rules read: activations on a probe batch, inputs, targets, the baseline
loss, and the gradient and loss series of a training run.

Everything here is plain NumPy on the engine's public names (``model.dense_layers`` with their
``activation``, ``model.weights``, ``model.biases``, ``model.evaluate``, ``History.history``):
the per-layer pre-activations z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾ are recomputed from the weights rather
than read from a layer's caches.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import activations as _activations
from .. import losses as _losses
from .thresholds import value

#: rows of the fixed probe batch on which activations are measured
PROBE_SIZE = 256


def probe_rows(n: int, size: int = PROBE_SIZE, seed: int = 0) -> np.ndarray:
    """Sorted indices of a fixed random subset of ``min(n, size)`` rows (all rows if fewer)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def resolve_loss(model: Any, loss: Any) -> _losses.Loss:
    """``loss`` as a Loss object, defaulting to the loss of the model's last ``fit``."""
    if loss is None:
        loss = getattr(model, "loss", None)
    if loss is None:
        raise ValueError("diagnose needs the loss the model is trained with: pass loss= "
                         "(for example loss='binary_crossentropy'), or call it after fit")
    return _losses.get(loss)


# -- activations ---------------------------------------------------------------------------
@functools.cache
def _shape_of(activation: _activations.Activation) -> tuple[float, bool, bool]:
    """(peak slope, has a dead zone, saturates) of an elementwise activation.

    A dead zone: g'(z) = 0 exactly for z well below 0 (ReLU), so a unit whose z stays there
    passes no gradient at all. Saturating: g' fades on both sides (sigmoid, tanh).
    """
    grid = np.linspace(-6.0, 6.0, 1201)
    peak = float(activation.derivative(grid).max())
    tails = activation.derivative(np.array([-12.0, 12.0]))
    left = activation.derivative(np.array([-3.0, -12.0, 3.0]))
    dead_zone = bool(left[0] == 0 and left[1] == 0 and left[2] > 0)
    saturates = bool(peak > 0 and np.all(tails < 1e-3 * peak))
    return peak, dead_zone, saturates


#: the most multiply-adds one matrix product of the doctor's takes at once (see ``product``)
BLOCK_MACS = 1 << 18


def _block_rows(W: np.ndarray) -> int:
    return max(32, BLOCK_MACS // max(1, W.shape[0] * W.shape[1]))


def product(a: np.ndarray, W: np.ndarray) -> np.ndarray:
    """a @ W, taken in row blocks of about ``BLOCK_MACS`` multiply-adds (at least 32 rows).

    OpenBLAS hands larger products to its thread pool, and on a busy machine a pool call can
    stall for tens of milliseconds (measured on the project's shared 2-core machine: a
    median 67 ms for a float64 (128, 64)·(64, 128) product, 0.03 ms for 64 rows) — more
    than a whole check of the Doctor. Blocks of a mini-batch's size stay on the calling
    thread.
    """
    rows = _block_rows(W)
    if a.shape[0] <= rows:
        return a @ W
    out = np.empty((a.shape[0], W.shape[1]), dtype=np.result_type(a, W))
    for start in range(0, a.shape[0], rows):
        np.matmul(a[start:start + rows], W, out=out[start:start + rows])
    return out


def product_t(a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """aᵀ·d summed over the same row blocks as ``product``."""
    rows = max(32, BLOCK_MACS // max(1, a.shape[1] * d.shape[1]))
    out = a[:rows].T @ d[:rows]
    for start in range(rows, a.shape[0], rows):
        out += a[start:start + rows].T @ d[start:start + rows]
    return out


def forward(model: Any, X: np.ndarray, keep: bool = True, hidden_only: bool = False
            ) -> tuple[list, list, list]:
    """The forward pass over the Dense layers in X's dtype, from the weights:
    (inputs a⁽ˡ⁻¹⁾, pre-activations z⁽ˡ⁾, outputs a⁽ˡ⁾), or with ``keep=False`` only the
    output layer's z and a (one-element lists); ``hidden_only`` stops before the output
    layer. Dropout is the identity (inference); nothing in the model changes."""
    inputs, zs, outs = [], [], []
    a = X
    layers = list(zip(model.dense_layers, model.weights, model.biases))
    for layer, W, b in layers[:-1] if hidden_only else layers:
        z = product(a, W.astype(a.dtype, copy=False))
        if b is not None:
            z += b
        if keep:
            inputs.append(a)
        a = layer.activation.forward(z.copy())
        if keep:
            zs.append(z)
            outs.append(a)
    if not keep:
        return [], [z], [a]
    return inputs, zs, outs


def loss_value(loss: _losses.Loss, model: Any, z: np.ndarray, a: np.ndarray,
               T: np.ndarray) -> float:
    """The data loss of output ``a`` (logits ``z``), as ``model.evaluate`` computes it: from
    the logits on a fused path."""
    if loss.fuses_with == model.output_activation.name:
        return float(loss.value(a, T, z))
    return float(loss.value(a, T))


def layer_statistics(model: Any, zs: list[np.ndarray]) -> list[dict[str, Any]]:
    """Per hidden Dense layer, how its units behave on the rows whose pre-activations are
    ``zs`` (from ``forward``; the output layer's is ignored).

    Returns one dict per hidden layer: ``layer`` (1-based), ``activation``, ``units``,
    ``dead_units`` and ``dead_fraction`` (units whose g'(z) is 0 on every row; ReLU family
    only, else None), ``saturated_fraction`` (share of (row, unit) values with g'(z) below
    ``saturation_slope`` of the peak; sigmoid/tanh only, else None).
    """
    stats = []
    slope_floor = value("saturation_slope")
    with np.errstate(over="ignore", invalid="ignore"):
        for k, (layer, z) in enumerate(zip(model.dense_layers[:-1], zs), start=1):
            act = layer.activation
            entry: dict[str, Any] = {"layer": k, "activation": act.name, "units": z.shape[1],
                                     "dead_units": None, "dead_fraction": None,
                                     "saturated_fraction": None}
            if not act.rowwise:
                peak, dead_zone, saturates = _shape_of(act)
                if dead_zone:
                    # The dead zone lies below some z (ReLU: z ≤ 0), so a unit is dead on
                    # every row exactly when it is dead at its largest z.
                    dead = int(np.sum(act.derivative(z.max(axis=0)) == 0))
                    entry["dead_units"], entry["dead_fraction"] = dead, dead / z.shape[1]
                if saturates:
                    slope = act.derivative(z)
                    entry["saturated_fraction"] = float(np.mean(slope < slope_floor * peak))
            stats.append(entry)
    return stats


# -- inputs and targets --------------------------------------------------------------------
def input_statistics(X: np.ndarray) -> dict[str, Any]:
    """Scale of every feature: root mean square, standard deviation, and the worst offenders."""
    X = np.asarray(X, dtype=np.float64)
    rms = np.sqrt(np.mean(np.square(X), axis=0))
    std = X.std(axis=0)
    varying = std > 1e-12 * np.maximum(rms, 1.0)
    spread = float(std[varying].max() / std[varying].min()) if varying.sum() >= 2 else 1.0
    order = np.argsort(rms)[::-1]
    return {"max_rms": float(rms.max()) if rms.size else 0.0,
            "largest_features": [int(j) for j in order[:5]],
            "largest_rms": [float(rms[j]) for j in order[:5]],
            "std_spread": spread, "n_features": int(X.shape[1])}


def target_statistics(T: np.ndarray, output_activation: str) -> dict[str, Any] | None:
    """Class counts for 0/1 targets of a single column or one-hot rows; None otherwise."""
    if not _losses.is_classification_target(T):
        return None
    if T.shape[1] == 1:
        counts = np.array([np.sum(T[:, 0] == 0), np.sum(T[:, 0] == 1)])
    elif np.all(T.sum(axis=1) == 1):
        counts = T.sum(axis=0).astype(np.int64)
    else:
        return None  # multi-label: each column is its own question
    present = counts[counts > 0]
    return {"counts": counts.tolist(),
            "ratio": float(present.min() / present.max()) if present.size >= 2 else 1.0,
            "rarest": int(np.argmin(np.where(counts > 0, counts, np.iinfo(np.int64).max))),
            "output_activation": output_activation}


def recall_of(output: np.ndarray, T: np.ndarray, k: int) -> float | None:
    """Recall of class ``k`` (the share of its rows predicted as k)."""
    if T.shape[1] == 1:
        truth, pred = T[:, 0] == k, (output[:, 0] > 0.5) == bool(k)
    else:
        truth, pred = T[:, k] == 1, output.argmax(axis=1) == k
    return float(np.mean(pred[truth])) if truth.any() else None


def baseline_loss(loss: _losses.Loss, T: np.ndarray) -> tuple[float, str]:
    """The loss of the best input-independent prediction, and what that prediction is.

    Class frequencies for the cross-entropies (their loss is then the labels' entropy), the
    mean for squared error and Huber, the median for absolute error.
    """
    T64 = np.asarray(T, dtype=np.float64)
    if loss.name == "mae":
        constant, what = np.median(T64, axis=0), "the median target"
    elif loss.classification:
        constant, what = T64.mean(axis=0), "the class frequencies"
    else:
        constant, what = T64.mean(axis=0), "the mean target"
    # Every loss here is a mean over rows (of a row sum or of its elements), so the value is
    # the row-weighted mean over blocks; blocks keep each reduction below the size at which
    # BLAS wakes its thread pool (see ``product``).
    rows = 512
    prediction = np.broadcast_to(constant, (min(rows, T64.shape[0]), T64.shape[1])).copy()
    total = 0.0
    for start in range(0, T64.shape[0], rows):
        block = T64[start:start + rows]
        total += float(loss.value(prediction[:block.shape[0]], block)) * block.shape[0]
    return total / T64.shape[0], what


# -- a training run ------------------------------------------------------------------------
@dataclass
class Run:
    """The series of one training run, however it was handed over.

    Attributes
    ----------
    record : dict of str → list of float
    stopped_early : bool
    diverged : str or None
        The message of a ``TrainingDiverged`` (or "the loss became NaN" found in the record).
    """

    record: dict[str, list[float]] = field(default_factory=dict)
    stopped_early: bool = False
    diverged: str | None = None

    @classmethod
    def of(cls, history: Any) -> Run | None:
        """From a History, its ``.history`` dict (or history.json), or a TrainingDiverged."""
        if history is None:
            return None
        diverged = None
        if isinstance(history, BaseException):
            if not hasattr(history, "history"):
                raise TypeError(f"history must be a History, a dict or a TrainingDiverged; got "
                                f"{type(history).__name__}")
            diverged, history = str(history), history.history
        if isinstance(history, dict):
            record, stopped = history, bool(history.get("stopped_early", False))
        elif hasattr(history, "history") and isinstance(history.history, dict):
            record, stopped = history.history, bool(getattr(history, "stopped_early", False))
        else:
            raise TypeError("history must be a History, its .history dict or a "
                            f"TrainingDiverged; got {type(history).__name__}")
        record = {k: [math.nan if v is None else float(v) for v in vals]
                  for k, vals in record.items() if isinstance(vals, list) and k != "epoch"}
        loss = record.get("loss", [])
        if diverged is None and loss and not all(math.isfinite(v) for v in loss):
            diverged = "the training loss became NaN or infinite"
        return cls(record, stopped, diverged)

    @property
    def epochs(self) -> int:
        return len(self.record.get("loss", []))

    def series(self, key: str) -> np.ndarray:
        return np.asarray(self.record.get(key, []), dtype=np.float64)

    def layer_series(self, prefix: str) -> np.ndarray | None:
        """(epochs, layers) array of ``grad_norm`` or ``weight_norm``, or None if absent."""
        keys = sorted((k for k in self.record if k.startswith(prefix + "/layer")),
                      key=lambda k: int(k.rsplit("layer", 1)[1]))
        if not keys or not self.record[keys[0]]:
            return None
        n = min(len(self.record[k]) for k in keys)
        return np.column_stack([self.record[k][:n] for k in keys])

    def early(self) -> slice:
        """The first epochs, where gradient problems show before training hides them: the
        first tenth of the run, at least 1 and at most 10 epochs."""
        return slice(0, max(1, min(10, self.epochs // 10)))


def median_rows(series: np.ndarray, rows: slice) -> np.ndarray:
    """Median over the selected epochs of an (epochs, layers) array."""
    return np.median(series[rows], axis=0)


def estimated_update_ratio(optimizer: Any, grad_norms: np.ndarray, weight_norms: np.ndarray,
                           sizes: list[int]) -> tuple[np.ndarray, str] | None:
    """Per layer ‖ΔW⁽ˡ⁾‖ / ‖W⁽ˡ⁾‖ of one step, from the optimiser's learning rate.

    Plain SGD steps η·∂L/∂W exactly; Adam, RMSprop and Adagrad move each weight by about η
    (their step is normalised per weight), so ‖ΔW‖ ≈ η·√(size). None for an unknown optimiser.
    """
    if optimizer is None or not hasattr(optimizer, "lr"):
        return None
    lr = float(optimizer.lr)
    safe_w = np.where(weight_norms > 0, weight_norms, np.nan)
    name = getattr(optimizer, "name", "")
    if name == "sgd":
        momentum = float(getattr(optimizer, "momentum", 0.0) or 0.0)
        # With momentum μ a steady gradient builds a step 1/(1 − μ) times larger.
        return lr * grad_norms / safe_w / (1 - momentum), "η‖∂L/∂W‖/‖W‖ (SGD)"
    if name in ("adam", "adamw", "rmsprop", "adagrad"):
        return lr * np.sqrt(np.asarray(sizes, dtype=np.float64)) / safe_w, \
            "η√(weights)/‖W‖ (per-weight normalised step)"
    return None
