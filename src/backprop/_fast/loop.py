"""The epoch loop behind ``fit``: batches, the training step, validation, norms, divergence.

One step is the chapter's algorithm, written out::

    a = forward(X_batch)        # z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾,  a⁽ˡ⁾ = g(z⁽ˡ⁾)
    L = loss(a, y) + λ Σ‖W‖²
    backward(...)               # δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾W⁽ˡ⁺¹⁾ᵀ) ⊙ g'(z⁽ˡ⁾),  ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾
    optimizer.step(parameters)  # θ ← θ − η ∂L/∂θ (or momentum, Adam, ...)

Everything that is not the step (validation, norms, logs, callbacks) runs once per epoch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import losses as _losses
from ..callbacks import Callback, History
from .numpy_direct import copyto, dot

#: at most this many numbers are kept in the per-epoch snapshots of [values | gradients]
SNAPSHOT_BUDGET = 1 << 22


class TrainingDiverged(RuntimeError):
    """Raised when the loss or the weights become NaN or infinite, or the weights' norm
    grows a thousandfold in one epoch.

    The model is left at the weights it had at the end of the last epoch that finished with
    finite values; ``history`` holds the epochs that completed.
    """

    def __init__(self, message: str, epoch: int, history: History) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.history = history



class _Loop:
    """State of one ``fit`` call: the data, buffers and per-epoch bookkeeping."""

    def __init__(self, model, loss_fn, opt, X, T, W, X_val, T_val, batch_size, shuffle, l2,
                 metric_names, callbacks):
        self.model, self.loss_fn, self.opt = model, loss_fn, opt
        self.X, self.T, self.W, self.X_val, self.T_val = X, T, W, X_val, T_val
        n = X.shape[0]
        self.batch_size = n if batch_size is None else min(batch_size, n)
        self.full_batch = self.batch_size >= n
        self.shuffle = shuffle and not self.full_batch
        self.n = n
        bs = self.batch_size
        self.batches = [None] if self.full_batch else [slice(s, s + bs) for s in range(0, n, bs)]
        self.params = [model.flat_param]
        # X with a ones column appended, as a first layer with bias reads it (None if not).
        self.X_ones = None if self.shuffle else model.with_ones_column(X)
        if self.shuffle:  # reused buffers that each shuffled batch is gathered into
            ones = model.with_ones_column(X[:bs])
            self.X_ones_batch = ones
            self.X_batch = np.empty((bs, X.shape[1]), dtype=X.dtype) if ones is None \
                else ones[:, :-1]
            self.T_batch = np.empty((bs, T.shape[1]), dtype=T.dtype)
            self.W_batch = None if W is None else np.empty((bs, 1), dtype=W.dtype)
        self.l2 = l2
        self.track_accuracy = "accuracy" in metric_names
        self.multiclass = T.shape[1] > 1 and bool(np.all(T.sum(axis=1) == 1))
        self.accuracy_denominator = n if (self.multiclass or T.shape[1] == 1) else T.size
        # Hooks that do nothing are not called: each call is paid on every epoch or step.
        self.epoch_begin_callbacks = [cb for cb in callbacks
                                      if type(cb).on_epoch_begin is not Callback.on_epoch_begin]
        self.epoch_end_callbacks = callbacks
        self.batch_callbacks = [cb for cb in callbacks if cb.uses_batch_hooks()]
        # Plain SGD without L2 can take its step inside backpropagation (Dense.backward),
        # unless a batch hook might look at the gradients.
        self.may_step_in_backward = not l2 and not self.batch_callbacks
        # Norms: each epoch copies model._storage = [values | gradients] into a row of
        # `snapshots`. Once the rows are full, one square and one reduceat over all of them
        # give ‖W⁽ᵏ⁾‖² and ‖∂L/∂W⁽ᵏ⁾‖² of every layer k for each of those epochs (segments:
        # each half is W⁽¹⁾, b⁽¹⁾, W⁽²⁾, ...). The latest row's values are also the weights
        # restored if the next epoch diverges.
        storage = model._storage
        rows = max(1, min(256, SNAPSHOT_BUDGET // storage.size))
        self.snapshots = np.empty((rows, storage.size), dtype=storage.dtype)
        self.snapshots_filled = 0
        total = self.n_values = model.flat_param.value.size
        starts = [start for start, _, _ in model.segments]
        self.norm_segments = np.array(starts + [total + s for s in starts], dtype=np.intp)
        weight_at = [i for i, (_, _, is_weight) in enumerate(model.segments) if is_weight]
        n_seg = len(starts)
        if weight_at == list(range(0, n_seg, 2)):  # every layer has a bias: W, b, W, b, ...
            self.weight_positions = slice(0, n_seg, 2)  # plain slices: cheaper than indexing
            self.grad_positions = slice(n_seg, 2 * n_seg, 2)
        else:
            self.weight_positions = np.array(weight_at, dtype=np.intp)
            self.grad_positions = self.weight_positions + n_seg
        #: reduced snapshots: (epochs, segments) squared norms of [values | gradients]
        self.sums: list[np.ndarray] = []

    def run(self, first_epoch: int, epochs: int, history: History) -> None:
        model = self.model
        flat = model.flat_param.value
        #: the weights to restore on divergence: those at the end of the last finite epoch
        self.last_good = flat.copy()
        self.last_loss = math.nan
        last_value_sq = float(dot(flat, flat))
        # A full batch without batch hooks skips the batch loop: one step is the epoch.
        one_step = self.full_batch and not self.batch_callbacks
        for epoch in range(first_epoch, epochs):
            logs: dict[str, Any] = {}
            for cb in self.epoch_begin_callbacks:
                cb.on_epoch_begin(epoch, logs)
            if one_step:
                epoch_loss, _, correct = self._step(self.X, self.T, self.W, self.X_ones,
                                                    epoch, history)
            else:
                epoch_loss, correct = self._run_epoch(epoch, history)
            # NaN/inf in a weight, or a thousandfold jump of ‖θ‖ in one epoch: a learning
            # rate far too large can throw the weights into saturation, where the loss
            # stays finite, as surely as into NaN. (The comparison is False for NaN.)
            value_sq = float(dot(flat, flat))
            if not value_sq <= 1e6 * max(last_value_sq, 1.0):
                self._weights_diverged(epoch, history, last_value_sq, value_sq)
            last_value_sq = value_sq
            self._snapshot()
            logs["loss"] = epoch_loss
            if self.track_accuracy:
                logs["accuracy"] = correct / self.accuracy_denominator
            if self.X_val is not None:
                self._validate(logs)
            logs["lr"] = self.opt.lr
            for cb in self.epoch_end_callbacks:
                cb.on_epoch_end(epoch, logs)
            self.last_loss = epoch_loss
            if model.stop_training:
                break

    def _validate(self, logs: dict[str, Any]) -> None:
        model = self.model
        a = model.forward(self.X_val, training=False)
        val_loss = model.loss_value(a, self.T_val, self.loss_fn)
        if self.l2:
            val_loss += self.l2 * model.l2_penalty()
        logs["val_loss"] = val_loss
        if self.track_accuracy:
            logs["val_accuracy"] = _losses.accuracy(a, self.T_val)

    def _run_epoch(self, epoch, history):
        X, T, W, X_ones = self.X, self.T, self.W, self.X_ones
        shuffle = self.shuffle
        if shuffle:
            order = self.model.rng.permutation(X.shape[0])
        total_loss = 0.0
        correct = 0
        batch_callbacks = self.batch_callbacks
        # η when backpropagation takes the optimiser's step itself; not on the epoch's last
        # batch, whose gradients the history's norms report.
        step_lr = self.opt.plain_step_lr() if self.may_step_in_backward else None
        last_batch = len(self.batches) - 1
        for batch, rows in enumerate(self.batches):
            if rows is None:  # full batch
                Xb, Tb, Wb, Xb_ones = X, T, W, X_ones
            elif shuffle:
                # Gather this batch's rows into the reused buffers, where the first matrix
                # product finds them still in cache. mode="clip" (a permutation is always in
                # range) lets take write straight into `out` instead of buffering a copy.
                picked = order[rows]
                m = picked.shape[0]
                Xb = np.take(X, picked, axis=0, out=self.X_batch[:m], mode="clip")
                Tb = np.take(T, picked, axis=0, out=self.T_batch[:m], mode="clip")
                Wb = None if W is None else np.take(W, picked, axis=0, out=self.W_batch[:m],
                                                    mode="clip")
                Xb_ones = None if self.X_ones_batch is None else self.X_ones_batch[:m]
            else:
                Xb, Tb = X[rows], T[rows]
                Wb = None if W is None else W[rows]
                Xb_ones = None if X_ones is None else X_ones[rows]
            if batch_callbacks:
                for cb in batch_callbacks:
                    cb.on_batch_begin(batch, {"size": Xb.shape[0]})
            batch_loss, size, batch_correct = self._step(
                Xb, Tb, Wb, Xb_ones, epoch, history, step_lr if batch < last_batch else None)
            total_loss += batch_loss * size
            correct += batch_correct
            if batch_callbacks:
                for cb in batch_callbacks:
                    cb.on_batch_end(batch, {"size": size, "loss": batch_loss})
        return total_loss / self.n, correct

    def _step(self, Xb, Tb, Wb, Xb_ones, epoch, history, step_lr=None):
        """One training step on a batch: returns (loss, batch size, correct predictions).

        With ``step_lr`` backpropagation takes the (plain SGD) step itself. It does so before
        the loss is checked here, which is harmless: a NaN loss restores ``self.last_good``.
        """
        model, l2 = self.model, self.l2
        batch_loss, a = model.forward_backward(Xb, Tb, self.loss_fn, Wb, Xb_ones, step_lr)
        correct = _losses.correct_count(a, Tb, self.multiclass) if self.track_accuracy else 0
        if l2:
            batch_loss += l2 * model.l2_penalty()
            model.add_l2_gradient(l2)
        if not math.isfinite(batch_loss):
            self._diverged(epoch, history, "the loss became NaN or infinite")
        if step_lr is None:
            self.opt.step(self.params)
        else:
            self.opt.count_step(self.params)
        return batch_loss, Xb.shape[0], correct

    def _snapshot(self) -> None:
        """Copy this epoch's [values | gradients] (gradients of its last batch) into a row."""
        row = self.snapshots[self.snapshots_filled]
        copyto(row, self.model._storage)
        self.last_good = row[: self.n_values]
        self.snapshots_filled += 1
        if self.snapshots_filled == len(self.snapshots):
            self._reduce_snapshots()

    def _reduce_snapshots(self) -> None:
        # The rows stay as they are: the last one is still self.last_good.
        filled = self.snapshots[: self.snapshots_filled]
        if len(filled):
            self.sums.append(np.add.reduceat(np.square(filled), self.norm_segments, axis=1))
        self.snapshots_filled = 0

    def record_norms(self, history: History) -> None:
        """Store the per-layer norms of every completed epoch in ``history.history``."""
        self._reduce_snapshots()
        done = len(history.epoch)
        if not done:
            return
        sums = np.concatenate(self.sums).astype(np.float64)[:done]
        grads = np.sqrt(sums[:, self.grad_positions])
        weights = np.sqrt(sums[:, self.weight_positions])
        for k in range(grads.shape[1]):
            history.history.setdefault(f"grad_norm/layer{k + 1}", []).extend(grads[:, k].tolist())
            history.history.setdefault(f"weight_norm/layer{k + 1}", []).extend(
                weights[:, k].tolist())

    def _weights_diverged(self, epoch, history, before_sq, after_sq) -> None:
        if not np.isfinite(self.model.flat_param.value).all():
            what = "the weights became NaN or infinite"
        else:
            what = (f"the weights exploded (‖θ‖ went from {before_sq ** 0.5:.3g} to "
                    f"{after_sq ** 0.5:.3g} in one epoch)")
        self._diverged(epoch, history, what)

    def _diverged(self, epoch, history, what) -> None:
        self.model.set_flat_weights(self.last_good)
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
