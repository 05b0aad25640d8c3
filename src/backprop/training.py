"""The training loop: mini-batches, shuffling, validation, L2, history, callbacks, divergence.

One step is the chapter's algorithm, written out::

    a = forward(X_batch)                  # z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾,  a⁽ˡ⁾ = g(z⁽ˡ⁾)
    L = loss(a, y) + λ Σ‖W‖²
    backward(...)        # δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾W⁽ˡ⁺¹⁾ᵀ) ⊙ g'(z⁽ˡ⁾),  ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾
    optimizer.step(parameters)             # θ ← θ − η ∂L/∂θ (or momentum, Adam, ...)

Everything that is not the step (validation, norms, logs, callbacks) runs once per epoch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import losses as _losses
from . import optimizers as _optimizers
from ._validation import check_in_range, check_nonnegative, check_positive, check_X
from .callbacks import Callback, History, ProgressBar, check_callbacks

METRICS = ("accuracy",)


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


def fit(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: Any = "mse",
    optimizer: Any = "sgd",
    epochs: int = 100,
    batch_size: int | None = None,
    shuffle: bool = True,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float | None = None,
    metrics: list[str] | None = None,
    callbacks: list[Callback] | None = None,
    l2: float = 0.0,
    verbose: int | bool = 0,
    initial_epoch: int = 0,
    sample_weight: Any = None,
    resume_from: Any = None,
) -> History:
    """Train ``model`` on (X, y) by mini-batch gradient descent.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets; class labels for the cross-entropies (0/1, integers or one-hot).
    loss : str or Loss, default "mse"
    optimizer : str or Optimizer, default "sgd"
        A name uses that optimiser's default settings; pass an instance to set ``lr`` etc.
        The same instance passed again continues with its moments.
    epochs : int, default 100
        Total number of epochs; with ``initial_epoch`` training runs epochs
        ``initial_epoch .. epochs-1``.
    batch_size : int or None, default None
        None is full-batch gradient descent, as in the chapter.
    shuffle : bool, default True
        Reshuffle the rows every epoch (mini-batches only; a full batch has no order).
    validation_data : (X_val, y_val), optional
    validation_split : float in (0, 1), optional
        Hold out this fraction of (X, y) for validation, stratified by class for 0/1 targets.
    metrics : list of str, optional
        ``["accuracy"]`` by default for classification targets, ``[]`` otherwise.
    callbacks : list of Callback, optional
    l2 : float, default 0.0
        Adds λ·Σ‖W‖² (weights, not biases) to the loss, the chapter's formula.
    verbose : int or bool
        Show a rich progress bar.
    initial_epoch : int, default 0
        Epoch to start counting from (when continuing an earlier run).
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weight per sample; the loss becomes the weighted mean
        Σ wᵢ lᵢ / Σ wᵢ over the training set (weights are rescaled to mean 1).
    resume_from : str or Path, optional
        A checkpoint written by ``ModelCheckpoint``: restores weights, optimiser state,
        random state and the epoch, and continues as if never interrupted. With
        ``validation_split`` the model needs an integer seed (the split is drawn from it).
        Pass the same callbacks in the same order: each gets back its saved state
        (EarlyStopping's best value and weights, a schedule's starting rate).

    Returns
    -------
    History
        Also stored as ``model.history``.

    Raises
    ------
    TrainingDiverged
        When the loss or the weights stop being finite.
    """
    loss_fn = _losses.get(loss)
    opt = _optimizers.get(optimizer)
    epochs = check_positive("epochs", epochs, integer=True)
    if batch_size is not None:
        batch_size = check_positive("batch_size", batch_size, integer=True)
    l2 = check_nonnegative("l2", l2)
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle must be True or False; got {shuffle!r}")
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) \
            or not 0 <= initial_epoch:
        raise ValueError(f"initial_epoch must be an integer ≥ 0; got {initial_epoch!r}")

    X = check_X(X, model.n_features, model.dtype)
    T = loss_fn.prepare_targets(y, model.n_outputs, model.dtype)
    if X.shape[0] != T.shape[0]:
        raise ValueError(
            f"X and y have different numbers of rows: X has {X.shape[0]}, y has {T.shape[0]}"
        )
    W = None if sample_weight is None else _check_sample_weight(sample_weight, X.shape[0],
                                                                 model.dtype)
    classification = _losses.is_classification_target(T)
    metric_names = _resolve_metrics(metrics, loss_fn, classification)

    if validation_data is not None and validation_split is not None:
        raise ValueError("pass either validation_data or validation_split, not both")
    X_val = T_val = None
    if validation_split is not None:
        fraction = check_in_range("validation_split", validation_split, 0.0, 1.0,
                                  closed_low=False)
        # The split draws from its own generator, derived from the model's seed, so that it
        # does not shift the training random stream (and a resumed run splits identically).
        split_rng = np.random.default_rng(model.seed) if model.seed is not None else model.rng
        train_idx, val_idx = split_indices(T if classification else None, X.shape[0], fraction,
                                           split_rng)
        X, X_val = X[train_idx], X[val_idx]
        T, T_val = T[train_idx], T[val_idx]
        if W is not None:
            W = W[train_idx]
    elif validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        X_val = check_X(validation_data[0], model.n_features, model.dtype)
        T_val = loss_fn.prepare_targets(validation_data[1], model.n_outputs, model.dtype)
        if X_val.shape[0] != T_val.shape[0]:
            raise ValueError("validation X and y have different numbers of rows: "
                             f"{X_val.shape[0]} and {T_val.shape[0]}")

    if resume_from is not None:
        from .io import restore_checkpoint

        opt, initial_epoch = restore_checkpoint(model, resume_from, opt)
    if W is not None:
        W /= W.mean()
    model.optimizer = opt
    model.loss = loss_fn
    model.stop_training = False
    model._has_validation = X_val is not None
    history = History()
    user_callbacks = check_callbacks(callbacks)
    # While training, ModelCheckpoint saves the state of these (by position) for an exact
    # resume.
    model._callbacks = user_callbacks
    all_callbacks = [history, *user_callbacks]
    if verbose:
        all_callbacks.append(ProgressBar())
    for cb in all_callbacks:
        cb.set_model(model)

    loop = _Loop(model, loss_fn, opt, X, T, W, X_val, T_val, batch_size, shuffle, l2,
                 metric_names, all_callbacks)
    model.history = history
    # Only callbacks whose on_train_begin ran are ended: one that refuses to start (say
    # EarlyStopping without validation data) must not be followed by errors from the others.
    started: list[Callback] = []
    try:
        for cb in all_callbacks:
            cb.on_train_begin({"epochs": epochs - initial_epoch})
            started.append(cb)
        if resume_from is not None:
            _restore_callback_states(model, user_callbacks)
        # Overflow on the way to a divergence is reported by TrainingDiverged, with advice,
        # rather than by a stream of NumPy warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            loop.run(initial_epoch, epochs, history)
    except KeyboardInterrupt:
        # Ctrl-C: keep the weights reached so far and return what was recorded.
        history.interrupted = True
    finally:
        loop.record_norms(history)
        for cb in started:
            cb.on_train_end({})
        model._callbacks = []  # needed only while training; the model must not hold them
    history.stopped_early = model.stop_training and not history.interrupted
    return history


def _restore_callback_states(model: Any, callbacks: list[Callback]) -> None:
    """Give each callback the state saved in the checkpoint by the callback at its position."""
    import warnings

    saved = (getattr(model, "_resumed_checkpoint", None) or {}).get("callbacks") or []
    for entry in saved:
        index, name = entry["index"], entry["class"]
        if index < len(callbacks) and type(callbacks[index]).__name__ == name:
            callbacks[index].set_state(entry["state"])
        else:
            warnings.warn(f"the checkpoint holds the state of a {name} at position {index} of "
                          "callbacks=, but this fit has no such callback there: it starts "
                          "afresh", RuntimeWarning, stacklevel=3)


def _check_sample_weight(sample_weight: Any, n: int, dtype: Any) -> np.ndarray:
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold numbers; got dtype {w.dtype}")
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},) to match X; got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and non-negative")
    if not np.any(w > 0):
        raise ValueError("sample_weight is zero for every sample")
    return w.astype(dtype).reshape(-1, 1)


def _resolve_metrics(metrics: Any, loss_fn: _losses.Loss, classification: bool) -> list[str]:
    if metrics is None:
        return ["accuracy"] if classification else []
    if isinstance(metrics, str):
        metrics = [metrics]
    names = []
    for m in metrics:
        key = {"acc": "accuracy"}.get(m, m)
        if key not in METRICS:
            raise ValueError(f"unknown metric {m!r}; choose one of: {', '.join(METRICS)}")
        if not classification:
            raise ValueError("accuracy needs 0/1 or one-hot targets; y holds other values")
        names.append(key)
    return names


def split_indices(
    T: np.ndarray | None, n: int, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random train/validation row indices; stratified by class when targets ``T`` are given.

    Each class contributes round(fraction · its count) rows (at least one when it has two or
    more), so class proportions match in both parts.
    """
    if n < 2:
        raise ValueError(f"validation_split needs at least 2 samples; got {n}")
    if T is None:
        groups = [np.arange(n)]
    else:
        keys = T.argmax(axis=1) if T.shape[1] > 1 else T[:, 0]
        groups = [np.flatnonzero(keys == k) for k in np.unique(keys)]
    val = []
    for rows in groups:
        rows = rng.permutation(rows)
        take = int(round(fraction * rows.size))
        if rows.size >= 2:
            take = min(max(take, 1), rows.size - 1)
        val.append(rows[:take])
    val_idx = np.sort(np.concatenate(val))
    if val_idx.size == 0 or val_idx.size == n:
        raise ValueError(
            f"validation_split={fraction} leaves an empty training or validation set "
            f"with {n} samples"
        )
    train_idx = np.setdiff1d(np.arange(n), val_idx, assume_unique=True)
    return train_idx, val_idx


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
        # Segments of model._storage = [values | gradients], each half W⁽¹⁾, b⁽¹⁾, W⁽²⁾, ...:
        # one square and one reduceat give ‖W⁽ᵏ⁾‖² and ‖∂L/∂W⁽ᵏ⁾‖² for every layer k.
        total = model.flat_param.value.size
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
        self.squares = np.empty_like(model._storage)
        self.grad_sq: list[np.ndarray] = []
        self.weight_sq: list[np.ndarray] = []

    def run(self, first_epoch: int, epochs: int, history: History) -> None:
        model = self.model
        flat = model.flat_param.value
        last_good = flat.copy()
        last_loss = math.nan
        last_weight_sq = model.l2_penalty()
        for epoch in range(first_epoch, epochs):
            logs: dict[str, Any] = {}
            for cb in self.epoch_begin_callbacks:
                cb.on_epoch_begin(epoch, logs)
            epoch_loss, correct = self._run_epoch(epoch, history, last_good, last_loss)
            # The norms' reduction also catches any NaN/inf weight the last update produced.
            # Squares of finite weights can overflow too (float32 beyond ~1.8e19): only a
            # weight that is itself NaN/inf counts, else the next loss reports the blow-up.
            if not math.isfinite(self._square_norms()) and not np.isfinite(flat).all():
                self._diverged(epoch, history, last_good, last_loss,
                               "the weights became NaN or infinite")
            # A learning rate far too large can also throw the weights into saturation,
            # where the loss stays finite: a thousandfold jump of ‖W‖ in one epoch is
            # divergence as surely as a NaN.
            weight_sq = sum(self.weight_sq[-1].tolist())
            if weight_sq > 1e6 * max(last_weight_sq, 1.0):
                self._diverged(epoch, history, last_good, last_loss,
                               f"the weights exploded (‖W‖ went from {last_weight_sq ** 0.5:.3g}"
                               f" to {weight_sq ** 0.5:.3g} in one epoch)")
            last_weight_sq = weight_sq
            logs["loss"] = epoch_loss
            if self.track_accuracy:
                logs["accuracy"] = correct / self.accuracy_denominator
            if self.X_val is not None:
                self._validate(logs)
            logs["lr"] = self.opt.lr
            for cb in self.epoch_end_callbacks:
                cb.on_epoch_end(epoch, logs)
            np.copyto(last_good, flat)
            last_loss = epoch_loss
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

    def _run_epoch(self, epoch, history, last_good, last_loss):
        model, loss_fn, opt, params = self.model, self.loss_fn, self.opt, self.params
        X, T, W = self.X, self.T, self.W
        shuffle = self.shuffle
        if shuffle:
            order = model.rng.permutation(X.shape[0])
        l2 = self.l2
        X_ones = self.X_ones
        total_loss = 0.0
        correct = 0
        batch_callbacks = self.batch_callbacks
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
            batch_loss, a = model.forward_backward(Xb, Tb, loss_fn, Wb, Xb_ones)
            if self.track_accuracy:
                correct += _losses.correct_count(a, Tb, self.multiclass)
            if l2:
                batch_loss += l2 * model.l2_penalty()
                model.add_l2_gradient(l2)
            if not math.isfinite(batch_loss):
                self._diverged(epoch, history, last_good, last_loss,
                               "the loss became NaN or infinite")
            total_loss += batch_loss * Xb.shape[0]
            opt.step(params)
            if batch_callbacks:
                for cb in batch_callbacks:
                    cb.on_batch_end(batch, {"size": Xb.shape[0], "loss": batch_loss})
        return total_loss / self.n, correct

    def _square_norms(self) -> float:
        """Record per-layer ‖∂L/∂W‖² (last batch of the epoch) and ‖W‖²; return the sum of
        squares of every value and gradient (not finite once anything diverged)."""
        np.square(self.model._storage, out=self.squares)
        sums = np.add.reduceat(self.squares, self.norm_segments)
        self.weight_sq.append(sums[self.weight_positions])
        self.grad_sq.append(sums[self.grad_positions])
        return float(np.add.reduce(sums))

    def record_norms(self, history: History) -> None:
        """Store the per-layer norms of every completed epoch in ``history.history``."""
        done = len(history.epoch)
        if not done:
            return
        grads = np.sqrt(np.array(self.grad_sq[:done], dtype=np.float64))
        weights = np.sqrt(np.array(self.weight_sq[:done], dtype=np.float64))
        for k in range(grads.shape[1]):
            history.history.setdefault(f"grad_norm/layer{k + 1}", []).extend(grads[:, k].tolist())
            history.history.setdefault(f"weight_norm/layer{k + 1}", []).extend(
                weights[:, k].tolist())

    def _diverged(self, epoch, history, last_good, last_loss, what) -> None:
        self.model.set_flat_weights(last_good)
        kept = (f"the weights from the end of epoch {epoch} (loss {last_loss:.6g})"
                if epoch > 0 and math.isfinite(last_loss) else "the weights it started with")
        raise TrainingDiverged(
            f"training diverged in epoch {epoch + 1}: {what}. "
            f"The model keeps {kept}. Try a smaller learning rate (now lr={self.opt.lr:g}), "
            "gradient clipping (clipnorm=1.0), or standardised inputs.",
            epoch=epoch,
            history=history,
        )
