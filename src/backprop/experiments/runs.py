"""One experiment, trained and written to a run folder that ``backprop predict`` reads.

A run folder holds ``model.safetensors`` (the weights with the preprocessor, the classes and
the training configuration, so it predicts on raw rows), ``experiment.toml`` (what to run to
get the same weights again), ``history.json``, ``config.json`` and, unless switched off, the
figures.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..doctor.findings import json_safe as plain
from .measure import write_json
from .pipeline import Prepared, carry, evaluate, heads, prepare, train
from .spec import Experiment, load

MODEL_FILE = "model.safetensors"
EXPERIMENT_FILE = "experiment.toml"


@dataclass
class RunResult:
    """What :func:`run` trained: the model (taking raw rows), its history, its metrics, its
    folder, and notes on how the data were read (a delimiter, an ID column left out)."""

    model: Any
    history: Any
    metrics: dict[str, float]
    out: Path | None
    seconds: float
    notes: list[str] = field(default_factory=list)


def check_version(exp: Experiment) -> None:
    """Warn when the file was written by another version of backprop."""
    import backprop as bp

    wrote = exp.config.get("experiment", {}).get("backprop_version")
    if wrote and wrote != bp.__version__:
        warnings.warn(f"{exp.where(('experiment', 'backprop_version'))}: written by backprop "
                      f"{wrote}, running on {bp.__version__}: the weights may differ from that "
                      "run's", RuntimeWarning, stacklevel=3)


def header(exp: Experiment, what: str) -> str:
    import backprop as bp

    return (f"backprop experiment: {what} (backprop {bp.__version__})\n"
            "Repeat it with: backprop run experiment.toml --out DIR")


def training_config(exp: Experiment, prepared: Prepared, model: Any, history: Any,
                    metrics: dict[str, float], seconds: float, out: Path) -> dict[str, Any]:
    """The model file's training configuration (the keys ``predict`` and ``evaluate`` read,
    as ``backprop train`` writes them) with the experiment itself."""
    import backprop as bp

    data, training = exp.config["data"], exp.config["training"]
    _, _, loss = heads(exp, prepared)
    return {
        "command": "run",
        "experiment": exp.to_dict(out),
        "data": {"source": data["source"], "name": prepared.name,
                 "target": prepared.info["target"], "task": prepared.task,
                 "n_samples": prepared.info["n_samples"],
                 "n_features": len(prepared.info["feature_names"]),
                 "feature_names": prepared.info["feature_names"],
                 "left_out": prepared.info["left_out"], "classes": prepared.classes},
        "split": {**prepared.info["split"], "test_size": data["test_size"],
                  "val_size": data["val_size"], "stratified": prepared.task != "regression",
                  "seed": data["seed"]},
        "model": model.get_config(),
        "n_parameters": model.count_params(),
        "preprocessor": prepared.preprocessor.get_config(),
        "training": {"loss": loss, "optimizer": model.optimizer.get_config(),
                     "epochs_requested": training["epochs"], "epochs_run": len(history.epoch),
                     "stopped_early": bool(history.stopped_early),
                     "early_stopping": training["early_stopping"]["patience"],
                     "batch_size": training["batch_size"] or None, "l2": training["l2"],
                     "dropout": exp.config["model"]["dropout"], "seconds": seconds},
        "metrics": metrics,
        "backprop_version": bp.__version__,
    }


def save_run(out: str | Path, exp: Experiment, prepared: Prepared, model: Any, history: Any,
             metrics: dict[str, float], seconds: float, what: str = "a run") -> list[str]:
    """Write the run folder; returns the names of the files written."""
    import backprop as bp

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = plain(training_config(exp, prepared, model, history, metrics, seconds, out))
    # the model trained on rows encoded beforehand; its file carries the encoding, so the
    # loaded model (and backprop predict) takes raw rows
    bp.save(model, out / MODEL_FILE, preprocessor=prepared.preprocessor,
            classes=prepared.classes, training_config=config)
    exp.write(out / EXPERIMENT_FILE, header(exp, what))
    write_json(out / "history.json", {"epoch": list(history.epoch), **history.history})
    write_json(out / "config.json", config)
    return [MODEL_FILE, EXPERIMENT_FILE, "history.json", "config.json"]


def figures(out: Path, model: Any, history: Any, prepared: Prepared) -> list[str]:
    """History, gradient flow, architecture and (2-D classification on two numeric columns)
    the decision boundary over the raw rows; ``model`` carries its preprocessor."""
    from .. import plots
    from ..plots.common import pyplot

    drawn = {"history.png": lambda p: plots.plot_history(history, path=p),
             "gradient_flow.png": lambda p: plots.plot_gradient_flow(history, path=p),
             "architecture.png": lambda p: plots.plot_architecture(model, path=p)}
    pre, table = prepared.preprocessor, prepared.table
    if (prepared.task != "regression" and len(pre.feature_names) == 2
            and not pre.categorical_columns and table is not None):
        rows = prepared.info["rows"]
        points = {split: table.X.iloc[index].to_numpy(dtype=float)
                  for split, index in rows.items()}
        drawn["boundary.png"] = lambda p: plots.plot_decision_boundary(
            model, points["train"], prepared.y["train"], points.get("test"),
            prepared.y.get("test"), path=p, class_names=prepared.classes)
    for name, draw in drawn.items():
        pyplot().close(draw(out / name))
    return list(drawn)


def run(experiment: Any, out: str | Path | None = None, *, verbose: bool = False,
        figures_too: bool | None = None) -> RunResult:
    """Train one experiment (its ``[sweep]`` section, if any, is not used).

    Parameters
    ----------
    experiment : path, dict or Experiment
    out : path, optional
        The run folder to write; nothing is written without it.
    verbose : bool
        Show the progress bar of ``fit``.
    figures_too : bool, optional
        Draw the figures (default: ``evaluation.figures``).

    Examples
    --------
    >>> from backprop.experiments import run
    >>> result = run({"data": {"source": "moons", "n_samples": 100},
    ...               "training": {"epochs": 3}})
    >>> sorted(result.metrics)[:2]
    ['test_accuracy', 'test_loss']
    """
    exp = load(experiment)
    check_version(exp)
    prepared = prepare(exp)
    start = time.perf_counter()
    model, history = train(exp, prepared, verbose=verbose)
    seconds = time.perf_counter() - start
    metrics = evaluate(model, exp, prepared)
    carry(model, prepared)  # from here on the model takes raw rows
    if out is not None:
        out = Path(out)
        save_run(out, exp, prepared, model, history, metrics, seconds)
        draw = exp.config["evaluation"]["figures"] if figures_too is None else figures_too
        if draw:
            figures(out, model, history, prepared)
    return RunResult(model, history, metrics, None if out is None else Path(out), seconds,
                     prepared.info["notes"])
