"""Callbacks: how the training loop talks to everything around it.

The loop calls ``on_train_begin``, ``on_epoch_begin``, ``on_batch_begin``, ``on_batch_end``,
``on_epoch_end`` and ``on_train_end`` with a ``logs`` dict. Batch hooks cost time on every
step, so the loop calls them only for callbacks that override them. ``History``,
``EarlyStopping``, learning-rate schedules and the progress bar are all callbacks.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .validation import check_nonnegative


class Callback:
    """Base class; ``fit`` calls ``set_model`` and ``set_params`` before training starts.

    Attributes
    ----------
    model : Sequential
        The model being trained.
    params : dict
        The context of the current ``fit`` (see :meth:`set_params`).
    """

    model: Any = None
    params: dict[str, Any] = {}  # replaced, never mutated, by set_params

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Receive the context of this ``fit``, in ``self.params``:

        - ``"epochs"``: the epoch index training stops before; ``"initial_epoch"``: the first;
        - ``"batch_size"``: rows per step (None: the full batch);
        - ``"validation"``: whether validation data is logged (``val_loss``, ...);
        - ``"callbacks"``: the callbacks the user passed, in order (what a checkpoint saves);
        - ``"resumed"``: the ``ResumePoint`` when ``fit`` resumes from a checkpoint, else None.

        The last two are emptied when training ends. All callbacks of one ``fit`` share the
        dict.
        """
        self.params = params

    def on_train_begin(self, logs: dict[str, Any]) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict[str, Any]) -> None: ...
    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None: ...
    def on_train_end(self, logs: dict[str, Any]) -> None: ...

    def get_state(self) -> dict[str, Any]:
        """What this callback must carry across a checkpoint and resume: numbers, None or
        1-D arrays. Empty for a callback without memory."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Take back a ``get_state()`` result (called after ``on_train_begin`` on resume)."""

    def implements(self, hook: str) -> bool:
        """Whether this callback overrides ``hook`` (say "on_batch_end"): the loop calls only
        hooks that do something, since each call is paid on every epoch or step."""
        return getattr(type(self), hook) is not getattr(Callback, hook)

    def uses_batch_hooks(self) -> bool:
        return self.implements("on_batch_begin") or self.implements("on_batch_end")


class History(Callback):
    """Per-epoch record of everything the loop logs.

    Attributes
    ----------
    history : dict of str → list of float
        ``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``, ``lr``, and per Dense layer k
        ``grad_norm/layer<k>`` (‖∂L/∂W⁽ᵏ⁾‖ on the epoch's last batch) and
        ``weight_norm/layer<k>`` (‖W⁽ᵏ⁾‖ after the epoch).
    epoch : list of int
        Epoch numbers (0-based) in the order they ran.
    stopped_early, interrupted : bool
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stopped_early = False
        self.interrupted = False

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        history = self.history
        for key, value in logs.items():
            if key in history:
                history[key].append(float(value))
            else:
                history[key] = [float(value)]

    def layer_series(self, prefix: str) -> np.ndarray:
        """``(epochs, n_layers)`` array of ``grad_norm`` or ``weight_norm`` values."""
        keys = sorted((k for k in self.history if k.startswith(prefix + "/layer")),
                      key=lambda k: int(k.rsplit("layer", 1)[1]))
        if not keys:
            return np.empty((len(self.epoch), 0))
        return np.column_stack([self.history[k] for k in keys])

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={sorted(self.history)})"


def monitor_mode(monitor: str, mode: str) -> str:
    """"min" or "max" for ``mode``; "auto" is "max" for accuracies and "min" otherwise."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


class MonitorCallback(Callback):
    """Base for callbacks that watch one logged value (``EarlyStopping``,
    ``ReduceLROnPlateau``, ``ModelCheckpoint``).

    Subclasses set ``monitor``, ``mode`` (through :func:`monitor_mode`) and ``min_delta``.
    """

    monitor: str
    mode: str
    min_delta: float

    def check_monitor_available(self) -> None:
        """Refuse to start when the monitored value needs validation data this fit lacks."""
        if self.monitor.startswith("val_") and not self.params.get("validation", False):
            raise ValueError(
                f"{type(self).__name__} monitors {self.monitor!r} but fit got no validation "
                "data; pass validation_data= or validation_split=, or monitor='loss'"
            )

    def improved(self, current: float, best: float) -> bool:
        """Whether ``current`` beats ``best`` by more than ``min_delta``."""
        if self.mode == "min":
            return current < best - self.min_delta
        return current > best + self.min_delta


class EarlyStopping(MonitorCallback):
    """Stop once ``monitor`` has failed to improve by ``min_delta`` for more than
    ``patience`` consecutive epochs (the rule of scikit-learn's ``n_iter_no_change`` and
    PyTorch's ``ReduceLROnPlateau``; Keras stops one epoch sooner).

    Parameters
    ----------
    monitor : str, default "val_loss"
    patience : int, default 10
    min_delta : float, default 0.0
    restore_best_weights : bool, default True
        Put back the weights of the best epoch when training stops (early or not).
    mode : {"auto", "min", "max"}

    Examples
    --------
    >>> stop = EarlyStopping(monitor="val_loss", patience=20)
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 10, min_delta: float = 0.0,
                 restore_best_weights: bool = True, mode: str = "auto") -> None:
        self.monitor = monitor
        self.patience = int(check_nonnegative("patience", patience))
        self.min_delta = check_nonnegative("min_delta", min_delta)
        self.restore_best_weights = restore_best_weights
        self.mode = monitor_mode(monitor, mode)
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None

    def on_train_begin(self, logs):
        self.check_monitor_available()
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.best_weights = None
        self.best_epoch = None
        self.stopped_epoch = None

    def on_epoch_end(self, epoch, logs):
        current = logs.get(self.monitor)
        if current is None:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, which is not logged; "
                f"available: {', '.join(sorted(logs))}"
            )
        if self.improved(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_flat_parameters()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def get_state(self):
        return {"best": self.best if math.isfinite(self.best) else None, "wait": self.wait,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def set_state(self, state):
        best = state.get("best")
        if best is not None:
            self.best = float(best)
        self.wait = int(state.get("wait", 0))
        self.best_epoch = state.get("best_epoch")
        if state.get("best_weights") is not None:
            self.best_weights = np.array(state["best_weights"], dtype=self.model.dtype)

    def on_train_end(self, logs):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_flat_parameters(self.best_weights)


class ProgressBar(Callback):
    """One live line per run: ``epoch k/n``, a bar, elapsed and remaining time, the loss,
    then the other logged numbers while they fit.

    On a narrow terminal the extras drop out first (the description, then the other
    metrics, last first), then the bar shrinks and goes; the epoch count, the elapsed and
    remaining times (m:ss) and the loss always stay.

    Parameters
    ----------
    description : str, default "training"
        Shown first when the line has room for it.
    console : rich.console.Console, optional
        Where to draw (a fixed-width console in tests); the terminal by default.
    """

    #: logged numbers shown after the loss, most important first
    EXTRAS = ("val_loss", "accuracy", "val_accuracy")
    MIN_BAR, MAX_BAR = 8, 30

    def __init__(self, description: str = "training", console: Any = None) -> None:
        self.description = description
        self.console = console
        self._total: int | None = None
        self._done = 0
        self._logs: dict[str, float] = {}
        self._start = 0.0

    def on_train_begin(self, logs):
        try:
            from rich.live import Live
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the progress bar needs rich: pip install 'backprop[all]'") from exc
        self._total = logs.get("epochs")
        self._done, self._logs = 0, {}
        self._start = time.monotonic()
        self._live = Live(_ProgressLine(self), console=self.console, refresh_per_second=4,
                          transient=False)
        self._live.start()

    def on_epoch_end(self, epoch, logs):
        self._done += 1
        self._logs = dict(logs)

    def on_train_end(self, logs):
        self._live.stop()

    def line(self, width: int) -> list[tuple[str, str]]:
        """The line's pieces as (text, rich style), fitted into ``width`` columns."""
        done, total = self._done, self._total or self._done
        elapsed = time.monotonic() - self._start
        left = elapsed / done * (total - done) if done else None
        head = f"epoch {done}/{total}"
        times = f"{_clock(elapsed)} < {_clock(left)}"
        logs = self._logs
        loss = f"loss {logs['loss']:.4g}" if "loss" in logs else "loss …"
        extras = [f"{k} {logs[k]:.4g}" for k in self.EXTRAS if k in logs]
        used = len(head) + len(times) + len(loss) + 4  # two-space gaps
        shown = []
        for extra in extras:
            if used + 2 + len(extra) + 1 + self.MIN_BAR <= width:
                shown.append(extra)
                used += 2 + len(extra)
        prefix = f"{self.description}  " if self.description else ""
        if prefix and used + len(prefix) + 1 + self.MAX_BAR <= width:
            used += len(prefix)
        else:
            prefix = ""
        bar = min(self.MAX_BAR, width - used - 1)
        pieces = [(prefix, "bold"), (head, "bold")]
        if bar >= self.MIN_BAR:
            filled = int(round(bar * done / total)) if total else 0
            pieces += [(" ", ""), ("━" * filled, "magenta"), ("━" * (bar - filled), "grey23")]
        pieces += [("  ", ""), (times, "cyan"), ("  ", ""), (loss, "")]
        for extra in shown:
            pieces += [("  ", ""), (extra, "dim")]
        return pieces


class _ProgressLine:
    """The rich renderable of a ProgressBar, laid out for the console's width at each
    refresh."""

    def __init__(self, bar: ProgressBar) -> None:
        self.bar = bar

    def __rich_console__(self, console, options):
        from rich.text import Text

        text = Text(no_wrap=True, overflow="ellipsis")
        for piece, style in self.bar.line(options.max_width):
            text.append(piece, style=style or None)
        yield text


def _clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-:--"
    seconds = int(round(seconds))
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def check_callbacks(callbacks: Any) -> list[Callback]:
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be Callback instances; got {type(cb).__name__}")
    return callbacks

