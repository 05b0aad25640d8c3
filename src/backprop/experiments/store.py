"""The sweep's SQLite database: one row per trial, written the moment the trial finishes.

``sweep.db`` in the sweep folder holds the experiment the sweep runs (so ``--resume`` can refuse
a changed file) and, per trial, its values, status (pending, ok, diverged, failed, pruned),
metrics, error, warnings, duration (wall and CPU), worker, per-epoch history and final
weights. Every finished trial is its own committed transaction in SQLite's write-ahead log,
so a client that dies (killed, out of memory) loses nothing it had recorded.
``synchronous=NORMAL`` skips the disk flush of each commit (6 ms a trial here): only a power
cut or an operating-system crash could lose the last trials, and ``--resume`` runs them
again. Readable with any SQLite tool::

    sqlite3 runs/sweep/sweep.db "select number, status, metrics from trials"
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..doctor.findings import json_safe as plain

FINISHED = ("ok", "diverged", "failed", "pruned")

_SCHEMA = """
create table if not exists meta (name text primary key, value text not null);
create table if not exists trials (
    key text primary key,
    number integer not null,
    config text not null,
    repeat integer not null,
    params text not null,
    status text not null default 'pending',
    metrics text,
    error text,
    warnings text,
    duration real,
    cpu real,
    worker text,
    epochs integer,
    history text,
    weights blob,
    dtype text,
    finished_at real
);
"""


def _json(value: Any) -> str:
    # NaN and infinities (a diverged metric) are stored as null: the column stays JSON.
    return json.dumps(plain(value), allow_nan=False)


class SweepStoreError(ValueError):
    """The sweep folder holds another sweep, or finished trials without ``resume``."""


class Store:
    """The trials of one sweep in ``path`` (created if missing).

    Parameters
    ----------
    path : str or Path
        The database file, normally ``<sweep folder>/sweep.db``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=normal")
        self._db.executescript(_SCHEMA)
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the sweep ------------------------------------------------------------------------
    def meta(self, name: str) -> str | None:
        row = self._db.execute("select value from meta where name = ?", (name,)).fetchone()
        return None if row is None else row[0]

    def begin(self, digest: str, experiment_toml: str, resume: bool) -> None:
        """Claim the database for the sweep with this ``digest``.

        Raises
        ------
        SweepStoreError
            It holds another sweep, or finished trials while ``resume`` is False.
        """
        held = self.meta("digest")
        done = self.count_finished()
        if held is not None and held != digest and done:
            raise SweepStoreError(
                f"{self.path} holds {done} finished trials of a different sweep (the experiment "
                "file changed since): choose another output folder, or restore that file to "
                "resume")
        if done and not resume:
            raise SweepStoreError(f"{self.path} already holds {done} finished trials: pass "
                                  "--resume (resume=True) to continue this sweep, or choose "
                                  "another output folder")
        with self._db:
            if held != digest:  # a different sweep that finished nothing: start afresh
                self._db.execute("delete from trials")
            for name, value in (("digest", digest), ("experiment", experiment_toml)):
                self._db.execute("insert or replace into meta values (?, ?)", (name, value))
            self._db.execute("insert or ignore into meta values ('created', ?)",
                             (repr(time.time()),))

    def plan(self, plans: list[Any]) -> None:
        """Record planned trials as pending (trials already present keep their row)."""
        with self._db:
            self._db.executemany(
                "insert or ignore into trials (key, number, config, repeat, params) "
                "values (?, ?, ?, ?, ?)",
                [(p.key, p.number, p.config, p.repeat, _json(p.params)) for p in plans])

    def count_finished(self) -> int:
        marks = ", ".join("?" * len(FINISHED))
        return self._db.execute(f"select count(*) from trials where status in ({marks})",
                                FINISHED).fetchone()[0]

    def finished_keys(self) -> set[str]:
        marks = ", ".join("?" * len(FINISHED))
        rows = self._db.execute(f"select key from trials where status in ({marks})", FINISHED)
        return {row[0] for row in rows}

    # -- one trial ------------------------------------------------------------------------
    def record(self, result: Any, plan: Any) -> None:
        """Write a finished trial (a :class:`~backprop.experiments.trial.TrialResult`)."""
        weights = None if result.weights is None else np.ascontiguousarray(result.weights)
        with self._db:
            self._db.execute(
                "insert or replace into trials (key, number, config, repeat, params, status, "
                "metrics, error, warnings, duration, cpu, worker, epochs, history, weights, "
                "dtype, finished_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (plan.key, plan.number, plan.config, plan.repeat, _json(plan.params),
                 result.status, _json(result.metrics), result.error,
                 _json(result.warnings), result.duration, result.cpu,
                 result.worker, result.epochs, _json(result.history),
                 None if weights is None else weights.tobytes(),
                 None if weights is None else weights.dtype.name, time.time()))

    def trials(self) -> list[dict[str, Any]]:
        """Every trial as a dict (JSON columns decoded, weights left out), by number."""
        rows = self._db.execute(
            "select key, number, config, repeat, params, status, metrics, error, warnings, "
            "duration, cpu, worker, epochs, history from trials order by number")
        names = ("key", "number", "config", "repeat", "params", "status", "metrics", "error",
                 "warnings", "duration", "cpu", "worker", "epochs", "history")
        out = []
        for row in rows:
            trial = dict(zip(names, row))
            for column in ("params", "metrics", "history", "warnings"):
                text = trial[column]
                trial[column] = json.loads(text) if text else ({} if column != "warnings"
                                                               else [])
            trial["metrics"] = {k: (math.nan if v is None else v)
                                for k, v in trial["metrics"].items()}
            out.append(trial)
        return out

    def weights(self, key: str) -> np.ndarray | None:
        """The final flat weights of trial ``key``, or None."""
        row = self._db.execute("select weights, dtype from trials where key = ?",
                               (key,)).fetchone()
        if row is None or row[0] is None:
            return None
        return np.frombuffer(row[0], dtype=row[1]).copy()
