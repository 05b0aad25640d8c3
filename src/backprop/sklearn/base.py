"""The machinery shared by ``backprop.sklearn.MLPClassifier`` and ``MLPRegressor``.

``BaseMLP`` turns a scikit-learn ``fit``/``partial_fit`` call into one engine ``fit`` call:
validate (parameters, X, y, sample weights), build the network on the first pass, split off a
validation set for early stopping, map ``alpha`` onto the engine's L2 penalty, and let a
:class:`~backprop._sklearn_training.Monitor` callback keep scikit-learn's curves and stopping
rule. Subclasses supply the target encoding, the output layer and loss, and the score.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, is_regressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..losses import check_pairing
from ..mlp import MLP
from .params import STOCHASTIC_SOLVERS, Settings, resolve
from .training import (
    Monitor,
    alpha_to_l2,
    fit_lbfgs,
    make_optimizer,
    sklearn_initialize,
    sklearn_loss,
    warn_batch_size_clipped,
)

#: scikit-learn's "auto" batch size is min(AUTO_BATCH, n_samples)
AUTO_BATCH = 200


class BaseMLP(BaseEstimator):
    """Fit logic common to the classifier and the regressor (not for direct use)."""

    # -- hooks for subclasses ---------------------------------------------------------------
    def _encode_targets(self, y, *, first_pass, incremental, classes):
        """Return ``(T, labels)``: the (n, k) target matrix and the labels for stratifying
        the validation split (None to split at random)."""
        raise NotImplementedError

    def _output(self, settings: Settings, n_outputs: int):
        """Return ``(output activation, out_activation_ name, engine loss)``."""
        raise NotImplementedError

    def _score_function(self, T_val: np.ndarray, w_val: np.ndarray | None):
        """Return ``score(a)``: the validation score of the network output ``a``."""
        raise NotImplementedError

    def _extra_sample_weight(self, labels, incremental: bool) -> np.ndarray | None:
        return None

    # -- fitted attributes that live in the network -----------------------------------------
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, one (n_in, n_out) per layer: live views of the network's."""
        check_is_fitted(self)
        return list(self.model_.weights)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, one (n_out,) per layer: live views of the network's."""
        check_is_fitted(self)
        return list(self.model_.biases)

    # -- fitting --------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, *, incremental=False, classes=None):
        settings = resolve(self)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        if first_pass:
            dtype = settings.dtype if settings.dtype is not None else (np.float64, np.float32)
        else:
            dtype = self.model_.dtype
        X, y = validate_data(self, X, y, reset=first_pass, multi_output=True, dtype=dtype,
                             y_numeric=is_regressor(self))
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        T, labels = self._encode_targets(y, first_pass=first_pass, incremental=incremental,
                                         classes=classes)
        weights = self._sample_weight(sample_weight, X.shape[0], labels, incremental)
        rng = check_random_state(self.random_state)
        if first_pass:
            self._initialize(settings, X.shape[1], T.shape[1], X.dtype, rng)
        elif T.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {T.shape[1]} outputs but the fitted network has {self.n_outputs_}; "
                "set warm_start=False to fit a new network"
            )
        T = T.astype(self.model_.dtype, copy=False)
        if settings.solver == "lbfgs":
            self._fit_lbfgs(X, T, weights, settings)
        else:
            self._fit_stochastic(X, T, weights, labels, settings, rng, incremental)
        return self

    def _sample_weight(self, sample_weight, n: int, labels, incremental: bool):
        """Raw per-sample weights (n,) as float64, or None; class weights folded in."""
        extra = self._extra_sample_weight(labels, incremental)
        if sample_weight is None:
            return extra
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.ndim == 0:
            w = np.full(n, float(w))
        if w.shape != (n,):
            raise ValueError(f"sample_weight.shape == {w.shape}, expected {(n,)}!")
        if not np.all(np.isfinite(w)):
            raise ValueError("sample_weight contains NaN or infinity")
        if np.any(w < 0):
            raise ValueError("Negative values in data passed to `sample_weight`")
        if extra is not None:
            w = w * extra
        if not np.any(w > 0):
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return w

    def _initialize(self, settings: Settings, n_features: int, n_outputs: int, dtype, rng):
        output_activation, out_name, loss = self._output(settings, n_outputs)
        check_pairing(loss, output_activation, n_outputs)
        self.model_ = MLP(
            [n_features, *settings.hidden, n_outputs],
            activation=settings.activation,
            output_activation=output_activation,
            init=self.init if self.init is not None else "glorot_uniform",
            dropout=settings.dropout,
            seed=int(rng.randint(np.iinfo(np.int32).max)),
            dtype=dtype,
        )
        if self.init is None:
            sklearn_initialize(self.model_, settings.activation, rng)
        self.out_activation_ = out_name
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(settings.hidden) + 2
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        stopping = self.early_stopping and settings.solver != "lbfgs"
        self.validation_loss_curve_ = [] if stopping else None
        self.validation_scores_ = [] if stopping else None
        self.best_validation_loss_ = np.inf if stopping else None
        self.best_validation_score_ = None
        self._best_weights = None
        self._no_improvement_count = 0
        self._optimizer = None

    def _fit_stochastic(self, X, T, weights, labels, settings, rng, incremental):
        model = self.model_
        validation = None
        if self.early_stopping and not incremental:
            X, T, weights, validation = self._split_validation(X, T, weights, labels, rng)
        n = X.shape[0]
        if settings.batch_size is None:
            batch_size = min(AUTO_BATCH, n)
        else:
            if settings.batch_size > n:
                warn_batch_size_clipped()
            batch_size = min(settings.batch_size, n)
        loss = sklearn_loss(self._output(settings, T.shape[1])[2], T.shape[1])
        mean_weight = 1.0 if weights is None else float(weights.mean())
        l2 = 0.0 if settings.solver == "adamw" else alpha_to_l2(
            float(self.alpha), batch_size, mean_weight)
        if validation is not None:
            X_val, T_val, w_val = validation
            # The engine's weighted loss expects (n, 1) weights of mean 1.
            w_mean1 = None if w_val is None else (w_val / w_val.mean()).reshape(-1, 1)
            validation = (X_val, T_val, None if w_mean1 is None else w_mean1.astype(model.dtype),
                          loss, l2, self._score_function(T_val, w_val))
        if self._optimizer is None or not incremental:
            # As scikit-learn: fit (also with warm_start) starts a fresh optimiser;
            # partial_fit carries the moments on.
            self._optimizer = make_optimizer(self, settings.solver)
            self._no_improvement_count = 0
        self.n_iter_ = 0
        monitor = Monitor(self, n_train=n, validation=validation)
        history = model.fit(
            X, T, loss=loss, optimizer=self._optimizer, epochs=1 if incremental else self.max_iter,
            batch_size=batch_size, shuffle=bool(self.shuffle), metrics=[], callbacks=[monitor],
            l2=l2, sample_weight=weights,
        )
        if history.interrupted:
            warnings.warn("Training interrupted by user.", UserWarning, stacklevel=4)
        if validation is not None and self._best_weights is not None:
            # As scikit-learn: keep the network of the best validation epoch.
            model.set_flat_parameters(self._best_weights)
        if not incremental and not monitor.stopped and self.n_iter_ == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=4)

    def _split_validation(self, X, T, weights, labels, rng):
        rows = np.arange(X.shape[0])
        fraction = float(self.validation_fraction)
        if labels is not None:
            # Stratify only where every class can appear in both parts, as
            # train_test_split requires; otherwise split at random.
            counts = np.unique(labels, return_counts=True)[1]
            n_val = int(np.ceil(fraction * rows.size))
            if counts.min() < 2 or min(n_val, rows.size - n_val) < counts.size:
                labels = None
        train, val = train_test_split(rows, test_size=fraction, random_state=rng,
                                      stratify=labels)
        if val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             "or the size of your dataset.")
        w_train = None if weights is None else weights[train]
        w_val = None if weights is None else weights[val]
        if w_train is not None and not np.any(w_train > 0):
            raise ValueError("Sample weights of the training part are all zero after the "
                             "early-stopping split; change random_state or validation_fraction")
        if w_val is not None and not np.any(w_val > 0):
            raise ValueError("Sample weights of the validation part are all zero after the "
                             "early-stopping split; change random_state or validation_fraction")
        return X[train], T[train], w_train, (X[val], T[val], w_val)

    def _fit_lbfgs(self, X, T, weights, settings):
        model = self.model_
        loss = sklearn_loss(self._output(settings, T.shape[1])[2], T.shape[1])
        mean_weight = 1.0 if weights is None else float(weights.mean())
        l2 = alpha_to_l2(float(self.alpha), X.shape[0], mean_weight)
        w = None if weights is None else (weights / mean_weight).astype(model.dtype).reshape(-1, 1)
        result, curve = fit_lbfgs(model, X, T, loss, w, l2, max_iter=self.max_iter,
                                  max_fun=self.max_fun, tol=float(self.tol),
                                  verbose=bool(self.verbose))
        self.n_iter_ = min(int(result.nit), self.max_iter)
        self.t_ += X.shape[0] * self.n_iter_
        self.loss_ = float(result.fun)
        self.loss_curve_.extend(curve)
        self.best_loss_ = min([self.best_loss_, *curve, self.loss_])
        if not np.all(np.isfinite(model.get_flat_parameters())):
            raise ValueError("Solver produced non-finite parameter weights. The input data may "
                             "contain large values and need to be preprocessed.")
        if result.status != 0:
            message = result.message
            message = message.decode() if isinstance(message, bytes) else message
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                f"(status={result.status}): {message}. Increase the number of iterations "
                f"(max_iter={self.max_iter}) or max_fun={self.max_fun}, or scale the data.",
                ConvergenceWarning, stacklevel=4)

    def _check_stochastic(self) -> bool:
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic.")
        return True

    # -- prediction -----------------------------------------------------------------------
    def _forward(self, X) -> np.ndarray:
        """Validated network output for ``X``: (n_samples, n_outputs_)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        out = self.model_.predict(X.astype(self.model_.dtype, copy=False))
        # Outputs in the input's precision, as scikit-learn (a float32 network still
        # answers float64 queries in float64).
        return out.astype(X.dtype, copy=False)

    # -- scikit-learn plumbing ------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        optimizer = state.get("_optimizer")
        if optimizer is not None:
            # The optimiser keys its moments by id() of the network's flat parameter, which
            # does not survive pickling; carry them by position instead (the same dict
            # object, so the pickle stores the arrays once).
            state["_optimizer_moments"] = (optimizer.iterations,
                                           optimizer.state_arrays(self.model_.flat_param))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        moments = state.pop("_optimizer_moments", None)
        super().__setstate__(state)
        model = self.__dict__.get("model_")
        if model is not None:
            _relink_parameters(model)
        if moments is not None:
            iterations, arrays = moments
            self._optimizer.reset()
            if arrays:
                self._optimizer.load_state_arrays(model.flat_param, arrays)
            self._optimizer.iterations = iterations


def _relink_parameters(model: Any) -> None:
    """Make every layer's parameters views of the network's flat buffer again.

    Pickling (and ``copy.deepcopy``) stores each NumPy view as an array of its own, so an
    unpickled network would update its flat buffer while its layers compute with stale
    copies. Repacking is a no-op once the network restores its own views on unpickling.
    """
    first = model.dense_layers[0].W
    if not np.may_share_memory(first.value, model.flat_param.value):
        model.pack_parameters()
