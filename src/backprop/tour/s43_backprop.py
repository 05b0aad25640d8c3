"""§4.3 Backpropagation: the chapter's equations by hand, and a gradient check of everything."""

from __future__ import annotations

import numpy as np

import backprop as bp

from . import _doctor, errata
from ._context import Context
from .s41_mlp import XOR_SETTINGS
from .s42_forward import forward_by_hand

#: output activation and loss pairs checked for every hidden activation
PAIRS = (("sigmoid", "mse"), ("sigmoid", "binary_crossentropy"),
         ("softmax", "categorical_crossentropy"), ("identity", "mse"))
TOLERANCE = 1e-6


def backprop_by_hand(model, X: np.ndarray, Y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The chapter's algorithm in batch-first form for ½·mean squared error.

    δ⁽ᴸ⁾ = (a⁽ᴸ⁾ − y)/(m·k) ⊙ g'(z⁽ᴸ⁾);  ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾;  ∂L/∂b⁽ˡ⁾ = Σ δ⁽ˡ⁾;
    δ⁽ˡ⁻¹⁾ = δ⁽ˡ⁾ W⁽ˡ⁾ᵀ ⊙ g'(z⁽ˡ⁻¹⁾).
    """
    steps = forward_by_hand(model, X)
    layers = model.dense_layers
    inputs = [X] + [a for _, a in steps[:-1]]
    a_out = steps[-1][1]
    delta = (a_out - Y) / a_out.size * layers[-1].activation.derivative(steps[-1][0])
    grads = []
    for i in range(len(layers) - 1, -1, -1):
        grads.append((inputs[i].T @ delta, delta.sum(axis=0)))
        if i > 0:
            delta = (delta @ layers[i].W.value.T) * layers[i - 1].activation.derivative(
                steps[i - 1][0])
    return grads[::-1]


def randomise_biases(model, rng: np.random.Generator, scale: float = 0.1) -> None:
    """Give every bias a small random value.

    With zero biases an example that switches off every ReLU unit of a layer feeds exactly
    z = 0 into the next layer — the kink, where a finite difference measures a one-sided
    slope and the check would flag a correct gradient.
    """
    for b in model.biases:
        b[...] = rng.normal(0.0, scale, b.shape)


def gradcheck_matrix(seed: int = 0) -> dict[str, dict[str, float]]:
    """Largest gradcheck error for each hidden activation × (output, loss) pair."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 3))
    table: dict[str, dict[str, float]] = {}
    for name in bp.activations.ACTIVATIONS.names():
        if name == "softmax":
            continue
        row = {}
        for output, loss in PAIRS:
            k = 3 if output == "softmax" else 1
            model = bp.MLP([3, 5, 4, k], activation=name, output_activation=output, seed=seed,
                           dtype="float64")
            randomise_biases(model, rng)
            if loss == "mse" and output == "identity":
                y = rng.standard_normal((8, k))
            else:
                y = rng.integers(0, 3 if k == 3 else 2, 8)
            row[f"{output} + {loss}"] = bp.gradcheck(model, X, y, loss=loss).max_error
        table[name] = row
    return table


def run(ctx: Context) -> None:
    report = ctx.report
    report.heading(2, "4.3 Backpropagation")
    model = bp.MLP([2, 4, 3, 1], activation="relu", output_activation="sigmoid", seed=1,
                   dtype="float64")
    rng = np.random.default_rng(1)
    randomise_biases(model, rng)
    X = rng.standard_normal((10, 2))
    y = rng.integers(0, 2, (10, 1)).astype(np.float64)
    _, library = model.loss_and_gradients(X, y, loss="mse")
    by_hand = backprop_by_hand(model, X, y)
    hand_diff = max(float(np.abs(h - g).max())
                    for pair_h, pair_g in zip(by_hand, library) for h, g in zip(pair_h, pair_g))
    report.paragraph(
        "The chain rule run backwards, in the library's batch-first layout: "
        "δ⁽ᴸ⁾ = ∂L/∂a⁽ᴸ⁾ ⊙ g'(z⁽ᴸ⁾), ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ·δ⁽ˡ⁾, ∂L/∂b⁽ˡ⁾ = Σ δ⁽ˡ⁾ over the batch, "
        "δ⁽ˡ⁻¹⁾ = (δ⁽ˡ⁾·W⁽ˡ⁾ᵀ) ⊙ g'(z⁽ˡ⁻¹⁾). The 1/m of the mean enters once, at the output. "
        "Written out with NumPy for the chapter's [2, 4, 3, 1] ReLU network on 10 examples "
        f"and squared error, these equations match `model.loss_and_gradients` to "
        f"{hand_diff:.1e}.")
    check = bp.gradcheck(model, X, y, loss="mse")
    report.paragraph(
        "A gradient check compares every backpropagated derivative with a finite difference "
        "of the loss (fourth-order central differences in float64):")
    report.table(
        ["parameter", "shape", "relative error", f"below {TOLERANCE:g}"],
        [[name, "×".join(map(str, p.value.shape)), f"{err:.2e}",
          "yes" if err < TOLERANCE else "NO"]
         for (name, err), p in zip(check.items(), model.parameters())])
    matrix = gradcheck_matrix()
    columns = list(next(iter(matrix.values())))
    report.paragraph(
        "The same check for every hidden activation the library has, with each output and "
        "loss pair (a [3, 5, 4, k] network on 8 examples; largest relative error over all "
        "parameters; biases drawn at random so that no example sits exactly on a ReLU "
        "kink):")
    report.table(["hidden activation", *columns],
                 [[name, *(f"{row[c]:.1e}" for c in columns)] for name, row in matrix.items()])
    worst = max(max(row.values()) for row in matrix.values())
    report.paragraph(
        f"The worst of all {len(matrix) * len(columns)} checks is {worst:.1e}. The chapter's "
        f"`backward_propagation` would not pass: it crashes on its own test "
        f"({errata.number('cache_layout')}) and returns 1/m of the gradient "
        f"({errata.number('double_division')}); its cross-entropy branches are wrong too "
        f"({errata.number('softmax_jacobian')}, {errata.number('binary_cross_entropy')}).")
    step = _doctor.explain_xor(ctx, XOR_SETTINGS)
    ctx.measurements["4.3"] = {"by_hand_max_diff": hand_diff,
                               "gradcheck": dict(check), "gradcheck_matrix": matrix,
                               "gradcheck_worst": worst, "explain_step": step}
    ctx.log(f"4.3  backprop: by hand {hand_diff:.1e}, worst gradcheck {worst:.1e}")
