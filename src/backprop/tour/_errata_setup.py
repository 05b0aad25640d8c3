"""Errata about the chapter's set-up code: initialisation, softmax, names, shapes, printing."""

from __future__ import annotations

import contextlib
import io

import numpy as np

import backprop as bp

from . import _chapter_code as chapter
from ._erratum import Erratum

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def xavier_comment() -> Erratum:
    """Section 4.2 labels He-scaled weights "Xavier/Glorot"."""
    n_in = n_out = 100
    weights, _ = chapter.init_section_42([n_in, n_out], np.random.default_rng(0))
    drawn = float(weights[0].std())
    xavier = float(np.sqrt(2.0 / (n_in + n_out)))
    he = float(np.sqrt(2.0 / n_in))
    rng = np.random.default_rng(0)
    lib_xavier = float(bp.initializers.get("xavier_normal")((n_in, n_out), rng,
                                                            np.float64).std())
    lib_he = float(bp.initializers.get("he_normal")((n_in, n_out), rng, np.float64).std())
    return Erratum(
        key="xavier_comment",
        title="“Xavier/Glorot” initialisation that is really He initialisation",
        where="§4.2 MLP.__init__",
        wrong=(
            "The comment says Xavier/Glorot, but the code scales standard normal draws by "
            "√(2/n_in), which is He initialisation. Xavier uses √(2/(n_in + n_out)) (as §4.5.1 "
            "itself states). For a layer with as many outputs as inputs the two differ by √2."
        ),
        measured=(
            f"For a {n_in}→{n_out} layer the weights drawn have standard deviation "
            f"{drawn:.4f}: He's √(2/n_in) = {he:.4f}, not Xavier's √(2/(n_in+n_out)) = "
            f"{xavier:.4f}."
        ),
        library=(
            "Initialisers are chosen by name and do what the name says: `xavier_normal` "
            f"draws standard deviation {lib_xavier:.4f} and `he_normal` {lib_he:.4f} for the "
            "same layer. By default ReLU-family layers get He and the others Xavier."
        ),
        values={"drawn_std": drawn, "he_std": he, "xavier_std": xavier,
                "library_xavier_std": lib_xavier, "library_he_std": lib_he},
    )


def softmax_axis() -> Erratum:
    """Section 4.2's softmax normalises over the examples, not over the classes."""
    rng = np.random.default_rng(1)
    weights, biases = chapter.init_section_42([2, 4, 3], rng)
    X = rng.standard_normal((5, 2))
    out, _ = chapter.forward(weights, biases, X, "relu", "softmax",
                             transpose_input_in_cache=False, softmax_axis=1)
    row_sums = out.sum(axis=1)
    column_sums = out.sum(axis=0)
    alone, _ = chapter.forward(weights, biases, X[:1], "relu", "softmax",
                               transpose_input_in_cache=False, softmax_axis=1)
    model = bp.MLP([2, 4, 3], activation="relu", output_activation="softmax", seed=1,
                   dtype="float64")
    model.set_flat_parameters(np.concatenate(
        [w.T.ravel() for w in weights] + [b.ravel() for b in biases]))
    p = model.predict(X)
    lib_row_error = float(np.abs(p.sum(axis=1) - 1).max())
    lib_alone_diff = float(np.abs(model.predict(X[:1]) - p[:1]).max())
    return Erratum(
        key="softmax_axis",
        title="Softmax over the wrong axis",
        where="§4.2 MLP._activate",
        wrong=(
            "The section 4.2 network keeps one column per example, but its softmax takes the "
            "maximum and the sum along axis 1 — across the examples of the batch. Each "
            "class's outputs then sum to 1 over the batch, and an example's 'probabilities' "
            "depend on which other examples happen to be in the batch. (The section 4.5 "
            "trainer uses axis 0, which is right for its layout.)"
        ),
        measured=(
            f"For 5 examples and 3 classes the per-example sums of the outputs are "
            f"{', '.join(f'{s:.3f}' for s in row_sums)} instead of 1, while the per-class sums "
            f"over the batch are {', '.join(f'{s:.3f}' for s in column_sums)}. Fed alone, "
            f"the first example gets probability {alone[0, 0]:.3f} for every one of the 3 "
            "classes."
        ),
        library=(
            "Softmax is row-wise on batch-first arrays: with the same weights every row sums "
            f"to 1 within {lib_row_error:.1e}, and predicting the first example alone changes "
            f"its probabilities by {lib_alone_diff:.1e}."
        ),
        values={"row_sums": row_sums.tolist(), "column_sums": column_sums.tolist(),
                "alone": alone[0].tolist(), "library_row_error": lib_row_error,
                "library_alone_diff": lib_alone_diff},
    )


def small_normal_variance() -> Erratum:
    """The text's N(0, 0.01) versus the code's standard deviation 0.01."""
    weights, _ = chapter.init_section_45([100, 100], "small", np.random.default_rng(2))
    std = float(weights[0].std())
    lib = bp.initializers.get("small_normal")((100, 100), np.random.default_rng(2), np.float64)
    return Erratum(
        key="small_normal_variance",
        title="“N(0, 0.01)” in the text, standard deviation 0.01 in the code",
        where="§4.5.1 text (Random Small Values) and MLPTrainer.__init__",
        wrong=(
            "The list writes every distribution as N(mean, variance) — Xavier's "
            "N(0, 2/(n_in + n_out)) is a variance — so N(0, 0.01) means standard deviation "
            "0.1. The code multiplies standard normal draws by 0.01: variance 0.0001, a "
            "hundred times smaller than written."
        ),
        measured=(
            f"The code's 'random small' weights for a 100×100 layer have standard deviation "
            f"{std:.4f} and variance {std ** 2:.2e}; N(0, 0.01) would give 0.1 and 1e-02."
        ),
        library=(
            "`small_normal` is documented as N(0, 0.01²), standard deviation 0.01, and draws "
            f"exactly that (measured {float(lib.std()):.4f})."
        ),
        values={"std": std, "variance": std ** 2, "library_std": float(lib.std())},
    )


def epochs_modulo() -> Erratum:
    """`(epoch + 1) % (epochs // 10)` divides by zero below 10 epochs."""
    trainer = chapter.Trainer([2, 4, 1], "relu", "sigmoid", "he", seed=0)
    try:
        trainer.train(XOR_X, XOR_Y, epochs=5, learning_rate=0.1, verbose=True)
        crash = None
    except ZeroDivisionError as exc:
        crash = f"{type(exc).__name__}: {exc}"
    model = bp.MLP([2, 4, 1], activation="relu", output_activation="sigmoid", seed=0)
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        history = model.fit(XOR_X, XOR_Y, loss="mse", optimizer=bp.SGD(lr=0.1), epochs=5,
                            verbose=1)
    return Erratum(
        key="epochs_modulo",
        title="Training for fewer than 10 epochs crashes",
        where="§4.5 MLPTrainer.train",
        wrong=(
            "Progress is printed when `(epoch + 1) % (epochs // 10) == 0`; for fewer than 10 "
            "epochs `epochs // 10` is 0 and the modulo divides by zero, so a short "
            "experiment fails before its first update is reported."
        ),
        measured=f"`train(X, y, epochs=5)` raises `{crash}` in its first epoch.",
        library=(
            "Progress is a callback (a rich progress bar with `verbose=1`); "
            f"`fit(epochs=5, verbose=1)` runs all {len(history.epoch)} epochs"
            + (" and its bar ends at 5/5." if "5/5" in shown.getvalue() else ".")
        ),
        values={"crash": crash, "library_epochs": len(history.epoch),
                "library_output_shows_count": "5/5" in shown.getvalue()},
    )


def silent_names(seeds: int = 20) -> Erratum:
    """Unknown activation names quietly become the identity (leaky_relu among them)."""
    chapter_solved = 0
    chapter_best = 0.0
    library_solved = 0
    for seed in range(seeds):
        trainer = chapter.Trainer([2, 4, 1], "leaky_relu", "sigmoid", "he", seed=seed)
        trainer.train(XOR_X, XOR_Y, epochs=2000, learning_rate=0.1, verbose=False)
        acc = float(np.mean((trainer.predict_proba(XOR_X) > 0.5) == XOR_Y))
        chapter_best = max(chapter_best, acc)
        chapter_solved += acc == 1.0
        model = bp.MLP([2, 4, 1], activation="leaky_relu", output_activation="sigmoid",
                       init="he_normal", seed=seed, dtype="float64")
        model.fit(XOR_X, XOR_Y, loss="mse", optimizer=bp.SGD(lr=0.1), epochs=2000)
        library_solved += bool(np.all(model.predict_classes(XOR_X) == XOR_Y[:, 0]))
    try:
        bp.MLP([2, 4, 1], activation="rleu")
        message = None
    except ValueError as exc:
        message = str(exc)
    return Erratum(
        key="silent_names",
        title="Unknown activation and loss names silently fall back to linear and MSE",
        where="§4.2 and §4.5 `_activate`, `backward` and `compute_loss`",
        wrong=(
            "Any activation name the code does not know — a typo, or Leaky ReLU and ELU, "
            "which §4.4 recommends — falls into the final `else` and becomes the identity; "
            "an unknown `loss_type` becomes MSE. Nothing warns, and a network of linear "
            "layers is a linear model."
        ),
        measured=(
            f"The section 4.5 trainer with `activation='leaky_relu'` on XOR (4 hidden units, "
            f"the chapter's settings) solves it on {chapter_solved} of {seeds} seeds; its "
            f"best accuracy is {chapter_best:.0%}, the ceiling of a linear classifier on XOR."
        ),
        library=(
            "Names resolve through one registry that raises on anything unknown "
            f"(`activation='rleu'` → “{message}”), and `leaky_relu` is a real "
            f"activation: the same settings solve XOR on {library_solved} of {seeds} seeds."
        ),
        values={"seeds": seeds, "chapter_solved": int(chapter_solved),
                "chapter_best_accuracy": chapter_best, "library_solved": int(library_solved),
                "library_message": message},
    )


def one_d_labels() -> Erratum:
    """A 1-D label vector (as in §4.1.1) broadcasts against the (m, 1) output."""
    trainer = chapter.Trainer([2, 4, 1], "relu", "sigmoid", "he", seed=0)
    out, _ = trainer.forward(XOR_X)
    y_flat = XOR_Y[:, 0]
    loss_flat = float(trainer.compute_loss(out, y_flat))
    loss_column = float(trainer.compute_loss(out, XOR_Y))
    try:
        trainer.train(XOR_X, y_flat, epochs=10, learning_rate=0.1, verbose=False)
        crash = None
    except ValueError as exc:
        crash = f"{type(exc).__name__}: {exc}"
    model = bp.MLP([2, 4, 1], activation="relu", output_activation="sigmoid", seed=0,
                   dtype="float64")
    lib_flat = model.evaluate(XOR_X, y_flat, loss="mse")["loss"]
    lib_column = model.evaluate(XOR_X, XOR_Y, loss="mse")["loss"]
    return Erratum(
        key="one_d_labels",
        title="Labels of shape (m,) broadcast into an m×m error",
        where="§4.1.1 (y_xor is 1-D) meeting §4.5 MLPTrainer (latent: §4.5 reshapes first)",
        wrong=(
            "Section 4.1.1 defines the XOR labels as a flat vector. Given to the trainer, "
            "`output − y` with shapes (m, 1) and (m,) broadcasts to an (m, m) matrix: the "
            "loss is silently computed over all pairs of examples, and the backward pass "
            "then fails on shapes. Section 4.5 avoids it only by redefining the labels as a "
            "column."
        ),
        measured=(
            f"On XOR the trainer reports a loss of {loss_flat:.4f} with flat labels against "
            f"{loss_column:.4f} with column labels for the same network, and training stops "
            f"with `{crash}`."
        ),
        library=(
            "Targets are validated and shaped once (`prepare_targets`): flat and column "
            f"labels give the same loss ({lib_flat:.6f} and {lib_column:.6f}), and a shape "
            "that cannot match the outputs raises a ValueError that says so."
        ),
        values={"loss_flat": loss_flat, "loss_column": loss_column, "crash": crash,
                "library_loss_flat": lib_flat, "library_loss_column": lib_column},
    )
