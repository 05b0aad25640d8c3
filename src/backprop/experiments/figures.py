"""The sweep's figures: the metric against each swept setting, and parallel coordinates.

Numbers sit on a numeric axis (logarithmic for ``loguniform`` and ``log = true`` ranges);
anything else (a layer list, a name) is a category, one tick per value in the order the space
lists them. Only trials that finished ``ok`` are drawn.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .report import show
from .space import Dimension


def _axis(dim: Dimension, values: list[Any]) -> tuple[np.ndarray, list[str] | None, bool]:
    """(positions, category labels or None, log scale) of one setting's values."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric:
        log = dim.kind == "loguniform" or dim.log or (
            dim.kind == "choice" and min(values) > 0 and max(values) / min(values) >= 10)
        return np.array(values, dtype=float), None, log
    order = [json.dumps(v, sort_keys=True) for v in dim.values] if dim.kind == "choice" else []
    for v in values:
        text = json.dumps(v, sort_keys=True)
        if text not in order:
            order.append(text)
    positions = np.array([order.index(json.dumps(v, sort_keys=True)) for v in values], float)
    return positions, [show(json.loads(t)) for t in order], False


def metric_vs_settings(trials: Sequence[dict[str, Any]], dims: Sequence[Dimension],
                       metric: str, path: Path) -> Path | None:
    """One panel per swept setting: each trial's metric against its value."""
    from ..plots.common import pyplot

    ok = [t for t in trials if t["status"] == "ok"
          and math.isfinite(t["metrics"].get(metric, math.nan))]
    if not ok:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(dims), figsize=(3.6 * len(dims) + 0.6, 3.4),
                             squeeze=False)
    y = np.array([t["metrics"][metric] for t in ok])
    for ax, dim in zip(axes[0], dims):
        x, labels, log = _axis(dim, [t["params"][dim.key] for t in ok])
        jitter = 0.0 if labels is None else 0.06
        spread = np.random.default_rng(0).uniform(-jitter, jitter, x.size)
        ax.scatter(x + spread, y, s=18, alpha=0.7, color="#1f77b4")
        if labels is not None:
            ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
        if log:
            ax.set_xscale("log")
        ax.set_xlabel(dim.key)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(metric)
    fig.suptitle(f"{metric} against each swept setting ({len(ok)} trials)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def parallel_coordinates(trials: Sequence[dict[str, Any]], dims: Sequence[Dimension],
                         metric: str, direction: str, path: Path) -> Path | None:
    """One line per trial through an axis per setting and a last axis for the metric;
    the colour is the metric (the best trials drawn last, on top)."""
    from ..plots.common import pyplot

    ok = [t for t in trials if t["status"] == "ok"
          and math.isfinite(t["metrics"].get(metric, math.nan))]
    if not ok:
        return None
    plt = pyplot()
    columns, ticks = [], []
    for dim in dims:
        x, labels, log = _axis(dim, [t["params"][dim.key] for t in ok])
        x = np.log10(x) if log else x
        low, high = float(x.min()), float(x.max())
        if labels is not None:
            low, high = 0.0, max(len(labels) - 1, 1)
        span = high - low or 1.0
        columns.append((x - low) / span)
        ticks.append(labels or [show(10 ** low if log else low), show(10 ** high if log
                                                                          else high)])
    y = np.array([t["metrics"][metric] for t in ok])
    low, high = float(y.min()), float(y.max())
    columns.append((y - low) / ((high - low) or 1.0))
    ticks.append([f"{low:.4g}", f"{high:.4g}"])
    data = np.column_stack(columns)
    names = [d.key for d in dims] + [metric]
    fig, ax = plt.subplots(figsize=(1.9 * len(names) + 1.5, 4.2))
    colour = plt.get_cmap("viridis")
    # The best ends bright and on top: maximise draws ascending, minimise descending.
    rank = y if direction == "maximize" else -y
    shade = (rank - rank.min()) / ((rank.max() - rank.min()) or 1.0)
    for i in np.argsort(rank):
        ax.plot(range(len(names)), data[i], color=colour(shade[i]), alpha=0.75, lw=1.4)
    for j, labels in enumerate(ticks):
        ax.axvline(j, color="#444", lw=0.8)
        spots = np.linspace(0, 1, len(labels)) if len(labels) > 1 else [0.5]
        for spot, label in zip(spots, labels):
            ax.text(j + 0.03, spot, label, fontsize=7, va="center")
    ax.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.2, len(names) - 0.6)
    ax.set_title(f"{len(ok)} trials, coloured by {metric} (bright: best)")
    fig.subplots_adjust(left=0.04, right=0.96, bottom=0.2)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
