"""The playground's configuration: every setting, its range, and its form in the URL hash.

A page sends changes as a dict (``{"lr": 0.1}``); :meth:`Config.updated` validates them
against the current configuration and returns a new one, or raises ``ValueError`` naming the
setting, the value that came and what is allowed. :meth:`Config.to_hash` writes the whole
configuration into a URL fragment and :func:`from_hash` reads one back, so a link
reproduces a run.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

CLASSIFICATION_SETS = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION_SETS = ("reg-plane", "reg-gauss")
DATASETS = (*CLASSIFICATION_SETS, *REGRESSION_SETS, "csv")
#: data sets that take a number of classes (the others have two)
MULTICLASS_SETS = ("gauss", "spiral")
PROBLEMS = ("classification", "regression")
FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity", "leaky_relu", "elu", "gelu", "swish")
LOSSES = {"classification": ("cross_entropy", "mse"), "regression": ("mse", "mae", "huber")}
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l2")

MAX_HIDDEN_LAYERS = 8
MAX_NEURONS = 32
MAX_CLASSES = 6
#: (low, high) of each bounded number; both ends allowed
RANGES: dict[str, tuple[float, float]] = {
    "classes": (2, MAX_CLASSES), "n_samples": (20, 2000), "noise": (0, 50),
    "train_percent": (10, 90), "batch_size": (1, 1000), "data_seed": (0, 2**31 - 1),
    "seed": (0, 2**31 - 1), "dropout": (0.0, 0.9), "lr": (1e-6, 10.0), "l2": (0.0, 10.0),
}
INTEGERS = ("classes", "n_samples", "noise", "train_percent", "batch_size", "data_seed", "seed")
#: settings that apply to the running network; any other change rebuilds it at epoch 0
LIVE = frozenset({"lr", "l2", "regularization", "batch_size", "discretize", "show_test"})
#: settings that change the data (and so also rebuild the network)
DATA_KEYS = frozenset({"dataset", "classes", "n_samples", "noise", "train_percent", "data_seed",
                       "problem", "target", "x_column", "y_column"})

#: URL hash key of each field (short, stable: links in the wild depend on them)
HASH_KEYS = {
    "dataset": "data", "problem": "problem", "classes": "classes", "n_samples": "points",
    "noise": "noise", "train_percent": "train", "batch_size": "batch", "data_seed": "dseed",
    "features": "features", "hidden": "hidden", "activations": "act", "dropout": "dropout",
    "loss": "loss", "optimizer": "opt", "lr": "lr", "regularization": "reg", "l2": "l2",
    "seed": "seed", "discretize": "discretize", "show_test": "test", "target": "target",
    "x_column": "xcol", "y_column": "ycol",
}
FIELD_OF_KEY = {key: name for name, key in HASH_KEYS.items()}


@dataclass(frozen=True)
class Config:
    """One playground configuration (immutable; :meth:`updated` makes a changed copy).

    ``hidden`` lists the hidden-layer widths, ``activations`` one activation per hidden layer.
    ``target``, ``x_column`` and ``y_column`` name CSV columns (dataset "csv" only).
    """

    dataset: str = "circle"
    problem: str = "classification"
    classes: int = 2
    n_samples: int = 500
    noise: int = 0
    train_percent: int = 50
    batch_size: int = 10
    data_seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activations: tuple[str, ...] = ("tanh", "tanh")
    dropout: float = 0.0
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    lr: float = 0.03
    regularization: str = "none"
    l2: float = 0.0
    seed: int = 0
    discretize: bool = False
    show_test: bool = False
    target: str = ""
    x_column: str = ""
    y_column: str = ""
    _extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- derived ------------------------------------------------------------------------------
    @property
    def l2_penalty(self) -> float:
        """λ passed to ``fit``: the rate when L2 is on, else 0."""
        return self.l2 if self.regularization == "l2" else 0.0

    @property
    def n_classes(self) -> int:
        """Classes of a built-in classification set (1 output for regression)."""
        return self.classes if self.dataset in MULTICLASS_SETS else 2

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every setting (tuples as lists)."""
        return {f.name: (list(v) if isinstance(v, tuple) else v)
                for f in dataclasses.fields(self) if not f.name.startswith("_")
                for v in [getattr(self, f.name)]}

    # -- changes ------------------------------------------------------------------------------
    def updated(self, changes: Any) -> Config:
        """A copy with ``changes`` (a dict of field → value) applied and checked.

        Raises
        ------
        ValueError
            An unknown setting, a value of the wrong kind or out of its range; nothing is
            changed.
        """
        if not isinstance(changes, dict):
            raise ValueError(f"config changes must be an object of settings; got "
                             f"{type(changes).__name__}")
        valid = [f.name for f in dataclasses.fields(self) if not f.name.startswith("_")]
        unknown = sorted(set(changes) - set(valid))
        if unknown:
            raise ValueError(f"unknown setting {', '.join(map(repr, unknown))}; settings: "
                             f"{', '.join(valid)}")
        values = {name: _check(name, value) for name, value in changes.items()}
        merged = {**self.as_dict(), **values}
        return _normalised(merged, given=set(values))

    def changed_fields(self, other: Config) -> set[str]:
        """Names of the settings that differ between ``self`` and ``other``."""
        return {name for name, value in self.as_dict().items()
                if other.as_dict()[name] != value}

    # -- the URL hash -------------------------------------------------------------------------
    def to_hash(self) -> str:
        """The configuration as a URL fragment (without '#'), every setting included."""
        parts = []
        for name, key in HASH_KEYS.items():
            value = getattr(self, name)
            if isinstance(value, tuple):
                text = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                text = "1" if value else "0"
            elif isinstance(value, float):
                text = f"{value:.6g}"
            else:
                text = str(value)
            if name in ("target", "x_column", "y_column") and self.dataset != "csv":
                continue
            parts.append(f"{key}={quote(text, safe=',.-_')}")
        return "&".join(parts)


def from_hash(text: str, base: Config | None = None) -> tuple[Config, list[str]]:
    """Read a URL fragment written by :meth:`Config.to_hash` (a leading '#' is fine).

    Returns the configuration and a list of problems: a setting that cannot be read keeps
    its default, and the problem says which and why, so one bad value does not lose a link.
    """
    config = base or Config()
    problems: list[str] = []
    changes: dict[str, Any] = {}
    text = str(text or "").lstrip("#")
    for key, raw in parse_qsl(text, keep_blank_values=True):
        name = FIELD_OF_KEY.get(key)
        if name is None:
            problems.append(f"unknown setting {key!r} in the link was ignored")
            continue
        try:
            changes[name] = _check(name, _from_text(name, unquote(raw)))
        except ValueError as exc:
            problems.append(f"{exc} (the link's value was ignored)")
    # Apply in one go (so dataset and problem agree), then fall back one by one on a clash.
    try:
        return config.updated(changes), problems
    except ValueError:
        for name, value in changes.items():
            try:
                config = config.updated({name: value})
            except ValueError as exc:
                problems.append(f"{exc} (the link's value was ignored)")
        return config, problems


# -- checking one value ------------------------------------------------------------------------
def _from_text(name: str, text: str) -> Any:
    if name in ("features", "activations"):
        return [part for part in text.split(",") if part]
    if name == "hidden":
        parts = [part for part in text.split(",") if part]
        try:
            return [int(part) for part in parts]
        except ValueError:
            raise ValueError(f"hidden must be layer widths like 4,2; got {text!r}") from None
    if name in ("discretize", "show_test"):
        if text not in ("0", "1", "true", "false"):
            raise ValueError(f"{name} must be 0 or 1; got {text!r}")
        return text in ("1", "true")
    if name in RANGES:
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number; got {text!r}") from None
        return int(number) if name in INTEGERS and number.is_integer() else number
    return text


def _choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of: {', '.join(options)}; got {value!r}")
    return value


def _check(name: str, value: Any) -> Any:
    """One setting's value, checked on its own (its relation to others: ``_normalised``)."""
    if name in RANGES:
        low, high = RANGES[name]
        integer = name in INTEGERS
        kind = "an integer" if integer else "a number"
        ok = isinstance(value, numbers.Integral if integer else numbers.Real) \
            and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or not low <= value <= high:
            raise ValueError(f"{name} must be {kind} from {low:g} to {high:g}; got {value!r}")
        return int(value) if integer else float(value)
    if name == "dataset":
        return _choice(name, value, DATASETS)
    if name == "problem":
        return _choice(name, value, PROBLEMS)
    if name == "loss":
        return _choice(name, value, tuple(dict.fromkeys(LOSSES["classification"]
                                                        + LOSSES["regression"])))
    if name == "optimizer":
        return _choice(name, value, OPTIMIZERS)
    if name == "regularization":
        return _choice(name, value, REGULARIZATIONS)
    if name in ("discretize", "show_test"):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false; got {value!r}")
        return value
    if name in ("target", "x_column", "y_column"):
        if not isinstance(value, str) or len(value) > 200:
            raise ValueError(f"{name} must be a column name; got {value!r}")
        return value
    if name == "features":
        items = _string_list(name, value)
        for item in items:
            _choice("each feature", item, FEATURES)
        if not items:
            raise ValueError("features needs at least one input feature; got none")
        return tuple(f for f in FEATURES if f in items)  # canonical order, no repeats
    if name == "activations":
        items = _string_list(name, value)
        for item in items:
            _choice("each activation", item, ACTIVATIONS)
        return tuple(items)
    if name == "hidden":
        if not isinstance(value, (list, tuple)) or len(value) > MAX_HIDDEN_LAYERS:
            raise ValueError(f"hidden must list at most {MAX_HIDDEN_LAYERS} layer widths; "
                             f"got {value!r}")
        for width in value:
            if isinstance(width, bool) or not isinstance(width, numbers.Integral) \
                    or not 1 <= width <= MAX_NEURONS:
                raise ValueError(f"each hidden layer needs 1 to {MAX_NEURONS} neurons; "
                                 f"got {value!r}")
        return tuple(int(w) for w in value)
    raise ValueError(f"unknown setting {name!r}")


def _string_list(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of names; got {value!r}")
    return list(value)


def _normalised(values: dict[str, Any], given: set[str]) -> Config:
    """Make the settings agree with one another; ``given`` are those the caller set."""
    dataset, problem = values["dataset"], values["problem"]
    if dataset != "csv":
        if "dataset" in given:
            problem = "regression" if dataset in REGRESSION_SETS else "classification"
        elif "problem" in given:
            # Switching the problem type picks that type's first data set.
            kinds = REGRESSION_SETS if problem == "regression" else CLASSIFICATION_SETS
            if dataset not in kinds:
                dataset = kinds[0]
        problem = "regression" if dataset in REGRESSION_SETS else "classification"
    losses = LOSSES[problem]
    if values["loss"] not in losses:
        if "loss" in given:
            raise ValueError(f"loss {values['loss']!r} does not fit a {problem} problem; "
                             f"choose one of: {', '.join(losses)}")
        values["loss"] = losses[0]
    hidden = tuple(values["hidden"])
    acts = tuple(values["activations"])
    if len(acts) != len(hidden):
        if "activations" in given and len(acts) not in (1, len(hidden)) and hidden:
            raise ValueError(f"activations needs one name per hidden layer ({len(hidden)}) "
                             f"or a single name; got {len(acts)}")
        fill = acts[-1] if acts else "tanh"
        acts = (acts + (fill,) * len(hidden))[: len(hidden)] if len(acts) != 1 \
            else acts * len(hidden)
    if dataset not in MULTICLASS_SETS and dataset != "csv":
        values["classes"] = 2
    values.update(dataset=dataset, problem=problem, hidden=hidden, activations=acts,
                  features=tuple(values["features"]))
    if dataset != "csv":
        values.update(target="", x_column="", y_column="")
    return Config(**values)
