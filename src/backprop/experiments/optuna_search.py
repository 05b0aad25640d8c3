"""``method = "optuna"``: Optuna's TPE sampler proposes each configuration from the results so
far, and a median pruner stops trials whose per-epoch validation loss lags.

The study lives in ``optuna.journal`` in the sweep folder (Optuna's journal file storage,
safe for several processes), so a worker reports its validation loss each epoch straight to
it and ``--resume`` finds the study again. An Optuna trial is one configuration; with
``repeats = k`` its k seeds run as k tasks, its value is their mean, and the first seed's
validation loss drives the pruning. Workers must reach the sweep folder, which holds for local
processes and a LocalCluster (a remote cluster needs the folder on a shared file system).
With several workers TPE sees results in the order they finish, so only a serial Optuna sweep
repeats exactly; grid and random sweeps repeat on every backend.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

from .common import ExperimentError
from .optuna_store import journal, optuna_module
from .space import trial_plan
from .trial import TrialResult

STUDY = "sweep"


def _data_variants(run: Any) -> list[Any]:
    """The experiments of every data section the search may reach (data keys must be
    choices: the data are prepared and shipped before the first trial)."""
    data_dims = [d for d in run.dims if d.key.startswith("data.")]
    for dim in data_dims:
        if dim.kind != "choice":
            raise ExperimentError(f"{run.exp.where(('sweep', 'space', dim.key))}: with method = "
                                  f"\"optuna\" a data key takes a list of choices, not a "
                                  f"{dim.kind} range (the data are prepared before the search)")
    combos = itertools.product(*(d.values for d in data_dims))
    return [run.base.with_values(dict(zip([d.key for d in data_dims], c)), run.origin)
            for c in combos]


def search(run: Any, store: Any, resume: bool) -> None:
    """Ask TPE for configurations until ``sweep.trials`` of them have finished."""
    optuna = optuna_module()
    cfg = run.cfg
    with run.phase("prepare"):
        for dim in run.dims:  # a bad range fails now, naming its line, not mid-search
            for value in dim.extremes():
                run.base.with_values({dim.key: value}, run.origin)
        run.prepare(_data_variants(run))
    path = run.out / "optuna.journal"
    pruner = (optuna.pruners.MedianPruner(n_warmup_steps=cfg["prune_warmup"]) if cfg["prune"]
              else optuna.pruners.NopPruner())
    study = optuna.create_study(study_name=STUDY, storage=journal(path),
                                direction=run.direction, load_if_exists=True, pruner=pruner)
    # A resumed study must not draw its first points again: the seed moves on by the trials
    # already asked (a fresh sweep starts from sweep.seed itself).
    study.sampler = optuna.samplers.TPESampler(seed=cfg["seed"] + len(study.trials),
                                               constant_liar=True)
    state = optuna.trial.TrialState
    for stale in study.get_trials(deepcopy=False, states=(state.RUNNING,)):
        study.tell(stale.number, state=state.FAIL)  # its client died: ask again
    done = len(study.get_trials(deepcopy=False, states=(state.COMPLETE, state.PRUNED)))
    repeats, total = cfg["repeats"], cfg["trials"]
    run.start_progress(total * repeats, done * repeats)
    if done >= total:
        return
    with run.phase("start"):
        run.backend.start(run.data)
    with run.phase("trials"):
        _loop(run, study, store, path, total - done)


def _loop(run: Any, study: Any, store: Any, path: Path, to_ask: int) -> None:
    """Keep the workers busy: ask for a configuration whenever a slot frees."""
    repeats = run.cfg["repeats"]
    open_trials: dict[int, tuple[Any, list[TrialResult]]] = {}
    slots = max(run.backend.workers, repeats)
    while True:
        while to_ask and run.backend.in_flight + repeats <= slots:
            _ask(run, study, path, open_trials)
            to_ask -= 1
        if not run.backend.in_flight:
            break
        result = run.backend.next_result()
        run.record(store, result)
        number = result.number // repeats
        trial, results = open_trials[number]
        results.append(result)
        if len(results) == repeats:
            del open_trials[number]
            _tell(run, study, trial, results)


def _ask(run: Any, study: Any, path: Path, open_trials: dict[int, Any]) -> None:
    trial = study.ask()
    values = {dim.key: dim.suggest(trial) for dim in run.dims}
    repeats = run.cfg["repeats"]
    plans = [trial_plan(trial.number * repeats + r, values, r, run.base.config["model"]["seed"],
                        salt=f"optuna trial {trial.number}") for r in range(repeats)]
    open_trials[trial.number] = (trial, [])
    for plan in plans:
        exp = run.experiment(plan)
        # Optuna's public Trial(study, trial_id) needs the id, which only _trial_id holds.
        pruning = None if not run.cfg["prune"] or plan.repeat else {
            "storage": str(path), "study": STUDY, "trial_id": trial._trial_id,
            "warmup": run.cfg["prune_warmup"]}
        run.backend.submit(run.task(plan, exp, pruning))


def _tell(run: Any, study: Any, trial: Any, results: list[TrialResult]) -> None:
    state = optuna_module().trial.TrialState
    first = min(results, key=lambda r: r.number)
    values = [r.metrics.get(run.metric, math.nan) for r in results if r.status == "ok"]
    if first.status == "pruned":
        study.tell(trial, state=state.PRUNED)
    elif len(values) < len(results) or not all(math.isfinite(v) for v in values):
        study.tell(trial, state=state.FAIL)
    else:
        study.tell(trial, sum(values) / len(values))

