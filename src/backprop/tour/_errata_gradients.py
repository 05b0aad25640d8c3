"""Errata about the chapter's gradients and losses, each measured by running the faulty code.

Each function re-runs one faulty computation from :mod:`._chapter_code` next to the library
and returns an :class:`~backprop.tour.errata.Erratum` whose ``values`` hold the raw numbers.
"""

from __future__ import annotations

import numpy as np

import backprop as bp
from backprop import datasets

from . import _chapter_code as chapter
from ._erratum import Erratum


def _relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max()))


def _small_batch(rng: np.random.Generator, m: int = 10, d: int = 2):
    """The chapter's own backpropagation test data: m random points, random 0/1 labels."""
    X = rng.standard_normal((m, d))
    y = rng.integers(0, 2, (m, 1)).astype(np.float64)
    return X, y


def cache_layout() -> Erratum:
    """Section 4.2 caches X (m, d) where backward_propagation expects X.T (d, m)."""
    rng = np.random.default_rng(4)
    weights, biases = chapter.init_section_42([2, 3, 1], rng)
    X, y = _small_batch(rng)  # the chapter's test: 10 examples, 2 features
    out, cache = chapter.forward(weights, biases, X, "relu", "sigmoid",
                                 transpose_input_in_cache=False, softmax_axis=1)
    try:
        chapter.backward_section_43(y, out, cache, weights, "relu", "sigmoid")
        crash = None
    except ValueError as exc:
        crash = f"{type(exc).__name__}: {exc}"
    # With as many examples as features (m = d = 2) the product has the right shape and
    # the wrong values: dZ·X instead of dZ·Xᵀ.
    X2, y2 = X[:2], y[:2]
    out2, bad = chapter.forward(weights, biases, X2, "relu", "sigmoid",
                                transpose_input_in_cache=False, softmax_axis=1)
    _, good = chapter.forward(weights, biases, X2, "relu", "sigmoid",
                              transpose_input_in_cache=True, softmax_axis=1)
    g_bad = chapter.backward_section_43(y2, out2, bad, weights, "relu", "sigmoid")[0][0]
    g_good = chapter.backward_section_43(y2, out2, good, weights, "relu", "sigmoid")[0][0]
    silent_error = _relative_error(g_bad, g_good)

    model = bp.MLP([2, 3, 1], activation="relu", output_activation="sigmoid", seed=4,
                   dtype="float64")
    check = bp.gradcheck(model, X, y, loss="mse")
    return Erratum(
        key="cache_layout",
        title="The forward cache stores X where backpropagation expects Xᵀ",
        where="§4.2 MLP.forward and §4.3 backward_propagation",
        wrong=(
            "The section 4.2 forward pass keeps the input as it came, shape (m, d), in "
            "`cache['A'][0]`, while every other cached activation is stored transposed, one "
            "column per example. `backward_propagation` multiplies the first layer's error by "
            "the transpose of that entry, so the shapes no longer chain."
        ),
        measured=(
            f"Running the chapter's own test (a [2, 3, 1] network, 10 examples) stops with "
            f"`{crash}`. With exactly as many examples as features (m = d = 2) there is no "
            f"error at all and the first layer's gradient is silently wrong: relative error "
            f"{silent_error:.2f} against the same code given the transposed input."
        ),
        library=(
            "Each `Dense` layer keeps its own input for its own backward pass, so nothing "
            "is looked up by position. The same [2, 3, 1] network on the same 10 examples "
            f"passes `bp.gradcheck` with a largest relative error of {check.max_error:.1e}."
        ),
        values={"crash": crash, "silent_relative_error": silent_error,
                "library_gradcheck_max_error": check.max_error},
    )


def double_division() -> Erratum:
    """backward_propagation divides every gradient by m twice."""
    rng = np.random.default_rng(5)
    X, y = _small_batch(rng)
    m = X.shape[0]
    model = bp.MLP([2, 3, 1], activation="relu", output_activation="sigmoid", seed=5,
                   dtype="float64")
    weights, biases = chapter.chapter_layout(model)
    # Give the function the cache layout it needs (section 4.5's), to isolate this fault.
    out, cache = chapter.forward(weights, biases, X, "relu", "sigmoid",
                                 transpose_input_in_cache=True, softmax_axis=0)
    faulty = chapter.backward_section_43(y, out, cache, weights, "relu", "sigmoid")
    _, true = model.loss_and_gradients(X, y, loss="mse")  # same ½·mean squared error
    ratios = []
    for (dW, db), (tW, tb) in zip(faulty, true):
        ratios.append(dW / tW.T)
        ratios.append(db.ravel() / tb)
    ratios = np.concatenate([r.ravel() for r in ratios])
    ratios = ratios[np.isfinite(ratios)]
    check = bp.gradcheck(model, X, y, loss="mse")
    return Erratum(
        key="double_division",
        title="backward_propagation divides the gradient by m twice",
        where="§4.3 backward_propagation",
        wrong=(
            "The output error `dA = (output − y)/m` already averages over the m examples; "
            "every `dW` and `db` is then divided by m once more. The result is the true "
            "gradient shrunk by the batch size, which silently acts like a learning rate "
            "m times smaller (800 times smaller on the chapter's moons training set)."
        ),
        measured=(
            f"Given the transposed input it needs (see the previous erratum), on a batch of "
            f"m = {m} examples every one of the {ratios.size} gradient entries is "
            f"{ratios.min():.6f}–{ratios.max():.6f} times the true gradient: exactly "
            f"1/m = {1 / m:.6f}."
        ),
        library=(
            "The loss hands back (a − y)/N once and each layer multiplies by its input, "
            "nothing more; `bp.gradcheck` agrees with finite differences to "
            f"{check.max_error:.1e}."
        ),
        values={"m": m, "ratio_min": float(ratios.min()), "ratio_max": float(ratios.max()),
                "library_gradcheck_max_error": check.max_error},
    )


def softmax_jacobian() -> Erratum:
    """Softmax + cross-entropy: ∂L/∂ŷ is used as ∂L/∂z."""
    ds = datasets.spiral(n_samples=600, n_classes=3, seed=0)
    X = datasets.Scaler().fit_transform(ds.X)
    Y = np.eye(3)[ds.y]
    trainer = chapter.Trainer([2, 32, 32, 3], "relu", "softmax", "he", seed=0)
    out, cache = trainer.forward(X)
    m = X.shape[0]
    faulty_dz = -Y / (out + 1e-15) / m  # what the chapter backpropagates from the output
    true_dz = (out - Y) / m
    off_target = Y == 0
    faulty_off = float(np.abs(faulty_dz[off_target]).max())
    true_off = float(np.abs(true_dz[off_target]).max())
    with np.errstate(all="ignore"):
        losses = trainer.train(X, Y, epochs=1000, learning_rate=0.1, loss_type="cross_entropy",
                               verbose=False)
        faulty_acc = float(np.mean(trainer.predict_proba(X).argmax(axis=1) == ds.y))
    losses = np.asarray(losses)
    finite = np.isfinite(losses)
    first_nan = int(np.argmin(finite)) + 1 if not finite.all() else None

    model = bp.MLP([2, 32, 32, 3], activation="relu", output_activation="softmax",
                   init="he_normal", seed=0, dtype="float64")
    model.fit(X, ds.y, loss="categorical_crossentropy", optimizer=bp.SGD(lr=0.1), epochs=1000)
    library_acc = model.evaluate(X, ds.y)["accuracy"]
    if first_nan is None:
        outcome = f"the loss ends at {losses[-1]:.4f}"
    else:
        outcome = f"the loss becomes NaN at epoch {first_nan}"
    return Erratum(
        key="softmax_jacobian",
        title="Softmax cross-entropy backpropagates ∂L/∂ŷ as if it were ∂L/∂z",
        where="§4.3 backward_propagation and §4.5 MLPTrainer.backward (softmax branch)",
        wrong=(
            "For a softmax output the code sets `dZ = dA` with `dA = −y/ŷ/m`, skipping the "
            "softmax Jacobian. The text's ∂L/∂ŷ = −(1/m)·y/ŷ is right as a derivative with "
            "respect to ŷ; the derivative with respect to the logits is (ŷ − y)/m. The "
            "faulty error is zero for every wrong class, so wrong classes are never pushed "
            "down, and it grows like 1/ŷ when the right class is unlikely."
        ),
        measured=(
            f"On a 3-class spiral (600 points) the chapter's output error is exactly "
            f"{faulty_off:g} at every wrong-class entry, where the true one reaches "
            f"{true_off:.2e}. Training the section 4.5 trainer with it ([2, 32, 32, 3], ReLU, "
            f"learning rate 0.1, 1000 full-batch epochs): {outcome}, and the training "
            f"accuracy is {faulty_acc:.1%} (chance is 33.3%)."
        ),
        library=(
            "Softmax and categorical cross-entropy are fused: the loss takes the logits and "
            "returns (p − y)/n. The same network, settings and data reach "
            f"{library_acc:.1%} training accuracy."
        ),
        values={"faulty_off_target_max": faulty_off, "true_off_target_max": true_off,
                "faulty_first_nan_epoch": first_nan, "faulty_accuracy": faulty_acc,
                "library_accuracy": library_acc},
    )


def binary_cross_entropy() -> Erratum:
    """A single sigmoid output with loss_type='cross_entropy' drops the (1 − y) term."""
    ds = datasets.moons(n_samples=1000, noise=0.2, seed=42)
    part = datasets.split(ds.X, ds.y, test_size=0.2, seed=42)
    X = datasets.Scaler().fit(part.X_train).transform(part.X_train)
    y = part.y_train.reshape(-1, 1).astype(np.float64)
    trainer = chapter.Trainer([2, 10, 10, 1], "relu", "sigmoid", "he", seed=0)
    out, _ = trainer.forward(X)
    dz = (-y / (out + 1e-15) / len(y)) * out * (1 - out)  # chapter's dA through sigmoid
    zero_rows = float(np.abs(dz[y[:, 0] == 0]).max())
    losses = trainer.train(X, y, epochs=1000, learning_rate=0.01, loss_type="cross_entropy",
                           verbose=False)
    p = trainer.predict_proba(X)
    faulty_acc = float(np.mean((p > 0.5) == y))
    share_ones = float(np.mean(p > 0.5))
    model = bp.MLP([2, 10, 10, 1], activation="relu", output_activation="sigmoid",
                   init="he_normal", seed=0, dtype="float64")
    model.fit(X, part.y_train, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.01),
              epochs=1000)
    library_acc = model.evaluate(X, part.y_train)["accuracy"]
    return Erratum(
        key="binary_cross_entropy",
        title="Binary cross-entropy without its (1 − y) term",
        where="§4.5 MLPTrainer.compute_loss/backward (and §4.3) with a sigmoid output",
        wrong=(
            "With one sigmoid output, `loss_type='cross_entropy'` computes −y·log ŷ only: the "
            "−(1 − y)·log(1 − ŷ) half of binary cross-entropy is missing from the loss and "
            "from its gradient. Examples of class 0 contribute nothing, so the loss is "
            "minimised by predicting class 1 for everything."
        ),
        measured=(
            f"On the chapter's moons training set the gradient from every class-0 example is "
            f"exactly {zero_rows:g}. After 1000 full-batch epochs at learning rate 0.01 the "
            f"loss has fallen from {losses[0]:.3f} to {losses[-1]:.4f} while "
            f"{share_ones:.0%} of the points are predicted as class 1: training accuracy "
            f"{faulty_acc:.1%}."
        ),
        library=(
            "`binary_crossentropy` keeps both terms and is fused with the sigmoid "
            "(gradient (p − y)/n from the logits). The same network, data and settings "
            f"reach {library_acc:.1%} training accuracy."
        ),
        values={"class0_gradient_max": zero_rows, "faulty_accuracy": faulty_acc,
                "share_predicted_one": share_ones, "final_loss": float(losses[-1]),
                "library_accuracy": library_acc},
    )


def mse_outputs() -> Erratum:
    """compute_loss averages the MSE over outputs too; backward does not."""
    rng = np.random.default_rng(6)
    k = 3
    X = rng.standard_normal((10, 2))
    Y = rng.standard_normal((10, k))
    model = bp.MLP([2, 4, k], activation="tanh", seed=6, dtype="float64")
    trainer = chapter.Trainer([2, 4, k], "tanh", "linear")
    trainer.weights, trainer.biases = chapter.chapter_layout(model)
    out, cache = trainer.forward(X)
    analytic = trainer.backward(Y, out, cache, "mse")[1][0]
    numeric = np.empty_like(analytic)
    h = 1e-6
    W = trainer.weights[1]
    for idx in np.ndindex(W.shape):
        saved = W[idx]
        W[idx] = saved + h
        up = trainer.compute_loss(trainer.forward(X)[0], Y)
        W[idx] = saved - h
        down = trainer.compute_loss(trainer.forward(X)[0], Y)
        W[idx] = saved
        numeric[idx] = (up - down) / (2 * h)
    ratio = numeric / analytic
    check = bp.gradcheck(model, X, Y, loss="mse")
    return Erratum(
        key="mse_outputs",
        title="The reported MSE and the applied gradient disagree with several outputs",
        where="§4.5 MLPTrainer.compute_loss versus MLPTrainer.backward",
        wrong=(
            "`compute_loss` takes the mean over all m·k entries (then halves it), while "
            "`backward` starts from (ŷ − y)/m, the gradient of the sum over the k outputs. "
            "With one output they agree; with k outputs the loss that is printed and plotted "
            "is k times smaller than the loss that is being minimised."
        ),
        measured=(
            f"With k = {k} linear outputs, the finite-difference derivative of the chapter's "
            f"own `compute_loss` is {ratio.min():.4f}–{ratio.max():.4f} times the gradient its "
            f"`backward` returns (1/k = {1 / k:.4f})."
        ),
        library=(
            "`mse` is defined once — ½·mean over all n·k entries — and its gradient is "
            "derived from that definition; `bp.gradcheck` on the same 3-output network "
            f"agrees to {check.max_error:.1e}."
        ),
        values={"k": k, "ratio_min": float(ratio.min()), "ratio_max": float(ratio.max()),
                "library_gradcheck_max_error": check.max_error},
    )
