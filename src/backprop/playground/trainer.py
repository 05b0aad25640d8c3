"""Training in a worker thread: ``fit`` in chunks, controlled between epochs.

The worker calls the engine's own ``fit`` (``initial_epoch`` → ``epochs``, the same
optimiser instance each time, so its moments and the model's random stream carry on exactly
as in one long call). A callback ends each epoch: it counts the epoch, hands a
:class:`Snapshot` to whoever asked for one (:meth:`Trainer.request`), and stops the chunk
when asked. The page asks once per frame it can show, so training is never held up by a page
that draws slowly, and a frame is always of the newest weights.

The snapshot is handed over in the worker thread, between two epochs: drawing it there costs
the worker a few milliseconds a frame, far less than two threads fighting over the GIL
would (each small NumPy call of the training step would wait for the drawing thread's turn).
With many batches per epoch, snapshots are also handed over between batches, so the page
keeps moving on large data.

Every change to the network (a step, a weight edit, a new learning rate) happens with the
worker stopped (:meth:`Trainer.paused`), between two epochs, so it lands at a known epoch and
an exported snippet can replay it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import Callback, TrainingDiverged

#: epochs of one ``fit`` call of the worker at most: a play is one ``fit`` (one run for
#: the doctor) until paused, and this bounds the history that call keeps in memory
CHUNK_EPOCHS = 20_000
#: above this many batches per epoch, snapshots are also handed over between batches
MANY_BATCHES = 64


@dataclass(frozen=True)
class Snapshot:
    """The network as it was at the end of an epoch.

    Attributes
    ----------
    generation : int
        Which network (a rebuild starts a new generation).
    seq : int
        Increases with every snapshot of a session.
    epoch : int
        Epochs completed.
    values : ndarray of shape (n_parameters,)
        A copy of every parameter (``model.get_flat_weights()``).
    grad_norms : tuple of float
        ‖∂L/∂W⁽ᵏ⁾‖ per Dense layer, on the epoch's last batch (NaN before any training).
    playing : bool
    """

    generation: int
    seq: int
    epoch: int
    values: np.ndarray
    grad_norms: tuple[float, ...]
    playing: bool


@dataclass
class Job:
    """What the worker trains: the arguments of ``fit`` besides epochs."""

    model: Any
    X: np.ndarray
    T: np.ndarray
    loss: str
    optimizer: Any
    batch_size: int
    l2: float
    generation: int
    callbacks: tuple[Any, ...] = ()
    #: (X, T) whose loss ``fit`` reports as val_loss each epoch (the doctor reads it)
    validation: tuple[np.ndarray, np.ndarray] | None = None


class _Control(Callback):
    """Ends every epoch of the worker's ``fit``: count, hand over a snapshot, stop if asked."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        trainer = self.trainer
        trainer.epoch = epoch + 1
        if trainer._request is not None:
            trainer._serve_request()
        if trainer._stop.is_set():
            self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any]) -> None:
        # A pause is not early stopping: the callbacks after this one (the doctor) and the
        # history must not read it as one.
        self.model.stop_training = False


class _BatchControl(_Control):
    """Also hands over snapshots between batches (long epochs)."""

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        if self.trainer._request is not None:
            self.trainer._serve_request()


class Trainer:
    """Runs one session's training in a worker thread.

    Parameters
    ----------
    on_event : callable
        Called (from the worker thread) with a dict for the page: training diverged or
        failed, with a message saying why; the worker has stopped.
    """

    def __init__(self, on_event: Callable[[dict[str, Any]], None]) -> None:
        self.on_event = on_event
        self.job: Job | None = None
        self.epoch = 0
        self.latest: Snapshot | None = None
        self._seq = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        #: a callback waiting for the next snapshot, and whether the worker will serve it
        self._request: Callable[[Snapshot], None] | None = None
        self._accepting = False
        self._lock = threading.Lock()

    # -- state --------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    def load(self, job: Job, epoch: int = 0) -> None:
        """Train ``job`` from now on (the worker must be stopped)."""
        self.pause()
        self.job = job
        self.epoch = epoch
        self.publish()

    def publish(self) -> Snapshot | None:
        """Make the network's current state the latest snapshot, and return it."""
        job = self.job
        if job is None:
            return None
        model = job.model
        norms = tuple(float(np.sqrt(np.vdot(layer.W.grad, layer.W.grad)))
                      if job.optimizer.iterations else float("nan")
                      for layer in model.dense_layers)
        self._seq += 1
        self.latest = Snapshot(job.generation, self._seq, self.epoch,
                               model.get_flat_weights(), norms, self.playing)
        return self.latest

    def request(self, callback: Callable[[Snapshot], None]) -> bool:
        """Have the worker call ``callback(snapshot)`` at its next epoch (or batch) end.

        Returns False, and calls nothing, when the worker is not running: the caller then
        uses :attr:`latest`. The callback runs in the worker thread.
        """
        with self._lock:
            if not self._accepting or self._stop.is_set():
                return False
            self._request = callback
            return True

    def _serve_request(self) -> None:
        with self._lock:
            callback, self._request = self._request, None
        if callback is not None:
            callback(self.publish())

    # -- control ------------------------------------------------------------------------------
    def play(self) -> None:
        """Start the worker (no effect while it runs)."""
        if self.playing or self.job is None:
            return
        self.pause()  # a worker that is still finishing its last epoch
        self._stop.clear()
        self._accepting = True
        self._thread = threading.Thread(target=self._run, name="playground-trainer",
                                        daemon=True)
        self._thread.start()

    def pause(self) -> None:
        """Stop the worker after its current epoch and wait for it."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._thread = None
        self.publish()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the worker for a change to the network, then carry on as before."""
        was_playing = self.playing
        self.pause()
        try:
            yield
        finally:
            self.publish()
            if was_playing:
                self.play()

    def step(self, epochs: int = 1) -> None:
        """Train ``epochs`` epochs now, in the calling thread (the worker is stopped)."""
        self.pause()
        self._stop.clear()
        try:
            self._fit(self.epoch + epochs)
        finally:
            self._stop.set()
            self.publish()

    def close(self) -> None:
        self.pause()
        self.job = None

    # -- the worker ---------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._fit(self.epoch + CHUNK_EPOCHS)
        except TrainingDiverged as exc:
            self.epoch = exc.epoch
            self._stopped_by(f"Training stopped: {exc}")
        except Exception as exc:  # noqa: BLE001 - the page must hear of any failure
            self._stopped_by(f"Training stopped: {type(exc).__name__}: {exc}")
        finally:
            with self._lock:
                self._accepting = False
            self._stop.set()
            self.publish()
            self._serve_request()  # a page waiting for a frame gets the final one

    def _stopped_by(self, message: str) -> None:
        self._stop.set()
        self.publish()
        self.on_event({"type": "error", "level": "error", "message": message, "stopped": True})

    def _fit(self, until: int) -> None:
        job = self.job
        if job is None:
            return
        batches = -(-job.X.shape[0] // job.batch_size)
        control = _BatchControl(self) if batches > MANY_BATCHES else _Control(self)
        job.model.fit(job.X, job.T, loss=job.loss, optimizer=job.optimizer, epochs=until,
                      initial_epoch=self.epoch, batch_size=job.batch_size, l2=job.l2,
                      metrics=[], shuffle=True, validation_data=job.validation,
                      callbacks=[control, *job.callbacks])
