"""The machinery shared by ``backprop.sklearn.MLPClassifier`` and ``MLPRegressor``.

``BaseMLP`` turns a scikit-learn ``fit``/``partial_fit`` call into one engine ``fit`` call:
validate (parameters, X, y, sample weights), draw scikit-learn's starting weights on the
first pass, split off a validation set for early stopping, build the network, map ``alpha``
onto the engine's L2 penalty, and let a :class:`~backprop.sklearn.training.Monitor` callback
keep scikit-learn's curves and stopping rule. Subclasses supply the target encoding, the
output layer and loss, and the score.

Random draws follow scikit-learn's order from ``check_random_state(random_state)``: the
starting weights (nothing before them), the early-stopping split, then each epoch's batch
order. The engine's own generator (dropout, named initialisers: nothing scikit-learn has) is
seeded from a copy of that state, so it takes nothing from scikit-learn's sequence.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import sparse as _sparse
from sklearn.base import BaseEstimator, is_regressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..losses import check_pairing
from ..mlp import MLP
from ..training import PoorFitWarning, TrainingDiverged
from . import weights as _weights
from .params import STOCHASTIC_SOLVERS, Settings, resolve
from .training import (
    BatchOrder,
    Monitor,
    alpha_to_l2,
    diverged_error,
    engine_seed,
    fit_lbfgs,
    make_optimizer,
    sklearn_loss,
    sklearn_weights,
    warn_batch_size_clipped,
)

#: scikit-learn's "auto" batch size is min(AUTO_BATCH, n_samples)
AUTO_BATCH = 200
#: sparse formats accepted for X (CSC is converted to CSR for the row batches)
SPARSE_FORMATS = ["csr", "csc"]


def store_parameters(est: BaseEstimator, arguments: dict[str, Any]) -> None:
    """Set each ``__init__`` argument as the attribute of the same name.

    scikit-learn's contract: ``__init__`` only stores its arguments (``fit`` validates them),
    and ``get_params`` reads the names from each class's own ``__init__`` signature. Called as
    ``store_parameters(self, locals())`` on the first line of ``__init__``.
    """
    for name, value in arguments.items():
        if name != "self":
            setattr(est, name, value)


class BaseMLP(BaseEstimator):
    """Fit logic common to the classifier and the regressor (not for direct use)."""

    # -- hooks for subclasses ---------------------------------------------------------------
    def _encode_targets(self, y, *, incremental, fresh, classes):
        """Return ``(T, labels)``: the (n, k) target matrix and the class index of each row
        for class weights (None where there are no such labels)."""
        raise NotImplementedError

    def _output(self, settings: Settings, n_outputs: int):
        """Return ``(output activation, out_activation_ name, engine loss)``."""
        raise NotImplementedError

    def _score_function(self, T_val: np.ndarray, w_val: np.ndarray | None):
        """Return ``score(a)``: the validation score of the network output ``a``."""
        raise NotImplementedError

    def _stratify(self, T: np.ndarray) -> np.ndarray | None:
        """Labels that stratify the early-stopping split, or None to split at random."""
        return None

    def _extra_sample_weight(self, labels, incremental: bool) -> np.ndarray | None:
        return None

    # -- fitted attributes that live in the network -----------------------------------------
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, one (n_in, n_out) per layer: live views of the network's."""
        return self._layer_arrays("coefs_")

    @coefs_.setter
    def coefs_(self, value: Any) -> None:
        self._assign_layer_arrays("coefs_", value)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, one (n_out,) per layer: live views of the network's."""
        return self._layer_arrays("intercepts_")

    @intercepts_.setter
    def intercepts_(self, value: Any) -> None:
        self._assign_layer_arrays("intercepts_", value)

    def _layer_arrays(self, name: str) -> list[Any]:
        if "model_" in self.__dict__:
            return _weights.live(self.model_, name)
        if _weights.PENDING[name] in self.__dict__:
            return self.__dict__[_weights.PENDING[name]]
        check_is_fitted(self)
        return _weights.live(self.model_, name)

    def _assign_layer_arrays(self, name: str, value: Any) -> None:
        if "model_" in self.__dict__:
            _weights.assign(self.model_, name, value)
        else:  # kept as given: scikit-learn's code fills such a list in after assigning it
            self.__dict__[_weights.PENDING[name]] = value

    # -- fitting --------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, *, incremental=False, classes=None):
        settings = resolve(self)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        fresh = not self.warm_start and not incremental
        has_model = "model_" in self.__dict__
        assigned = any(key in self.__dict__ for key in _weights.PENDING.values())
        # "new": draw starting weights; "assigned": start from coefs_/intercepts_ given
        # before any fit (scikit-learn continues from them too); "continue": go on.
        start = ("new" if fresh or not (has_model or assigned)
                 else "continue" if has_model else "assigned")
        if start == "continue":
            dtype = self.model_.dtype
        else:
            dtype = settings.dtype if settings.dtype is not None else (np.float64, np.float32)
        reset = start == "new" or not hasattr(self, "n_features_in_")
        X, y = validate_data(self, X, y, reset=reset, accept_sparse=SPARSE_FORMATS,
                             multi_output=True, dtype=dtype, y_numeric=is_regressor(self))
        if _sparse.issparse(X) and X.format != "csr":
            X = X.tocsr()  # training gathers rows
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        T, labels = self._encode_targets(y, incremental=incremental, fresh=fresh, classes=classes)
        weights = self._sample_weight(sample_weight, X.shape[0], labels, incremental)
        rng = check_random_state(self.random_state)
        if start == "new":
            for key in _weights.PENDING.values():
                self.__dict__.pop(key, None)
            sizes = [X.shape[1], *settings.hidden, T.shape[1]]
            initial = sklearn_weights(sizes, settings.activation, rng) if self.init is None \
                else None
        elif start == "assigned":
            sizes, *initial = _weights.take_assigned(self, X.shape[1], T.shape[1])
        elif T.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {T.shape[1]} outputs but the fitted network has {self.n_outputs_}; "
                "set warm_start=False to fit a new network"
            )
        validation = None
        stopping = self.early_stopping and settings.solver != "lbfgs"
        if stopping:
            X, T, weights, validation = self._split_validation(X, T, weights, rng)
        if start != "continue":
            self._initialize(settings, sizes, X.dtype, engine_seed(rng), initial)
            initial = None  # the float64 draws, copied into the network: not kept while training
        self._start_records(stopping, keep=start != "new")
        T = T.astype(self.model_.dtype, copy=False)
        if settings.solver == "lbfgs":
            self._fit_lbfgs(X, T, weights, settings)
        else:
            self._fit_stochastic(X, T, weights, validation, settings, incremental, rng)
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

    def _initialize(self, settings: Settings, sizes: list[int], dtype, seed: int,
                    initial: tuple | None) -> None:
        """Build the network (from ``initial`` (coefs, intercepts) where given)."""
        output_activation, out_name, loss = self._output(settings, sizes[-1])
        check_pairing(loss, output_activation, sizes[-1])
        self.model_ = MLP(
            sizes,
            activation=settings.activation,
            output_activation=output_activation,
            init=self.init if self.init is not None else "glorot_uniform",
            dropout=settings.dropout,
            seed=seed,
            dtype=dtype,
        )
        if initial is not None:
            for layer, W, b in zip(self.model_.dense_layers, *initial):
                layer.W.value[...] = W
                layer.b.value[...] = b
        self.out_activation_ = out_name
        self.n_outputs_ = sizes[-1]
        self.n_layers_ = len(sizes)

    def _start_records(self, stopping: bool, *, keep: bool) -> None:
        """The counters and curves scikit-learn keeps (kept across warm starts and
        partial_fit, and where a user set them along with coefs_)."""
        defaults = {"n_iter_": 0, "t_": 0, "loss_curve_": [], "_no_improvement_count": 0,
                    "_best_weights": None, "_optimizer": None,
                    "best_loss_": None if stopping else np.inf,
                    "validation_loss_curve_": [] if stopping else None,
                    "validation_scores_": [] if stopping else None,
                    "best_validation_loss_": np.inf if stopping else None,
                    "best_validation_score_": -np.inf if stopping else None}
        for name, value in defaults.items():
            if not keep or self.__dict__.get(name) is None:
                setattr(self, name, value)

    def _fit_stochastic(self, X, T, weights, validation, settings, incremental, rng):
        model = self.model_
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
            validation = (X_val, T_val.astype(model.dtype, copy=False),
                          None if w_mean1 is None else w_mean1.astype(model.dtype),
                          loss, l2, self._score_function(T_val, w_val))
        if self._optimizer is None or not incremental:
            # As scikit-learn: fit (also with warm_start) starts a fresh optimiser;
            # partial_fit carries the moments on.
            self._optimizer = make_optimizer(self, settings.solver)
        self.n_iter_ = 0
        monitor = Monitor(self, n_train=n, validation=validation, on=settings.early_stopping_on)
        try:
            with warnings.catch_warnings():
                # The engine's verdict on a fit no better than a constant is not scikit-learn's
                # (its own test treats any UserWarning from fit as an error).
                warnings.simplefilter("ignore", PoorFitWarning)
                history = model.fit(
                    X, T, loss=loss, optimizer=self._optimizer,
                    epochs=1 if incremental else self.max_iter, batch_size=batch_size,
                    shuffle=BatchOrder(rng) if self.shuffle else False, metrics=[],
                    callbacks=[monitor], l2=l2, sample_weight=weights,
                )
        except TrainingDiverged as exc:
            if validation is None:
                raise diverged_error(exc, model) from None
            self._diverged_with_validation(exc, monitor)
        else:
            if history.interrupted:
                warnings.warn("Training interrupted by user.", UserWarning, stacklevel=4)
            if not incremental and not monitor.stopped and self.n_iter_ == self.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                    "the optimization hasn't converged yet.", ConvergenceWarning, stacklevel=4)
        if validation is not None and self._best_weights is not None:
            # As scikit-learn: keep the network of the best validation epoch.
            model.set_flat_parameters(self._best_weights)

    def _diverged_with_validation(self, exc: TrainingDiverged, monitor: Monitor) -> None:
        """scikit-learn trains on through a diverging loss when it early-stops, records NaN
        validation scores, and ends with the best validation epoch's weights. Here the
        engine stops at the divergence (keeping the last finite weights); the epoch is
        recorded with NaN loss and score, and the best validation epoch's weights, if any
        epoch had a finite score, replace the last finite ones."""
        self.n_iter_ += 1
        self.loss_ = float("nan")
        self.loss_curve_.append(self.loss_)
        monitor.record_validation(float("nan"), float("nan"))
        if self._best_weights is not None:
            kept = "the weights of its best validation epoch instead"
        else:
            kept = "these last finite weights: no epoch had a finite validation score"
        warnings.warn(f"{exc} With early_stopping=True the estimator keeps {kept}.",
                      ConvergenceWarning, stacklevel=5)

    def _split_validation(self, X, T, weights, rng):
        """scikit-learn's early-stopping split: ``train_test_split`` with ``rng``, stratified
        by the binarised labels for single-output classification (an error, as there, when
        a class has one member)."""
        rows = np.arange(X.shape[0])
        train, val = train_test_split(rows, test_size=float(self.validation_fraction),
                                      random_state=rng, stratify=self._stratify(T))
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
        self.best_loss_ = min([np.inf if self.best_loss_ is None else self.best_loss_,
                               *curve, self.loss_])
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
        X = validate_data(self, X, reset=False, accept_sparse=SPARSE_FORMATS,
                          dtype=(np.float64, np.float32))
        out = self.model_.predict(X.astype(self.model_.dtype, copy=False))
        # Outputs in the input's precision, as scikit-learn (a float32 network still
        # answers float64 queries in float64).
        return out.astype(X.dtype, copy=False)

    # -- scikit-learn plumbing ------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True
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
