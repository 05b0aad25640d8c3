"""``fit``: validate the data and options, split off validation rows, set up the callbacks,
and hand the epochs to the loop in ``backprop._fast.loop`` (where the training step is
written out).

Resuming from a checkpoint (``resume_from=``) is the io package's business: ``fit`` calls the
function given to :func:`set_resumer` (``backprop/__init__`` gives it the io package's reader,
imported on first use), so the engine never imports io.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import losses as _losses
from . import optimizers as _optimizers
from ._fast.loop import LoopSettings, TrainingData, TrainingDiverged, _Loop, forward_in_parts
from .callbacks import Callback, History, ProgressBar, check_callbacks
from .preprocessing import ColumnNames, column_names_of
from .validation import check_in_range, check_nonnegative, check_positive, check_same_rows, check_X

__all__ = ["PoorFitWarning", "ResumePoint", "TrainingDiverged", "fit", "set_resumer",
           "split_indices"]

METRICS = ("accuracy",)


@dataclass
class ResumePoint:
    """What a checkpoint gives back to ``fit(..., resume_from=path)``.

    Attributes
    ----------
    optimizer : Optimizer
        The optimiser to continue with, its state (moments, step counts, rate) restored.
    epoch : int
        Epochs already completed: training continues at this epoch index.
    callback_states : list of dict
        ``{"index": i, "class": name, "state": {...}}`` for each saved callback state,
        given back to the callback at position ``i`` of ``callbacks=``.
    monitor : str or None
        The monitored value of the ModelCheckpoint that wrote the file, and ``best``, its
        best value so far (so ``save_best_only`` does not overwrite a better file).
    best : float or None
    """

    optimizer: _optimizers.Optimizer
    epoch: int
    callback_states: list[dict[str, Any]] = field(default_factory=list)
    monitor: str | None = None
    best: float | None = None

    def restore_callbacks(self, callbacks: Sequence[Callback]) -> None:
        """Give each callback the state saved by the callback at its position."""
        for entry in self.callback_states:
            index, name = entry["index"], entry["class"]
            if index < len(callbacks) and type(callbacks[index]).__name__ == name:
                callbacks[index].set_state(entry["state"])
            else:
                warnings.warn(f"the checkpoint holds the state of a {name} at position {index} "
                              "of callbacks=, but this fit has no such callback there: it "
                              "starts afresh", RuntimeWarning, stacklevel=4)


#: reads a checkpoint for resume_from=: (model, path, optimizer) -> ResumePoint
_resumer: Callable[[Any, Any, Any], ResumePoint] | None = None


def set_resumer(resumer: Callable[[Any, Any, Any], ResumePoint] | None) -> None:
    """Set the function ``fit(..., resume_from=path)`` reads checkpoints with.

    It is called as ``resumer(model, path, optimizer)`` before training starts, restores the
    model's weights and random state, and returns a :class:`ResumePoint`.
    """
    global _resumer
    _resumer = resumer


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
    X : array-like of shape (n_samples, n_features), a DataFrame, or a SciPy sparse matrix
        Raw rows when the model has a preprocessor (``model.preprocessor``), which ``fit``
        applies to X, y and ``validation_data`` as ``predict`` will. A DataFrame given to a
        model without one leaves its column names with the model (see
        :mod:`backprop.preprocessing`). A sparse X (CSR or CSC, matrix or array) stays sparse:
        the first Dense layer multiplies with it directly (x·W and xᵀ·δ), each batch gathered
        as a CSR matrix.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets; class labels for the cross-entropies (0/1, integers or one-hot).
    loss : str or Loss, default "mse"
        Checked against the output layer first: an impossible pair (cross-entropy with an
        identity output, categorical cross-entropy with sigmoid units, a softmax over one
        unit) raises ``ValueError`` naming the right pairing.
    optimizer : str or Optimizer, default "sgd"
        A name uses that optimiser's default settings; pass an instance to set ``lr`` etc.
        The same instance passed again continues with its moments.
    epochs : int, default 100
        Total number of epochs; with ``initial_epoch`` training runs epochs
        ``initial_epoch .. epochs-1``.
    batch_size : int or None, default None
        None is full-batch gradient descent, as in the chapter.
    shuffle : bool or callable, default True
        Reshuffle the rows every epoch (mini-batches only; a full batch has no order). A
        callable ``order(n_samples)`` gives each epoch's row order instead of the model's
        generator (a permutation of ``range(n_samples)``; to follow another library's batches).
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

    Warns
    -----
    PoorFitWarning
        When, after two or more epochs, the final weights fit the training rows no better
        (within 1%) than a constant prediction: the mean of y, the class frequencies for a
        cross-entropy, the median for mae.
    """
    loss_fn = _losses.get(loss)
    # An impossible pair (cross-entropy on an identity output, ...) trains to a small loss at
    # chance accuracy without a word: refuse it before any epoch, naming the right pairing.
    _losses.check_pairing(loss_fn, model.output_activation, model.n_outputs)
    opt = _optimizers.get(optimizer)
    epochs, batch_size, l2 = _check_options(epochs, batch_size, l2, shuffle, initial_epoch)
    data, classification = _training_data(model, X, y, loss_fn, sample_weight,
                                          validation_data, validation_split)
    metric_names = _resolve_metrics(metrics, loss_fn, classification)
    resumed = None
    if resume_from is not None:
        if _resumer is None:
            raise RuntimeError("resume_from needs a checkpoint reader; none is set "
                               "(backprop.training.set_resumer)")
        resumed = _resumer(model, resume_from, opt)
        opt, initial_epoch = resumed.optimizer, resumed.epoch
    if data.sample_weight is not None:
        data.sample_weight /= data.sample_weight.mean()
    model.optimizer = opt
    model.loss = loss_fn
    model.stop_training = False
    history = History()
    user_callbacks = check_callbacks(callbacks)
    all_callbacks = [history, *user_callbacks]
    if verbose:
        all_callbacks.append(ProgressBar())
    params = {"epochs": epochs, "initial_epoch": initial_epoch, "batch_size": batch_size,
              "validation": data.X_val is not None, "callbacks": user_callbacks,
              "resumed": resumed}
    for cb in all_callbacks:
        cb.set_model(model)
        cb.set_params(params)
    accuracy = "accuracy" in metric_names
    loop = _Loop(model, data, LoopSettings(
        loss_fn, opt, batch_size, shuffle, l2, all_callbacks,
        count_correct=_losses.correct_count if accuracy else None,
        accuracy=_losses.accuracy if accuracy else None))
    model.history = history
    try:
        _train(loop, all_callbacks, user_callbacks, resumed, initial_epoch, epochs, history)
    except TrainingDiverged as exc:
        hint = _losses.pairing_hint(loss_fn, model.output_activation)
        if hint is not None:
            exc.args = (f"{exc.args[0]} The likely cause, though, is the output layer: {hint}.",)
        raise
    finally:
        # Needed only while training: the callbacks kept afterwards (the model's History)
        # must not hold the others, or the resumed optimiser, alive.
        params.update(callbacks=[], resumed=None)
    history.stopped_early = model.stop_training and not history.interrupted
    if len(history.epoch) >= 2:
        _warn_if_no_better_than_constant(model, loss_fn, data)
    return history


class PoorFitWarning(UserWarning):
    """``fit`` ended with a training loss no better than that of a constant prediction."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _stacklevel_outside_package() -> int:
    """``stacklevel`` for a ``warnings.warn`` in the function that calls this one, naming the
    first line outside the package: the user's ``model.fit(...)``, ``bp.fit(...)`` or
    ``estimator.fit(...)``, however many of the package's own frames lie between."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def _warn_if_no_better_than_constant(model: Any, loss_fn: _losses.Loss,
                                     data: TrainingData) -> None:
    """Warn when the final weights fit the training rows no better than always predicting
    the mean of y (the class frequencies for a cross-entropy; the median for mae)."""
    T, W = data.T, data.sample_weight
    if T.shape[0] < 2:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        # in parts, from the training rows of X: X may be a memmap larger than memory
        value, a = forward_in_parts(model, loss_fn, data.X, data.rows, T, W)
    weights = np.ones((T.shape[0], 1)) if W is None else W
    if loss_fn.name == "mae":
        constant, what = np.median(T, axis=0), "the median of y"
    else:
        constant = (T * weights).sum(axis=0) / weights.sum()
        what = "the class frequencies" if loss_fn.classification else "the mean of y"
    guess = np.ascontiguousarray(np.broadcast_to(constant.astype(T.dtype), T.shape))
    baseline = (loss_fn.value(guess, T) if W is None
                else loss_fn.weighted_value(guess, T, None, W))
    advice = ("the network has learned nothing useful. Try the adam optimizer, a smaller "
              "learning rate, standardised inputs (and targets), or more epochs.")
    if baseline > 0 and not value < 0.99 * baseline:  # NaN compares False: warned too
        warnings.warn(
            f"training ended with a {loss_fn.name} of {value:.4g} on the training data, no "
            f"better than {baseline:.4g} from always predicting {what}: {advice}",
            PoorFitWarning, stacklevel=_stacklevel_outside_package())
    elif _losses.is_classification_target(T):
        accuracy, share = _losses.accuracy(a, T), _losses.accuracy(guess, T)
        threshold = share + chance_margin(share, T.shape[0])
        # With few rows even a perfect accuracy can lie within chance (XOR: 4 rows, the
        # margin is ±50%); there the rows cannot tell a fit from luck, so say nothing.
        if threshold < 1.0 and accuracy <= threshold:
            warnings.warn(
                f"training ended with an accuracy of {accuracy:.1%} on the training data, "
                f"within chance of the {share:.1%} from always answering the most frequent "
                f"class: {advice}", PoorFitWarning, stacklevel=_stacklevel_outside_package())


def chance_margin(share: float, n: int) -> float:
    """Two standard errors of an accuracy ``share`` measured on ``n`` rows: an accuracy no
    further above the most frequent class's share is not telling them apart."""
    return 2.0 * float(np.sqrt(share * (1.0 - share) / max(n, 1)))


def _train(loop: _Loop, callbacks: list[Callback], user_callbacks: list[Callback],
           resumed: ResumePoint | None, initial_epoch: int, epochs: int,
           history: History) -> None:
    """Run the loop between the callbacks' on_train_begin and on_train_end."""
    # Only callbacks whose on_train_begin ran are ended: one that refuses to start (say
    # EarlyStopping without validation data) must not be followed by errors from the others.
    started: list[Callback] = []
    try:
        for cb in callbacks:
            cb.on_train_begin({"epochs": epochs - initial_epoch})
            started.append(cb)
        if resumed is not None:
            resumed.restore_callbacks(user_callbacks)
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


def _check_options(epochs: Any, batch_size: Any, l2: Any, shuffle: Any,
                   initial_epoch: Any) -> tuple[int, int | None, float]:
    epochs = check_positive("epochs", epochs, integer=True)
    if batch_size is not None:
        batch_size = check_positive("batch_size", batch_size, integer=True)
    l2 = check_nonnegative("l2", l2)
    if not isinstance(shuffle, bool) and not callable(shuffle):
        raise TypeError(f"shuffle must be True, False or a callable order(n); got {shuffle!r}")
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) \
            or not 0 <= initial_epoch:
        raise ValueError(f"initial_epoch must be an integer ≥ 0; got {initial_epoch!r}")
    return epochs, batch_size, l2


def _training_data(model: Any, X: Any, y: Any, loss_fn: _losses.Loss, sample_weight: Any,
                   validation_data: Any, validation_split: Any) -> tuple[TrainingData, bool]:
    """The validated arrays, validation rows split off; and whether y holds 0/1 targets."""
    X, y, validation_data = _preprocessed(model, X, y, validation_data)
    X = check_X(X, model.n_features, model.dtype)
    T = loss_fn.prepare_targets(y, model.n_outputs, model.dtype)
    check_same_rows(X, T)
    sw = None if sample_weight is None else _check_sample_weight(sample_weight, X.shape[0],
                                                                 model.dtype)
    classification = _losses.is_classification_target(T)
    if validation_data is not None and validation_split is not None:
        raise ValueError("pass either validation_data or validation_split, not both")
    X_val = T_val = rows = val_rows = None
    if validation_split is not None:
        fraction = check_in_range("validation_split", validation_split, 0.0, 1.0,
                                  closed_low=False)
        # The split draws from its own generator, derived from the model's seed, so that it
        # does not shift the training random stream (and a resumed run splits identically).
        split_rng = np.random.default_rng(model.seed) if model.seed is not None else model.rng
        rows, val_rows = split_indices(T if classification else None, X.shape[0], fraction,
                                       split_rng)
        # By index: X is not copied (it may be a memmap larger than memory); the loop gathers
        # each batch's rows, and the validation rows, from it.
        X_val = X
        T, T_val = T[rows], T[val_rows]
        if sw is not None:
            sw = sw[rows]
    elif validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        X_val = check_X(validation_data[0], model.n_features, model.dtype)
        T_val = loss_fn.prepare_targets(validation_data[1], model.n_outputs, model.dtype)
        if X_val.shape[0] != T_val.shape[0]:
            raise ValueError("validation X and y have different numbers of rows: "
                             f"{X_val.shape[0]} and {T_val.shape[0]}")
    return TrainingData(X, T, sw, X_val, T_val, rows, val_rows), classification


def _preprocessed(model: Any, X: Any, y: Any, validation_data: Any) -> tuple[Any, Any, Any]:
    """Raw rows and targets through the model's preprocessor (the one ``predict`` applies).

    A DataFrame with string column names given to a model without a preprocessor gives it
    one that remembers the names (``ColumnNames``), so later frames are matched by name.
    """
    pre = model.preprocessor
    if pre is None:
        names = column_names_of(X)
        if names is None:
            return X, y, validation_data
        model.preprocessor = pre = ColumnNames(names)
    X, y = pre.transform(X), pre.transform_target(y)
    if isinstance(validation_data, (tuple, list)) and len(validation_data) == 2:
        validation_data = (pre.transform(validation_data[0]),
                           pre.transform_target(validation_data[1]))
    return X, y, validation_data


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
    # the rows not drawn, ascending (a mask of n bytes: setdiff1d would sort n indices)
    train = np.ones(n, dtype=bool)
    train[val_idx] = False
    return np.flatnonzero(train), val_idx
