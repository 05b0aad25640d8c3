"""Every key an experiment file may hold: its section, its check and its default.

A check takes the value read from the file and returns it normalised, or raises ``ValueError``
with the requirement and the value ("must be an integer ≥ 1; got 0"); ``spec`` adds the key and
the file line. Keys whose default is ``ABSENT`` stay out of the normalised experiment unless the
file sets them (TOML has no null).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import activations, initializers, losses, optimizers

ABSENT = object()
SPLITS = ("train", "validation", "test")
#: prefixes of metric names: "val_loss" is the loss on the validation rows
SPLIT_PREFIX = {"train": "train", "validation": "val", "test": "test"}
CLASSIFICATION_METRICS = ("loss", "accuracy")
REGRESSION_METRICS = ("loss", "mse", "mae", "r2")
METHODS = ("grid", "random", "optuna")


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value).replace("True", "true").replace(
        "False", "false")


def integer(low: int = 0) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"must be an integer ≥ {low}; got {_show(value)}")
        return value
    return check


def number(low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
           high_open: bool = False) -> Callable[[Any], float]:
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    if high == math.inf:
        wanted = f"a number {'>' if low_open else '≥'} {low:g}"
    else:
        wanted = f"a number in {left}{low:g}, {high:g}{right}"

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise ValueError(f"must be {wanted}; got {_show(value)}")
        value = float(value)
        if value < low or value > high or (low_open and value == low) \
                or (high_open and value == high):
            raise ValueError(f"must be {wanted}; got {_show(value)}")
        return value
    return check


fraction = number(0.0, 1.0, high_open=True)
positive = number(0.0, low_open=True)
nonnegative = number(0.0)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false; got {_show(value)}")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string; got {_show(value)}")
    return value


def one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in choices:
            raise ValueError(f"must be one of: {', '.join(choices)}; got {_show(value)}")
        return value.strip().lower()
    return check


def registered(registry: Any, auto: bool = False) -> Callable[[Any], str]:
    """A name of ``registry`` (canonical form); ``"auto"`` too when ``auto``."""
    def check(value: Any) -> str:
        if auto and isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        if not isinstance(value, str):
            raise ValueError(f"must be a {registry.family} name; got {_show(value)}")
        try:
            return registry.canonical(value)
        except ValueError as exc:
            raise ValueError(str(exc) + (" or auto" if auto else "")) from None
    return check


def list_of(item: Callable[[Any], Any], what: str, *,
            empty: bool = True) -> Callable[[Any], list[Any]]:
    def check(value: Any) -> list[Any]:
        if not isinstance(value, list) or (not empty and not value):
            raise ValueError(f"must be a list of {what}; got {_show(value)}")
        try:
            return [item(v) for v in value]
        except ValueError:
            raise ValueError(f"must be a list of {what}; got {_show(value)}") from None
    return check


def per_hidden(item: Callable[[Any], Any], what: str) -> Callable[[Any], Any]:
    """One value for every hidden layer, or a list with one per hidden layer."""
    many = list_of(item, what, empty=False)

    def check(value: Any) -> Any:
        return many(value) if isinstance(value, list) else item(value)
    return check


def subset(*choices: str) -> Callable[[Any], list[str]]:
    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v in choices
                                                  for v in value) or not value:
            raise ValueError(f"must be a non-empty list drawn from {', '.join(choices)}; "
                             f"got {_show(value)}")
        return [c for c in choices if c in value]
    return check


Field = tuple[Callable[[Any], Any], Any, str]  # (check, default, help)

SCHEMA: dict[str, dict[str, Field]] = {
    "experiment": {
        "name": (text, ABSENT, "a name for the run or sweep (the default output folder)"),
        "description": (text, ABSENT, "free text"),
        "backprop_version": (text, ABSENT, "the library version that wrote the file"),
    },
    "data": {
        "source": (text, ABSENT, "a named data set (moons, iris, ...) or a CSV file, "
                                 "relative to the experiment file"),
        "target": (text, ABSENT, "the CSV column to predict"),
        "task": (one_of("auto", "classification", "binary", "multiclass", "regression"),
                 "auto", "what the target is (CSV files; auto: inferred from its values)"),
        "features": (list_of(text, "column names", empty=False), ABSENT,
                     "keep only these CSV columns as features"),
        "drop": (list_of(text, "column names", empty=False), ABSENT,
                 "CSV columns to leave out"),
        "n_samples": (integer(1), ABSENT, "samples to generate (generated sets)"),
        "noise": (nonnegative, ABSENT, "noise level (generated sets)"),
        "seed": (integer(0), 42, "seed of the generated data and of the split"),
        "test_size": (fraction, 0.2, "fraction of all rows held out for the test"),
        "val_size": (fraction, 0.2, "fraction of all rows held out for validation"),
        "scale": (one_of("standard", "minmax", "none"), "standard",
                  "input scaling fitted on the training rows"),
        "impute": (one_of("none", "median", "most_frequent"), "none",
                   "fill missing cells (none: they are an error naming their columns)"),
    },
    "model": {
        "hidden": (list_of(integer(1), "layer widths ≥ 1"), [10, 10], "hidden layer widths"),
        "activation": (per_hidden(registered(activations.ACTIVATIONS), "activation names"),
                       "relu", "hidden activation, or one per hidden layer"),
        "output_activation": (registered(activations.ACTIVATIONS, auto=True), "auto",
                              "auto: sigmoid, softmax or identity as the task needs"),
        "init": (registered(initializers.INITIALIZERS, auto=True), "auto",
                 "weight initialiser (auto: He for ReLU-like, Xavier otherwise)"),
        "dropout": (per_hidden(fraction, "fractions in [0, 1)"), 0.0,
                    "dropout rate after each hidden layer, or one per hidden layer"),
        "seed": (integer(0), 42, "seed of the initial weights, dropout and shuffling"),
        "dtype": (one_of("float32", "float64"), "float32", "floating-point type"),
    },
    "training": {
        "loss": (registered(losses.LOSSES, auto=True), "auto",
                 "auto: binary/categorical cross-entropy or mse as the task needs"),
        "optimizer": (lambda v: v, {"name": "adam", "lr": 0.01},
                      "a name, or a table: name and its settings (lr, momentum, ...)"),
        "epochs": (integer(1), 200, "epochs to train"),
        "batch_size": (integer(0), 32, "mini-batch size; 0 for full-batch gradient descent"),
        "l2": (nonnegative, 0.0, "L2 penalty λ·Σ‖W‖²"),
        "shuffle": (boolean, True, "reshuffle the rows every epoch"),
        "early_stopping": (lambda v: v, {"patience": 0},
                           "patience in epochs (0: off; default 20 with validation rows), or "
                           "a table: patience, min_delta, restore_best"),
        "schedule": (lambda v: v, ABSENT, "a table: name (step, exponential, cosine, "
                                          "plateau) and its settings"),
    },
    "evaluation": {
        "splits": (subset(*SPLITS), list(SPLITS), "the parts whose metrics are reported"),
        "figures": (boolean, True, "draw the history, architecture and boundary figures"),
    },
    "sweep": {
        "method": (one_of(*METHODS), "grid", "grid, random or optuna (TPE with pruning)"),
        "trials": (integer(1), ABSENT, "configurations to draw (random, optuna)"),
        "repeats": (integer(1), 1, "seeds per configuration: model.seed, +1, ..."),
        "seed": (integer(0), 0, "seed of the random draws and of the TPE sampler"),
        "metric": (text, "val_loss", "the metric to rank by, such as val_loss or "
                                     "val_accuracy"),
        "direction": (one_of("auto", "minimize", "maximize"), "auto",
                      "auto: maximize accuracy and r2, minimize the rest"),
        "prune": (boolean, True, "optuna: stop trials whose validation loss lags"),
        "prune_warmup": (integer(0), 5, "optuna: epochs before a trial may be pruned"),
        "top": (integer(1), 10, "configurations shown in the table of the best"),
        "space": (lambda v: v, ABSENT, "dotted key → values, choice, uniform, loguniform "
                                       "or int"),
    },
}

EARLY_STOPPING: dict[str, Field] = {
    "patience": (integer(0), 0, "epochs without a better validation loss (0: off)"),
    "min_delta": (nonnegative, 0.0, "smallest change that counts as better"),
    "restore_best": (boolean, True, "keep the weights of the best epoch"),
}

SCHEDULES: dict[str, str] = {"step": "StepDecay", "exponential": "ExponentialDecay",
                             "cosine": "CosineDecay", "plateau": "ReduceLROnPlateau"}


def optimizer_class(name: str) -> type:
    """The optimiser class registered as ``name`` (canonical)."""
    return type(optimizers.get(name))


def metric_names(task: str, splits: list[str]) -> list[str]:
    """Every metric a trial reports for ``task``: ``val_loss``, ``test_accuracy``, ..."""
    kinds = REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS
    return [f"{SPLIT_PREFIX[s]}_{k}" for s in splits for k in kinds]


def default_direction(metric: str) -> str:
    return "maximize" if metric.endswith(("accuracy", "r2")) else "minimize"
