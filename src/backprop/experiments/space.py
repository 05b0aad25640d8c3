"""The ``[sweep]`` section: the search space and the list of trials it stands for.

Each entry of ``[sweep.space]`` maps a dotted key of the experiment to its values::

    [sweep.space]
    "training.optimizer.lr" = {loguniform = [1e-4, 1e-1]}   # random/optuna; grid needs num
    "model.hidden" = [[8], [16, 16]]                         # a list is a choice
    "model.dropout" = {uniform = [0.0, 0.3], num = 3}        # 0.0, 0.15, 0.3 in a grid
    "training.batch_size" = {int = [16, 64], step = 16}      # 16, 32, 48, 64

A grid is the product of every entry's values; a random search draws ``trials`` configurations
from ``sweep.seed``. Either way the list is the same on every run and every machine, and each
configuration runs ``repeats`` times with ``model.seed``, ``model.seed + 1``, ...
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .common import ExperimentError, Where

KINDS = ("choice", "uniform", "loguniform", "int")
_METRIC_SPLITS = ("train", "val", "test")
_METRIC_KINDS = ("loss", "accuracy", "mse", "mae", "r2")


def _fail(where: Where, path: tuple[str, ...], message: str) -> ExperimentError:
    return ExperimentError(f"{where(path)}: {'.'.join(path)} {message}")


@dataclass(frozen=True)
class Dimension:
    """One swept key and the values it may take."""

    key: str
    kind: str
    values: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    num: int | None = None
    step: int | None = None
    log: bool = False

    def grid(self) -> list[Any]:
        """The values a grid search tries, in order."""
        if self.kind == "choice":
            return list(self.values)
        if self.kind == "int":
            if self.num is None:
                return list(range(int(self.low), int(self.high) + 1, self.step or 1))
            spaced = (np.geomspace if self.log else np.linspace)(self.low, self.high, self.num)
            return sorted({int(round(v)) for v in spaced})
        spaced = (np.geomspace if self.kind == "loguniform" else np.linspace)(
            self.low, self.high, self.num)
        return [float(v) for v in spaced]

    def sample(self, rng: np.random.Generator) -> Any:
        """One value drawn at random (uniform in log space for ``loguniform``)."""
        if self.kind == "choice":
            return self.values[int(rng.integers(len(self.values)))]
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        if self.kind == "loguniform":
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        low, high = int(self.low), int(self.high)
        if self.log:
            drawn = int(math.floor(math.exp(rng.uniform(math.log(low), math.log(high + 1)))))
        else:
            drawn = int(rng.integers(low, high + 1))
        step = self.step or 1
        return min(low + (drawn - low) // step * step, high)

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna trial suggests (choices by their JSON text, which Optuna
        can hold whatever the value: lists, tables)."""
        if self.kind == "choice":
            texts = [json.dumps(v, sort_keys=True) for v in self.values]
            return self.values[texts.index(trial.suggest_categorical(self.key, texts))]
        if self.kind == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high),
                                     step=self.step or 1, log=self.log)
        return trial.suggest_float(self.key, self.low, self.high,
                                   log=self.kind == "loguniform")

    def extremes(self) -> list[Any]:
        """Values that exercise the edges of the range (checked before anything runs)."""
        if self.kind == "choice":
            return list(self.values)
        if self.kind == "int":
            return [int(self.low), int(self.high)]
        return [self.low, self.high]


def _pair(where: Where, path: tuple[str, ...], value: Any, integer: bool) -> tuple[Any, Any]:
    kind = "integers" if integer else "numbers"
    ok = isinstance(value, list) and len(value) == 2 and all(
        not isinstance(v, bool) and isinstance(v, int if integer else (int, float))
        and math.isfinite(v) for v in value)
    if not ok or value[0] > value[1] or (not integer and value[0] == value[1]):
        raise _fail(where, path, f"must be [low, high], two {kind} with low < high; "
                    f"got {value!r}")
    return value[0], value[1]


def dimension(where: Where, key: str, spec: Any) -> Dimension:
    """A :class:`Dimension` from one ``[sweep.space]`` entry (errors name its line)."""
    path = ("sweep", "space", key)
    if isinstance(spec, list):
        spec = {"choice": spec}
    if not isinstance(spec, dict) or len(set(spec) & set(KINDS)) != 1:
        raise _fail(where, path, "must be a list of values or a table with one of "
                    f"{', '.join(KINDS)}; got {spec!r}")
    kind = next(k for k in KINDS if k in spec)
    allowed = {"choice": set(), "uniform": {"num"}, "loguniform": {"num"},
               "int": {"num", "step", "log"}}[kind]
    extra = sorted(set(spec) - allowed - {kind})
    if extra:
        raise _fail(where, (*path, extra[0]), f"does not go with {kind} (it takes "
                    f"{', '.join(sorted(allowed)) or 'no other key'})")
    options: dict[str, Any] = {}
    for name in ("num", "step"):
        if name in spec:
            value = spec[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _fail(where, (*path, name), f"must be an integer ≥ 1; got {value!r}")
            options[name] = value
    if "log" in spec:
        if not isinstance(spec["log"], bool):
            raise _fail(where, (*path, "log"), f"must be true or false; got {spec['log']!r}")
        options["log"] = spec["log"]
    if kind == "choice":
        values = spec["choice"]
        if not isinstance(values, list) or not values:
            raise _fail(where, (*path, "choice"), f"must be a non-empty list; got {values!r}")
        return Dimension(key, kind, tuple(values))
    low, high = _pair(where, (*path, kind), spec[kind], integer=kind == "int")
    if (kind == "loguniform" or options.get("log")) and low <= 0:
        raise _fail(where, (*path, kind), f"is on a log scale, so low must be > 0; got {low}")
    return Dimension(key, kind, (), float(low) if kind != "int" else low,
                     float(high) if kind != "int" else high, **options)


def dimensions(sweep: dict[str, Any], where: Where) -> list[Dimension]:
    return [dimension(where, key, spec) for key, spec in sweep["space"].items()]


def check_sweep(sweep: dict[str, Any], where: Where) -> None:
    """Check the ``[sweep]`` section on its own (the keys are checked against the
    experiment when the trials are planned)."""
    space = sweep.get("space")
    if not isinstance(space, dict) or not space:
        raise _fail(where, ("sweep", "space"), "is missing or empty: add a [sweep.space] table, "
                    "such as \"training.optimizer.lr\" = [0.1, 0.01]")
    dims = dimensions(sweep, where)
    method = sweep["method"]
    if method == "grid":
        if "trials" in sweep:
            raise _fail(where, ("sweep", "trials"), "applies to method = \"random\" or "
                        "\"optuna\"; a grid tries every combination")
        for dim in dims:
            if dim.kind in ("uniform", "loguniform") and dim.num is None:
                raise _fail(where, ("sweep", "space", dim.key), f"is a {dim.kind} range: a grid "
                            "needs num = K points, or use method = \"random\"")
    elif "trials" not in sweep:
        raise _fail(where, ("sweep", "method"), f"= {method!r} draws configurations: set "
                    "sweep.trials to how many")
    metric = sweep["metric"]
    split, _, kind = metric.partition("_")
    if split not in _METRIC_SPLITS or kind not in _METRIC_KINDS:
        raise _fail(where, ("sweep", "metric"), "must be <split>_<metric> with split one of "
                    f"{', '.join(_METRIC_SPLITS)} and metric one of {', '.join(_METRIC_KINDS)} "
                    f"(such as val_loss); got {metric!r}")


@dataclass(frozen=True)
class TrialPlan:
    """One trial: its number, the values it sets and the keys that identify it.

    ``config`` identifies the configuration (the same for its repeats), ``key`` the trial.
    """

    number: int
    params: dict[str, Any]
    repeat: int
    config: str
    key: str


def _key(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def trial_plan(number: int, values: dict[str, Any], repeat: int, base_seed: int,
               salt: str = "") -> TrialPlan:
    """The trial of ``values`` with seed ``base_seed + repeat``; ``salt`` tells apart
    configurations that happen to have the same values (Optuna may propose one twice)."""
    params = {**values, "model.seed": values.get("model.seed", base_seed) + repeat}
    return TrialPlan(number, params, repeat, _key({**values, "": salt}),
                     _key({**params, "": salt}))


def plan(dims: list[Dimension], sweep: dict[str, Any], base_seed: int) -> list[TrialPlan]:
    """Every trial of a grid or random sweep, in a fixed order (a random draw that repeats
    an earlier configuration is left out)."""
    if sweep["method"] == "grid":
        configs = [dict(zip([d.key for d in dims], combo))
                   for combo in itertools.product(*(d.grid() for d in dims))]
    else:
        rng = np.random.default_rng(sweep["seed"])
        drawn = [{d.key: d.sample(rng) for d in dims} for _ in range(sweep["trials"])]
        # a draw that repeats an earlier configuration (a small space of choices) adds nothing
        unique: dict[str, dict[str, Any]] = {}
        for values in drawn:
            unique.setdefault(_key(values), values)
        configs = list(unique.values())
    return [trial_plan(i * sweep["repeats"] + r, values, r, base_seed)
            for i, values in enumerate(configs) for r in range(sweep["repeats"])]
