"""From an experiment to a trained model: the data prepared once, then one training.

The steps are those of ``backprop train``: read the table (a file as it comes, or a named
data set), split its rows with ``data.seed``, fit the model's ``datasets.Preprocessor`` on the
training rows (encoding, imputing, scaling; the target standardised for regression), build an
``MLP`` seeded with ``model.seed`` that carries it, and ``fit`` with the optimiser and early
stopping. So the experiment file ``train`` writes repeats it bit for bit. :func:`prepare`
depends on the ``[data]`` section alone (and, for ``task = "auto"``, on whether the loss is a
regression loss): a sweep prepares each distinct data section once and ships it once.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .common import ExperimentError, is_file_source
from .measure import REGRESSION_LOSSES, as_targets, split_metrics
from .measure import heads as task_heads
from .schema import SCHEDULES, SPLIT_PREFIX
from .spec import Experiment


@dataclass(eq=False)
class Prepared:
    """One data section, read, split and encoded: what every trial on it starts from.

    Attributes
    ----------
    X : dict of split → ndarray of shape (n_rows, n_inputs)
        The rows of ``train`` and, when their size is above 0, ``validation`` and ``test``,
        encoded once by the preprocessor (so no trial encodes them again).
    y : dict of split → ndarray of shape (n_rows,)
        Class indices or target values, as read.
    preprocessor : datasets.Preprocessor
        Fitted on the training rows; the saved model carries it and so takes raw rows.
    table : datasets.Table or None
        The table as read, kept in this process only (it never travels to a worker).
    """

    key: str
    name: str
    task: str
    classes: list[Any] | None
    X: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    preprocessor: Any
    info: dict[str, Any] = field(default_factory=dict)
    table: Any = None

    #: times a Prepared was pickled in this process: what a sweep sent to its workers
    sent = 0

    def __getstate__(self) -> dict[str, Any]:
        Prepared.sent += 1
        return {**self.__dict__, "table": None}

    def targets(self, split: str, n_outputs: int, loss: str) -> np.ndarray:
        """A split's targets as the network learns them: one-hot where the loss needs it,
        standardised for a regression with target scaling."""
        return self.preprocessor.transform_target(as_targets(self.y[split], self.task,
                                                             n_outputs, loss))


def resolved_task(exp: Experiment) -> str | None:
    """The task a file is read with: ``data.task``, or regression when the loss is a
    regression loss (a target of ratings 1–5 with loss mse is a number to predict)."""
    data = exp.config["data"]
    if data["task"] != "auto":
        return data["task"]
    if exp.config["training"]["loss"] in REGRESSION_LOSSES and is_file_source(data["source"]):
        return "regression"
    return None


def data_key(exp: Experiment) -> str:
    """Identity of the prepared data: the ``[data]`` section with the file's full path."""
    body = {**exp.config["data"], "source": exp.data_source, "task": resolved_task(exp)}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def read(exp: Experiment) -> Any:
    """The ``datasets.Table`` of ``[data]``: a file read as it comes, or a named set."""
    from .. import datasets
    from ..datasets.columns import missing_summary, pandas

    data = exp.config["data"]
    if is_file_source(data["source"]):
        if not Path(exp.data_source).is_file():
            raise FileNotFoundError(f"{exp.where(('data', 'source'))}: data file not found: "
                                    f"{exp.data_source}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # the notes say it
                table = datasets.read_table(exp.data_source, data["target"],
                                            features=data.get("features"),
                                            drop=data.get("drop"), task=resolved_task(exp))
        except ValueError as exc:
            key = ("data", _culprit(str(exc), data))
            raise ExperimentError(f"{exp.where(key)}: {exc}") from None
    else:
        ds = datasets.load(data["source"], n_samples=data.get("n_samples"),
                           noise=data.get("noise"), seed=data["seed"])
        table = datasets.Table(pandas().DataFrame(ds.X, columns=ds.feature_names), ds.y,
                               ds.name, "target", ds.task, ds.classes)
    if data["impute"] == "none":
        found = missing_summary(table.X, table.lines)
        if found:
            listed = "; ".join(f"{name!r} ({at})" for name, at in found.items())
            raise ExperimentError(f"{exp.where(('data', 'source'))}: {data['source']} has "
                                  f"missing values (empty, NA or NaN cells) in: {listed}. Set "
                                  "data.impute = \"median\" or \"most_frequent\", or leave "
                                  "those columns out with data.drop")
    return table


def _culprit(message: str, data: dict[str, Any]) -> str:
    """The ``[data]`` key a table error is about, for the line it names."""
    for key in ("features", "drop"):
        if any(repr(name) in message for name in data.get(key) or ()):
            return key
    return "target" if "target" in message else "source"


def prepare(exp: Experiment) -> Prepared:
    """Read, split and encode ``exp``'s data (deterministic in ``data.seed``)."""
    from .. import datasets

    data = exp.config["data"]
    table = read(exp)
    regression = table.task == "regression"
    part = datasets.split(np.arange(table.n_samples).reshape(-1, 1), table.y,
                          test_size=data["test_size"], val_size=data["val_size"],
                          stratify=not regression, seed=data["seed"])
    rows = {"train": part.X_train[:, 0].astype(np.int64)}
    for name, index in (("validation", part.X_val), ("test", part.X_test)):
        if index is not None:
            rows[name] = index[:, 0].astype(np.int64)
    impute = None if data["impute"] == "none" else data["impute"]
    pre = datasets.Preprocessor(scale=data["scale"], impute=impute,
                                target_scaling=regression, ignore=list(table.left_out))
    pre.fit(table.X.iloc[rows["train"]], table.y[rows["train"]] if regression else None)
    X = {name: pre.transform(table.X.iloc[index]) for name, index in rows.items()}
    y = {name: table.y[index] for name, index in rows.items()}
    info = {"n_samples": table.n_samples, "target": table.target, "notes": list(table.notes),
            "feature_names": table.feature_names, "left_out": dict(table.left_out),
            "split": {name: int(len(index)) for name, index in rows.items()}, "rows": rows}
    return Prepared(data_key(exp), table.name, table.task, table.classes, X, y, pre, info,
                    table)


def heads(exp: Experiment, prepared: Prepared) -> tuple[int, str, str]:
    """(outputs, output activation, loss) with ``auto`` filled in from the task; a pair
    that cannot learn is an error naming the keys."""
    import backprop as bp

    model, training = exp.config["model"], exp.config["training"]
    given_output = None if model["output_activation"] == "auto" else model["output_activation"]
    given_loss = None if training["loss"] == "auto" else training["loss"]
    try:
        n_outputs, output, loss = task_heads(prepared.task, len(prepared.classes or ()),
                                             given_output, given_loss)
    except ValueError as exc:
        raise ExperimentError(f"{exp.where(('training', 'loss'))}: {exc}") from None
    pairing = bp.losses.pairing_problem(loss, output, n_outputs)
    if pairing is not None:
        key = ("model", "output_activation") if given_output else ("training", "loss")
        raise ExperimentError(f"{exp.where(key)}: {pairing.message('python')}")
    return n_outputs, output, loss


def build(exp: Experiment, prepared: Prepared) -> tuple[Any, dict[str, Any]]:
    """The untrained model and the keyword arguments of its ``fit`` (the encoded training
    rows as ``X`` and ``y``). It trains on rows encoded once; :func:`carry` gives it the
    preprocessor afterwards, as ``backprop train``'s model has it from the start: the same
    numbers reach the network either way."""
    import backprop as bp

    from .. import schedules

    model_cfg, training = exp.config["model"], exp.config["training"]
    n_outputs, output_activation, loss = heads(exp, prepared)
    model = bp.MLP([prepared.X["train"].shape[1], *model_cfg["hidden"], n_outputs],
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

    validation = ((prepared.X["validation"], prepared.targets("validation", n_outputs, loss))
                  if "validation" in prepared.X else None)
    kwargs = {"X": prepared.X["train"], "y": prepared.targets("train", n_outputs, loss),
              "loss": loss,
              "optimizer": bp.optimizers.get(dict(training["optimizer"])),
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
    return model, model.fit(verbose=verbose, **kwargs)


def evaluate(model: Any, exp: Experiment, prepared: Prepared) -> dict[str, float]:
    """The metrics of ``[evaluation]`` for a model trained on the encoded rows (before
    :func:`carry`): ``train_loss``, ``val_accuracy``, ``test_r2``, ...

    ``*_loss`` is the training loss as ``evaluate`` measures it (on the standardised target
    for regression); MSE, MAE and R² are in the target's own units.
    """
    n_outputs, _, loss = heads(exp, prepared)
    out: dict[str, float] = {}
    for split in exp.config["evaluation"]["splits"]:
        if split in prepared.X:
            values = split_metrics(model, prepared.X[split], prepared.y[split],
                                   prepared.targets(split, n_outputs, loss), prepared.task,
                                   loss, prepared.preprocessor.inverse_transform_target)
            out.update({f"{SPLIT_PREFIX[split]}_{k}": v for k, v in values.items()})
    return out


def carry(model: Any, prepared: Prepared) -> Any:
    """Give a trained model its preprocessor and classes: it then takes raw rows, in
    ``predict`` and in its file."""
    model.preprocessor = prepared.preprocessor
    model.classes_ = prepared.classes
    return model
