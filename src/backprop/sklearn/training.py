"""How the scikit-learn estimators drive the engine: losses, penalty, optimisers, stopping.

scikit-learn's MLP minimises, per mini-batch of weight Σw (= the batch size without
``sample_weight``)::

    Σᵢ wᵢ·lossᵢ / Σw  +  alpha/(2·Σw) · Σ‖W‖²

with the loss summed over outputs (:class:`SummedOverOutputs`). The engine's ``fit`` minimises
``weighted mean loss + λ·Σ‖W‖²`` with weights rescaled to mean 1 over the training set, so the
same objective needs ``λ = alpha / (2 · B · w̄)``, with B the batch size and w̄ the mean raw
sample weight. The last mini-batch of an epoch may be smaller than B; scikit-learn then
strengthens the penalty for that one step, the engine does not.
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import numpy as np

from .. import losses as _losses
from ..callbacks import Callback
from ..losses import CategoricalCrossEntropy, Loss
from ..optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from ..training import TrainingDiverged

#: scikit-learn's adaptive schedule stops once the learning rate falls to this value
MIN_ADAPTIVE_LR = 1e-6
#: scikit-learn's message when training ends with non-finite weights
NON_FINITE = ("Solver produced non-finite parameter weights. The input data may contain large "
              "values and need to be preprocessed.")


class TrainingDivergedError(TrainingDiverged, ValueError):
    """Training diverged inside a scikit-learn estimator.

    A ``ValueError``, as scikit-learn's MLP raises for non-finite weights, and the engine's
    :class:`~backprop.TrainingDiverged` with its message (the epoch, the last finite loss and
    advice). The estimator is left at the last finite weights, which ``coefs`` and
    ``intercepts`` also hold.

    Attributes
    ----------
    epoch : int
        The epoch (from 0) or L-BFGS iteration that diverged.
    history : History or None
        The engine's record of the completed epochs (None for "lbfgs").
    coefs, intercepts : list of ndarray
        Copies of the last finite weights, one (n_in, n_out) matrix and one (n_out,) vector
        per layer.
    """

    def __init__(self, message: str, epoch: int, history: Any, model: Any) -> None:
        super().__init__(message, epoch, history)
        self.coefs = [w.copy() for w in model.weights]
        self.intercepts = [b.copy() for b in model.biases]


def diverged_error(exc: TrainingDiverged, model: Any) -> TrainingDivergedError:
    """The engine's divergence as the estimators' ValueError, led by scikit-learn's message
    where the weights or the loss stopped being finite (not for a merely exploding norm)."""
    message = str(exc)
    if "NaN or infinite" in message:
        message = f"{NON_FINITE} {message}"
    return TrainingDivergedError(message, exc.epoch, exc.history, model)


class SummedOverOutputs(Loss):
    """An engine loss summed over outputs and averaged over samples: scikit-learn's form.

    The engine averages mse, mae, huber and binary cross-entropy over every element of the
    (n, k) output; scikit-learn's MLP descends the sum over the k outputs divided by n (its
    multi-label log-loss, and the gradient of its squared error). Multiplying the value and
    the gradient by k gives the same objective, so the same learning rate takes the same
    steps. Only used for k > 1 (for one output the two agree).
    """

    def __init__(self, inner: Loss, n_outputs: int) -> None:
        self.inner = inner
        self.k = n_outputs
        self.name = inner.name
        self.fuses_with = inner.fuses_with
        self.classification = inner.classification
        self.smooth = inner.smooth

    def prepare_targets(self, y, n_outputs, dtype):
        return self.inner.prepare_targets(y, n_outputs, dtype)

    def value(self, a, T, z=None):
        return self.inner.value(a, T, z) * self.k

    def weighted_value(self, a, T, z, weights):
        return self.inner.weighted_value(a, T, z, weights) * self.k

    def elementwise(self, a, T, z=None):
        return self.inner.elementwise(a, T, z) * self.k

    def gradient(self, a, T):
        grad = self.inner.gradient(a, T)
        grad *= self.k
        return grad

    def fused_gradient(self, a, T):
        grad = self.inner.fused_gradient(a, T)
        grad *= self.k
        return grad

    def fused_value_and_gradient(self, a, T, z):
        value, grad = self.inner.fused_value_and_gradient(a, T, z)
        grad *= self.k
        return value * self.k, grad

    def get_config(self):
        return self.inner.get_config()

    def __repr__(self) -> str:
        return f"SummedOverOutputs({self.inner!r}, {self.k})"


def sklearn_loss(spec: Any, n_outputs: int) -> Loss:
    """The engine loss ``spec`` in scikit-learn's per-sample form for ``n_outputs`` outputs."""
    loss = _losses.get(spec)
    if n_outputs == 1 or isinstance(loss, CategoricalCrossEntropy):
        return loss  # categorical cross-entropy already sums over classes
    return SummedOverOutputs(loss, n_outputs)


def alpha_to_l2(alpha: float, batch_size: int, mean_weight: float) -> float:
    """The engine's λ that reproduces scikit-learn's ``alpha`` penalty (see the module notes)."""
    return alpha / (2.0 * batch_size * mean_weight)


def sklearn_weights(sizes: list[int], activation: Any, rng: np.random.RandomState
                    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Draw weights *and biases* as scikit-learn's MLP does: uniform in ±√(f/(fan_in+fan_out)).

    f = 2 for a logistic hidden activation, 6 otherwise (Glorot & Bengio's bound). The draws
    come from ``rng`` in scikit-learn's order (W⁽¹⁾, b⁽¹⁾, W⁽²⁾, ...) and nothing is drawn
    before them, so the same ``random_state`` gives scikit-learn's starting weights exactly.
    The default (``init=None``) uses this; a named ``init`` uses the engine's initialiser
    and zero biases instead.

    Returns
    -------
    coefs : list of ndarray of shape (sizes[i], sizes[i + 1])
    intercepts : list of ndarray of shape (sizes[i + 1],)
    """
    logistic = isinstance(activation, str) and activation.strip().lower() in ("logistic",
                                                                              "sigmoid")
    factor = 2.0 if logistic else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return coefs, intercepts


class BatchOrder:
    """scikit-learn's order of the rows, epoch by epoch, for the engine's ``shuffle=``.

    scikit-learn reshuffles the previous epoch's order with ``sklearn.utils.shuffle``:
    ``order = order[p]`` where ``p`` is ``arange(n)`` shuffled in place by its
    ``random_state``. Drawing the same way from the same ``RandomState`` gives the same
    mini-batches as scikit-learn, epoch after epoch.
    """

    def __init__(self, rng: np.random.RandomState) -> None:
        self.rng = rng
        self.order: np.ndarray | None = None

    def __call__(self, n: int) -> np.ndarray:
        if self.order is None or self.order.size != n:
            self.order = np.arange(n)
        permutation = np.arange(n)
        self.rng.shuffle(permutation)
        self.order = self.order[permutation]
        return self.order


def engine_seed(rng: np.random.RandomState) -> int:
    """A seed for the engine's generator (dropout; initialisers named by ``init``) drawn from
    a copy of ``rng``: scikit-learn's own draws from ``rng`` stay in its order."""
    return int(copy.deepcopy(rng).randint(np.iinfo(np.int32).max))


def make_optimizer(est: Any, solver: str) -> Optimizer:
    """A fresh engine optimiser for ``solver`` from the estimator's hyper-parameters.

    ``adamw`` takes ``alpha`` as its decoupled weight decay (the caller then sets λ = 0);
    ``rmsprop`` and ``adagrad`` use ``learning_rate_init`` and ``epsilon``.
    """
    lr = float(est.learning_rate_init)
    if solver == "sgd":
        momentum = float(est.momentum)
        return SGD(lr=lr, momentum=momentum, nesterov=bool(est.nesterovs_momentum) and momentum > 0)
    if solver == "adam":
        return Adam(lr=lr, beta_1=est.beta_1, beta_2=est.beta_2, epsilon=est.epsilon)
    if solver == "adamw":
        return AdamW(lr=lr, beta_1=est.beta_1, beta_2=est.beta_2, epsilon=est.epsilon,
                     weight_decay=float(est.alpha))
    if solver == "rmsprop":
        return RMSprop(lr=lr, epsilon=est.epsilon)
    if solver == "adagrad":
        return Adagrad(lr=lr, epsilon=est.epsilon)
    raise ValueError(f"solver {solver!r} has no engine optimiser")


class Monitor(Callback):
    """scikit-learn's per-epoch bookkeeping and stopping rule, as a training callback.

    Appends to the estimator's ``loss_curve_`` (and, with a validation set,
    ``validation_loss_curve_`` and ``validation_scores_``) and counts epochs without an
    improvement of at least ``tol``; once the count exceeds ``n_iter_no_change`` training
    stops. What is watched:

    - without a validation set, the training loss against ``best_loss_`` (scikit-learn);
    - with one and ``on="score"``, the validation score (accuracy or R²) against
      ``best_validation_score_`` (scikit-learn's rule); a NaN score compares false both ways,
      as in scikit-learn;
    - with one and ``on="loss"``, the validation loss (a NaN loss counts as no improvement).

    The weights of the best validation epoch are kept in ``est._best_weights``. For ``sgd``
    the ``invscaling`` and ``adaptive`` learning-rate schedules are applied at the end of
    each epoch, as scikit-learn does.

    Parameters
    ----------
    est : estimator
        Receives the fitted attributes; its counters persist across ``partial_fit`` calls.
    n_train : int
        Training rows per epoch (for ``t_``, the number of samples seen).
    validation : tuple, optional
        ``(X_val, T_val, weights (n_val, 1) of mean 1 or None, loss, λ, score)``, where
        ``score(a)`` maps the network output on ``X_val`` to the validation score.
    on : {"score", "loss"}, default "score"
    """

    def __init__(self, est: Any, *, n_train: int, validation: tuple | None = None,
                 on: str = "score") -> None:
        self.est = est
        self.n_train = n_train
        self.validation = validation
        self.on_loss = on == "loss"
        self.schedule = est.learning_rate if est.solver == "sgd" else "constant"
        self.tol = float(est.tol)
        self.patience = float(est.n_iter_no_change)
        self.verbose = bool(est.verbose)
        self.stopped = False

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        est, tol = self.est, self.tol
        loss = float(logs["loss"])
        est.n_iter_ += 1
        est.t_ += self.n_train
        est.loss_ = loss
        est.loss_curve_.append(loss)
        if self.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.validation is None:
            # scikit-learn's rule: compare with the best loss so far, then update it.
            best = np.inf if est.best_loss_ is None else est.best_loss_
            worse = loss > best - tol
            est.best_loss_ = min(best, loss)
        else:
            val_loss, score = self._validate()
            logs["val_loss"] = val_loss
            worse = self.record_validation(val_loss, score)
        est._no_improvement_count = est._no_improvement_count + 1 if worse else 0
        optimizer = self.model.optimizer
        if self.schedule == "invscaling":
            optimizer.lr = float(est.learning_rate_init) / (est.t_ + 1) ** float(est.power_t)
        if est._no_improvement_count > self.patience:
            self._no_improvement(optimizer)

    def record_validation(self, val_loss: float, score: float) -> bool:
        """Append one epoch's validation loss and score; keep the weights if they are the
        best so far. Returns whether the epoch counts as no improvement."""
        est, tol = self.est, self.tol
        est.validation_loss_curve_.append(val_loss)
        est.validation_scores_.append(score)
        if self.verbose:
            print(f"Validation loss: {val_loss:.8f}, score: {score:f}")
        if self.on_loss:
            worse = not val_loss <= est.best_validation_loss_ - tol
            better = val_loss < est.best_validation_loss_
        else:
            worse = score < est.best_validation_score_ + tol
            better = score > est.best_validation_score_
        if better:
            est.best_validation_loss_ = val_loss
            est.best_validation_score_ = score
            est._best_weights = self.model.get_flat_parameters()
        return worse

    def _no_improvement(self, optimizer: Optimizer) -> None:
        est = self.est
        if self.validation is None:
            what = "Training loss"
        else:
            what = "Validation loss" if self.on_loss else "Validation score"
        patience = int(self.patience) if math.isfinite(self.patience) else self.patience
        message = (f"{what} did not improve more than tol={self.tol:f} for {patience} "
                   "consecutive epochs.")
        if self.schedule == "adaptive" and optimizer.lr > MIN_ADAPTIVE_LR:
            optimizer.lr = optimizer.lr / 5.0
            est._no_improvement_count = 0
            if self.verbose:
                print(f"{message} Setting learning rate to {optimizer.lr:f}")
            return
        if self.verbose:
            tail = " Learning rate too small." if self.schedule == "adaptive" else ""
            print(f"{message}{tail} Stopping.")
        self.stopped = True
        self.model.stop_training = True

    def _validate(self) -> tuple[float, float]:
        X_val, T_val, weights, loss, l2, score = self.validation
        model = self.model
        a = model.forward(X_val, training=False)
        value = model.loss_value(a, T_val, loss, weights)
        if l2:
            value += l2 * model.l2_penalty()
        return float(value), float(score(a))


def fit_lbfgs(model: Any, X: Any, T: np.ndarray, loss: Any, weights: np.ndarray | None,
              l2: float, *, max_iter: int, max_fun: int, tol: float, verbose: bool):
    """Full-batch L-BFGS-B (SciPy) on the engine's loss and backpropagated gradient.

    Returns
    -------
    result : scipy.optimize.OptimizeResult
    curve : list of float
        The objective after each L-BFGS iteration.

    Raises
    ------
    TrainingDivergedError
        When L-BFGS ends on non-finite weights; the model is left at the last finite
        weights at which the objective was finite.
    """
    from scipy.optimize import minimize

    flat_grad = model.flat_param.grad
    last_finite: list[Any] = [model.get_flat_parameters(), math.nan]

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        model.set_flat_parameters(x)
        value, _ = model.forward_backward(X, T, loss, weights)
        if l2:
            value += l2 * model.l2_penalty()
            model.add_l2_gradient(l2)
        if math.isfinite(value) and np.isfinite(x).all():
            last_finite[:] = [x.copy(), float(value)]
        return float(value), flat_grad.astype(np.float64)

    curve: list[float] = []

    def record(intermediate_result: Any) -> None:
        curve.append(float(intermediate_result.fun))
        if verbose:
            print(f"Iteration {len(curve)}, loss = {curve[-1]:.8f}")

    x0 = model.get_flat_parameters().astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        result = minimize(objective, x0, method="L-BFGS-B", jac=True, callback=record,
                          options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol})
    if not np.isfinite(result.x).all():
        model.set_flat_parameters(last_finite[0])
        raise TrainingDivergedError(
            f"{NON_FINITE} L-BFGS reached non-finite weights in iteration {result.nit}; the "
            f"model keeps the last finite weights it evaluated (loss {last_finite[1]:.6g}). "
            "Try standardised inputs or a larger alpha.", int(result.nit), None, model)
    model.set_flat_parameters(result.x)
    return result, curve


def warn_batch_size_clipped() -> None:
    warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be "
                  "clipped", UserWarning, stacklevel=4)
