"""Callbacks and files shared by the experiment tests; importable by worker processes.

The workers of a sweep (loky processes, Dask workers) unpickle these callbacks, so they live in
a module of their own rather than in a test file.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from backprop import Callback
from backprop.experiments import sweep
from backprop.experiments.store import Store

#: a small, fast moons sweep: 4 configurations × 2 seeds, a few epochs each
MOONS_SWEEP = """\
[experiment]
name = "tiny"

[data]
source = "moons"
n_samples = 160
noise = 0.25

[model]
hidden = [6]

[training]
epochs = 6
batch_size = 16

[sweep]
method = "grid"
repeats = 2
metric = "val_accuracy"

[sweep.space]
"training.optimizer.lr" = [0.01, 0.05]
"model.hidden" = [[4], [6, 6]]
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def tiny(tmp_path_factory) -> Path:
    """The tiny sweep's file (a module fixture where a test module wraps it)."""
    return write(tmp_path_factory.mktemp("sweep") / "tiny.toml", MOONS_SWEEP)


def serial(tiny, tmp_path_factory):
    """The tiny sweep run serially: the results every other backend must give."""
    return sweep(tiny, tmp_path_factory.mktemp("serial") / "out", backend="serial",
                 progress=False)


def runs(result_or_folder) -> dict[str, tuple]:
    """trial key → (status, metrics, weights bytes), from a sweep's store."""
    out = getattr(result_or_folder, "out", result_or_folder)
    with Store(out / "sweep.db") as store:
        return {t["key"]: (t["status"], t["metrics"], store.weights(t["key"]).tobytes())
                for t in store.trials()}


class KillOnce(Callback):
    """SIGKILL the process running the ``after + 1``-th training this callback sees, at
    epoch 1 — once over all processes: the first to create ``flag`` does it, later ones find
    the file. In a worker (which gets its own copy with each trial, so ``after = 0``) this
    kills the worker; in a serial sweep it kills the sweep's own client.
    """

    def __init__(self, flag: str | Path, after: int = 0) -> None:
        self.flag, self.after = str(flag), after
        self.trainings = 0

    def on_train_begin(self, logs):
        self.trainings += 1
        self._mine = self.trainings == self.after + 1

    def on_epoch_end(self, epoch, logs):
        if epoch == 1 and self._mine:
            try:
                os.close(os.open(self.flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return
            os.kill(os.getpid(), signal.SIGKILL)


class FailAtRate(Callback):
    """Raise in every trial whose learning rate is ``lr`` (a failing trial on purpose)."""

    def __init__(self, lr: float) -> None:
        self.lr = lr

    def on_train_begin(self, logs):
        if self.model.optimizer.lr == self.lr:
            raise RuntimeError(f"this trial fails on purpose (lr={self.lr})")


class InterruptAfter(Callback):
    """Raise KeyboardInterrupt (Ctrl-C) in the ``after + 1``-th training this callback sees
    (a serial sweep, where one instance sees every trial)."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.trainings = 0

    def on_train_begin(self, logs):
        self.trainings += 1
        self._mine = self.trainings == self.after + 1

    def on_epoch_end(self, epoch, logs):
        if self._mine:
            raise KeyboardInterrupt
