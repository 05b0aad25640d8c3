"""Figures that belong to the tour's comparisons rather than to the library's plots module.

The library's own figures (architecture, boundary, history, activations, gradient flow,
initialisation) come from :mod:`backprop.plots`; these few compare runs side by side.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..plots.common import BINARY_COLOURS, finish, pyplot


def xor_linear(X: np.ndarray, y: np.ndarray, proba, accuracy: float,
               line: tuple[np.ndarray, float, bool], line_accuracy: float, path: Path):
    """XOR's points over a linear classifier's P(class 1) map, and the best straight line.

    ``proba`` maps an (n, 2) array to P(class 1) of shape (n,); ``line`` is ``(w, cut,
    flip)``: points with w·x > cut are class 1 (class 0 when ``flip``).
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.4))
    xs = np.linspace(-0.5, 1.5, 201)
    xx, yy = np.meshgrid(xs, xs)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    p = proba(grid).reshape(xx.shape)
    w, cut, flip = line
    side = ((grid @ w > cut) != flip).astype(float).reshape(xx.shape)
    for ax, background in zip(axes, (p, side)):
        image = ax.imshow(background, origin="lower", extent=[-0.5, 1.5, -0.5, 1.5],
                          cmap="RdBu_r", vmin=0, vmax=1, alpha=0.6)
        for label, marker in ((0, "o"), (1, "s")):
            rows = y == label
            ax.scatter(X[rows, 0], X[rows, 1], s=180, marker=marker,
                       color=BINARY_COLOURS[label], edgecolors="k", linewidths=1.5,
                       label=f"class {label}", zorder=3)
        ax.set_xlim(-0.5, 1.5)
        ax.set_ylim(-0.5, 1.5)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        ax.set_aspect("equal")
    axes[0].set_title(f"Logistic regression: P(class 1) in [{p.min():.2f}, {p.max():.2f}],\n"
                      f"accuracy {accuracy:.0%}", fontsize=10)
    axes[0].legend(loc="center", fontsize=9)
    fig.colorbar(image, ax=axes[0], label="P(class 1)")
    axes[1].contour(xx, yy, grid.dot(w).reshape(xx.shape), levels=[cut], colors="k",
                    linewidths=1.5)
    axes[1].set_title(f"Best straight line (exhaustive search):\naccuracy {line_accuracy:.0%}",
                      fontsize=10)
    fig.tight_layout()
    return finish(fig, path)


def xor_seeds(final_losses: list[float], solved: list[bool], title: str, path: Path):
    """Final training loss per seed, solved runs in blue and failures in red."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    seeds = np.arange(len(final_losses))
    colours = [BINARY_COLOURS[0] if ok else BINARY_COLOURS[1] for ok in solved]
    ax.bar(seeds, final_losses, color=colours)
    ax.set_yscale("log")
    ax.set_xticks(seeds)
    ax.set_xlabel("seed")
    ax.set_ylabel("final training loss (MSE)")
    ax.set_title(title)
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=BINARY_COLOURS[0], label="solves XOR"),
                       Patch(color=BINARY_COLOURS[1], label="fails")], fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return finish(fig, path)


def layer_gradients(series: dict[str, np.ndarray], title: str, path: Path):
    """Per-layer gradient norms at the first epoch, one line per network (log scale)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for name, norms in series.items():
        layers = np.arange(1, norms.size + 1)
        ax.plot(layers, norms, marker="o", lw=1.8, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel("‖∂L/∂W⁽ˡ⁾‖ at the first epoch")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return finish(fig, path)


def accuracy_curves(runs: dict[str, dict[str, list[float]]], path: Path):
    """Training (and validation) accuracy per epoch for several runs on one axis."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for (name, record), colour in zip(runs.items(), ("#d62728", "#1f77b4", "#2ca02c")):
        acc = record.get("accuracy", [])
        ax.plot(np.arange(1, len(acc) + 1), acc, color=colour, lw=1.8,
                label=f"{name}: training")
        val = record.get("val_accuracy")
        if val:
            ax.plot(np.arange(1, len(val) + 1), val, color=colour, lw=1.2, ls="--",
                    label=f"{name}: validation")
    ax.set_xscale("log")
    ax.set_xlabel("epoch (log scale)")
    ax.set_ylabel("accuracy")
    lowest = min(min(r.get(k) or [1.0]) for r in runs.values()
                 for k in ("accuracy", "val_accuracy"))
    ax.set_ylim(min(0.4, lowest - 0.02), 1.01)
    ax.set_title("Moons: accuracy per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return finish(fig, path)
