"""One trial, as a worker runs it: an experiment's values, the shared data, a result.

Everything a worker needs travels in a small :class:`Task` (the trial's experiment as a dict
and the key of its data); the data themselves reach each worker once, beforehand (see
``backends``). A trial that diverges or raises is a result with its status and error, never
an exception: the sweep goes on.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..callbacks import Callback
from .pipeline import Prepared, build, evaluate
from .spec import Experiment

#: history keys kept per trial (the per-layer norms stay out of the store)
_SKIPPED_HISTORY = ("grad_norm/", "weight_norm/")


@dataclass(frozen=True)
class Task:
    """What a worker gets for one trial (a few hundred bytes; no data).

    Attributes
    ----------
    key : str
        The trial's identity (see ``space.TrialPlan``).
    config : dict
        The trial's normalised experiment.
    root : str
        Folder that relative CSV paths in ``config`` are relative to.
    data_key : str
        Which of the shared prepared data sets the trial trains on.
    pruning : dict, optional
        Optuna storage, study and trial to report the validation loss to.
    callbacks : tuple of Callback
        Extra callbacks given to ``sweep(callbacks=...)``, added to each trial's ``fit``.
    """

    key: str
    number: int
    config: dict[str, Any]
    root: str
    data_key: str
    pruning: dict[str, Any] | None = None
    callbacks: tuple[Any, ...] = ()


@dataclass
class TrialResult:
    """What a trial hands back; ``status`` is ok, diverged, failed or pruned."""

    key: str
    number: int
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    duration: float = 0.0
    cpu: float = 0.0
    worker: str = ""
    epochs: int = 0
    weights: np.ndarray | None = None


def worker_name() -> str:
    """``host:pid``, with the Dask worker's address when the trial runs on one."""
    name = f"{socket.gethostname()}:{os.getpid()}"
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            return f"{get_worker().address} ({name})"
        except ValueError:  # not inside a Dask worker
            pass
    return name


_LIMITED = False


def one_blas_thread() -> None:
    """Limit this worker process to one BLAS thread, once: the workers share the cores, and
    every backend then computes with the same number of threads (the same bits)."""
    global _LIMITED
    if not _LIMITED:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
        _LIMITED = True


class Pruning(Callback):
    """Report the validation loss to an Optuna trial each epoch; stop when it says prune."""

    def __init__(self, storage: str, study: str, trial_id: int, warmup: int) -> None:
        self.storage, self.study, self.trial_id, self.warmup = storage, study, trial_id, warmup
        self.pruned = False

    def on_train_begin(self, logs):
        from .optuna_store import journal, optuna_module

        optuna = optuna_module()
        study = optuna.load_study(study_name=self.study, storage=journal(self.storage),
                                  pruner=optuna.pruners.MedianPruner(n_warmup_steps=self.warmup))
        self._trial = optuna.trial.Trial(study, self.trial_id)

    def on_epoch_end(self, epoch, logs):
        value = logs.get("val_loss")
        if value is None or not np.isfinite(value):
            return
        self._trial.report(float(value), epoch)
        if epoch >= self.warmup and self._trial.should_prune():
            self.pruned = True
            self.model.stop_training = True


def _history(history: Any) -> dict[str, list[float]]:
    return {k: list(v) for k, v in history.history.items()
            if not k.startswith(_SKIPPED_HISTORY)}


def execute(task: Task, shared: dict[str, Prepared]) -> TrialResult:
    """Run one trial on its shared data; failures come back as results."""
    from ..training import TrainingDiverged

    start, cpu = time.perf_counter(), time.process_time()
    result = TrialResult(task.key, task.number, "ok", worker=worker_name())
    callbacks = list(task.callbacks)
    pruning = Pruning(**task.pruning) if task.pruning else None
    if pruning is not None:
        callbacks.append(pruning)
    model = None
    caught: list[Any] = []
    try:
        exp = Experiment.checked(task.config, task.root, lambda path: f"trial {task.number}")
        prepared = shared[task.data_key]
        model, kwargs = build(exp, prepared)
        kwargs["callbacks"] = [*kwargs["callbacks"], *callbacks]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # kept with the trial, not printed mid-sweep
            history = model.fit(**kwargs)
        if history.interrupted:  # Ctrl-C in a serial sweep: stop it, record nothing
            raise KeyboardInterrupt
        result.history, result.epochs = _history(history), len(history.epoch)
        result.weights = model.get_flat_weights()
        result.metrics = evaluate(model, exp, prepared)
        if pruning is not None and pruning.pruned:
            result.status = "pruned"
    except TrainingDiverged as exc:
        result.status, result.error = "diverged", str(exc)
        if model is not None and getattr(model, "history", None) is not None:
            result.history = _history(model.history)
            result.epochs = len(model.history.epoch)
    except Exception as exc:  # any failure of one trial is recorded; the sweep goes on
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        result.status = "failed"
        result.error = f"{type(exc).__name__}: {exc}\n" + "".join(lines[-6:])
    result.warnings = list(dict.fromkeys(str(w.message) for w in caught))
    result.duration = time.perf_counter() - start
    result.cpu = time.process_time() - cpu  # below duration when the cores are shared
    return result
