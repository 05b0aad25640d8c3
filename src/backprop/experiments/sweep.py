"""``sweep``: every trial of an experiment's ``[sweep]``, on a backend, into a store.

The parent process plans the trials, checks each one's experiment (a bad value fails before
anything runs, naming the ``[sweep.space]`` line), prepares each distinct data section once,
hands the data to the backend once, submits the trials and records each in ``sweep.db`` as it
finishes. At the end it ranks the configurations, saves the best model in ``best/`` (with the
experiment file that trains it again) and draws the figures.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .backends import Backend, make
from .pipeline import Prepared, data_key, prepare
from .report import Progress
from .results import SweepResult, finish
from .schema import default_direction
from .space import Dimension, TrialPlan, dimensions, plan
from .spec import Experiment, ExperimentError, load
from .store import Store
from .trial import Task, TrialResult


class SweepRun:
    """The state of one sweep while it runs (shared by grid/random and Optuna)."""

    def __init__(self, exp: Experiment, out: Path, backend: Backend, callbacks: Sequence[Any],
                 progress: bool, console: Any) -> None:
        self.exp, self.out, self.backend = exp, out, backend
        self.cfg = exp.config["sweep"]
        self.base = exp.without_sweep()
        self.dims: list[Dimension] = dimensions(self.cfg, exp.where)
        self.metric = self.cfg["metric"]
        self.direction = (default_direction(self.metric) if self.cfg["direction"] == "auto"
                          else self.cfg["direction"])
        self.callbacks = tuple(callbacks)
        self.data: dict[str, Prepared] = {}
        self.plans: dict[str, TrialPlan] = {}
        self.show_progress, self.console = progress, console
        self.progress: Progress | None = None
        self.ran = 0
        #: seconds spent planning and preparing data, starting the backend (with sending
        #: the data), running the trials (first submit to last result) and finishing
        self.timings = {"prepare": 0.0, "start": 0.0, "trials": 0.0, "finish": 0.0}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] += time.perf_counter() - start

    # -- trials ---------------------------------------------------------------------------
    def origin(self, path: tuple[str, ...]) -> str:
        """Where a trial's value came from: its ``[sweep.space]`` entry (or the repeats)."""
        key = ".".join(path)
        for dim in self.dims:
            if key == dim.key or key.startswith(dim.key + "."):
                return self.exp.where(("sweep", "space", dim.key))
        return self.exp.where(("sweep", "repeats"))

    def experiment(self, trial: TrialPlan) -> Experiment:
        return self.base.with_values(trial.params, origin=self.origin)

    def check_metric(self, prepared: Prepared) -> None:
        split, _, kind = self.metric.partition("_")
        names = {"train": "train", "val": "validation", "test": "test"}
        wrong = None
        if names[split] not in prepared.X:
            wrong = f"needs {names[split]} rows: data.{'val' if split == 'val' else split}_size"\
                    " is 0"
        elif names[split] not in self.base.config["evaluation"]["splits"]:
            wrong = f"needs {names[split]} in evaluation.splits"
        elif (prepared.task == "regression") != (kind in ("mse", "mae", "r2")) \
                and kind != "loss":
            wrong = f"does not apply to a {prepared.task} task"
        if wrong:
            raise ExperimentError(f"{self.exp.where(('sweep', 'metric'))}: sweep.metric "
                                  f"{self.metric!r} {wrong}")

    def prepare(self, exps: Sequence[Experiment]) -> None:
        """Prepare each distinct data section once (in this process)."""
        for exp in exps:
            key = data_key(exp)
            if key not in self.data:
                self.data[key] = prepare(exp)
                self.check_metric(self.data[key])

    def task(self, trial: TrialPlan, exp: Experiment,
             pruning: dict[str, Any] | None = None) -> Task:
        self.plans[trial.key] = trial
        return Task(trial.key, trial.number, exp.config, str(exp.root), data_key(exp),
                    pruning, self.callbacks)

    def record(self, store: Store, result: TrialResult) -> None:
        store.record(result, self.plans[result.key])
        self.ran += 1
        if self.progress is not None:
            self.progress.advance(result.status, result.metrics)

    def start_progress(self, total: int, done: int, best: float = math.nan) -> None:
        self.progress = Progress(total, done, self.metric, self.direction,
                                 self.show_progress, self.console, best)


def _planned(run: SweepRun, store: Store, resume: bool) -> None:
    """Grid or random search: every trial is known before the first one runs."""
    with run.phase("prepare"):
        plans = plan(run.dims, run.cfg, run.base.config["model"]["seed"])
        exps = [run.experiment(p) for p in plans]
        run.prepare(exps)
        store.plan(plans)
    finished = store.finished_keys() if resume else set()
    todo = [(p, e) for p, e in zip(plans, exps) if p.key not in finished]
    best = _best_so_far(store, run)
    run.start_progress(len(plans), len(plans) - len(todo), best)
    if not todo:
        return
    with run.phase("start"):
        run.backend.start(run.data)
    with run.phase("trials"):
        for trial, exp in todo:
            run.backend.submit(run.task(trial, exp))
        while run.backend.in_flight:
            run.record(store, run.backend.next_result())


def _best_so_far(store: Store, run: SweepRun) -> float:
    values = [t["metrics"].get(run.metric, math.nan) for t in store.trials()
              if t["status"] == "ok"]
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return math.nan
    return max(values) if run.direction == "maximize" else min(values)


def sweep(experiment: Any, out: str | Path | None = None, *, backend: str | Backend = "processes",
          workers: int | None = None, scheduler: str | None = None,
          dask_local: int | None = None, resume: bool = False, progress: bool = True,
          callbacks: Sequence[Any] = (), figures: bool = True, console: Any = None
          ) -> SweepResult:
    """Run the ``[sweep]`` of an experiment; every trial is recorded as it finishes.

    Parameters
    ----------
    experiment : path, dict or Experiment
        An experiment with a ``[sweep]`` section.
    out : path, optional
        The sweep folder (default ``runs/<name>-sweep``): ``sweep.db``, ``trials.csv``,
        ``summary.json``, the figures and ``best/``.
    backend : {"processes", "serial"} or Backend, default "processes"
        Local worker processes (joblib's loky) or this process.
    workers : int, optional
        Worker processes (default: one per core).
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://HOST:8786``): run the trials on that cluster.
    dask_local : int, optional
        Start a Dask ``LocalCluster`` of this many worker processes and run on it.
    resume : bool, default False
        Continue a sweep in ``out``, skipping its finished trials.
    progress : bool, default True
        Show the progress bar.
    callbacks : list of Callback
        Added to each trial's ``fit`` (they travel to the workers, so must pickle).

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import backprop as bp
    >>> result = bp.sweep("examples/moons_sweep.toml", backend="serial")  # doctest: +SKIP
    >>> result.best.params, result.best.mean  # doctest: +SKIP
    """
    exp = load(experiment)
    if "sweep" not in exp.config:
        raise ExperimentError(f"{exp.where(())}: the experiment has no [sweep] section; add "
                              "one, or train it once with 'backprop run'")
    name = exp.config.get("experiment", {}).get("name") or exp.name
    out = Path(out) if out is not None else Path("runs") / f"{name}-sweep"
    chosen = make(backend, workers, scheduler, dask_local)
    run = SweepRun(exp, out, chosen, callbacks, progress, console)
    start = time.perf_counter()
    Prepared.sent = 0
    store = Store(out / "sweep.db")
    try:
        store.begin(exp.digest(), exp.to_toml(out), resume)
        if run.cfg["method"] == "optuna":
            from .optuna_search import search

            search(run, store, resume)
        else:
            _planned(run, store, resume)
    finally:
        if run.progress is not None:
            run.progress.close()
        chosen.close()
    try:
        return finish(run, store, start, figures)
    finally:
        store.close()
