"""§4.5 Building neural networks: initialisation, XOR's training, moons two ways."""

from __future__ import annotations

from typing import Any

import numpy as np

import backprop as bp
from backprop import datasets, plots

from . import _figures
from ._context import Context

#: the chapter's moons run (§4.5.3): He init, ReLU, sigmoid output, MSE, SGD 0.01, 1000 epochs
CHAPTER_MOONS = {"layers": [2, 10, 10, 1], "init": "he_normal", "loss": "mse", "lr": 0.01,
                 "epochs": 1000}
BETTER_MOONS = {"layers": [2, 16, 16, 1], "loss": "binary_crossentropy", "lr": 0.01,
                "epochs": 500, "batch_size": 32, "patience": 40, "l2": 1e-4,
                "validation_split": 0.2}
CHAPTER_INITS = (("xavier", "xavier_uniform"), ("he", "he_normal"),
                 ("random small", "small_normal"))


def moons_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The chapter's moons data: 1000 points, noise 0.2, seed 42; the same 80/20 split
    (unstratified, seed 42) and standardisation fitted on the training rows."""
    ds = datasets.moons(n_samples=1000, noise=0.2, seed=42)
    part = datasets.split(ds.X, ds.y, test_size=0.2, stratify=False, seed=42)
    scaler = datasets.Scaler().fit(part.X_train)
    return (scaler.transform(part.X_train), part.y_train, scaler.transform(part.X_test),
            part.y_test)


def train_chapter_moons(X, y, init: str = CHAPTER_MOONS["init"], seed: int = 42):
    """The chapter's moons training, run by the library: full-batch SGD on ½·MSE."""
    c = CHAPTER_MOONS
    model = bp.MLP(c["layers"], activation="relu", output_activation="sigmoid", init=init,
                   seed=seed, dtype="float64")
    history = model.fit(X, y, loss=c["loss"], optimizer=bp.SGD(lr=c["lr"]), epochs=c["epochs"])
    return model, history


def train_better_moons(X, y, seed: int = 42):
    """Cross-entropy, Adam, mini-batches, a little L2, early stopping on a validation split."""
    b = BETTER_MOONS
    model = bp.MLP(b["layers"], activation="relu", output_activation="sigmoid", seed=seed)
    history = model.fit(X, y, loss=b["loss"], optimizer=bp.Adam(lr=b["lr"]), epochs=b["epochs"],
                        batch_size=b["batch_size"], l2=b["l2"],
                        validation_split=b["validation_split"],
                        callbacks=[bp.EarlyStopping(patience=b["patience"])])
    return model, history


def _accuracy(model, X, y) -> float:
    return float(np.mean(model.predict_classes(X) == y))


def _initialisation(ctx: Context, X, y) -> dict[str, Any]:
    report = ctx.report
    report.heading(3, "4.5.1 Initialisation")
    names = tuple(name for _, name in CHAPTER_INITS)
    fig = plots.plot_initialization(names, activation="tanh", depth=10, width=100,
                                    path=ctx.path("initialization.png"))
    ctx.figure(fig, "initialization.png",
               "Activations of a 10-layer tanh network (100 units per layer) for standard "
               "normal inputs, under the chapter's three initialisations.")
    spread: dict[str, dict[str, list[float]]] = {}
    for activation in ("tanh", "relu"):
        spread[activation] = {
            name: [float(a.std()) for a in plots.layer_activations(name, activation=activation)]
            for name in names}
    report.paragraph(
        "Standard deviation of the activations at layers 1, 5 and 10 of a fresh 10-layer "
        "network, 100 units wide, fed standard normal inputs:")
    rows = []
    for activation, by_init in spread.items():
        for name, stds in by_init.items():
            rows.append([activation, name, f"{stds[0]:.3g}", f"{stds[4]:.3g}", f"{stds[9]:.3g}"])
    report.table(["activation", "initialiser", "layer 1", "layer 5", "layer 10"], rows)
    tanh, relu = spread["tanh"], spread["relu"]
    shrink = (tanh["small_normal"][0] / tanh["small_normal"][9]) ** (1 / 9)
    report.paragraph(
        f"With standard deviation 0.01 the signal shrinks {shrink:.1f}-fold per layer "
        f"(tanh, layer 10: {tanh['small_normal'][9]:.1e}), and the gradients backpropagated "
        f"through those layers shrink with it. Xavier keeps tanh activations at "
        f"{tanh['xavier_uniform'][9]:.2f} by layer 10; for ReLU, which zeroes half its "
        f"inputs, Xavier lets them fade to {relu['xavier_uniform'][9]:.3f} while He holds "
        f"them at {relu['he_normal'][9]:.2f}.")
    trained = {}
    for _, name in CHAPTER_INITS:
        model, history = train_chapter_moons(X, y, init=name)
        trained[name] = {"final_loss": history.history["loss"][-1],
                         "train_accuracy": _accuracy(model, X, y)}
    report.paragraph(
        "The chapter's moons network trained with the chapter's settings from each of its "
        "three initialisations:")
    report.table(["chapter's name", "library initialiser", "final loss", "train accuracy"],
                 [[label, f"`{name}`", f"{trained[name]['final_loss']:.4f}",
                   f"{trained[name]['train_accuracy']:.1%}"] for label, name in CHAPTER_INITS])
    return {"activation_std": spread, "moons_by_init": trained}


def _xor(ctx: Context) -> dict[str, Any]:
    report = ctx.report
    report.heading(3, "4.5.2 Training on XOR: loss and decision boundary")
    study = ctx.results["xor"]
    ds = datasets.xor()
    solved = study["solved_per_seed"]
    seed = solved.index(True)
    model, history = study["_models"][seed]
    proba = model.predict(ds.X)[:, 0]
    report.paragraph(
        f"The first seed whose network solves XOR is seed {seed}; its loss falls from "
        f"{history.history['loss'][0]:.4f} to {history.history['loss'][-1]:.4f} over "
        f"{len(history.epoch)} epochs.")
    report.table(["x₁", "x₂", "XOR", "P(class 1)", "prediction"],
                 [[int(a), int(b), int(t), f"{p:.4f}", int(p > 0.5)]
                  for (a, b), t, p in zip(ds.X, ds.y, proba)])
    fig = plots.plot_history(history, path=ctx.path("xor_history.png"),
                             title=f"XOR, [2, 4, 1] ReLU, seed {seed}")
    ctx.figure(fig, "xor_history.png", "Training loss and accuracy of the XOR network.")
    fig = plots.plot_decision_boundary(model, ds.X, ds.y, path=ctx.path("xor_boundary.png"),
                                       title=f"XOR decision boundary (seed {seed})")
    ctx.figure(fig, "xor_boundary.png", "P(class 1) over the plane with the 0.5 contour.")
    out = {"seed": seed, "probabilities": proba.tolist(),
           "first_loss": history.history["loss"][0], "final_loss": history.history["loss"][-1]}
    if False in solved:
        failed = solved.index(False)
        failed_model = study["_models"][failed][0]
        wrong = int(np.sum(failed_model.predict_classes(ds.X) != ds.y))
        fig = plots.plot_decision_boundary(failed_model, ds.X, ds.y,
                                           path=ctx.path("xor_boundary_failed.png"),
                                           title=f"A failed seed ({failed})")
        ctx.figure(fig, "xor_boundary_failed.png",
                   f"Seed {failed}, one of the failures: its boundary gets {wrong} of the 4 "
                   "points wrong.")
        out["failed_seed"] = failed
        out["failed_wrong_points"] = wrong
    return out


def _moons(ctx: Context, X, y, X_test, y_test) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    report = ctx.report
    report.heading(3, "4.5.3 Moons: the chapter's settings and a better configuration")
    chapter_model, chapter_history = train_chapter_moons(X, y)
    better_model, better_history = train_better_moons(X, y)
    linear = LogisticRegression().fit(X, y)
    c, b = CHAPTER_MOONS, BETTER_MOONS
    results = {
        "chapter": {"train_accuracy": _accuracy(chapter_model, X, y),
                    "test_accuracy": _accuracy(chapter_model, X_test, y_test),
                    "epochs": len(chapter_history.epoch),
                    "final_loss": chapter_history.history["loss"][-1]},
        "better": {"train_accuracy": _accuracy(better_model, X, y),
                   "test_accuracy": _accuracy(better_model, X_test, y_test),
                   "epochs": len(better_history.epoch),
                   "stopped_early": bool(better_history.stopped_early),
                   "description": (f"{b['layers']}, Adam at {b['lr']}, batches of "
                                   f"{b['batch_size']}, L2 {b['l2']:g}, early stopping with "
                                   f"patience {b['patience']}")},
        "linear": {"train_accuracy": float(linear.score(X, y)),
                   "test_accuracy": float(linear.score(X_test, y_test))},
    }
    report.paragraph(
        f"The chapter's data: 1000 moons points with noise 0.2, the same 80/20 split "
        f"({len(y)} training, {len(y_test)} test points) and standardisation fitted on the "
        f"training rows. The chapter's run, reproduced with `bp.MLP`: {c['layers']}, ReLU, "
        f"sigmoid output, He initialisation, squared error, plain gradient descent at "
        f"{c['lr']} for {c['epochs']} full-batch epochs. The better run uses binary "
        f"cross-entropy (fused with the sigmoid), {results['better']['description']}, "
        f"holding out {b['validation_split']:.0%} of the training rows for validation.")
    report.table(
        ["model", "epochs", "train accuracy", "test accuracy"],
        [["chapter's settings", str(results["chapter"]["epochs"]),
          f"{results['chapter']['train_accuracy']:.1%}",
          f"{results['chapter']['test_accuracy']:.1%}"],
         ["better configuration", str(results["better"]["epochs"]),
          f"{results['better']['train_accuracy']:.1%}",
          f"{results['better']['test_accuracy']:.1%}"],
         ["logistic regression (for reference)", "—",
          f"{results['linear']['train_accuracy']:.1%}",
          f"{results['linear']['test_accuracy']:.1%}"]])
    for key, model, history, title in (
            ("chapter", chapter_model, chapter_history, "chapter's settings"),
            ("better", better_model, better_history, "better configuration")):
        fig = plots.plot_history(history, path=ctx.path(f"moons_{key}_history.png"),
                                 title=f"Moons, {title}")
        ctx.figure(fig, f"moons_{key}_history.png", f"Learning curves, {title}.")
        fig = plots.plot_decision_boundary(model, X, y, X_test, y_test,
                                           path=ctx.path(f"moons_{key}_boundary.png"),
                                           title=f"Moons, {title}")
        ctx.figure(fig, f"moons_{key}_boundary.png",
                   f"Decision boundary, {title}: training points (circles) and test points "
                   "(triangles) in standardised coordinates.")
    fig = _figures.accuracy_curves({"chapter's settings": chapter_history.history,
                                    "better configuration": better_history.history},
                                   ctx.path("moons_accuracy.png"))
    ctx.figure(fig, "moons_accuracy.png", "Accuracy per epoch for both runs (log epochs).")
    return results


def run(ctx: Context) -> None:
    ctx.report.heading(2, "4.5 Building neural networks")
    X, y, X_test, y_test = moons_split()
    init = _initialisation(ctx, X, y)
    xor = _xor(ctx)
    moons = _moons(ctx, X, y, X_test, y_test)
    ctx.results["moons"] = moons
    ctx.measurements["4.5"] = {"initialisation": init, "xor": xor, "moons": moons}
    ctx.log(f"4.5  moons: chapter test {moons['chapter']['test_accuracy']:.1%}, better "
            f"{moons['better']['test_accuracy']:.1%}")
