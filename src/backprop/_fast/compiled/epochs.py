"""The epoch loop around the kernels: what ``_Loop.run`` does per epoch, for compiled epochs.

With no callback but the ``History`` and no validation data, nothing can look at the model
between epochs, so the kernels run many epochs per call (a chunk, doubled while a chunk takes
under CHUNK_SECONDS, so that Ctrl-C is still answered promptly) and the history is written
afterwards from the per-epoch results. Otherwise each call is one epoch, with every callback
and the validation around it exactly as on the NumPy path.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

from ..numpy_direct import dot
from . import chosen, load_kernels, worth_loading
from .runner import CompiledTrainer, qualified_name

#: a chunk of epochs grows while it takes less than this
CHUNK_SECONDS = 0.05
HISTORY = "backprop.callbacks.History"


def run(loop: Any, first_epoch: int, epochs: int, history: Any) -> bool:
    """Train epochs ``first_epoch .. epochs-1`` compiled, when ``compiled.chosen`` says so.

    Returns False, having trained nothing, when the NumPy path should run them all.
    A "trial" runs the first epoch on NumPy (``loop.numpy_epochs``), timed, and continues
    compiled only if the remaining epochs would outlast loading the kernels.
    """
    model = loop.model
    if loop.batch_callbacks:  # batch hooks need Python between batches
        return False
    choice = chosen(model, loop.loss_fn, loop.opt, loop.batch_size)
    if choice is None:
        return False
    if choice == "trial":
        start = time.perf_counter()
        loop.numpy_epochs(first_epoch, first_epoch + 1, history)
        first_epoch += 1
        if model.stop_training or first_epoch >= epochs:
            return True
        if not worth_loading(time.perf_counter() - start, epochs - first_epoch):
            loop.numpy_epochs(first_epoch, epochs, history)
            return True
    try:
        module = load_kernels()
    except Exception as error:  # a broken numba install must not stop training
        warnings.warn(f"backprop's compiled path is unavailable ({error!r}); training on "
                      "the NumPy path", RuntimeWarning, stacklevel=4)
        loop.numpy_epochs(first_epoch, epochs, history)
        return True
    trainer = CompiledTrainer(module, model, loop.loss_fn, loop.opt, loop.X, loop.T, loop.W,
                              loop.batch_size, loop.shuffle, loop.l2, loop.track_accuracy,
                              loop.multiclass)
    _epochs(loop, trainer, first_epoch, epochs, history)
    return True


def _epochs(loop: Any, trainer: CompiledTrainer, first_epoch: int, epochs: int,
            history: Any) -> None:
    model, k = loop.model, trainer.k
    flat = model.flat_param.value
    loop.last_good = flat.copy()
    loop.last_loss = math.nan
    last_sq = float(dot(flat, flat))
    chunked = (not loop.epoch_begin_callbacks and loop.X_val is None
               and all(qualified_name(cb) == HISTORY for cb in loop.epoch_end_callbacks))
    rows = loop.snapshots
    chunk = 1
    epoch = first_epoch
    while epoch < epochs:
        logs: dict[str, Any] = {}
        for cb in loop.epoch_begin_callbacks:
            cb.on_epoch_begin(epoch, logs)
        count = min(chunk, epochs - epoch, len(rows) - loop.snapshots_filled)
        start = time.perf_counter()
        out, done, reason = trainer.run(count, rows, loop.snapshots_filled, last_sq)
        if chunked and time.perf_counter() - start < CHUNK_SECONDS:
            chunk *= 2
        for i in range(done):
            loop.snapshots_filled += 1
            loop.last_good = rows[loop.snapshots_filled - 1, : loop.n_values]
            if i:
                logs = {}
            _end_epoch(loop, epoch + i, logs, out[i, 0], out[i, 1])
            if loop.snapshots_filled == len(rows):
                loop._reduce_snapshots()
            if model.stop_training:
                return
        if reason == k.LOSS_NOT_FINITE:
            loop._diverged(epoch + done, history, "the loss became NaN or infinite")
        previous_sq = out[done - 1, 2] if done else last_sq
        if reason == k.WEIGHTS_DIVERGED:
            loop._weights_diverged(epoch + done, history, previous_sq, out[done, 2])
        last_sq = previous_sq
        epoch += done


def _end_epoch(loop: Any, epoch: int, logs: dict[str, Any], loss: float,
               correct: float) -> None:
    """The logs and callbacks at the end of an epoch, as ``_Loop.run`` writes them."""
    logs["loss"] = float(loss)
    if loop.track_accuracy:
        logs["accuracy"] = int(correct) / loop.accuracy_denominator
    if loop.X_val is not None:
        loop._validate(logs)
    logs["lr"] = loop.opt.lr
    for cb in loop.epoch_end_callbacks:
        cb.on_epoch_end(epoch, logs)
    loop.last_loss = float(loss)
