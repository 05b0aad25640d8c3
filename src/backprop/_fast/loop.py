"""The epoch loop behind ``fit``: batches, the training step, validation, norms, divergence.

One step is the chapter's algorithm, written out in :meth:`_Loop._step`::

    a = forward(X_batch)        # z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾,  a⁽ˡ⁾ = g(z⁽ˡ⁾)
    L = loss(a, y) + λ Σ‖W‖²
    backward(...)               # δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾W⁽ˡ⁺¹⁾ᵀ) ⊙ g'(z⁽ˡ⁾),  ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾
    optimizer.step(parameters)  # θ ← θ − η ∂L/∂θ (or momentum, Adam, ...)

What makes it fast, chosen once per ``fit`` when the loop is built:

- the first layer reads the data with a column of ones, made once per fit, or gathered with
  each shuffled batch into a reused buffer where the first product finds it in cache
  (``Dense.forward_with_ones``; W3 0.61 → 0.52 s for the gather);
- a full batch without batch hooks is one step per epoch, with no batch loop;
- plain SGD may take its step inside backpropagation (``fused_step``);
- everything that is not the step (validation, norms, logs, callbacks) runs once per epoch,
  and callback hooks that do nothing are not called;
- the epochs may run compiled (``compiled/``, numba) where ``compiled.chosen`` says so;
- X is read by index, never copied for ``validation_split``, and a large X (a memmap) has
  each batch gathered, so ``fit`` trains on data larger than memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .compiled import epochs as compiled_epochs
from .compiled.relu_passes import ReLUPasses
from .fused_step import FusedStep
from .norms import NormSnapshots
from .numpy_direct import dot
from .sparse import is_sparse
from .storage import with_ones_column

#: mini-batches in order are sliced from one copy of X with a ones column when X is at most
#: this large; a larger X (a memmap, say) has each batch gathered, so memory stays bounded
COPY_LIMIT = 64 << 20
#: a gathered batch of at most this many numbers (rows × features) gets the ones column; a
#: larger one goes into a plain contiguous buffer, because np.take writes into the strided
#: columns of [x 1] only through a copy in and a copy out, three passes over the batch. On
#: W3's 128 × 784 batches those passes cost more than the first layer's bias add and bias sum
#: (NumPy path 0.678 → 0.639 s an epoch), on W2's 32 × 64 less (0.348 → 0.335 s without the
#: ones column): ``python benchmarks/ab.py --compiled never``, 10 rounds each.
ONES_GATHER_LIMIT = 1 << 14
#: validation runs the forward pass over at most this many rows at a time
VALIDATION_BATCH = 8192
#: ... and over fewer where a layer (or X) is wide: a part's widest matrix holds at most
#: this many numbers (8 MB in float32), down to MIN_PART_ROWS rows
PART_NUMBERS = 1 << 21
MIN_PART_ROWS = 256


class TrainingDiverged(RuntimeError):
    """Raised when the loss or the weights become NaN or infinite, or the weights' norm
    grows a thousandfold in one epoch.

    The model is left at the weights it had at the end of the last epoch that finished with
    finite values; ``history`` holds the epochs that completed.
    """

    def __init__(self, message: str, epoch: int, history: Any) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.history = history


@dataclass
class TrainingData:
    """The validated arrays of one ``fit``.

    With ``rows`` (``validation_split``), X is all the rows given to ``fit`` and the training
    rows are ``X[rows]``; ``X_val[val_rows]`` likewise are the validation rows. X is never
    copied for the split: it may be a memmap larger than memory, whose batches are gathered
    from it one at a time.
    """

    X: Any  #: (n_rows, n_features) in the model's dtype: an ndarray, or SciPy CSR
    T: np.ndarray  #: (n, n_outputs) targets of the training rows
    sample_weight: np.ndarray | None = None  #: (n, 1), mean 1
    X_val: Any = None
    T_val: np.ndarray | None = None  #: (n_val, n_outputs)
    rows: np.ndarray | None = None  #: (n,) the training rows of X; None: all of them
    val_rows: np.ndarray | None = None  #: (n_val,) the validation rows of X_val; None: all


@dataclass
class LoopSettings:
    """How ``fit`` trains: everything but the data, already resolved and checked."""

    loss: Any  #: a backprop Loss
    optimizer: Any  #: a backprop Optimizer
    batch_size: int | None  #: None: the full batch
    shuffle: bool | Callable[[int], np.ndarray]  #: or each epoch's order(n)
    l2: float
    callbacks: Sequence[Any]  #: History first
    #: (a, T, multiclass) -> correct predictions in a batch, when accuracy is logged
    count_correct: Callable[[np.ndarray, np.ndarray, bool], int] | None = None
    #: (a, T) -> accuracy, for the validation rows
    accuracy: Callable[[np.ndarray, np.ndarray], float] | None = None


def forward_in_parts(model: Any, loss_fn: Any, X: Any, rows: np.ndarray | None,
                     T: np.ndarray, sample_weight: np.ndarray | None = None,
                     ) -> tuple[float, np.ndarray]:
    """The data loss and the outputs a (n, n_outputs) on the rows ``rows`` of X (all rows
    when None), in inference mode, in parts of :func:`part_rows` rows: neither those rows of
    X nor the hidden activations are ever held whole. A part's loss, a mean over its rows, is
    weighted by their number; one part is exactly ``model.loss_value`` on one pass."""
    n = T.shape[0]
    size = part_rows(model)
    if n <= size:
        a = model.forward(X if rows is None else X[rows], training=False)
        return model.loss_value(a, T, loss_fn, sample_weight), a
    outputs = np.empty(T.shape, dtype=T.dtype)
    total = 0.0
    for start in range(0, n, size):
        part = slice(start, start + size)
        a = model.forward(X[part] if rows is None else X[rows[part]], training=False)
        weights = None if sample_weight is None else sample_weight[part]
        total += model.loss_value(a, T[part], loss_fn, weights) * a.shape[0]
        outputs[part] = a
    return total / n, outputs


def part_rows(model: Any) -> int:
    """Rows per part of :func:`forward_in_parts`: VALIDATION_BATCH, fewer for wide layers (a
    network of 2048-wide layers: 1024 rows, 8 MB an activation matrix in float32, where 8192
    rows held over 100 MB at once)."""
    widest = max((getattr(layer, "n_out", 0) for layer in model.layers), default=0)
    widest = max(widest, getattr(model.layers[0], "n_in", 0)) if model.layers else widest
    if widest <= 0:
        return VALIDATION_BATCH
    return min(VALIDATION_BATCH, max(MIN_PART_ROWS, PART_NUMBERS // widest))


class _Loop:
    """State of one ``fit`` call: the data, buffers and per-epoch bookkeeping."""

    def __init__(self, model: Any, data: TrainingData, settings: LoopSettings) -> None:
        self.model, self.data = model, data
        self.loss_fn, self.opt, self.l2 = settings.loss, settings.optimizer, settings.l2
        self.params = [model.flat_param]
        self._plan_batches(settings.batch_size, settings.shuffle)
        T = data.T
        self.count_correct, self.accuracy = settings.count_correct, settings.accuracy
        self.track_accuracy = settings.count_correct is not None
        self.multiclass = T.shape[1] > 1 and bool(np.all(T.sum(axis=1) == 1))
        self.accuracy_denominator = T.shape[0] if (self.multiclass or T.shape[1] == 1) \
            else T.size
        self._hook_callbacks(settings.callbacks)
        self.norms = NormSnapshots(model.storage)
        first = model.layers[0]
        reads_ones = first if self.with_ones else None
        self.first_forward = first.forward_with_ones if reads_ones else first.forward
        self.rest = model.layers[1:]
        self.fused = FusedStep.for_fit(self.opt, model.dense_layers, reads_ones, l2=self.l2,
                                       batch_hooks=bool(self.batch_callbacks))
        if self.sparse:  # the first layer reads the sparse rows; no fused step takes them
            self.first_forward = getattr(first, "forward_sparse", None)
            if self.first_forward is None:
                raise TypeError(f"sparse X needs a Dense first layer to read it; this network "
                                f"starts with {first!r}")
            self.fused = None

    def _plan_batches(self, batch_size: int | None, shuffle: Any) -> None:
        data, model = self.data, self.model
        X, T, sw, rows = data.X, data.T, data.sample_weight, data.rows
        n = self.n = T.shape[0]
        bs = self.batch_size = n if batch_size is None else min(batch_size, n)
        self.full_batch = bs >= n
        self.shuffle = bool(shuffle) and not self.full_batch
        #: the caller's order(n) for each epoch's rows; None: the model's generator permutes
        self.order = shuffle if callable(shuffle) else None
        self.batches = [None] if self.full_batch else [slice(s, s + bs) for s in range(0, n, bs)]
        self.sparse = is_sparse(X)
        # Batches are gathered by index when shuffled, when the training rows are picked by
        # index (validation_split), or when X is too large to copy (a memmap, say).
        self.by_index = not self.full_batch and (
            self.shuffle or rows is not None or (not self.sparse and X.nbytes > COPY_LIMIT))
        # What the first layer reads: X with a column of ones when it has a bias (a Dense
        # layer with a bias has a [W; b] block), copied once or gathered with each batch,
        # except large gathered batches (ONES_GATHER_LIMIT); sparse X as it is.
        with_ones = self.with_ones = not self.sparse and \
            getattr(model.layers[0], "Wb", None) is not None and \
            not (self.by_index and bs * X.shape[1] > ONES_GATHER_LIMIT)
        #: the rows of each epoch, in order, when they are gathered without shuffling
        self.in_order = np.arange(n) if self.by_index and not self.shuffle else None
        if self.by_index and self.sparse:  # each batch's rows: a small CSR matrix of its own
            self.T_batch = np.empty((bs, T.shape[1]), dtype=T.dtype)
            self.sw_batch = None if sw is None else np.empty((bs, 1), dtype=sw.dtype)
            self.inputs = X
        elif self.by_index:  # reused buffers that each batch is gathered into
            self.inputs_batch = with_ones_column(X[:bs], model.dtype) if with_ones \
                else np.empty((bs, X.shape[1]), dtype=X.dtype)
            self.X_batch = self.inputs_batch[:, :-1] if with_ones else self.inputs_batch
            self.T_batch = np.empty((bs, T.shape[1]), dtype=T.dtype)
            self.sw_batch = None if sw is None else np.empty((bs, 1), dtype=sw.dtype)
            self.inputs = X if not with_ones else None
        else:
            X = X if rows is None else X[rows]
            self.inputs = with_ones_column(X, model.dtype) if with_ones else X

    def _hook_callbacks(self, callbacks: Sequence[Any]) -> None:
        # Hooks that do nothing are not called: each call is paid on every epoch or step.
        self.epoch_begin_callbacks = [cb for cb in callbacks if cb.implements("on_epoch_begin")]
        self.epoch_end_callbacks = list(callbacks)
        self.batch_callbacks = [cb for cb in callbacks if cb.uses_batch_hooks()]

    # -- epochs ---------------------------------------------------------------------------
    def run(self, first_epoch: int, epochs: int, history: Any) -> None:
        """Train epochs ``first_epoch .. epochs-1`` (fewer if a callback stops training),
        compiled where ``compiled.chosen`` says it helps."""
        relu_passes = None
        try:
            if not compiled_epochs.run(self, first_epoch, epochs, history):
                if not self.sparse:
                    relu_passes = ReLUPasses.for_fit(self.model, self.n, self.batch_size,
                                                     epochs - first_epoch)
                if relu_passes is not None:
                    relu_passes.attach()
                self._run(first_epoch, epochs, history)
        finally:
            if self.fused is not None:
                self.fused.detach()
            if relu_passes is not None:
                relu_passes.detach()

    def _run(self, first_epoch: int, epochs: int, history: Any) -> None:
        model = self.model
        flat = model.flat_param.value
        #: the weights to restore on divergence: those at the end of the last finite epoch
        #: (until the first epoch ends, the starting weights, held where it will be written)
        self.last_good = self.norms.hold(flat)
        self.last_loss = math.nan
        last_value_sq = float(dot(flat, flat))
        # A full batch without batch hooks skips the batch loop: one step is the epoch.
        one_step = self.full_batch and not self.batch_callbacks
        data = self.data
        for epoch in range(first_epoch, epochs):
            logs: dict[str, Any] = {}
            for cb in self.epoch_begin_callbacks:
                cb.on_epoch_begin(epoch, logs)
            if one_step:
                epoch_loss, _, correct = self._step(self.inputs, data.T, data.sample_weight,
                                                    epoch, history, self.opt.step)
            else:
                epoch_loss, correct = self._run_epoch(epoch, history)
            # NaN/inf in a weight, or a thousandfold jump of ‖θ‖ in one epoch: a learning
            # rate far too large can throw the weights into saturation, where the loss
            # stays finite, as surely as into NaN. (The comparison is False for NaN.)
            value_sq = float(dot(flat, flat))
            if not value_sq <= 1e6 * max(last_value_sq, 1.0):
                self._weights_diverged(epoch, history, last_value_sq, value_sq)
            last_value_sq = value_sq
            self.norms.take()
            self.last_good = self.norms.latest_values
            self._end_epoch(epoch, logs, epoch_loss, correct)
            if model.stop_training:
                break

    def _end_epoch(self, epoch: int, logs: dict[str, Any], epoch_loss: float,
                   correct: int) -> None:
        logs["loss"] = epoch_loss
        if self.track_accuracy:
            logs["accuracy"] = correct / self.accuracy_denominator
        if self.data.X_val is not None:
            self._validate(logs)
        logs["lr"] = self.opt.lr
        for cb in self.epoch_end_callbacks:
            cb.on_epoch_end(epoch, logs)
        self.last_loss = epoch_loss

    def _validate(self, logs: dict[str, Any]) -> None:
        model, data = self.model, self.data
        val_loss, a = forward_in_parts(model, self.loss_fn, data.X_val, data.val_rows,
                                       data.T_val)
        if self.l2:
            val_loss += self.l2 * model.l2_penalty()
        logs["val_loss"] = val_loss
        if self.track_accuracy:
            logs["val_accuracy"] = self.accuracy(a, data.T_val)

    def _run_epoch(self, epoch: int, history: Any) -> tuple[float, int]:
        if self.shuffle:
            order = self.model.rng.permutation(self.n) if self.order is None \
                else self.order(self.n)
        else:
            order = self.in_order
        total_loss = 0.0
        correct = 0
        batch_callbacks = self.batch_callbacks
        fused = self.fused if len(self.batches) > 1 else None
        if fused is not None:
            fused.attach()  # at this epoch's learning rate, which schedules have set
        update = self.opt.step if fused is None else fused.book
        last_batch = len(self.batches) - 1
        # chosen here rather than kept on self: a bound method on its own object is a
        # reference cycle, which would keep the loop's buffers (a copy of X, the norm
        # snapshots) alive after fit until Python's rare full collection
        gather = self._gather_sparse if self.sparse else self._gather
        for batch, rows in enumerate(self.batches):
            if batch == last_batch and fused is not None:
                # The epoch's last gradients are the history's: written, then the usual step.
                fused.detach()
                update = self.opt.step
            if rows is None:  # full batch
                inputs, T, sw = self.inputs, self.data.T, self.data.sample_weight
            elif self.by_index:
                inputs, T, sw = gather(order[rows])
            else:
                data = self.data
                inputs, T = self.inputs[rows], data.T[rows]
                sw = None if data.sample_weight is None else data.sample_weight[rows]
            if batch_callbacks:
                for cb in batch_callbacks:
                    cb.on_batch_begin(batch, {"size": T.shape[0]})
            batch_loss, size, batch_correct = self._step(inputs, T, sw, epoch, history, update)
            total_loss += batch_loss * size
            correct += batch_correct
            if batch_callbacks:
                for cb in batch_callbacks:
                    cb.on_batch_end(batch, {"size": size, "loss": batch_loss})
        return total_loss / self.n, correct

    def _gather(self, picked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Copy the batch's rows into the reused buffers, where the first matrix product finds
        them still in cache. mode="clip" (a permutation is always in range) lets take write
        straight into ``out`` instead of buffering a copy."""
        data = self.data
        m = picked.shape[0]
        rows = picked if data.rows is None else data.rows[picked]
        np.take(data.X, rows, axis=0, out=self.X_batch[:m], mode="clip")
        T = np.take(data.T, picked, axis=0, out=self.T_batch[:m], mode="clip")
        sw = None if data.sample_weight is None else np.take(
            data.sample_weight, picked, axis=0, out=self.sw_batch[:m], mode="clip")
        return self.inputs_batch[:m], T, sw

    def _gather_sparse(self, picked: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray | None]:
        """The batch's rows of a sparse X (a CSR matrix of their own), targets and weights."""
        data = self.data
        m = picked.shape[0]
        T = np.take(data.T, picked, axis=0, out=self.T_batch[:m], mode="clip")
        sw = None if data.sample_weight is None else np.take(
            data.sample_weight, picked, axis=0, out=self.sw_batch[:m], mode="clip")
        return data.X[picked if data.rows is None else data.rows[picked]], T, sw

    def _step(self, inputs: np.ndarray, T: np.ndarray, sw: np.ndarray | None, epoch: int,
              history: Any, update: Callable[[Sequence[Any]], None],
              ) -> tuple[float, int, int]:
        """One training step on a batch: returns (loss, batch size, correct predictions).

        ``inputs`` is what the first layer reads (the batch, with a ones column when it has a
        bias). With a fused step attached, backpropagation has updated the parameters before
        the loss is checked here, which is harmless: a NaN loss restores ``self.last_good``.
        """
        a = self.first_forward(inputs, True)
        for layer in self.rest:
            a = layer.forward(a, True)
        model, l2 = self.model, self.l2
        batch_loss = model.backward_loss(a, T, self.loss_fn, sw)
        count_correct = self.count_correct
        correct = count_correct(a, T, self.multiclass) if count_correct is not None else 0
        if l2:
            batch_loss += l2 * model.l2_penalty()
            model.add_l2_gradient(l2)
        if not math.isfinite(batch_loss):
            self._diverged(epoch, history, "the loss became NaN or infinite")
        update(self.params)
        return batch_loss, T.shape[0], correct

    # -- the end ----------------------------------------------------------------------------
    def record_norms(self, history: Any) -> None:
        """Store the per-layer norms of every completed epoch in ``history.history``."""
        self.norms.record(history)

    def _weights_diverged(self, epoch: int, history: Any, before_sq: float,
                          after_sq: float) -> None:
        if not np.isfinite(self.model.flat_param.value).all():
            what = "the weights became NaN or infinite"
        else:
            what = (f"the weights exploded (‖θ‖ went from {before_sq ** 0.5:.3g} to "
                    f"{after_sq ** 0.5:.3g} in one epoch)")
        self._diverged(epoch, history, what)

    def _diverged(self, epoch: int, history: Any, what: str) -> None:
        self.model.set_flat_parameters(self.last_good)
        last_loss = self.last_loss
        kept = (f"the weights from the end of epoch {epoch} (loss {last_loss:.6g})"
                if epoch > 0 and math.isfinite(last_loss) else "the weights it started with")
        raise TrainingDiverged(
            f"training diverged in epoch {epoch + 1}: {what}. "
            f"The model keeps {kept}. Try a smaller learning rate (now lr={self.opt.lr:g}), "
            "gradient clipping (clipnorm=1.0), or standardised inputs.",
            epoch=epoch,
            history=history,
        )
