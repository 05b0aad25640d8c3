"""§4.4 Activation functions: each with its derivative, and vanishing gradients measured."""

from __future__ import annotations

from typing import Any

import numpy as np

import backprop as bp
from backprop import plots

from . import _doctor, _figures
from ._context import Context
from .s45_building import moons_split

DEEP_WIDTH, DEEP_HIDDEN, DEEP_EPOCHS, DEEP_LR = 32, 8, 200, 0.1


def activation_table(z_max: float = 6.0) -> list[dict[str, Any]]:
    """Range, slope and derivative check of every registered elementwise activation.

    The derivative is compared with a central difference on a grid that avoids z = 0 (the
    kink of the ReLU family).
    """
    z = np.linspace(-z_max, z_max, 1200)  # even count: 0 is not a grid point
    h = 1e-6
    rows = []
    for name in bp.activations.ACTIVATIONS.names():
        if name == "softmax":
            continue
        act = bp.activations.get(name)
        a = act.forward(z.copy())
        slope = act.derivative(z)
        numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
        rows.append({"name": name, "min": float(a.min()), "max": float(a.max()),
                     "slope_at_0": float(act.derivative(np.zeros(1))[0]),
                     "max_slope": float(slope.max()),
                     "derivative_error": float(np.abs(slope - numeric).max())})
    return rows


def deep_run(activation: str, X: np.ndarray, y: np.ndarray, X_test: np.ndarray,
             y_test: np.ndarray) -> dict[str, Any]:
    """A deep, narrow network trained with plain gradient descent; per-layer gradient norms."""
    model = bp.MLP([2] + [DEEP_WIDTH] * DEEP_HIDDEN + [1], activation=activation,
                   output_activation="sigmoid", seed=0)
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=DEEP_LR),
                        epochs=DEEP_EPOCHS)
    norms = history.layer_series("grad_norm")
    return {"history": history, "diagnosis": bp.diagnose(model, X, y, history),
            "first_epoch_norms": norms[0],
            "ratio_first_to_last": float(norms[0, 0] / norms[0, -1]),
            "final_loss": history.history["loss"][-1],
            "test_accuracy": model.evaluate(X_test, y_test)["accuracy"]}


def run(ctx: Context) -> None:
    report = ctx.report
    report.heading(2, "4.4 Activation functions")
    fig = plots.plot_activations(path=ctx.path("activations.png"))
    ctx.figure(fig, "activations.png",
               "Every activation in the library (solid) with its derivative (dashed).")
    rows = activation_table()
    report.paragraph(
        "Measured on z ∈ [−6, 6]: the range each function covers there, its slope at 0 and "
        "its largest slope, and how far its analytic derivative is from a central "
        "difference of the function itself.")
    report.table(
        ["activation", "min g(z)", "max g(z)", "g'(0)", "max g'(z)", "derivative error"],
        [[r["name"], f"{r['min']:.3f}", f"{r['max']:.3f}", f"{r['slope_at_0']:.3f}",
          f"{r['max_slope']:.3f}", f"{r['derivative_error']:.1e}"] for r in rows])
    sig = next(r for r in rows if r["name"] == "sigmoid")
    z = np.linspace(-6, 6, 1001)
    sigmoid = bp.activations.get("sigmoid")
    identity_error = float(np.abs(np.tanh(z) - (2 * sigmoid.forward(2 * z) - 1)).max())
    report.paragraph(
        f"The sigmoid's slope never exceeds {sig['max_slope']:.3f} (at z = 0), so each "
        f"sigmoid layer multiplies the error passing back through it by at most that much "
        f"before the weights act on it. The chapter's identity tanh(z) = 2σ(2z) − 1 holds "
        f"to {identity_error:.1e}.")

    report.heading(3, "Vanishing gradients: a deep sigmoid network against ReLU")
    X, y, X_test, y_test = moons_split()
    runs = {name: deep_run(name, X, y, X_test, y_test) for name in ("sigmoid", "relu")}
    depth = DEEP_HIDDEN + 1
    report.paragraph(
        f"Two networks with {DEEP_HIDDEN} hidden layers of {DEEP_WIDTH} units (each layer "
        f"initialised by the library's default for its activation) train on the moons data "
        f"with cross-entropy and plain gradient descent (learning rate {DEEP_LR}, "
        f"{DEEP_EPOCHS} full-batch epochs). At the first epoch:")
    report.table(
        ["hidden activation", "‖∂L/∂W⁽¹⁾‖", f"‖∂L/∂W⁽{depth}⁾‖", "first / last",
         "final training loss", "test accuracy"],
        [[name, f"{r['first_epoch_norms'][0]:.2e}", f"{r['first_epoch_norms'][-1]:.2e}",
          f"{r['ratio_first_to_last']:.1e}", f"{r['final_loss']:.4f}",
          f"{r['test_accuracy']:.1%}"] for name, r in runs.items()])
    s, r = runs["sigmoid"], runs["relu"]
    report.paragraph(
        f"In the sigmoid network the gradient reaching the first layer is "
        f"{s['ratio_first_to_last']:.1e} times the one at the output layer: the early layers "
        f"barely move, and after {DEEP_EPOCHS} epochs the loss is {s['final_loss']:.3f} "
        f"(ln 2 = {np.log(2):.3f} is what predicting 0.5 everywhere costs). With ReLU the "
        f"ratio is {r['ratio_first_to_last']:.2f} and the loss falls to {r['final_loss']:.3f}.")
    fig = _figures.layer_gradients(
        {f"{name} ({depth} layers)": run["first_epoch_norms"] for name, run in runs.items()},
        "Gradient norm per layer at the first epoch", ctx.path("vanishing_gradients.png"))
    ctx.figure(fig, "vanishing_gradients.png",
               "Per-layer gradient norms at the first epoch: the sigmoid network's shrink "
               "towards the input, the ReLU network's do not.")
    doctor = _doctor.doctor_on_deep(ctx, runs)
    for name in runs:
        fig = plots.plot_gradient_flow(runs[name]["history"],
                                       path=ctx.path(f"gradient_flow_{name}.png"),
                                       title=f"Gradient flow, deep {name} network",
                                       diagnosis=runs[name]["diagnosis"])
        ctx.figure(fig, f"gradient_flow_{name}.png",
                   f"Gradient and weight norms of each layer over training ({name}); the "
                   "band shades the layers the doctor finds vanishing.")
    ctx.measurements["4.4"] = {
        "activations": rows, "tanh_identity_error": identity_error,
        "deep": {name: {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                        for k, v in run.items() if k not in ("history", "diagnosis")}
                 for name, run in runs.items()},
        "doctor": doctor,
    }
    ctx.log(f"4.4  activations: sigmoid first/last gradient {s['ratio_first_to_last']:.1e}, "
            f"relu {r['ratio_first_to_last']:.2f}")
