"""``fit``: validate the data and options, split off validation rows, set up the callbacks,
and hand the epochs to ``_loop._Loop`` (where the training step is written out)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import losses as _losses
from . import optimizers as _optimizers
from ._fast.loop import TrainingDiverged, _Loop
from ._validation import check_in_range, check_nonnegative, check_positive, check_X
from .callbacks import Callback, History, ProgressBar, check_callbacks

__all__ = ["TrainingDiverged", "fit", "split_indices"]

METRICS = ("accuracy",)


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
