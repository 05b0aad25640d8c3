"""Figures of a training run: loss and accuracy curves, gradient flow per layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .common import finish, history_of, layer_keys, pyplot

TRAIN_COLOUR, VAL_COLOUR = "#1f77b4", "#ff7f0e"


def _loss_scale(values: list[np.ndarray]) -> str:
    """Log scale when the loss spans more than ~1.5 decades (early epochs dwarf the rest)."""
    joined = np.concatenate([v[np.isfinite(v)] for v in values])
    if joined.size and joined.min() > 0 and joined.max() / joined.min() > 30:
        return "log"
    return "linear"


def plot_history(history: Any, path: str | Path | None = None, title: str | None = None,
                 saved_epoch: int | None = None):
    """Learning curves: loss and val_loss, accuracy and val_accuracy, and the learning rate
    when a schedule changed it.

    Parameters
    ----------
    history : History, dict or fitted model
        What ``fit`` returned (or its ``.history`` dict, or a model after ``fit``).
    path : str or Path, optional
    title : str, optional
    saved_epoch : int, optional
        The (1-based) epoch whose weights the model kept, marked on every panel.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per quantity; the best validation loss is marked, and the saved epoch.
    """
    record, x, source = history_of(history)
    if not record.get("loss"):
        raise ValueError("the history has no 'loss' values; it must come from fit with at "
                         f"least one epoch (keys: {', '.join(sorted(record)) or 'none'})")
    panels = [("loss", "loss")]
    if record.get("accuracy") or record.get("val_accuracy"):
        panels.append(("accuracy", "accuracy"))
    lr = record.get("lr")
    if lr and len(set(lr)) > 1:
        panels.append(("lr", "learning rate"))
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.0 * len(panels), 4.0), squeeze=False)
    for ax, (key, label) in zip(axes[0], panels):
        series = [(key, "training", TRAIN_COLOUR), (f"val_{key}", "validation", VAL_COLOUR)]
        drawn = []
        for name, legend, colour in series:
            values = record.get(name)
            if values:
                values = np.asarray(values, dtype=float)
                ax.plot(x[: values.size], values, color=colour, lw=1.8, label=legend)
                drawn.append(values)
        if key == "loss":
            ax.set_yscale(_loss_scale(drawn))
            val = record.get("val_loss")
            if val:
                best = int(np.nanargmin(val))
                ax.axvline(x[best], color="#555555", ls=":", lw=1.2)
                ax.scatter([x[best]], [val[best]], color=VAL_COLOUR, edgecolors="k", zorder=3,
                           label=f"best val_loss {val[best]:.4g} (epoch {int(x[best])})")
        if saved_epoch is not None and key != "lr":
            ax.axvline(saved_epoch, color="#2ca02c", ls="--", lw=1.4,
                       label=f"saved model (epoch {saved_epoch})")
        if key == "accuracy":
            ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.02)
        if key == "lr" and max(lr) / max(min(lr), 1e-300) > 20:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(label.capitalize())
        ax.grid(alpha=0.3)
        if key != "lr":
            ax.legend(fontsize=9)
    note = ""
    if source is not None and getattr(source, "stopped_early", False):
        note = f" (stopped early after {len(record['loss'])} epochs)"
    fig.suptitle((title or "Training history") + note, fontsize=12)
    fig.tight_layout()
    return finish(fig, path)


#: findings of the doctor that the gradient-flow figure shades, with their colours
SHADED_FINDINGS = {"vanishing_gradients": "#d62728", "exploding_gradients": "#ff7f0e"}


def _gradient_findings(diagnosis: Any) -> list[dict[str, Any]]:
    """The vanishing/exploding findings of a Diagnosis (or its to_dict()) that name layers."""
    if diagnosis is None:
        return []
    if hasattr(diagnosis, "to_dict"):
        diagnosis = diagnosis.to_dict()
    if not isinstance(diagnosis, dict) or not isinstance(diagnosis.get("findings"), list):
        raise TypeError("diagnosis must be a Diagnosis (bp.diagnose) or its to_dict(); got "
                        f"{type(diagnosis).__name__}")
    return [f for f in diagnosis["findings"]
            if f.get("code") in SHADED_FINDINGS and (f.get("evidence") or {}).get("layers")]


def plot_gradient_flow(history: Any, path: str | Path | None = None, title: str | None = None,
                       diagnosis: Any = None):
    """Per-layer gradient norm ‖∂L/∂W⁽ˡ⁾‖ over the epochs (log scale), beside ‖W⁽ˡ⁾‖.

    Gradients that shrink layer by layer towards the input are the vanishing-gradient
    problem; norms that grow without bound are exploding gradients. Given the doctor's
    ``diagnosis``, the band the affected layers' gradients span is shaded (red: vanishing,
    orange: exploding) and those layers are drawn dashed.

    Parameters
    ----------
    history : History, dict or fitted model
        Must hold ``grad_norm/layer1, ...`` as recorded by ``fit``.
    path : str or Path, optional
    title : str, optional
    diagnosis : Diagnosis or dict, optional
        ``bp.diagnose(...)`` (or its ``to_dict()``, as in a run folder's diagnosis.json).

    Returns
    -------
    matplotlib.figure.Figure
        The first axes holds one line per layer whose y-data are the recorded norms, and one
        shaded band per gradient finding, labelled with its code.
    """
    record, x, _ = history_of(history)
    shaded = _gradient_findings(diagnosis)
    grad_keys = layer_keys(record, "grad_norm")
    if not grad_keys:
        raise ValueError("the history has no per-layer gradient norms (grad_norm/layer1, ...); "
                         "pass the History returned by backprop's fit")
    weight_keys = layer_keys(record, "weight_norm")
    plt = pyplot()
    n_panels = 2 if weight_keys else 1
    fig, axes = plt.subplots(1, n_panels, figsize=(5.4 * n_panels, 4.2), squeeze=False)
    cmap = plt.get_cmap("viridis")
    colours = [cmap(v) for v in np.linspace(0.0, 0.9, len(grad_keys))]
    panels = [(axes[0, 0], grad_keys, "‖∂L/∂W‖ (last batch of each epoch)", "Gradient norm")]
    if weight_keys:
        panels.append((axes[0, 1], weight_keys, "‖W‖", "Weight norm"))
    flagged = {layer for f in shaded for layer in f["evidence"]["layers"]}
    for ax, keys, ylabel, heading in panels:
        for key, colour in zip(keys, colours):
            values = np.asarray(record[key], dtype=float)
            layer = key.rsplit("layer", 1)[1]
            label = f"layer {layer}" + (" (output)" if key == keys[-1] else "")
            ax.plot(x[: values.size], values, color=colour, lw=1.6, label=label,
                    ls="--" if int(layer) in flagged and ax is axes[0, 0] else "-")
        if ax is axes[0, 0]:
            _shade(ax, record, x, shaded)
        if ax is axes[0, 0] and np.all(np.asarray([record[k] for k in keys]) > 0):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(heading)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, ncol=1 + len(keys) // 7)
    fig.suptitle(title or "Gradient flow per layer", fontsize=12)
    fig.tight_layout()
    return finish(fig, path)


def _shade(ax: Any, record: dict[str, Any], x: np.ndarray, findings: list[dict]) -> None:
    """Fill the band between the lowest and highest gradient norm of each finding's layers."""
    for finding in findings:
        layers = finding["evidence"]["layers"]
        keys = [f"grad_norm/layer{k}" for k in layers if f"grad_norm/layer{k}" in record]
        if not keys:
            continue
        n = min(len(record[k]) for k in keys)
        band = np.asarray([record[k][:n] for k in keys], dtype=float)
        names = ", ".join(map(str, layers))
        ax.fill_between(x[:n], band.min(axis=0), band.max(axis=0), alpha=0.18, lw=0,
                        color=SHADED_FINDINGS[finding["code"]],
                        label=f"{finding['code'].replace('_', ' ')}: layer"
                              f"{'s' if len(layers) > 1 else ''} {names}")
