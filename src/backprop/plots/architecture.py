"""The network drawing: neurons per layer and the connections between them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .common import NEGATIVE, POSITIVE, finish, pyplot

_NODE_COLOURS = {"input": "#c7e9c0", "hidden": "#c6dbef", "output": "#fdd0a2"}


def _describe(model_or_sizes: Any) -> tuple[list[int], list[str | None], list[Any], dict]:
    """Layer widths, activation names, weight matrices (or None) and dropout rates."""
    dense = getattr(model_or_sizes, "dense_layers", None)
    if dense is not None:
        sizes = [dense[0].n_in] + [layer.n_out for layer in dense]
        acts = [None] + [layer.activation.name for layer in dense]
        weights = [np.asarray(layer.W.value, dtype=np.float64) for layer in dense]
        dropout, k = {}, 0
        for layer in model_or_sizes.layers:
            if layer in dense:
                k = dense.index(layer) + 1
            elif hasattr(layer, "rate"):
                dropout[k] = layer.rate
        return sizes, acts, weights, dropout
    if isinstance(model_or_sizes, (str, bytes)) or not hasattr(model_or_sizes, "__len__"):
        raise TypeError("plot_architecture needs a model or a list of layer sizes such as "
                        f"[2, 10, 1]; got {type(model_or_sizes).__name__}")
    sizes = list(model_or_sizes)
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer))
                             or s < 1 for s in sizes):
        raise ValueError(f"layer sizes must be at least two positive integers; got {sizes}")
    return [int(s) for s in sizes], [None] * len(sizes), [None] * (len(sizes) - 1), {}


def _shown(n: int, max_neurons: int) -> tuple[list[int], bool]:
    """Indices of the neurons drawn for a layer of width n, and whether some are hidden."""
    if n <= max_neurons:
        return list(range(n)), False
    half = max(1, (max_neurons - 1) // 2)
    return list(range(half)) + list(range(n - half, n)), True


def _positions(n_shown: int, truncated: bool) -> tuple[np.ndarray, float | None]:
    """Vertical positions of the drawn neurons (centred on 0) and of the ellipsis."""
    slots = n_shown + truncated
    y = (slots - 1) / 2 - np.arange(slots, dtype=float)
    if not truncated:
        return y, None
    middle = n_shown // 2
    return np.delete(y, middle), float(y[middle])


def plot_architecture(model_or_layer_sizes: Any, path: str | Path | None = None,
                      max_neurons: int = 12, title: str | None = None):
    """Draw the network: one column of neurons per layer, every connection between them.

    Parameters
    ----------
    model_or_layer_sizes : Sequential or list of int
        A model draws each connection with width ∝ |w| (scaled per layer) and colour by the
        sign of w (blue positive, red negative); a list of sizes such as ``[2, 10, 1]``
        draws the bare architecture.
    path : str or Path, optional
        Save the figure there (PNG by the suffix).
    max_neurons : int, default 12
        Wider layers show their first and last neurons around a "⋮" and their width.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if isinstance(max_neurons, bool) or not isinstance(max_neurons, int) or max_neurons < 3:
        raise ValueError(f"max_neurons must be an integer ≥ 3; got {max_neurons!r}")
    sizes, acts, weights, dropout = _describe(model_or_layer_sizes)
    plt = pyplot()
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    shown = [_shown(n, max_neurons) for n in sizes]
    tallest = max(len(idx) + cut for idx, cut in shown)
    # a fixed scale (inches per neuron slot) keeps small and large nets equally readable
    span = max(tallest, 6)
    fig, ax = plt.subplots(figsize=(1.9 * len(sizes) + 1.2, 0.42 * (span + 3.2) + 0.5))
    positions = []
    for (idx, cut) in shown:
        positions.append(_positions(len(idx), cut))

    is_model = weights[0] is not None
    for k, W in enumerate(weights):
        (src, _), (dst, _) = shown[k], shown[k + 1]
        ys, yd = positions[k][0], positions[k + 1][0]
        segments = [((k, ys[a]), (k + 1, yd[b])) for a in range(len(src)) for b in range(len(dst))]
        if is_model:
            w = W[np.ix_(src, dst)].ravel()
            rel = np.abs(w) / max(float(np.abs(W).max()), 1e-12)
            colours = [(POSITIVE if v >= 0 else NEGATIVE) for v in w]
            lc = LineCollection(segments, linewidths=0.25 + 2.6 * rel, colors=colours,
                                alpha=0.7, zorder=1)
        else:
            lc = LineCollection(segments, linewidths=0.7, colors="#9a9a9a", alpha=0.8, zorder=1)
        ax.add_collection(lc)

    node_size = float(np.clip(3600 / span, 80, 450))
    text_lines = 2
    last = len(sizes) - 1
    for k, n in enumerate(sizes):
        kind = "input" if k == 0 else "output" if k == last else "hidden"
        y, ellipsis = positions[k]
        ax.scatter(np.full(y.size, k), y, s=node_size, c=_NODE_COLOURS[kind],
                   edgecolors="#333333", linewidths=1.0, zorder=3)
        if ellipsis is not None:
            ax.text(k, ellipsis, "⋮", ha="center", va="center", fontsize=18, zorder=4)
        name = {"input": "input", "output": "output"}.get(kind, f"hidden {k}")
        lines = [name, f"{n} neuron{'s' if n != 1 else ''}"]
        if shown[k][1]:
            lines.append(f"({len(shown[k][0])} drawn)")
        if acts[k] is not None:
            lines.append(acts[k])
        if k in dropout:
            lines.append(f"dropout {dropout[k]:g}")
        text_lines = max(text_lines, len(lines))
        ax.text(k, -tallest / 2 - 0.15, "\n".join(lines), ha="center", va="top",
                fontsize=9)

    counts = (model_or_layer_sizes.count_params() if is_model
              else sum(a * b + b for a, b in zip(sizes, sizes[1:])))
    default = f"MLP {'–'.join(map(str, sizes))}  ·  {counts:,} parameters"
    ax.set_title(title or default, fontsize=12)
    # one text line of 9-point type is about 0.37 slot heights at 0.42 inch per slot
    bottom = -tallest / 2 - 0.15 - 0.37 * text_lines - 0.2
    if is_model:
        ax.legend(handles=[Line2D([], [], color=POSITIVE, lw=2.5, label="w > 0"),
                           Line2D([], [], color=NEGATIVE, lw=2.5, label="w < 0"),
                           Line2D([], [], color="none", label="line width ∝ |w| (per layer)")],
                  loc="upper center", bbox_to_anchor=(last / 2, bottom),
                  bbox_transform=ax.transData, ncol=3, frameon=False, fontsize=9)
        bottom -= 0.6
    ax.set_xlim(-0.6, last + 0.6)
    ax.set_ylim(bottom, span / 2 + 0.1)
    ax.axis("off")
    return finish(fig, path)
