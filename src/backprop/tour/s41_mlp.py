"""§4.1 Multi-layer perceptrons: XOR defeats a linear model; a small MLP solves it."""

from __future__ import annotations

from typing import Any

import numpy as np

import backprop as bp
from backprop import datasets, plots

from . import _doctor, _figures
from ._context import Context

#: the chapter's XOR network and training settings (§4.5, "Train MLP on XOR")
XOR_SETTINGS = {"hidden": 4, "activation": "relu", "init": "he_normal", "loss": "mse",
                "lr": 0.1, "epochs": 2000}
SEEDS = 20
WIDE_HIDDEN = 8


def best_line(X: np.ndarray, y: np.ndarray, n_angles: int = 360
              ) -> tuple[float, tuple[np.ndarray, float, bool]]:
    """The best accuracy any straight line w·x = c reaches, by exhaustive search.

    For each direction w (``n_angles`` of them) every threshold between consecutive
    projections is tried, in both orientations: for a handful of points this is exact.

    Returns
    -------
    accuracy : float
    line : (w, c, flip)
        Points with w·x > c are predicted class 1, or class 0 when ``flip``.
    """
    best, line = -1.0, (np.array([1.0, 0.0]), 0.0, False)
    for angle in np.linspace(0.0, np.pi, n_angles, endpoint=False):
        w = np.array([np.cos(angle), np.sin(angle)])
        proj = np.sort(X @ w)
        for cut in np.concatenate([[proj[0] - 1], (proj[:-1] + proj[1:]) / 2]):
            acc = float(np.mean((X @ w > cut) == y))
            for value, flip in ((acc, False), (1 - acc, True)):
                if value > best:
                    best, line = value, (w, float(cut), flip)
    return best, line


def xor_network(seed: int, hidden: int = XOR_SETTINGS["hidden"]) -> tuple[Any, Any]:
    """The chapter's XOR network trained with the chapter's settings; returns (model, history)."""
    X, y = _xor()
    model = bp.MLP([2, hidden, 1], activation=XOR_SETTINGS["activation"],
                   output_activation="sigmoid", init=XOR_SETTINGS["init"], seed=seed,
                   dtype="float64")
    history = model.fit(X, y, loss=XOR_SETTINGS["loss"], optimizer=bp.SGD(lr=XOR_SETTINGS["lr"]),
                        epochs=XOR_SETTINGS["epochs"])
    return model, history


def seed_study(seeds: int = SEEDS, wide_hidden: int = WIDE_HIDDEN) -> dict[str, Any]:
    """Train the XOR network from ``seeds`` seeds; count successes and dead hidden units."""
    X, y = _xor()
    solved, losses, dead, models = [], [], [], []
    for seed in range(seeds):
        model, history = xor_network(seed)
        ok = bool(np.all(model.predict_classes(X) == y))
        hidden = model.layers[0].forward(X)  # (4, hidden) after the ReLU
        solved.append(ok)
        losses.append(history.history["loss"][-1])
        models.append((model, history))
        if not ok:
            dead.append(int(np.sum(np.all(hidden == 0, axis=0))))
    wide = sum(bool(np.all(xor_network(s, wide_hidden)[0].predict_classes(X) == y))
               for s in range(seeds))
    return {"seeds": seeds, "solved": int(sum(solved)), "solved_per_seed": solved,
            "final_loss": losses, "dead_units": dead, "wide_hidden": wide_hidden,
            "wide_solved": int(wide), "_models": models}


def _xor() -> tuple[np.ndarray, np.ndarray]:
    ds = datasets.xor()
    return ds.X, ds.y


def run(ctx: Context) -> None:
    ctx.report.heading(2, "4.1 Multi-layer perceptrons")
    acc_default, acc_loose, line_accuracy = _linear_model_fails(ctx)
    study, doctor = _mlp_solves_it(ctx)
    example = _architecture(ctx, study)
    ctx.measurements["4.1"] = {
        "linear_accuracy": acc_default, "linear_unregularised_accuracy": acc_loose,
        "best_line_accuracy": line_accuracy,
        "xor": {k: v for k, v in study.items() if not k.startswith("_")},
        "example_parameters": example.count_params(),
        "doctor": doctor,
    }
    ctx.log(f"4.1  XOR: linear {acc_default:.0%}, MLP solves {study['solved']}/"
            f"{study['seeds']} seeds")


def _linear_model_fails(ctx: Context) -> tuple[float, float, float]:
    from sklearn.linear_model import LogisticRegression

    report = ctx.report
    X, y = _xor()
    report.heading(3, "XOR: why a linear model fails")
    default = LogisticRegression().fit(X, y)
    loose = LogisticRegression(C=1e6, max_iter=10_000).fit(X, y)
    acc_default = float(np.mean(default.predict(X) == y))
    acc_loose = float(np.mean(loose.predict(X) == y))
    line_accuracy, line = best_line(X, y)
    proba = default.predict_proba(X)[:, 1]
    report.paragraph(
        "XOR is 1 when exactly one input is 1. Logistic regression draws one straight line "
        "through the plane, and no line puts (0, 1) and (1, 0) on one side with (0, 0) and "
        "(1, 1) on the other. Measured here with scikit-learn's `LogisticRegression`:")
    report.table(
        ["x₁", "x₂", "XOR", "prediction", "P(class 1)"],
        [[int(a), int(b), int(t), int(p), f"{q:.3f}"]
         for (a, b), t, p, q in zip(X, y, default.predict(X), proba)])
    report.table(
        ["linear model", "accuracy on XOR"],
        [["logistic regression (C = 1, scikit-learn's default)", f"{acc_default:.0%}"],
         ["logistic regression (C = 10⁶, practically unregularised)", f"{acc_loose:.0%}"],
         ["best of every straight line (exhaustive search)", f"{line_accuracy:.0%}"]])
    report.paragraph(
        f"Logistic regression's probabilities for the four points all lie in "
        f"[{proba.min():.3f}, {proba.max():.3f}]: on XOR's symmetric data its best weights are "
        f"zero. No straight line at all does better than {line_accuracy:.0%}, three points "
        "out of four.")
    fig = _figures.xor_linear(X, y, lambda P: default.predict_proba(P)[:, 1], acc_default,
                              line, line_accuracy, ctx.path("xor_linear.png"))
    ctx.figure(fig, "xor_linear.png",
               "Left: logistic regression's P(class 1) over the plane. Right: the best any "
               "straight line can do on XOR.")
    return acc_default, acc_loose, line_accuracy


def _mlp_solves_it(ctx: Context) -> tuple[dict[str, Any], Any]:
    report = ctx.report
    report.heading(3, "A multi-layer perceptron solves it — on most seeds")
    study = seed_study()
    ctx.results["xor"] = study
    s = XOR_SETTINGS
    report.paragraph(
        f"The chapter's network has one hidden layer of {s['hidden']} ReLU units and a "
        f"sigmoid output, He initialisation, squared error, plain gradient descent with "
        f"learning rate {s['lr']} and {s['epochs']} full-batch epochs. Trained with "
        f"`bp.MLP` from {study['seeds']} seeds:")
    report.table(
        ["network", "seeds that solve XOR", "dead hidden units in each failure"],
        [[f"[2, {s['hidden']}, 1]", f"{study['solved']} / {study['seeds']}",
          ", ".join(map(str, study["dead_units"])) or "—"],
         [f"[2, {study['wide_hidden']}, 1]", f"{study['wide_solved']} / {study['seeds']}",
          "—"]])
    dead = study["dead_units"]
    if dead and min(dead) > 0:
        seen = (f"Every failed run has at least {min(dead)} such dead unit"
                f"{'s' if min(dead) > 1 else ''}, and the survivors cannot carve out XOR.")
    elif dead:
        alive = sum(d == 0 for d in dead)
        seen = (f"{len(dead) - alive} of the {len(dead)} failed runs have such dead units "
                f"({alive} failed with all {XOR_SETTINGS['hidden']} units alive).")
    else:
        seen = "No run failed."
    report.paragraph(
        "A ReLU unit whose input is negative on all four points outputs 0 and gets no "
        f"gradient, so it never recovers. {seen} A wider layer leaves enough live units.")
    doctor = _doctor.doctor_on_xor_seeds(ctx, study, XOR_SETTINGS["loss"])
    fig = _figures.xor_seeds(study["final_loss"], study["solved_per_seed"],
                             f"[2, {s['hidden']}, 1] on XOR: {study['solved']} of "
                             f"{study['seeds']} seeds solve it", ctx.path("xor_seeds.png"))
    ctx.figure(fig, "xor_seeds.png", "Final training loss for each seed of the XOR network.")
    return study, doctor


def _architecture(ctx: Context, study: dict[str, Any]) -> bp.MLP:
    report = ctx.report
    report.heading(3, "Network architecture")
    sizes = [2, 4, 3, 1]
    example = bp.MLP(sizes, activation="relu", output_activation="sigmoid", seed=0)
    fig = plots.plot_architecture(sizes, path=ctx.path("architecture.png"),
                                  title="The chapter's example network [2, 4, 3, 1]")
    ctx.figure(fig, "architecture.png", "The chapter's example: 2 inputs, hidden layers of "
               "4 and 3 units, 1 output.")
    report.table(
        ["layer", "weights W", "biases b", "parameters"],
        [[f"dense_{i + 1}", f"{W.shape[0]}×{W.shape[1]}", f"{b.shape[0]}", f"{W.size + b.size}"]
         for i, (W, b) in enumerate(zip(example.weights, example.biases))]
        + [["total", "", "", f"{example.count_params()}"]])
    first_solved = study["solved_per_seed"].index(True)
    trained = study["_models"][first_solved][0]
    fig = plots.plot_architecture(trained, path=ctx.path("xor_architecture.png"),
                                  title=f"Trained XOR network (seed {first_solved})")
    ctx.figure(fig, "xor_architecture.png", "The trained XOR network: line width is |w|, "
               "blue positive and red negative weights.")
    return example
