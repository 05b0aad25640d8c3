"""Decision boundaries of 2-D classifiers, still and animated over training."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    BINARY_COLOURS,
    CLASS_COLOURS,
    INSTALL_HINT,
    check_2d_points,
    class_labels,
    finish,
    pyplot,
)


class _Grid:
    """A resolution × resolution grid covering the points with a 10 % margin."""

    def __init__(self, points: np.ndarray, resolution: int) -> None:
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
            raise ValueError(f"resolution must be an integer ≥ 2; got {resolution!r}")
        lo, hi = points.min(axis=0), points.max(axis=0)
        pad = np.where(hi > lo, 0.1 * (hi - lo), 0.5)
        self.lo, self.hi = lo - pad, hi + pad
        xs = np.linspace(self.lo[0], self.hi[0], resolution)
        ys = np.linspace(self.lo[1], self.hi[1], resolution)
        self.xx, self.yy = np.meshgrid(xs, ys)
        self.points = np.column_stack([self.xx.ravel(), self.yy.ravel()])

    @property
    def extent(self) -> list[float]:
        return [self.lo[0], self.hi[0], self.lo[1], self.hi[1]]


def _colours(n_classes: int) -> list[str]:
    if n_classes <= 2:
        return BINARY_COLOURS
    if n_classes <= len(CLASS_COLOURS):
        return CLASS_COLOURS
    plt = pyplot()
    cmap = plt.get_cmap("tab20", n_classes)
    return [cmap(k) for k in range(n_classes)]


def _predicted(out: np.ndarray) -> np.ndarray:
    return (out[:, 0] > 0.5).astype(np.int64) if out.shape[1] == 1 else out.argmax(axis=1)


def _draw(fig: Any, ax: Any, model: Any, grid: _Grid, X: np.ndarray, y: np.ndarray,
          X_test: np.ndarray | None, y_test: np.ndarray | None, title: str | None,
          class_names: list[Any] | None) -> None:
    """Background (probability or winning class), boundary lines, points, legend, title."""
    from matplotlib.colors import to_rgb
    from matplotlib.lines import Line2D

    out = np.asarray(model.predict(grid.points), dtype=np.float64)
    n_classes = max(out.shape[1], 2, int(y.max()) + 1)
    colours = _colours(n_classes)
    shape = grid.xx.shape
    if out.shape[1] == 1:
        p = out[:, 0].reshape(shape)
        image = ax.imshow(np.clip(p, 0, 1), origin="lower", extent=grid.extent, cmap="RdBu_r",
                          vmin=0, vmax=1, alpha=0.75, aspect="auto", interpolation="bilinear")
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        output = getattr(getattr(model, "output_activation", None), "name", None)
        bar.set_label("P(class 1)" if output == "sigmoid" else "model output (clipped to [0, 1])")
        if p.min() < 0.5 < p.max():
            ax.contour(grid.xx, grid.yy, p, levels=[0.5], colors="k", linewidths=1.8)
    else:
        winner = out.argmax(axis=1)
        confidence = out.max(axis=1)
        base = np.array([to_rgb(colours[k]) for k in range(out.shape[1])])[winner]
        # tint from pale (a coin toss between the classes) to strong (certain)
        chance = 1.0 / out.shape[1]
        strength = 0.15 + 0.45 * np.clip((confidence - chance) / (1 - chance), 0, 1)
        rgb = 1 - (1 - base) * strength[:, None]
        ax.imshow(rgb.reshape(*shape, 3), origin="lower", extent=grid.extent, aspect="auto",
                  interpolation="bilinear")
        # class k's border is where p_k equals the largest other probability: the zero
        # level of a smooth function, so the line is smooth (a 0/1 mask would be jagged)
        for k in np.unique(winner):
            margin = out[:, k] - np.delete(out, k, axis=1).max(axis=1)
            if margin.min() < 0 < margin.max():
                ax.contour(grid.xx, grid.yy, margin.reshape(shape), levels=[0.0], colors="k",
                           linewidths=1.2)

    size = float(np.clip(600 / np.sqrt(len(X) + (0 if X_test is None else len(X_test))), 10, 90))
    point_colours = np.array([to_rgb(c) for c in colours[:n_classes]])
    ax.scatter(X[:, 0], X[:, 1], c=point_colours[y], s=size, marker="o", edgecolors="k",
               linewidths=0.6, zorder=3)
    if X_test is not None:
        ax.scatter(X_test[:, 0], X_test[:, 1], c=point_colours[y_test], s=size * 1.3,
                   marker="^", edgecolors="k", linewidths=0.7, zorder=4)

    names = class_names if class_names is not None else list(range(n_classes))
    handles = [Line2D([], [], ls="", marker="o", mfc=colours[k], mec="k",
                      label=f"class {names[k]}") for k in range(n_classes)]
    handles.append(Line2D([], [], ls="", marker="o", mfc="#dddddd", mec="k", label="train"))
    if X_test is not None:
        handles.append(Line2D([], [], ls="", marker="^", mfc="#dddddd", mec="k",
                              label="test"))
    ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.85)

    scores = [f"train accuracy {np.mean(_predicted(model.predict(X)) == y):.3f}"]
    if X_test is not None:
        scores.append(f"test accuracy {np.mean(_predicted(model.predict(X_test)) == y_test):.3f}")
    ax.set_title(f"{title or 'Decision boundary'}\n{'  ·  '.join(scores)}", fontsize=11)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_xlim(grid.lo[0], grid.hi[0])
    ax.set_ylim(grid.lo[1], grid.hi[1])


def _prepare(model: Any, X: Any, y: Any, X_test: Any, y_test: Any):
    X = check_2d_points("X", X)
    if getattr(model, "n_features", 2) != 2:
        raise ValueError("decision boundaries are drawn for 2-D inputs; the model expects "
                         f"{model.n_features} features")
    y = class_labels(y, len(X))
    if (X_test is None) != (y_test is None):
        raise ValueError("pass X_test and y_test together (or neither)")
    if X_test is not None:
        X_test = check_2d_points("X_test", X_test)
        y_test = class_labels(y_test, len(X_test))
    return X, y, X_test, y_test


def plot_decision_boundary(model: Any, X: Any, y: Any, X_test: Any = None, y_test: Any = None,
                           title: str | None = None, path: str | Path | None = None,
                           resolution: int = 200, class_names: list[Any] | None = None):
    """The regions a trained 2-D classifier assigns to each class.

    A single (sigmoid) output shows P(class 1) as a blue–red map with the 0.5 contour in
    black; several (softmax) outputs colour each point of the plane by its winning class,
    paler where the model is less sure, with the class borders in black. Training points
    are circles, test points triangles; the title gives the accuracies.

    Parameters
    ----------
    model : Sequential
        A model with 2 inputs.
    X : array-like of shape (n_samples, 2)
    y : array-like of shape (n_samples,) or (n_samples, n_classes)
        Class labels 0..K−1 (or one-hot rows).
    X_test, y_test : optional
    title : str, optional
    path : str or Path, optional
    resolution : int, default 200
        Grid points per axis.
    class_names : list, optional
        Names shown in the legend instead of 0, 1, ...

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When X (or the model) is not 2-D.
    """
    X, y, X_test, y_test = _prepare(model, X, y, X_test, y_test)
    grid = _Grid(X if X_test is None else np.vstack([X, X_test]), resolution)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7.2, 5.8))
    _draw(fig, ax, model, grid, X, y, X_test, y_test, title, class_names)
    return finish(fig, path)


def animate_decision_boundary(model: Any, X: Any, y: Any, epochs: int = 200, frames: int = 20,
                              path: str | Path = "boundary.gif", *, X_test: Any = None,
                              y_test: Any = None, resolution: int = 120,
                              frame_duration: int = 250, **fit_kwargs: Any) -> Path:
    """Train ``model`` and record its decision boundary as an animated GIF.

    Training runs in ``frames`` chunks of about ``epochs / frames`` epochs each, with the
    same optimiser throughout (its moments carry over), and each chunk ends with one frame.

    Parameters
    ----------
    model : Sequential
        A model with 2 inputs; it is trained in place.
    X, y : the training data (2-D inputs, class labels)
    epochs : int, default 200
    frames : int, default 20
        At most ``epochs``. An early-stopping callback that fires ends the animation there.
    path : str or Path, default "boundary.gif"
    X_test, y_test : optional
        Drawn as triangles in every frame.
    resolution : int, default 120
    frame_duration : int, default 250
        Milliseconds per frame (the last frame is held four times as long).
    **fit_kwargs
        Passed to ``model.fit`` (``loss``, ``optimizer``, ``batch_size``, ...).

    Returns
    -------
    pathlib.Path
        The GIF file. ``model.history`` holds the history of all chunks together.
    """
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"animations need Pillow: {INSTALL_HINT}") from exc
    from .. import optimizers
    from ..callbacks import History

    for name, value in (("epochs", epochs), ("frames", frames), ("frame_duration",
                                                                  frame_duration)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {name}={value!r}")
    if frames > epochs:
        raise ValueError(f"frames must not exceed epochs; got frames={frames}, epochs={epochs}")
    for reserved in ("epochs", "initial_epoch"):
        fit_kwargs.pop(reserved, None)
    X, y, X_test, y_test = _prepare(model, X, y, X_test, y_test)
    grid = _Grid(X if X_test is None else np.vstack([X, X_test]), resolution)
    fit_kwargs["optimizer"] = optimizers.get(fit_kwargs.get("optimizer", "sgd"))
    plt = pyplot()

    combined = History()
    images = []
    ends = np.linspace(0, epochs, frames + 1).round().astype(int)
    for start, end in zip(ends[:-1], ends[1:]):
        part = model.fit(X, y, epochs=int(end), initial_epoch=int(start), **fit_kwargs)
        combined.epoch.extend(part.epoch)
        for key, values in part.history.items():
            combined.history.setdefault(key, []).extend(values)
        loss = f"  ·  training loss {part.history['loss'][-1]:.4f}" if part.history else ""
        fig, ax = plt.subplots(figsize=(6.4, 5.2))
        _draw(fig, ax, model, grid, X, y, X_test, y_test,
              f"Epoch {part.epoch[-1] + 1 if part.epoch else end}/{epochs}{loss}", None)
        buffer = io.BytesIO()
        # no tight bounding box: every frame must have the same size
        fig.savefig(buffer, format="png", dpi=90, facecolor="white")
        plt.close(fig)
        buffer.seek(0)
        images.append(Image.open(buffer).convert("RGB"))
        if part.stopped_early:
            combined.stopped_early = True
            break
    model.history = combined
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = [frame_duration] * (len(images) - 1) + [4 * frame_duration]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                   duration=durations, loop=0)
    return path
