"""From an experiment to a trained model: the data prepared once, then one training.

The steps are those of ``backprop train`` (read the table, split with ``data.seed``, fit the
model's ``datasets.Preprocessor`` on the training rows, with a standardised target for
regression; an ``MLP`` seeded with ``model.seed``, the optimiser, early stopping, ``fit``), so
the experiment file that ``train`` writes repeats it bit for bit. The inputs are encoded once
per data section; the saved model carries the preprocessor, so it predicts on raw rows.
:func:`prepare` depends on the ``[data]`` section alone: a sweep prepares each
distinct data section once and ships the result to its workers once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .common import ExperimentError, is_file_source
from .measure import heads as task_heads
from .measure import split_metrics
from .schema import SCHEDULES, SPLIT_PREFIX
from .spec import Experiment


@dataclass(eq=False)
class Prepared:
    """One data section, split and scaled: what every trial on it starts from.

    Attributes
    ----------
    X : dict of split → ndarray of shape (n_rows, n_features)
        Encoded and scaled inputs of ``train`` and, when their size is above 0,
        ``validation``, ``test`` (what ``preprocessor.transform`` makes of the raw rows).
    y : dict of split → ndarray of shape (n_rows,) or (n_rows, n_targets)
        Class indices or target values (unscaled).
    preprocessor : backprop.datasets.Preprocessor
        Fitted on the training rows; the saved model carries it.
    target_scaling : dict or None
        Mean and scale of a regression target (training rows); the network learns the
        standardised target.
    """

    key: str
    name: str
    task: str
    feature_names: list[str]
    classes: list[Any] | None
    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    preprocessor: Any
    target_scaling: dict[str, list[float]] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    #: times a Prepared was pickled in this process: what a sweep sent to its workers
    sent = 0

    def __getstate__(self) -> dict[str, Any]:
        Prepared.sent += 1
        return self.__dict__.copy()

    @property
    def n_features(self) -> int:
        return int(self.X["train"].shape[1])

    @property
    def n_targets(self) -> int:
        y = self.y["train"]
        return 1 if y.ndim == 1 else int(y.shape[1])

    def fit_target(self, y: np.ndarray) -> np.ndarray:
        """The target as the network learns it (standardised for regression)."""
        return self.preprocessor.transform_target(y)


def data_key(exp: Experiment) -> str:
    """Identity of the prepared data: the ``[data]`` section with the file's full path."""
    body = {**exp.config["data"], "source": exp.data_source}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def _check_columns(frame: Any, data: dict[str, Any], exp: Experiment) -> None:
    """``data.features`` and ``data.drop`` name columns of the file (messages with the line)."""
    names = [c for c in frame.columns if c != data["target"]]
    for key in ("features", "drop"):
        wanted = data.get(key) or []
        missing = [c for c in wanted if c not in names]
        if missing:
            raise ExperimentError(f"{exp.where(('data', key))}: data.{key} names "
                                  f"{', '.join(map(repr, missing))}, which {data['source']} "
                                  f"lacks; its feature columns: {', '.join(names)}")
    if data.get("features") and not set(data["features"]) - set(data.get("drop") or []):
        raise ExperimentError(f"{exp.where(('data', 'drop'))}: no feature column is left")


def prepare(exp: Experiment) -> Prepared:
    """Read, split and encode the data of ``exp`` (deterministic in ``data.seed``)."""
    import warnings

    from .. import datasets
    from ..datasets.tables import read_frame

    data = exp.config["data"]
    if is_file_source(data["source"]):
        task = None if data["task"] == "auto" else data["task"]
        _check_columns(read_frame(exp.data_source)[0], data, exp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # an ID column left out: in the notes
            table = datasets.read_table(exp.data_source, data["target"], task=task,
                                        features=data.get("features"), drop=data.get("drop"))
    else:
        ds = datasets.load(data["source"], n_samples=data.get("n_samples"),
                           noise=data.get("noise"), seed=data["seed"])
        frame = _pandas().DataFrame(ds.X, columns=ds.feature_names)
        table = datasets.Table(frame, ds.y, ds.name, "target", ds.task, ds.classes)
    n = table.n_samples
    part = datasets.split(np.arange(n).reshape(-1, 1), table.y, test_size=data["test_size"],
                          val_size=data["val_size"], stratify=table.task != "regression",
                          seed=data["seed"])
    rows = {"train": part.X_train[:, 0]}
    for name, index in (("validation", part.X_val), ("test", part.X_test)):
        if index is not None:
            rows[name] = index[:, 0]
    regression = table.task == "regression"
    impute = data.get("impute", "none")
    pre = datasets.Preprocessor(data["scale"], None if impute == "none" else impute,
                                target_scaling=regression, ignore=list(table.left_out))
    pre.fit(table.X.iloc[rows["train"]], table.y[rows["train"]] if regression else None)
    X = {name: pre.transform(table.X.iloc[index]) for name, index in rows.items()}
    y = {name: table.y[index] for name, index in rows.items()}
    scaling = ({"mean": pre.target_offset_.tolist(), "scale": pre.target_scale_.tolist()}
               if regression else None)
    info = {"source": data["source"], "n_samples": n, "n_features": len(table.feature_names),
            "split": {name: int(len(v)) for name, v in X.items()}}
    return Prepared(data_key(exp), table.name, table.task, table.feature_names, table.classes,
                    X, y, pre, scaling, info)


def _pandas():
    from ..datasets.columns import pandas

    return pandas()


def heads(exp: Experiment, prepared: Prepared) -> tuple[int, str, str]:
    """(outputs, output activation, loss) with ``auto`` filled in from the task."""
    model, training = exp.config["model"], exp.config["training"]
    return task_heads(prepared.task, len(prepared.classes or ()), prepared.n_targets,
                         None if model["output_activation"] == "auto"
                         else model["output_activation"],
                         None if training["loss"] == "auto" else training["loss"])


def build(exp: Experiment, prepared: Prepared) -> tuple[Any, dict[str, Any]]:
    """The untrained model and the keyword arguments of its ``fit``."""
    import backprop as bp

    from .. import schedules

    model_cfg, training = exp.config["model"], exp.config["training"]
    n_outputs, output_activation, loss = heads(exp, prepared)
    model = bp.MLP([prepared.n_features, *model_cfg["hidden"], n_outputs],
                   activation=model_cfg["activation"], output_activation=output_activation,
                   init=None if model_cfg["init"] == "auto" else model_cfg["init"],
                   dropout=model_cfg["dropout"], seed=model_cfg["seed"],
                   dtype=model_cfg["dtype"])
    callbacks = []
    stop = training["early_stopping"]
    if stop["patience"]:
        callbacks.append(bp.EarlyStopping(patience=stop["patience"],
                                          min_delta=stop["min_delta"],
                                          restore_best_weights=stop["restore_best"]))
    if "schedule" in training:
        settings = dict(training["schedule"])
        callbacks.append(getattr(schedules, SCHEDULES[settings.pop("name")])(**settings))
    validation = ((prepared.X["validation"], prepared.fit_target(prepared.y["validation"]))
                  if "validation" in prepared.X else None)
    kwargs = {"loss": loss, "optimizer": bp.optimizers.get(dict(training["optimizer"])),
              "epochs": training["epochs"], "batch_size": training["batch_size"] or None,
              "shuffle": training["shuffle"], "l2": training["l2"], "callbacks": callbacks,
              "validation_data": validation}
    return model, kwargs


def train(exp: Experiment, prepared: Prepared, callbacks: list[Any] | tuple[Any, ...] = (),
          verbose: bool = False) -> tuple[Any, Any]:
    """Build and train the model of ``exp`` on ``prepared``; returns (model, history).

    ``callbacks`` are added after the experiment's own (early stopping, schedule).
    """
    model, kwargs = build(exp, prepared)
    kwargs["callbacks"] = [*kwargs["callbacks"], *callbacks]
    history = model.fit(prepared.X["train"], prepared.fit_target(prepared.y["train"]),
                        verbose=verbose, **kwargs)
    return model, history


def evaluate(model: Any, exp: Experiment, prepared: Prepared) -> dict[str, float]:
    """The metrics of ``[evaluation]``: ``train_loss``, ``val_accuracy``, ``test_r2``, ...

    ``*_loss`` is the training loss (on the standardised target for regression); MSE, MAE
    and R² are in the target's own units.
    """
    _, _, loss = heads(exp, prepared)
    out: dict[str, float] = {}
    for split in exp.config["evaluation"]["splits"]:
        if split in prepared.X:
            values = split_metrics(model, prepared.X[split], prepared.y[split], prepared.task,
                                   loss, prepared.target_scaling)
            out.update({f"{SPLIT_PREFIX[split]}_{k}": v for k, v in values.items()})
    return out
