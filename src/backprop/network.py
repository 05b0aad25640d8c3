"""Networks: ``Sequential``, a stack of layers trained by backpropagation (``MLP`` in mlp.py).

All parameters live as views into one flat array (layer by layer, each Dense layer's [W; b]
block) and all gradients as views into a second one. Layers see ordinary (n_in, n_out) and
(n_out,) arrays; an optimiser updates the whole model with a dozen NumPy calls, whatever its
depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import activations as _activations
from . import losses as _losses
from ._validation import as_rng, check_dtype, check_nonnegative, check_X
from .layers import Dense, Layer, Param, layer_from_config


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
        self._pack_parameters()
        self.stop_training = False
        self.optimizer = None
        self.loss = None
        self.history = None
        # Filled by bp.load (and the command line) for models read from a file.
        self.scaler = None
        self.classes_ = None
        self.training_config = None

    # -- parameter storage ----------------------------------------------------------------
    def _pack_parameters(self) -> None:
        # Layer by layer, a Dense layer's W (n_in, n_out) and b (n_out,) are the rows of one
        # block [W; b] of shape (n_in + 1, n_out): given its input with a column of ones
        # appended (the training data, see with_ones_column), one matrix product computes
        # x·W + b, and one product in backward gives ∂L/∂W and ∂L/∂b = Σδ together.
        dense = self.dense_layers
        total = sum(p.value.size for layer in dense for p in layer.params())
        # Values and gradients share one buffer, so a single reduction can report the norms
        # of every layer's weights and gradients at once (see training._Loop).
        self._storage = np.zeros(2 * total, dtype=self.dtype)
        self._flat_value = self._storage[:total]
        self._flat_grad = self._storage[total:]
        #: (start, stop, is_weight) of each W and b in the flat parameter vector
        self.segments: list[tuple[int, int, bool]] = []
        offset = 0
        for layer in dense:
            rows = layer.n_in + (1 if layer.b is not None else 0)
            size = rows * layer.n_out
            block = self._flat_value[offset : offset + size].reshape(rows, layer.n_out)
            grad_block = self._flat_grad[offset : offset + size].reshape(rows, layer.n_out)
            block[: layer.n_in] = layer.W.value
            layer.W.value, layer.W.grad = block[: layer.n_in], grad_block[: layer.n_in]
            self.segments.append((offset, offset + layer.W.value.size, True))
            if layer.b is not None:
                block[layer.n_in] = layer.b.value
                layer.b.value, layer.b.grad = block[layer.n_in], grad_block[layer.n_in]
                layer.Wb = Param("Wb", block, grad_block)
                self.segments.append((offset + layer.W.value.size, offset + size, False))
            offset += size
        #: one Param spanning every parameter, for whole-model optimiser updates
        self.flat_param = Param("all", self._flat_value, self._flat_grad)
        self._named_params: list[Param] | None = None
    def with_ones_column(self, X: np.ndarray) -> np.ndarray | None:
        """X (n, n_features) copied into a fresh (n, n_features + 1) array ending in ones, as
        the first layer reads it (None when the first layer has no bias).

        Training builds it once per fit (or gathers each shuffled batch into one), so the
        first layer's bias costs nothing in its products. Hidden layers keep z = a·W + b:
        writing their activations into such a buffer would make every elementwise operation
        strided, which costs more than the bias add it saves.
        """
        first = self.layers[0]
        if not isinstance(first, Dense) or first.b is None:
            return None
        out = np.empty((X.shape[0], X.shape[1] + 1), dtype=self.dtype)
        out[:, :-1] = X
        out[:, -1] = 1
        return out

    # Pickle and deepcopy store each layer's parameter views as separate arrays; relink them
    # into one flat buffer on the way back in, carrying the optimiser's moments along.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_named_params"] = None
        if self.optimizer is not None:
            state["_flat_optimizer_state"] = self.optimizer.state_arrays(self.flat_param)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.pop("_flat_optimizer_state", None)
        self.__dict__.update(state)
        self._pack_parameters()
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

    def get_flat_weights(self) -> np.ndarray:
        """A copy of every parameter as one 1-D array, layer by layer: W⁽¹⁾, b⁽¹⁾, W⁽²⁾, ..."""
        return self._flat_value.copy()

    def set_flat_weights(self, values: np.ndarray) -> None:
        values = np.asarray(values)
        if values.shape != self._flat_value.shape:
            raise ValueError(
                f"expected {self._flat_value.size} parameter values; got shape {values.shape}"
            )
        self._flat_value[...] = values

    def count_params(self) -> int:
        return int(self._flat_value.size)

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
    def forward(
        self, X: np.ndarray, training: bool = False, X_ones: np.ndarray | None = None
    ) -> np.ndarray:
        """Propagate an already validated (n, n_features) array; returns the output a⁽ᴸ⁾.

        ``X_ones``, if given, is X with a column of ones appended (``with_ones_column``):
        the first layer then computes [X 1]·[W; b] as one product.
        """
        # (positional arguments throughout the training step: keywords cost a little on
        # every call, which shows on the chapter's tiny networks)
        layers = self.layers
        if X_ones is None:
            a = layers[0].forward(X, training)
        else:
            a = layers[0].forward(X, training, X_ones)
        for i in range(1, len(layers)):
            a = layers[i].forward(a, training)
        return a

    def backward_from_output(
        self, a: np.ndarray, T: np.ndarray, loss: _losses.Loss, weights: np.ndarray | None = None,
        lr: float | None = None,
    ) -> None:
        """Backpropagate ``loss`` from the last forward pass, writing every ``Param.grad``.

        ``weights`` (n, 1), if given, scales each sample's contribution (mean 1 = unweighted).
        ``lr``, if given, takes the step θ ← θ − lr·∂L/∂θ instead (``Dense.backward``).
        """
        last = self.dense_layers[-1]
        if loss.fuses_with == last.activation.name:
            grad = loss.fused_gradient(a, T)
            through = False
        else:
            grad = loss.gradient(a, T)
            through = True
        if weights is not None:
            grad *= weights
        self._backward(grad, through, lr)

    def forward_backward(
        self, X: np.ndarray, T: np.ndarray, loss: _losses.Loss, weights: np.ndarray | None = None,
        X_ones: np.ndarray | None = None, lr: float | None = None,
    ) -> tuple[float, np.ndarray]:
        """One training pass on validated arrays: forward (training mode), loss, backward.

        Returns the data loss and the network output; every ``Param.grad`` holds ∂L/∂θ, or,
        with ``lr``, the step θ ← θ − lr·∂L/∂θ has been taken instead (``Dense.backward``).
        """
        a = self.forward(X, True, X_ones)
        last = self.dense_layers[-1]
        if weights is None and loss.fuses_with == last.activation.name:
            value, grad = loss.fused_value_and_gradient(a, T, last._z)
            self._backward(grad, False, lr)
        else:
            value = self.loss_value(a, T, loss, weights)
            self.backward_from_output(a, T, loss, weights, lr=lr)
        return value, a

    def _backward(self, grad: np.ndarray, through_last_activation: bool,
                  lr: float | None = None) -> None:
        # Output layer first; the first layer's input gradient (∂L/∂X) is never needed.
        layers = self.layers
        last = layers[-1]
        first = layers[0]
        grad = last.backward(grad, last is not first, lr, through_last_activation)
        for i in range(len(layers) - 2, -1, -1):
            layer = layers[i]
            grad = layer.backward(grad, layer is not first, lr)

    def loss_value(
        self, a: np.ndarray, T: np.ndarray, loss: _losses.Loss, weights: np.ndarray | None = None
    ) -> float:
        """Data loss of the last forward pass (from the logits on a fused path)."""
        last = self.dense_layers[-1]
        z = last._z if loss.fuses_with == last.activation.name else None
        if weights is not None:
            return loss.weighted_value(a, T, z, weights)
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
        _check_rows(X, T)
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
    def predict(self, X: Any, batch_size: int | None = None) -> np.ndarray:
        """Network outputs for ``X``: shape (n_samples, n_outputs).

        Probabilities for a sigmoid or softmax output, raw values for identity.
        """
        X = check_X(X, self.n_features, self.dtype)
        if batch_size is None or batch_size >= X.shape[0]:
            return self.forward(X, training=False).copy()
        return np.concatenate(
            [self.forward(X[s : s + batch_size]) for s in range(0, X.shape[0], batch_size)]
        )

    def predict_classes(self, X: Any) -> np.ndarray:
        """Class indices: threshold 0.5 for one output (or multi-label), arg-max otherwise."""
        out = self.predict(X)
        if out.shape[1] == 1 or self.output_activation.name != "softmax":
            labels = (out > 0.5).astype(np.int64)
            return labels[:, 0] if out.shape[1] == 1 else labels
        return out.argmax(axis=1)

    def evaluate(self, X: Any, y: Any, loss: Any = None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` on (X, y); accuracy only for 0/1 targets.

        ``loss`` defaults to the loss of the last ``fit``.
        """
        loss = _losses.get(loss if loss is not None else (self.loss or "mse"))
        X = check_X(X, self.n_features, self.dtype)
        T = loss.prepare_targets(y, self.n_outputs, self.dtype)
        _check_rows(X, T)
        a = self.forward(X, training=False)
        result = {"loss": self.loss_value(a, T, loss)}
        if loss.classification or _losses.is_classification_target(T):
            result["accuracy"] = _losses.accuracy(a, T)
        return result

    # -- training ---------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, **kwargs: Any):
        """Train the network; see :func:`backprop.training.fit` for every option."""
        from .training import fit

        return fit(self, X, y, **kwargs)

    def to_torch(self):
        """An equivalent ``torch.nn.Sequential`` (same weights, same outputs)."""
        from .io import to_torch

        return to_torch(self)

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
        if kind == "MLP":
            from .mlp import MLP

            return MLP(**config)
        if kind != "Sequential":
            raise ValueError(f"unknown model class {kind!r}; choose one of: MLP, Sequential")
        layers = [layer_from_config(c) for c in config.pop("layers")]
        return Sequential(layers, **config)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"{type(self).__name__}([{inner}], dtype={self.dtype.name!r})"


def _check_rows(X: np.ndarray, T: np.ndarray) -> None:
    if X.shape[0] != T.shape[0]:
        raise ValueError(
            f"X and y have different numbers of rows: X has {X.shape[0]}, y has {T.shape[0]}"
        )
