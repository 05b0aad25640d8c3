"""Figures of the building blocks: activation functions, and how initialisers shape the
signal through a deep network."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .common import CLASS_COLOURS, finish, pyplot


def _activation_curves(act: Any, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """g(z), g'(z) and a panel title; softmax is shown for two logits [z, 0]."""
    options = {k: v for k, v in act.get_config().items() if k != "name"}
    title = act.name + (f" ({', '.join(f'{k}={v}' for k, v in options.items())})"
                        if options else "")
    if act.rowwise:
        pair = np.column_stack([z, np.zeros_like(z)])
        title += ", first output for logits [z, 0]"
        return act.forward(pair)[:, 0], act.derivative(pair)[:, 0], title
    return act.forward(z.copy()), act.derivative(z.copy()), title


def plot_activations(names: Sequence[Any] | None = None, path: str | Path | None = None,
                     z_range: tuple[float, float] = (-4.0, 4.0)):
    """Each activation g(z) with its derivative g'(z), one panel per activation.

    Parameters
    ----------
    names : list of str or Activation, optional
        Default: every registered activation (canonical names).
    path : str or Path, optional
    z_range : (float, float), default (-4, 4)

    Returns
    -------
    matplotlib.figure.Figure
        Exactly one axes per activation. Softmax is drawn for the two logits [z, 0], where
        its first output equals sigmoid(z) and the derivative is the Jacobian's diagonal.
    """
    from .. import activations

    names = list(activations.ACTIVATIONS.names() if names is None else names)
    if not names:
        raise ValueError("names must list at least one activation; got an empty list")
    acts = [activations.get(n) for n in names]
    lo, hi = z_range
    if not hi > lo:
        raise ValueError(f"z_range must be (low, high) with low < high; got {z_range}")
    z = np.linspace(lo, hi, 801)
    cols = min(4, len(acts))
    rows = math.ceil(len(acts) / cols)
    plt = pyplot()
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows + 0.6), squeeze=False)
    for ax in axes.ravel()[len(acts):]:
        fig.delaxes(ax)
    for ax, act in zip(axes.ravel(), acts):
        a, d, title = _activation_curves(act, z)
        # g' of relu, leaky_relu and selu jumps at 0: break the line instead of drawing a
        # vertical segment that is not part of the function
        d = np.where(np.abs(np.diff(d, prepend=d[0])) > 0.2, np.nan, d)
        ax.axhline(0, color="#999999", lw=0.8)
        ax.axvline(0, color="#999999", lw=0.8)
        ax.plot(z, a, color="#1f77b4", lw=2.0, label="g(z)")
        ax.plot(z, d, color="#ff7f0e", lw=1.6, ls="--", label="g′(z)")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("z", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncol=2, fontsize=10, frameon=False)
    fig.suptitle("Activation functions g(z) and their derivatives g′(z)", fontsize=13,
                 x=0.02, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return finish(fig, path)


def layer_activations(init: str, activation: Any = "tanh", depth: int = 10, width: int = 100,
                      n_samples: int = 1000, seed: int = 0) -> list[np.ndarray]:
    """Outputs a⁽¹⁾ … a⁽ᵈᵉᵖᵗʰ⁾ of a fresh ``depth``-layer network for standard-normal inputs.

    The network is a ``backprop.MLP`` with ``width`` units in every layer, ``activation``
    everywhere and weights from the initialiser ``init``; each array has shape
    (n_samples, width).
    """
    from ..mlp import MLP

    model = MLP([width] * (depth + 1), activation=activation, output_activation=activation,
                init=init, seed=seed, dtype="float64")
    a = np.random.default_rng(seed).standard_normal((n_samples, width))
    outputs = []
    for layer in model.layers:
        a = layer.forward(a, training=False)
        outputs.append(np.array(a, copy=True))
    return outputs


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}; got {name}={value!r}")
    return int(value)


def plot_initialization(initializers: Sequence[str] = ("small_normal", "xavier_uniform",
                                                       "he_normal"),
                        activation: Any = "tanh", depth: int = 10, width: int = 100,
                        n_samples: int = 1000, seed: int = 0,
                        path: str | Path | None = None, max_columns: int = 5):
    """How each initialiser carries a signal through a deep network.

    Standard-normal inputs go through a fresh ``depth``-layer network (``width`` units per
    layer, ``activation`` everywhere) built with each initialiser. Each row shows, for one
    initialiser, the histogram of the activations at a few layers (titles give their
    standard deviation); the right panel plots the standard deviation at every layer.
    Weights too small make the signal shrink to nothing layer after layer (vanishing),
    weights too large saturate or blow it up (exploding); a variance-preserving initialiser
    keeps it alive to the last layer.

    Parameters
    ----------
    initializers : list of str
        Registered initialiser names.
    activation : str or Activation, default "tanh"
    depth, width, n_samples : int
    seed : int
        Seeds both the inputs and the weights.
    path : str or Path, optional
    max_columns : int, default 5
        Layers shown as histograms (spread evenly from the first to the last).

    Returns
    -------
    matplotlib.figure.Figure
        The last axes holds one line per initialiser whose y-data are the per-layer
        standard deviations.
    """
    from .. import initializers as _initializers

    if isinstance(initializers, str):
        initializers = [initializers]
    names = [_initializers.INITIALIZERS.canonical(n) for n in initializers]
    if not names:
        raise ValueError("initializers must name at least one initialiser")
    depth = _check_int("depth", depth, 1)
    width = _check_int("width", width, 1)
    n_samples = _check_int("n_samples", n_samples, 2)
    max_columns = _check_int("max_columns", max_columns, 1)
    act_name = _activations_name(activation)

    outputs = {n: layer_activations(n, activation, depth, width, n_samples, seed) for n in names}
    stds = {n: np.array([a.std() for a in outs]) for n, outs in outputs.items()}
    shown = np.unique(np.round(np.linspace(1, depth, min(depth, max_columns))).astype(int))
    every = np.concatenate([outputs[n][k - 1].ravel() for n in names for k in shown])
    low, high = np.percentile(every, [0.5, 99.5])
    if high - low < 1e-12:
        low, high = low - 1.0, high + 1.0
    bins = np.linspace(low, high, 51)

    plt = pyplot()
    rows, cols = len(names), len(shown)
    fig = plt.figure(figsize=(2.6 * cols + 4.6, 2.0 * rows + 1.3))
    grid = fig.add_gridspec(rows, cols + 1, width_ratios=[1] * cols + [1.7], wspace=0.35,
                            hspace=0.65)
    for r, name in enumerate(names):
        colour = CLASS_COLOURS[r % len(CLASS_COLOURS)]
        for c, k in enumerate(shown):
            ax = fig.add_subplot(grid[r, c])
            values = outputs[name][k - 1].ravel()
            zeros = np.mean(values == 0)
            if zeros > 0.05:
                # relu-like units output exact zeros; a bar of half the samples at 0 would
                # flatten the rest of the distribution, so it is counted in words instead
                values = values[values != 0]
                ax.text(0.97, 0.93, f"{zeros:.0%} exactly 0\n(not drawn)", fontsize=7,
                        ha="right", va="top", transform=ax.transAxes, color="#444444")
            ax.hist(values, bins=bins, color=colour, alpha=0.85)
            ax.set_xlim(low, high)
            ax.set_title(f"layer {k}  ·  std {stds[name][k - 1]:.2g}", fontsize=9)
            ax.set_yticks([])
            ax.tick_params(labelsize=7)
            if c == 0:
                ax.set_ylabel(name, fontsize=10, color=colour, fontweight="bold")
            if r == rows - 1:
                ax.set_xlabel("activation value", fontsize=8)
    summary = fig.add_subplot(grid[:, cols])
    layers = np.arange(1, depth + 1)
    styles = ["-", "--", "-.", ":"]
    for r, name in enumerate(names):
        # distinct line styles keep initialisers with equal variance (e.g. xavier and lecun
        # for equal fan-in and fan-out) visible on top of each other
        summary.plot(layers, stds[name], marker="os^Dv"[r % 5], ms=4, lw=1.8,
                     ls=styles[r % len(styles)], color=CLASS_COLOURS[r % len(CLASS_COLOURS)],
                     label=name)
    if all(np.all(s > 0) for s in stds.values()):
        summary.set_yscale("log")
    summary.set_xlabel("layer")
    summary.set_ylabel("standard deviation of the activations")
    summary.yaxis.tick_right()
    summary.yaxis.set_label_position("right")
    summary.set_title("Signal strength by depth", fontsize=10)
    summary.grid(alpha=0.3)
    summary.legend(fontsize=8)
    fig.suptitle(f"Activations in a {depth}-layer {act_name} network (width {width}, "
                 f"N(0, 1) inputs) under each initialiser", fontsize=12)
    return finish(fig, path)


def _activations_name(activation: Any) -> str:
    from .. import activations

    return activations.get(activation).name
