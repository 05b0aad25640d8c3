"""Learning-rate schedules, as callbacks that set ``model.optimizer.lr`` each epoch.

``StepDecay``, ``ExponentialDecay`` and ``CosineDecay`` compute the rate from the epoch
number and the optimiser's starting rate η₀; ``ReduceLROnPlateau`` reacts to a monitored value.
"""

from __future__ import annotations

import math

from .callbacks import Callback, MonitorCallback, monitor_mode
from .validation import check_in_range, check_nonnegative, check_positive


class _EpochSchedule(Callback):
    def on_train_begin(self, logs):
        if not hasattr(self, "base_lr"):
            self.base_lr = self.model.optimizer.lr

    def on_epoch_begin(self, epoch, logs):
        self.model.optimizer.lr = self.rate(epoch)

    def get_state(self):
        return {"base_lr": self.base_lr}

    def set_state(self, state):
        self.base_lr = float(state["base_lr"])

    def rate(self, epoch: int) -> float:
        raise NotImplementedError


class StepDecay(_EpochSchedule):
    """η = η₀ · γ^⌊epoch / step_size⌋."""

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_positive("step_size", step_size, integer=True)
        self.gamma = check_positive("gamma", gamma)

    def rate(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(_EpochSchedule):
    """η = η₀ · γ^epoch."""

    def __init__(self, gamma: float) -> None:
        self.gamma = check_positive("gamma", gamma)

    def rate(self, epoch):
        return self.base_lr * self.gamma**epoch


class CosineDecay(_EpochSchedule):
    """η = η_min + ½(η₀ − η_min)(1 + cos(π · epoch / total_epochs)), flat after the end."""

    def __init__(self, total_epochs: int, min_lr: float = 0.0) -> None:
        self.total_epochs = check_positive("total_epochs", total_epochs, integer=True)
        self.min_lr = check_nonnegative("min_lr", min_lr)

    def rate(self, epoch):
        progress = min(epoch, self.total_epochs) / self.total_epochs
        rate = self.min_lr + 0.5 * (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * progress))
        return max(rate, self.min_lr, 1e-300)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 min_delta: float = 1e-4, min_lr: float = 0.0, mode: str = "auto") -> None:
        self.monitor = monitor
        self.factor = check_in_range("factor", factor, 0.0, 1.0, closed_low=False)
        self.patience = int(check_nonnegative("patience", patience))
        self.min_delta = check_nonnegative("min_delta", min_delta)
        self.min_lr = check_nonnegative("min_lr", min_lr)
        self.mode = monitor_mode(monitor, mode)

    def on_train_begin(self, logs):
        self.check_monitor_available()
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0

    def get_state(self):
        return {"best": self.best if math.isfinite(self.best) else None, "wait": self.wait}

    def set_state(self, state):
        if state.get("best") is not None:
            self.best = float(state["best"])
        self.wait = int(state.get("wait", 0))

    def on_epoch_end(self, epoch, logs):
        current = logs[self.monitor]
        if self.improved(current, self.best):
            self.best, self.wait = current, 0
            return
        self.wait += 1
        if self.wait > self.patience:
            optimizer = self.model.optimizer
            optimizer.lr = max(optimizer.lr * self.factor, self.min_lr, 1e-300)
            self.wait = 0
