"""Figures: valid PNGs, drawn from the real model, history and activations."""

from __future__ import annotations

import io

import numpy as np
import pytest

import backprop as bp
from backprop import datasets, plots
from backprop.plots.common import NEGATIVE, POSITIVE

plt = pytest.importorskip("matplotlib.pyplot")
Image = pytest.importorskip("PIL.Image")
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import to_rgb, to_rgba  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def assert_png(path, min_size=(200, 150)):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]
        return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.fixture(scope="module")
def moons():
    ds = datasets.moons(n_samples=240, noise=0.2, seed=0)
    return datasets.split(ds.X, ds.y, test_size=0.25, seed=0)


def new_model(seed=0):
    return bp.MLP([2, 12, 12, 1], activation="tanh", output_activation="sigmoid", seed=seed,
                  dtype="float64")


@pytest.fixture(scope="module")
def trained(moons):
    model = new_model()
    history = model.fit(moons.X_train, moons.y_train, loss="binary_crossentropy",
                        optimizer=bp.Adam(lr=0.02), epochs=120, batch_size=32,
                        validation_split=0.25)
    return model, history


# -- architecture ---------------------------------------------------------------------------
def test_architecture_from_sizes(tmp_path):
    fig = plots.plot_architecture([3, 5, 2], path=tmp_path / "arch.png")
    assert_png(tmp_path / "arch.png")
    ax = fig.axes[0]
    (edges_1, edges_2) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges_1.get_segments()) == 15 and len(edges_2.get_segments()) == 10
    nodes = [c for c in ax.collections if not isinstance(c, LineCollection)]
    assert [len(c.get_offsets()) for c in nodes] == [3, 5, 2]
    assert "32 parameters" in ax.get_title()


def test_architecture_of_a_model_encodes_weights():
    model = bp.MLP([2, 3, 1], activation="relu", output_activation="sigmoid", seed=3)
    model.weights[0][0, 1] = -5.0  # the largest |w| of layer 1, negative
    fig = plots.plot_architecture(model)
    edges = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)][0]
    W = model.weights[0]
    widths = edges.get_linewidths()
    # segments run source-major: (input a, hidden b) is number a*3 + b
    np.testing.assert_allclose(widths, 0.25 + 2.6 * np.abs(W).ravel() / np.abs(W).max())
    assert np.argmax(widths) == 1
    colours = edges.get_colors()
    for w, colour in zip(W.ravel(), colours):
        expected = POSITIVE if w >= 0 else NEGATIVE
        assert np.allclose(colour[:3], to_rgb(expected))
    assert "relu" in " ".join(t.get_text() for t in fig.axes[0].texts)


def test_architecture_truncates_wide_layers():
    fig = plots.plot_architecture([64, 32, 10], max_neurons=12)
    ax = fig.axes[0]
    nodes = [c for c in ax.collections if not isinstance(c, LineCollection)]
    assert [len(c.get_offsets()) for c in nodes] == [10, 10, 10]
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "64 neurons" in texts and "32 neurons" in texts and texts.count("⋮") == 2


@pytest.mark.parametrize("arg, error, match", [
    ([2], ValueError, "at least two positive integers"),
    ([2, 0, 1], ValueError, "at least two positive integers"),
    ("2-3-1", TypeError, "needs a model or a list of layer sizes"),
])
def test_architecture_bad_input(arg, error, match):
    with pytest.raises(error, match=match):
        plots.plot_architecture(arg)


# -- decision boundary ----------------------------------------------------------------------
def grid_points(image, resolution):
    x0, x1, y0, y1 = image.get_extent()
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    return np.column_stack([xx.ravel(), yy.ravel()])


def test_boundary_is_drawn_from_the_model(trained, moons, tmp_path):
    model, _ = trained
    fig = plots.plot_decision_boundary(model, moons.X_train, moons.y_train, moons.X_test,
                                       moons.y_test, resolution=60, path=tmp_path / "b.png")
    assert_png(tmp_path / "b.png")
    ax = fig.axes[0]
    image = ax.images[0]
    expected = model.predict(grid_points(image, 60))[:, 0].reshape(60, 60)
    np.testing.assert_allclose(np.asarray(image.get_array()), expected, rtol=1e-12)
    # a trained model reaches both classes, so the 0.5 contour is drawn
    assert len(ax.collections) >= 3  # contour + train points + test points
    accuracy = np.mean(model.predict_classes(moons.X_test) == moons.y_test)
    assert f"test accuracy {accuracy:.3f}" in ax.get_title()
    assert accuracy > 0.9


def test_trained_and_untrained_boundaries_differ(trained, moons, tmp_path):
    model, _ = trained
    plots.plot_decision_boundary(new_model(), moons.X_train, moons.y_train, resolution=80,
                                 path=tmp_path / "untrained.png")
    plots.plot_decision_boundary(model, moons.X_train, moons.y_train, resolution=80,
                                 path=tmp_path / "trained.png")
    before, after = assert_png(tmp_path / "untrained.png"), assert_png(tmp_path / "trained.png")
    assert before.shape == after.shape
    changed = np.abs(before - after).sum(axis=2) > 30
    assert changed.mean() > 0.1


def test_multiclass_boundary_colours_each_class_region():
    ds = datasets.gaussian(n_samples=300, n_classes=3, seed=2)
    model = bp.MLP([2, 16, 3], activation="relu", output_activation="softmax", seed=0)
    model.fit(ds.X, ds.y, loss="categorical_crossentropy", optimizer=bp.Adam(lr=0.05),
              epochs=60, batch_size=32)
    fig = plots.plot_decision_boundary(model, ds.X, ds.y, resolution=80)
    ax = fig.axes[0]
    rgb = np.asarray(ax.images[0].get_array())
    assert rgb.shape == (80, 80, 3)
    x0, x1, y0, y1 = ax.images[0].get_extent()
    palette = np.array([to_rgb(c) for c in ("#1f77b4", "#ff7f0e", "#2ca02c")])
    for k in range(3):
        centre = ds.X[ds.y == k].mean(axis=0)
        col = int(round((centre[0] - x0) / (x1 - x0) * 79))
        row = int(round((centre[1] - y0) / (y1 - y0) * 79))
        pixel = rgb[row, col]
        # the tint is the class colour mixed with white: the closest hue direction wins
        tint = 1 - pixel
        scores = [np.dot(tint, 1 - c) / np.linalg.norm(1 - c) for c in palette]
        assert np.argmax(scores) == k
    assert len(fig.axes) == 1  # no colour bar for classes; a legend instead
    assert len(ax.get_legend().get_texts()) == 4  # 3 classes + train


@pytest.mark.parametrize("X, kwargs, match", [
    (np.zeros((5, 3)), {}, r"X must have shape \(n_samples, 2\); got shape \(5, 3\)"),
    (np.zeros(5), {}, r"got shape \(5,\)"),
    (np.zeros((5, 2)), {"X_test": np.zeros((2, 2))}, "X_test and y_test together"),
])
def test_boundary_needs_2d_inputs(trained, X, kwargs, match):
    model, _ = trained
    with pytest.raises(ValueError, match=match):
        plots.plot_decision_boundary(model, X, np.zeros(len(X)), **kwargs)


def test_boundary_needs_a_2d_model():
    model = bp.MLP([3, 4, 1], output_activation="sigmoid", seed=0)
    with pytest.raises(ValueError, match="the model expects 3 features"):
        plots.plot_decision_boundary(model, np.zeros((4, 2)), np.zeros(4))


# -- history and gradient flow ----------------------------------------------------------------
def test_history_has_training_and_validation_curves(trained, tmp_path):
    _, history = trained
    fig = plots.plot_history(history, path=tmp_path / "h.png")
    assert_png(tmp_path / "h.png")
    loss_ax, acc_ax = fig.axes
    lines = {line.get_label(): line for line in loss_ax.get_lines()}
    np.testing.assert_allclose(lines["training"].get_ydata(), history.history["loss"])
    np.testing.assert_allclose(lines["validation"].get_ydata(), history.history["val_loss"])
    np.testing.assert_array_equal(lines["training"].get_xdata(), np.arange(1, 121))
    acc = {line.get_label(): line for line in acc_ax.get_lines()}
    np.testing.assert_allclose(acc["validation"].get_ydata(), history.history["val_accuracy"])
    best = int(np.argmin(history.history["val_loss"])) + 1
    assert f"(epoch {best})" in " ".join(t.get_text() for t in loss_ax.get_legend().get_texts())


def test_history_without_validation_or_accuracy():
    X = np.linspace(-1, 1, 40)[:, None]
    model = bp.MLP([1, 8, 1], activation="tanh", seed=0)
    history = model.fit(X, X[:, 0] ** 2, loss="mse", optimizer="adam", epochs=15)
    fig = plots.plot_history(history)
    assert len(fig.axes) == 1  # no accuracy for regression, constant lr
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["training"]
    # a fitted model and a plain dict work too
    assert len(plots.plot_history(model).axes) == 1
    assert len(plots.plot_history(dict(history.history)).axes) == 1


def test_history_errors():
    with pytest.raises(ValueError, match="no 'loss' values"):
        plots.plot_history({})
    with pytest.raises(TypeError, match="expected a History"):
        plots.plot_history([0.1, 0.2])


def test_gradient_flow_lines_equal_history(trained, tmp_path):
    model, history = trained
    fig = plots.plot_gradient_flow(history, path=tmp_path / "g.png")
    assert_png(tmp_path / "g.png")
    grad_ax = fig.axes[0]
    lines = grad_ax.get_lines()
    assert len(lines) == len(model.dense_layers) == 3
    for k, line in enumerate(lines, start=1):
        np.testing.assert_array_equal(line.get_ydata(), history.history[f"grad_norm/layer{k}"])
    assert grad_ax.get_yscale() == "log"
    weight_lines = fig.axes[1].get_lines()
    np.testing.assert_array_equal(weight_lines[0].get_ydata(),
                                  history.history["weight_norm/layer1"])
    # the last recorded weight norm is the norm of the weights the model ends with
    assert weight_lines[-1].get_ydata()[-1] == pytest.approx(np.linalg.norm(model.weights[-1]))


def test_gradient_flow_needs_norms():
    with pytest.raises(ValueError, match="no per-layer gradient norms"):
        plots.plot_gradient_flow({"loss": [1.0, 0.5]})


# -- activations ------------------------------------------------------------------------------
def test_one_panel_per_registered_activation(tmp_path):
    names = bp.activations.ACTIVATIONS.names()
    fig = plots.plot_activations(path=tmp_path / "a.png")
    assert_png(tmp_path / "a.png", min_size=(800, 600))
    assert len(fig.axes) == len(names)
    z = np.linspace(-4, 4, 801)
    for ax, name in zip(fig.axes, names):
        assert ax.get_title().startswith(name)
        g, dg = [line for line in ax.get_lines() if line.get_label() in ("g(z)", "g′(z)")]
        act = bp.activations.get(name)
        if name == "softmax":
            expected = 1 / (1 + np.exp(-z))  # softmax([z, 0])₀ is sigmoid(z)
        else:
            expected = act.forward(z.copy())
        np.testing.assert_allclose(g.get_ydata(), expected, rtol=1e-6, atol=1e-12)
        finite = np.isfinite(dg.get_ydata())
        assert finite.mean() > 0.99
        if name != "softmax":
            np.testing.assert_allclose(dg.get_ydata()[finite], act.derivative(z)[finite],
                                       rtol=1e-6, atol=1e-12)


def test_activation_subset_and_unknown_name():
    assert len(plots.plot_activations(["relu", "tanh"]).axes) == 2
    with pytest.raises(ValueError, match="unknown activation 'relu6'"):
        plots.plot_activations(["relu6"])


# -- initialisation ---------------------------------------------------------------------------
def reference_stds(init, depth, width, n, seed):
    """Per-layer std of tanh(a @ W) computed without the plotting code or the MLP class."""
    initializer = bp.initializers.INITIALIZERS.get(init)
    rng = np.random.default_rng(seed)  # the model draws its weights layer by layer from this
    weights = [initializer((width, width), rng, np.float64) for _ in range(depth)]
    a = np.random.default_rng(seed).standard_normal((n, width))
    stds = []
    for W in weights:
        a = np.tanh(a @ W)
        stds.append(a.std())
    return np.array(stds)


def test_initialization_shows_vanishing_and_healthy_signals(tmp_path):
    inits = ("small_normal", "xavier_uniform", "he_normal")
    fig = plots.plot_initialization(inits, activation="tanh", depth=6, width=40, n_samples=200,
                                    seed=1, path=tmp_path / "init.png")
    assert_png(tmp_path / "init.png")
    summary = fig.axes[-1]
    lines = {line.get_label(): line for line in summary.get_lines()}
    for name in inits:
        np.testing.assert_allclose(lines[name].get_ydata(),
                                   reference_stds(name, 6, 40, 200, 1), rtol=1e-9)
    small, xavier = lines["small_normal"].get_ydata(), lines["xavier_uniform"].get_ydata()
    assert small[-1] < 1e-6 < 0.1 < xavier[-1]  # vanishing vs preserved
    histograms = fig.axes[:-1]
    assert len(histograms) == 3 * 5  # 3 initialisers × 5 layers (1, 2, 4, 5, 6)
    std_first = small[0]
    assert f"std {std_first:.2g}" in histograms[0].get_title()


def test_initialization_bad_names():
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        plots.plot_initialization(("glorot",))
    with pytest.raises(ValueError, match="depth must be an integer"):
        plots.plot_initialization(depth=0)


# -- animation --------------------------------------------------------------------------------
def test_gif_has_one_differing_frame_per_chunk(moons, tmp_path):
    model = new_model(seed=4)
    path = plots.animate_decision_boundary(
        model, moons.X_train, moons.y_train, epochs=12, frames=4, path=tmp_path / "a" / "b.gif",
        resolution=40, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.05), batch_size=30)
    assert path == tmp_path / "a" / "b.gif"
    assert path.read_bytes()[:6] == b"GIF89a"
    with Image.open(path) as gif:
        assert gif.n_frames == 4
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB"), dtype=np.int16))
    for before, after in zip(frames, frames[1:]):
        assert before.shape == after.shape
        assert (np.abs(before - after).sum(axis=2) > 30).mean() > 0.001
    # one history over all chunks, continuous epoch numbers
    assert model.history.epoch == list(range(12))
    assert len(model.history.history["loss"]) == 12


def test_gif_bad_frames(moons, tmp_path):
    with pytest.raises(ValueError, match="frames must not exceed epochs"):
        plots.animate_decision_boundary(new_model(), moons.X_train, moons.y_train, epochs=3,
                                        frames=5, path=tmp_path / "x.gif")


def test_figure_saved_in_new_folder_with_format_from_suffix(tmp_path):
    target = tmp_path / "deep" / "folder" / "arch.svg"
    plots.plot_architecture([2, 2, 1], path=target)
    assert target.read_text()[:200].lstrip().startswith("<?xml")


def test_colours_are_distinct_for_sign():
    assert to_rgba(POSITIVE) != to_rgba(NEGATIVE)
