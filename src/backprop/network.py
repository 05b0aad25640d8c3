"""Networks: ``Sequential``, a stack of layers trained by backpropagation (``MLP`` in mlp.py).

Forward is each layer's ``forward`` in turn; backward starts from the loss's gradient at the
output and runs each layer's ``backward`` in reverse. The parameters live in flat storage
(``backprop._fast.storage``): every layer's W and b are views into one array, so an optimiser
updates the whole model in a dozen NumPy calls whatever its depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import activations as _activations
from . import losses as _losses
from ._fast.sparse import is_sparse
from ._fast.storage import FlatParameters
from .layers import Dense, Dropout, Layer, Param, layer_from_config
from .training import fit as _fit
from .validation import as_rng, check_dtype, check_nonnegative, check_same_rows, check_X

#: model classes by the name their get_config() gives (subclasses register themselves)
MODEL_CLASSES: dict[str, type] = {}


class Sequential:
    """A stack of layers trained by backpropagation.

    Parameters
    ----------
    layers : list of Layer
        ``Dense`` and ``Dropout`` layers; consecutive Dense widths must agree.
    seed : int or numpy Generator, optional
        Source of every random number the model uses (initial weights, dropout masks,
        shuffling, validation splits). The same seed gives bit-identical results.
    dtype : {"float32", "float64"}, default "float32"

    Examples
    --------
    >>> import backprop as bp
    >>> model = bp.Sequential([bp.Dense(2, 4, activation="tanh"),
    ...                        bp.Dense(4, 1, activation="sigmoid")], seed=0)
    >>> model.predict([[0.0, 1.0]]).shape
    (1, 1)
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        MODEL_CLASSES[cls.__name__] = cls

    def __init__(self, layers: Sequence[Layer], seed: Any = None, dtype: Any = "float32") -> None:
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer; got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} must be a backprop Layer; got {type(layer).__name__}")
        dense = [layer for layer in layers if isinstance(layer, Dense)]
        if not isinstance(layers[-1], Dense):
            raise ValueError(
                f"the last layer must be the Dense output layer; got {layers[-1]!r}"
            )
        for prev, nxt in zip(dense, dense[1:]):
            if prev.n_out != nxt.n_in:
                raise ValueError(
                    f"layer sizes do not chain: a Dense with n_out={prev.n_out} is followed by "
                    f"a Dense with n_in={nxt.n_in}"
                )
        self.layers = layers
        self.dense_layers = dense
        self.dtype = check_dtype(dtype)
        self.seed = seed if not isinstance(seed, np.random.Generator) else None
        self.rng = as_rng(seed)
        for layer in layers:
            layer.build(self.rng, self.dtype)
        # The output layer keeps its logits for the stable fused loss value.
        dense[-1].keep_z = True
        # The first layer's input is the data, whose gradient nobody needs.
        layers[0].needs_input_grad = False
        self.pack_parameters()
        self.stop_training = False
        self.optimizer = None
        self.loss = None
        self.history = None
        #: raw rows → network inputs, or None (see backprop.preprocessing)
        self.preprocessor = None
        # Filled by bp.load (and the command line) for models read from a file.
        self.classes_ = None
        self.training_config = None

    # -- parameter storage ----------------------------------------------------------------
    def pack_parameters(self) -> None:
        """Lay every parameter out in fresh flat storage, starting from the layers' values.

        Afterwards each layer's ``W`` and ``b`` are views into ``flat_param.value`` (and their
        gradients into ``flat_param.grad``); ``storage`` is the
        ``backprop._fast.storage.FlatParameters`` holding them. Needed only after something
        replaced the layers' arrays (unpickling does it by itself).
        """
        self.storage = FlatParameters(self.dense_layers, self.dtype)
        for layer, block in zip(self.dense_layers, self.storage.blocks):
            layer.Wb = None if block is None else Param("Wb", *block)
        #: one Param spanning every parameter, for whole-model optimiser updates
        self.flat_param = Param("all", self.storage.values, self.storage.grads)
        self._named_params: list[Param] | None = None

    def set_rng(self, rng: np.random.Generator) -> None:
        """Use ``rng`` for everything random from now on (shuffling, dropout masks)."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator; got {type(rng).__name__}")
        for layer in self.layers:
            if isinstance(layer, Dropout):
                layer.rng = rng
        self.rng = rng

    # Pickle and deepcopy store each layer's parameter views as separate arrays; relink them
    # into one flat buffer on the way back in, carrying the optimiser's moments along.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("storage", "flat_param", "_named_params"):
            state.pop(key, None)
        if self.optimizer is not None:
            state["_flat_optimizer_state"] = self.optimizer.state_arrays(self.flat_param)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.pop("_flat_optimizer_state", None)
        state.setdefault("_preprocessor", None)
        self.__dict__.update(state)
        self.pack_parameters()
        if self.optimizer is not None:
            iterations = self.optimizer.iterations
            self.optimizer.reset()
            if saved:
                self.optimizer.load_state_arrays(self.flat_param, saved)
            self.optimizer.iterations = iterations

    def parameters(self) -> list[Param]:
        """Every ``Param`` in layer order, named ``dense_<k>.W`` / ``dense_<k>.b`` (k from 1).

        The same ``Param`` objects on every call: optimisers keep their state per ``Param``,
        so ``opt.step(model.parameters())`` in a loop must see the same objects each step.
        """
        if self._named_params is None:
            self._named_params = [
                Param(f"dense_{k}.{p.name}", p.value, p.grad)
                for k, layer in enumerate(self.dense_layers, start=1)
                for p in layer.params()
            ]
        return list(self._named_params)

    @property
    def weights(self) -> list[np.ndarray]:
        """Live weight arrays, one (n_in, n_out) per Dense layer."""
        return [layer.W.value for layer in self.dense_layers]

    @property
    def biases(self) -> list[np.ndarray | None]:
        """Live bias arrays, one (n_out,) per Dense layer (None where use_bias=False)."""
        return [layer.b.value if layer.b is not None else None for layer in self.dense_layers]

    def get_flat_parameters(self) -> np.ndarray:
        """A copy of every parameter as one 1-D array, layer by layer: W⁽¹⁾, b⁽¹⁾, W⁽²⁾, ...

        (Biases included: the vector gradient descent moves, θ.)
        """
        return self.flat_param.value.copy()

    def set_flat_parameters(self, values: np.ndarray) -> None:
        """Overwrite every parameter from a ``get_flat_parameters()`` vector."""
        values = np.asarray(values)
        flat = self.flat_param.value
        if values.shape != flat.shape:
            raise ValueError(f"expected {flat.size} parameter values; got shape {values.shape}")
        flat[...] = values

    #: the older names of get_flat_parameters and set_flat_parameters (biases included too)
    get_flat_weights = get_flat_parameters
    set_flat_weights = set_flat_parameters

    def count_params(self) -> int:
        return int(self.flat_param.value.size)

    @property
    def n_features(self) -> int:
        return self.dense_layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.dense_layers[-1].n_out

    @property
    def output_activation(self) -> _activations.Activation:
        return self.dense_layers[-1].activation

    # -- forward and backward -------------------------------------------------------------
    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """Propagate an already validated (n, n_features) array; returns the output a⁽ᴸ⁾.

        A SciPy sparse X (CSR) goes through the first Dense layer's ``forward_sparse``.
        """
        layers = self.layers
        if type(X) is not np.ndarray and is_sparse(X):  # (the type test: no call for arrays)
            a = self._first_sparse_forward()(X, training)
            layers = layers[1:]
        else:
            a = X
        for layer in layers:
            a = layer.forward(a, training)
        return a

    def _first_sparse_forward(self):
        first = self.layers[0]
        if not isinstance(first, Dense):
            raise TypeError(f"sparse X needs a Dense first layer to read it; this network "
                            f"starts with {first!r}")
        return first.forward_sparse

    def backward(self, dy: np.ndarray) -> None:
        """Backpropagate ∂L/∂a⁽ᴸ⁾ through every layer, writing every ``Param.grad``."""
        layers = self.layers
        for i in range(len(layers) - 1, -1, -1):
            dy = layers[i].backward(dy)

    def backward_delta(self, delta: np.ndarray) -> None:
        """Backpropagate δ⁽ᴸ⁾ = ∂L/∂z⁽ᴸ⁾ (as the fused losses give it), writing every grad."""
        layers = self.layers
        grad = layers[-1].backward_delta(delta)
        for i in range(len(layers) - 2, -1, -1):
            grad = layers[i].backward(grad)

    def backward_from_output(
        self, a: np.ndarray, T: np.ndarray, loss: _losses.Loss,
        sample_weight: np.ndarray | None = None,
    ) -> None:
        """Backpropagate ``loss`` from the last forward pass, writing every ``Param.grad``.

        ``sample_weight`` (n, 1), if given, scales each sample's contribution (mean 1 =
        unweighted). A fused pair (sigmoid + binary, softmax + categorical cross-entropy)
        starts from δ⁽ᴸ⁾ = (a − T)/N, never from a saturated ∂L/∂a.
        """
        if loss.fuses_with == self.layers[-1].activation.name:
            delta = loss.fused_gradient(a, T)
            if sample_weight is not None:
                delta *= sample_weight
            self.backward_delta(delta)
        else:
            grad = loss.gradient(a, T)
            if sample_weight is not None:
                grad *= sample_weight
            self.backward(grad)

    def backward_loss(
        self, a: np.ndarray, T: np.ndarray, loss: _losses.Loss,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        """The data loss of the last forward pass, backpropagated: returns its value and
        leaves ∂L/∂θ in every ``Param.grad`` (the training step's half after forward)."""
        last = self.layers[-1]
        if sample_weight is None and loss.fuses_with == last.activation.name:
            value, delta = loss.fused_value_and_gradient(a, T, last._z)  # one pass for both
            self.backward_delta(delta)
            return value
        value = self.loss_value(a, T, loss, sample_weight)
        self.backward_from_output(a, T, loss, sample_weight)
        return value

    def forward_backward(
        self, X: np.ndarray, T: np.ndarray, loss: _losses.Loss,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """One training pass on validated arrays: forward (training mode), loss, backward.

        Returns the data loss and the network output; every ``Param.grad`` holds ∂L/∂θ.
        """
        a = self.forward(X, True)
        return self.backward_loss(a, T, loss, sample_weight), a

    def loss_value(
        self, a: np.ndarray, T: np.ndarray, loss: _losses.Loss,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        """Data loss of the last forward pass (from the logits on a fused path)."""
        last = self.dense_layers[-1]
        z = last._z if loss.fuses_with == last.activation.name else None
        if sample_weight is not None:
            return loss.weighted_value(a, T, z, sample_weight)
        return loss.value(a, T, z)

    def l2_penalty(self) -> float:
        """Σ‖W‖² over all weight matrices (biases excluded)."""
        return sum(float(np.vdot(layer.W.value, layer.W.value)) for layer in self.dense_layers)

    def add_l2_gradient(self, l2: float) -> None:
        """Add ∂(λΣ‖W‖²)/∂W = 2λW to every weight gradient."""
        for layer in self.dense_layers:
            layer.W.grad += (2 * l2) * layer.W.value

    def loss_and_gradients(
        self, X: Any, y: Any, loss: Any = "mse", l2: float = 0.0
    ) -> tuple[float, list[tuple[np.ndarray, np.ndarray | None]]]:
        """The loss on (X, y) and its gradient for every Dense layer, by backpropagation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        loss : str or Loss
        l2 : float
            Adds λ·Σ‖W‖² to the loss and 2λW to each weight gradient.

        Returns
        -------
        loss : float
        grads : list of (dW, db)
            Copies, in layer order; dW has shape (n_in, n_out), db shape (n_out,)
            (None for a layer without bias).

        Notes
        -----
        Dropout layers are applied in training mode (the same as one training step).
        """
        loss = _losses.get(loss)
        l2 = check_nonnegative("l2", l2)
        X = check_X(X, self.n_features, self.dtype)
        T = loss.prepare_targets(y, self.n_outputs, self.dtype)
        check_same_rows(X, T)
        a = self.forward(X, training=True)
        value = self.loss_value(a, T, loss)
        self.backward_from_output(a, T, loss)
        if l2:
            value += l2 * self.l2_penalty()
            self.add_l2_gradient(l2)
        grads = [
            (layer.W.grad.copy(), None if layer.b is None else layer.b.grad.copy())
            for layer in self.dense_layers
        ]
        return value, grads

    # -- user-facing inference ------------------------------------------------------------
    @property
    def preprocessor(self) -> Any:
        """What turns raw rows into the first layer's inputs (None: the rows are the
        inputs). ``fit``, ``predict`` and ``evaluate`` apply it; see
        :mod:`backprop.preprocessing` for the protocol."""
        return self._preprocessor

    @preprocessor.setter
    def preprocessor(self, value: Any) -> None:
        if value is not None:
            needed = ("transform", "transform_target", "inverse_transform_target",
                      "get_config", "get_arrays")
            lacking = [name for name in needed if not callable(getattr(value, name, None))]
            if lacking:
                raise TypeError(f"a preprocessor needs the methods {', '.join(needed)}; "
                                f"{type(value).__name__} lacks {', '.join(lacking)}")
        self._preprocessor = value

    def inputs(self, X: Any) -> np.ndarray:
        """Raw rows ``X`` as the first layer reads them: through the preprocessor, then
        validated and cast to the model's dtype, shape (n_samples, n_features)."""
        if self._preprocessor is not None:
            X = self._preprocessor.transform(X)
        return check_X(X, self.n_features, self.dtype)

    def predict(self, X: Any, batch_size: int | None = None) -> np.ndarray:
        """Network outputs for raw rows ``X``: shape (n_samples, n_outputs).

        Probabilities for a sigmoid or softmax output, raw values for identity. A model with
        a preprocessor takes the rows as they come (a DataFrame's columns by name) and
        returns regression outputs in the target's own units.
        """
        X = self.inputs(X)
        if batch_size is None or batch_size >= X.shape[0]:
            out = self.forward(X, training=False).copy()
        else:
            out = np.concatenate(
                [self.forward(X[s : s + batch_size]) for s in range(0, X.shape[0], batch_size)]
            )
        pre = self._preprocessor
        return out if pre is None else pre.inverse_transform_target(out)

    def predict_classes(self, X: Any) -> np.ndarray:
        """Class indices: threshold 0.5 for one output (or multi-label), arg-max otherwise."""
        out = self.predict(X)
        if out.shape[1] == 1 or self.output_activation.name != "softmax":
            labels = (out > 0.5).astype(np.int64)
            return labels[:, 0] if out.shape[1] == 1 else labels
        return out.argmax(axis=1)

    def evaluate(self, X: Any, y: Any, loss: Any = None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on (X, y); accuracy only for 0/1 targets.

        ``loss`` defaults to the loss of the last ``fit`` (stored in the model file, so the
        same after ``bp.load``). Like ``fit``, it reads raw rows through the preprocessor,
        and measures the loss on the targets as the network was trained on them
        (standardised, for a regressor with target scaling): the number ``fit`` logs.
        """
        loss = _losses.get(loss if loss is not None else (self.loss or "mse"))
        X = self.inputs(X)
        if self._preprocessor is not None:
            y = self._preprocessor.transform_target(y)
        T = loss.prepare_targets(y, self.n_outputs, self.dtype)
        check_same_rows(X, T)
        a = self.forward(X, training=False)
        result = {"loss": self.loss_value(a, T, loss)}
        if loss.classification or _losses.is_classification_target(T):
            result["accuracy"] = _losses.accuracy(a, T)
        return result

    # -- training ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, **kwargs: Any):
        """Train the network; see :func:`backprop.training.fit` for every option."""
        return _fit(self, X, y, **kwargs)

    # -- description ----------------------------------------------------------------------
    def summary(self, print_fn: Any = print) -> str:
        """A table of layers, output shapes and parameter counts; printed and returned."""
        lines = [f"{'layer':<24}{'output':<14}{'params':>10}", "-" * 48]
        width = self.n_features
        dense_index = 0
        for layer in self.layers:
            width = layer.output_size(width)
            if isinstance(layer, Dense):
                dense_index += 1
                name = f"dense_{dense_index} ({layer.activation.name})"
                count = sum(p.value.size for p in layer.params())
            else:
                name, count = repr(layer), 0
            lines.append(f"{name:<24}{f'(n, {width})':<14}{count:>10,}")
        lines += ["-" * 48, f"{'total parameters':<38}{self.count_params():>10,}",
                  f"dtype: {self.dtype.name}"]
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text

    def get_config(self) -> dict[str, Any]:
        """JSON-safe description of the architecture (no weights)."""
        return {
            "class": "Sequential",
            "layers": [layer.get_config() for layer in self.layers],
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        """Build a fresh (re-initialised) model from ``get_config()`` output."""
        config = dict(config)
        kind = config.pop("class", "Sequential")
        if kind != "Sequential":
            if kind not in MODEL_CLASSES:
                raise ValueError(f"unknown model class {kind!r}; choose one of: "
                                 f"{', '.join(sorted({'Sequential', *MODEL_CLASSES}))}")
            return MODEL_CLASSES[kind](**config)
        layers = [layer_from_config(c) for c in config.pop("layers")]
        return Sequential(layers, **config)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"{type(self).__name__}([{inner}], dtype={self.dtype.name!r})"
