"""§4.2 Forward propagation: shapes layer by layer, and the formula checked against the code."""

from __future__ import annotations

import numpy as np

import backprop as bp

from . import _chapter_code as chapter
from ._context import Context


def forward_by_hand(model, X: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾ and a⁽ˡ⁾ = g(z⁽ˡ⁾), written out with the model's weights.

    Returns [(z, a), ...] per Dense layer (dropout-free models only).
    """
    a = X
    steps = []
    for layer in model.dense_layers:
        z = a @ layer.W.value + layer.b.value
        a = layer.activation.forward(z.copy())
        steps.append((z, a))
    return steps


def run(ctx: Context) -> None:
    report = ctx.report
    report.heading(2, "4.2 Forward propagation")
    sizes = [2, 4, 3, 1]
    model = bp.MLP(sizes, activation="relu", output_activation="sigmoid", seed=0,
                   dtype="float64")
    X = np.random.default_rng(0).standard_normal((5, 2))
    report.paragraph(
        "The library is batch-first: a batch X has one row per example, a weight matrix has "
        "shape (n_in, n_out) and a layer computes z = a·W + b. The chapter writes "
        "W⁽ˡ⁾ ∈ ℝ^(n_l × n_(l−1)), the transpose, and its batch formula "
        "Z = A·Wᵀ + 1·bᵀ is the same computation. Shapes for the chapter's example "
        "[2, 4, 3, 1] on a batch of 5 examples, recorded while the batch flows through:")
    rows = []
    a = X
    for i, layer in enumerate(model.dense_layers):
        a_in = a
        a = layer.forward(a_in)
        rows.append([f"dense_{i + 1} ({layer.activation.name})", str(a_in.shape),
                     str(layer.W.value.shape), f"{layer.W.value.shape[::-1]}",
                     str(layer.b.value.shape), str(a.shape)])
    report.table(["layer", "input a⁽ˡ⁻¹⁾", "W (library)", "W⁽ˡ⁾ (chapter)", "b", "output a⁽ˡ⁾"],
                 rows)
    by_hand = forward_by_hand(model, X)[-1][1]
    predicted = model.predict(X)
    weights, biases = chapter.chapter_layout(model)
    column_major, _ = chapter.forward(weights, biases, X, "relu", "sigmoid",
                                      transpose_input_in_cache=True, softmax_axis=0)
    diff_hand = float(np.abs(by_hand - predicted).max())
    diff_chapter = float(np.abs(column_major - predicted).max())
    report.table(
        ["check", "largest difference from `model.predict`"],
        [["the formula written out with NumPy, row-major", f"{diff_hand:.1e}"],
         ["the chapter's column-major forward pass, same weights transposed",
          f"{diff_chapter:.1e}"]])
    report.paragraph(
        "Both conventions give the same outputs to rounding. The library never transposes "
        "in the forward pass: examples stay in rows from the input to the output.")
    ctx.measurements["4.2"] = {"shapes": rows, "max_diff_by_hand": diff_hand,
                               "max_diff_chapter_layout": diff_chapter}
    ctx.log(f"4.2  forward: formula vs predict {diff_hand:.1e}")
