"""Checking an experiment: every key known, every value valid, the sections consistent.

Each error is an :class:`ExperimentError` that starts with where the key was set and names it:
``exp.toml line 12: training.epochs must be an integer ≥ 1; got 0``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import optimizers, schedules
from .common import (
    ExperimentError,
    Where,
    is_file_source,
    required_settings,
    settings_of,
    unknown_key,
)
from .schema import ABSENT, EARLY_STOPPING, SCHEDULES, SCHEMA, Field, optimizer_class


def _fail(where: Where, path: tuple[str, ...], message: str) -> ExperimentError:
    return ExperimentError(f"{where(path)}: {'.'.join(path)} {message}")


def _table(where: Where, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, path, f"must be a table ([{'.'.join(path)}]); got {value!r}")
    return dict(value)


def _fields(where: Where, path: tuple[str, ...], raw: Mapping[str, Any],
            fields: dict[str, Field]) -> dict[str, Any]:
    """Check each key of ``raw`` against ``fields`` and fill in the defaults."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            raise ExperimentError(f"{where((*path, key))}: "
                                  f"{unknown_key((*path, key), list(fields))}")
        try:
            out[key] = fields[key][0](value)
        except ValueError as exc:
            raise _fail(where, (*path, key), str(exc)) from None
    for key, (_, default, _) in fields.items():
        if key not in out and default is not ABSENT:
            out[key] = copy.deepcopy(default)
    return {key: out[key] for key in fields if key in out}


def _settings(where: Where, path: tuple[str, ...], factory: type, settings: dict[str, Any]
              ) -> dict[str, Any]:
    """Settings of an optimiser or schedule: known names, values the class accepts (each
    value tried alone, with the required settings, so the error names the right key)."""
    known = settings_of(factory)
    required = required_settings(factory)
    for key in settings:
        if key not in known:
            raise ExperimentError(f"{where((*path, key))}: {factory.__name__} has no setting "
                                  f"{key!r}; " + unknown_key((*path, key), known))
    missing = [name for name in required if name not in settings]
    if missing:
        raise _fail(where, path, f"needs {', '.join(missing)} ({factory.__name__}'s settings: "
                    f"{', '.join(known)})")
    for key in settings:
        try:
            factory(**{k: v for k, v in settings.items() if k == key or k in required})
        except (TypeError, ValueError) as exc:
            raise _fail(where, (*path, key), f"is refused by {factory.__name__}: {exc}"
                        ) from None
    try:
        factory(**settings)
    except (TypeError, ValueError) as exc:
        raise _fail(where, path, f"is refused by {factory.__name__}: {exc}") from None
    return settings


def _optimizer(where: Where, value: Any) -> dict[str, Any]:
    path = ("training", "optimizer")
    table = {"name": value} if isinstance(value, str) else _table(where, path, value)
    if "name" not in table:
        raise _fail(where, path, "needs a name (one of: "
                    f"{', '.join(optimizers.OPTIMIZERS.names())})")
    try:
        name = optimizers.OPTIMIZERS.canonical(table.pop("name"))
    except (TypeError, ValueError) as exc:
        raise _fail(where, (*path, "name"), str(exc)) from None
    return {"name": name, **_settings(where, path, optimizer_class(name), table)}


def _early_stopping(where: Where, value: Any) -> dict[str, Any]:
    path = ("training", "early_stopping")
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"patience": value}
    return _fields(where, path, _table(where, path, value), EARLY_STOPPING)


def _schedule(where: Where, value: Any) -> dict[str, Any]:
    path = ("training", "schedule")
    table = _table(where, path, value)
    name = str(table.pop("name", "")).strip().lower()
    if name not in SCHEDULES:
        raise _fail(where, (*path, "name"), f"must be one of: {', '.join(SCHEDULES)}; "
                    f"got {name!r}")
    factory = getattr(schedules, SCHEDULES[name])
    return {"name": name, **_settings(where, path, factory, table)}


def _data(where: Where, data: dict[str, Any], root: Path) -> None:
    if "source" not in data:
        raise _fail(where, ("data", "source"), "is missing: name a data set (moons, iris, ...) "
                    "or a CSV file")
    source = data["source"]
    if is_file_source(source):
        if "target" not in data:
            raise _fail(where, ("data", "source"), f"is a file ({source}): name the column to "
                        "predict with data.target")
        for key in ("n_samples", "noise"):
            if key in data:
                raise _fail(where, ("data", key), "applies to generated data sets, not to the "
                            f"file {source}")
    else:
        from ..datasets import NAMES

        if source.strip().lower().replace("-", "_") not in NAMES:
            raise _fail(where, ("data", "source"), f"is neither a data set ({', '.join(NAMES)}) "
                        f"nor a file path; got {source!r}")
        for key in ("target", "features", "drop"):
            if key in data:
                raise _fail(where, ("data", key), f"applies to CSV files; the data set "
                            f"{source!r} has its own columns")
    if data["test_size"] + data["val_size"] >= 1:
        raise _fail(where, ("data", "val_size"), "plus data.test_size must stay below 1 to "
                    f"leave training rows; got {data['val_size']} + {data['test_size']}")


def _model(where: Where, model: dict[str, Any]) -> None:
    n_hidden = len(model["hidden"])
    for key in ("activation", "dropout"):
        if isinstance(model[key], list) and len(model[key]) != n_hidden:
            raise _fail(where, ("model", key), f"lists {len(model[key])} values for "
                        f"{n_hidden} hidden layers; give one per layer or a single value")


def normalize(raw: Mapping[str, Any], where: Where, root: Path) -> dict[str, Any]:
    """The checked, normalised sections of ``raw`` (see :class:`Experiment`)."""
    if not isinstance(raw, Mapping):
        raise ExperimentError(f"{where(())}: an experiment is a table of sections; got "
                              f"{type(raw).__name__}")
    for section in raw:
        if section not in SCHEMA:
            raise ExperimentError(f"{where((section,))}: {unknown_key((section,), list(SCHEMA))}")
    config: dict[str, Any] = {}
    for section, fields in SCHEMA.items():
        if section == "sweep" and section not in raw:
            continue
        if section == "experiment" and section not in raw:
            continue
        config[section] = _fields(where, (section,), _table(where, (section,),
                                                             raw.get(section, {})), fields)
    training = config["training"]
    training["optimizer"] = _optimizer(where, training["optimizer"])
    if "early_stopping" not in (raw.get("training") or {}):
        # as backprop train: on (patience 20) when there are validation rows to watch
        training["early_stopping"] = {"patience": 20 if config["data"]["val_size"] else 0}
    training["early_stopping"] = _early_stopping(where, training["early_stopping"])
    if "schedule" in training:
        training["schedule"] = _schedule(where, training["schedule"])
    _data(where, config["data"], root)
    _model(where, config["model"])
    if training["early_stopping"]["patience"] and not config["data"]["val_size"]:
        raise _fail(where, ("training", "early_stopping"), "watches the validation loss: set "
                    "data.val_size above 0")
    if "sweep" in config:
        from .space import check_sweep

        check_sweep(config["sweep"], where)
    return config
