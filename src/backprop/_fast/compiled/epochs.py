"""The epoch loop around the kernels: what ``_Loop.run`` does per epoch, for compiled epochs.

With no callback but the ``History`` and no validation data, nothing can look at the model
between epochs, so the kernels run many epochs per call (a chunk, doubled while a chunk takes
under CHUNK_SECONDS, so that Ctrl-C is still answered promptly) and the history is written
afterwards from the per-epoch results. Otherwise each call is one epoch, with every callback
and the validation around it exactly as on the NumPy path.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

from ..numpy_direct import dot
from . import MAX_MACS_PER_STEP, chosen, load_kernels, load_or_warn, macs_per_step, one_blas_thread
from .runner import CompiledTrainer, qualified_name

#: a chunk of epochs grows while it takes less than this
CHUNK_SECONDS = 0.05
HISTORY = "backprop.callbacks.History"


def run(loop: Any, first_epoch: int, epochs: int, history: Any) -> bool:
    """Train epochs ``first_epoch .. epochs-1`` compiled, when ``compiled.chosen`` says so.

    Returns False, having trained nothing, when the NumPy path should run them.
    """
    if loop.batch_callbacks or loop.sparse:  # batch hooks need Python between batches;
        return False  # the kernels read dense rows
    if not chosen(loop.model, loop.loss_fn, loop.opt, loop.n, loop.batch_size,
                  epochs - first_epoch):
        return False
    module = load_or_warn(load_kernels, "compiled path is", stacklevel=4)
    if module is None:
        return False
    trainer = CompiledTrainer(module, loop.model, loop.loss_fn, loop.opt, loop.data,
                              loop.batch_size, loop.shuffle, loop.l2, loop.track_accuracy,
                              loop.multiclass, loop.order)
    small = macs_per_step(loop.model, loop.batch_size) <= MAX_MACS_PER_STEP
    with one_blas_thread() if small else contextlib.nullcontext():
        _epochs(loop, trainer, first_epoch, epochs, history)
    return True


def _epochs(loop: Any, trainer: CompiledTrainer, first_epoch: int, epochs: int,
            history: Any) -> None:
    """``_Loop._run`` for compiled epochs: the same logs, callbacks, norms and divergence."""
    model, k, norms = loop.model, trainer.k, loop.norms
    flat = model.flat_param.value
    loop.last_good = flat.copy()
    loop.last_loss = math.nan
    last_sq = float(dot(flat, flat))
    chunked = (not loop.epoch_begin_callbacks and loop.data.X_val is None
               and all(qualified_name(cb) == HISTORY for cb in loop.epoch_end_callbacks))
    chunk = 1
    epoch = first_epoch
    while epoch < epochs:
        logs: dict[str, Any] = {}
        for cb in loop.epoch_begin_callbacks:
            cb.on_epoch_begin(epoch, logs)
        count = min(chunk, epochs - epoch, len(norms.rows) - norms.filled)
        start = time.perf_counter()
        out, done, reason = trainer.run(count, norms.rows, norms.filled, last_sq)
        if chunked and time.perf_counter() - start < CHUNK_SECONDS:
            chunk *= 2
        if done:
            norms.written(done)
            loop.last_good = norms.latest_values
        for i in range(done):
            loop._end_epoch(epoch + i, logs if i == 0 else {}, float(out[i, 0]),
                            int(out[i, 1]))
            if model.stop_training:
                return
        if reason == k.LOSS_NOT_FINITE:
            loop._diverged(epoch + done, history, "the loss became NaN or infinite")
        previous_sq = float(out[done - 1, 2]) if done else last_sq
        if reason == k.WEIGHTS_DIVERGED:
            loop._weights_diverged(epoch + done, history, previous_sq, float(out[done, 2]))
        last_sq = previous_sq
        epoch += done
