"""The experiment file: read, checked key by key with the file line, written back as TOML.

An :class:`Experiment` is the normalised form: every section present, defaults filled in, names
in their canonical spelling, the optimiser and early stopping as tables. Writing it and reading
it back gives the same experiment, so a run folder's ``experiment.toml`` repeats the run.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .check import normalize
from .common import ExperimentError, Where, is_file_source
from .lines import KeyLines
from .schema import ABSENT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["Experiment", "ExperimentError", "Where", "load", "tomllib"]


class Experiment:
    """One checked experiment: data, model, training, evaluation and an optional sweep.

    Parameters
    ----------
    raw : mapping
        Sections as read from TOML; checked and normalised here.
    root : Path, optional
        Folder that relative CSV paths are relative to (the file's folder; default the
        working directory).
    where : callable, optional
        Maps a key path to where it was set ("exp.toml line 7"), for error messages.

    Examples
    --------
    >>> exp = Experiment({"data": {"source": "moons"}, "training": {"epochs": 5}})
    >>> exp.get("training.optimizer.lr"), exp.get("model.hidden")
    (0.01, [10, 10])
    """

    def __init__(self, raw: Mapping[str, Any], root: str | Path | None = None,
                 where: Where | None = None, name: str = "experiment") -> None:
        self.root = Path(root) if root is not None else Path.cwd()
        self.where: Where = where or (lambda path: name)
        #: the file's stem, or "experiment" (names a default output folder)
        self.name = name
        self.config: dict[str, Any] = normalize(raw, self.where, self.root)

    @classmethod
    def checked(cls, config: dict[str, Any], root: str | Path, where: Where | None = None
                ) -> Experiment:
        """An experiment from ``config`` already normalised by another Experiment (a sweep's
        worker gets the trial's checked config: checking it again would cost a millisecond
        a trial and find nothing)."""
        exp = cls.__new__(cls)
        exp.root, exp.config, exp.name = Path(root), config, "experiment"
        exp.where = where or (lambda path: "experiment")
        return exp

    # -- reading ------------------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, name: str = "experiment", root: str | Path | None = None
                  ) -> Experiment:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ExperimentError(f"{name}: not a valid TOML file: {exc}") from None
        lines = KeyLines(text)

        def where(path: tuple[str, ...]) -> str:
            line = lines.line_of(path)
            return f"{name} line {line}" if line else name

        return cls(raw, root, where, Path(name).stem)

    @classmethod
    def from_file(cls, path: str | Path) -> Experiment:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"experiment file not found: {path}")
        return cls.from_text(path.read_text(encoding="utf-8"), str(path), path.parent)

    # -- values -------------------------------------------------------------------------
    def get(self, key: str, default: Any = ABSENT) -> Any:
        """The value at a dotted key such as ``"training.optimizer.lr"``."""
        node: Any = self.config
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is not ABSENT:
                    return default
                raise KeyError(f"the experiment has no key {key!r}")
            node = node[part]
        return copy.deepcopy(node)

    def with_values(self, values: Mapping[str, Any], origin: Where | None = None
                    ) -> Experiment:
        """A copy with dotted keys set, checked again; errors name ``origin(path)``.

        Raises
        ------
        ExperimentError
            A key that does not exist or a value it does not take.
        """
        raw = copy.deepcopy(self.config)
        changed = []
        for key, value in values.items():
            path = tuple(key.split("."))
            changed.append(path)
            node = raw
            for part in path[:-1]:
                if not isinstance(node.get(part), dict):
                    node[part] = {}
                node = node[part]
            node[path[-1]] = copy.deepcopy(value)
        outer = self.where

        def where(path: tuple[str, ...]) -> str:
            if origin is not None and any(path[:len(c)] == c for c in changed):
                return origin(path)
            return outer(path)

        return Experiment(raw, self.root, where, self.name)

    def without_sweep(self) -> Experiment:
        """The base experiment: this one without its ``[sweep]`` section."""
        raw = {k: v for k, v in self.config.items() if k != "sweep"}
        return Experiment(raw, self.root, self.where, self.name)

    @property
    def data_source(self) -> str:
        """The data-set name, or the CSV file's absolute path."""
        source = self.config["data"]["source"]
        return str((self.root / source).resolve()) if is_file_source(source) else source

    def digest(self) -> str:
        """A short hash of everything that decides the result (not name or description)."""
        body = {k: v for k, v in self.config.items() if k != "experiment"}
        body["data"] = {**body["data"], "source": self.data_source}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- writing ------------------------------------------------------------------------
    def to_dict(self, folder: str | Path | None = None) -> dict[str, Any]:
        """The normalised sections; a CSV path made relative to ``folder`` when given."""
        out = copy.deepcopy(self.config)
        source = out["data"]["source"]
        if folder is not None and is_file_source(source):
            relative = os.path.relpath(self.data_source, Path(folder).resolve())
            out["data"]["source"] = Path(relative).as_posix()
        return out

    def to_toml(self, folder: str | Path | None = None, header: str = "") -> str:
        from .tomlout import dumps

        comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
        return comment + dumps(self.to_dict(folder))

    def write(self, path: str | Path, header: str = "") -> Path:
        """Write the experiment as TOML; CSV paths are made relative to the file's folder."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_toml(path.parent, header), encoding="utf-8")
        return path

    def __repr__(self) -> str:
        name = self.config.get("experiment", {}).get("name")
        return f"Experiment({name or self.config['data']['source']!r})"


def load(source: str | Path | Mapping[str, Any] | Experiment) -> Experiment:
    """An :class:`Experiment` from a TOML file path, a dict of sections, or itself."""
    if isinstance(source, Experiment):
        return source
    if isinstance(source, Mapping):
        return Experiment(source)
    if isinstance(source, (str, Path)):
        return Experiment.from_file(source)
    raise TypeError("an experiment is a TOML file path, a dict of sections or an Experiment; "
                    f"got {type(source).__name__}")
