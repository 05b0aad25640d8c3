"""Layers: the ``Layer`` contract, ``Dense`` and ``Dropout``, and ``Param``.

A layer's ``forward(x, training)`` keeps exactly what its ``backward(dy)`` needs, and
``backward`` never recomputes the forward pass. ``backward`` *writes* the gradient of the
current batch into each ``Param.grad`` (it does not accumulate), so there is no zeroing step
to forget and no stale gradient from an earlier batch can leak into an update.

``backward(..., lr=η)`` instead applies plain gradient descent, θ ← θ − η·∂L/∂θ, as it goes
(``fit`` does this for SGD without momentum): see ``Dense.backward``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import activations as _activations
from . import initializers as _initializers
from ._fast import blas as _blas
from ._fast.numpy_direct import dot
from ._validation import as_rng, check_dtype, check_in_range, check_positive

#: blocks with fewer parameters than this take a separate update step (a BLAS call through
#: ctypes costs a few µs more than np.dot, more than the pass it saves on a small block)
_FUSED_STEP_MIN_SIZE = 8192


class Param:
    """A trainable array and its gradient, side by side.

    Attributes
    ----------
    name : str
        ``"W"`` or ``"b"`` (qualified by the network as ``"dense_1.W"``).
    value : ndarray
        The live parameter array.
    grad : ndarray
        Same shape and dtype; the gradient of the last backward pass.
    """

    __slots__ = ("name", "value", "grad")

    def __init__(self, name: str, value: np.ndarray, grad: np.ndarray | None = None) -> None:
        self.name = name
        self.value = value
        self.grad = np.zeros_like(value) if grad is None else grad

    def __repr__(self) -> str:
        return f"Param({self.name!r}, shape={self.value.shape}, dtype={self.value.dtype})"


class Layer:
    """Base class: ``build``, ``forward``, ``backward``, ``params`` and ``get_config``."""

    built = False

    def build(self, seed: Any = None, dtype: Any = "float32") -> Layer:
        self.built = True
        return self

    def params(self) -> list[Param]:
        return []

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(
        self, dy: np.ndarray, need_input_grad: bool = True, lr: float | None = None
    ) -> np.ndarray | None:
        raise NotImplementedError

    def output_size(self, input_size: int) -> int:
        return input_size

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError


class Dense(Layer):
    """Fully connected layer ``a = g(x @ W + b)``.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths; ``W`` has shape (n_in, n_out), ``b`` shape (n_out,).
        (The chapter writes W⁽ˡ⁾ as (n_out, n_in), the transpose of ours.)
    activation : str or Activation, default "identity"
    init : str or callable, optional
        Weight initialiser; by default He normal for the relu family and Xavier uniform for
        the rest. Biases start at zero.
    use_bias : bool, default True

    Examples
    --------
    >>> import numpy as np
    >>> layer = Dense(3, 2, activation="relu").build(seed=0)
    >>> layer.forward(np.ones((4, 3), dtype=np.float32)).shape
    (4, 2)
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: Any = "identity",
        init: Any = None,
        use_bias: bool = True,
    ) -> None:
        self.n_in = check_positive("n_in", n_in, integer=True)
        self.n_out = check_positive("n_out", n_out, integer=True)
        self.activation = _activations.get(activation)
        if init is None:
            init = _initializers.default_for(self.activation.name)
        self.init = _initializers.get(init)
        self.init_name = _initializers.name_of(init)
        if not isinstance(use_bias, bool):
            raise TypeError(f"use_bias must be True or False; got {use_bias!r}")
        self.use_bias = use_bias
        #: keep the pre-activation z after forward (the network sets this on the output layer,
        #: whose logits feed the stable fused loss)
        self.keep_z = self.activation.needs_input
        self.W: Param | None = None
        self.b: Param | None = None
        #: [W; b] as one (n_in + 1, n_out) block, when a network lays the parameters out so
        self.Wb: Param | None = None
        self._x: np.ndarray | None = None
        self._x_ones: np.ndarray | None = None
        self._z: np.ndarray | None = None
        self._a: np.ndarray | None = None
        self._ones_buffer: np.ndarray | None = None

    # -- construction ---------------------------------------------------------------------
    def build(self, seed: Any = None, dtype: Any = "float32") -> Dense:
        """Allocate and initialise ``W`` (from ``seed``) and ``b`` (zeros)."""
        rng = as_rng(seed)
        dtype = check_dtype(dtype)
        weights = self.init((self.n_in, self.n_out), rng, dtype)
        if weights.shape != (self.n_in, self.n_out):
            raise ValueError(
                f"initialiser returned shape {weights.shape}; expected {(self.n_in, self.n_out)}"
            )
        self.W = Param("W", np.ascontiguousarray(weights, dtype=dtype))
        self.b = Param("b", np.zeros(self.n_out, dtype=dtype)) if self.use_bias else None
        self.built = True
        return self

    def params(self) -> list[Param]:
        return [p for p in (self.W, self.b) if p is not None]

    def output_size(self, input_size: int) -> int:
        return self.n_out

    # -- computation ----------------------------------------------------------------------
    def forward(
        self, x: np.ndarray, training: bool = False, x_ones: np.ndarray | None = None
    ) -> np.ndarray:
        """z = x @ W + b, a = g(z). x: (n, n_in) → a: (n, n_out).

        Parameters
        ----------
        x_ones : ndarray of shape (n, n_in + 1), optional
            x with a column of ones appended; with it z = [x 1]·[W; b] is one product
            (in a network, whose parameter layout provides the block [W; b]).
        """
        if self.W is None:
            raise RuntimeError("Dense layer is not built; call layer.build(seed) or use it in "
                               "a Sequential/MLP")
        # dot: np.dot, the same product as @ for 2-D arrays with less call overhead on small
        # ones, called without its dispatcher (_numpy_direct)
        if x_ones is not None and self.Wb is not None:
            z = dot(x_ones, self.Wb.value)
        else:
            x_ones = None
            z = dot(x, self.W.value)
            if self.b is not None:
                z += self.b.value
        keep_z = self.keep_z
        a = self.activation.forward(z, out=None if keep_z else z)
        self._x, self._x_ones, self._z, self._a = x, x_ones, (z if keep_z else None), a
        return a

    def backward(
        self, dy: np.ndarray, need_input_grad: bool = True, lr: float | None = None,
        through_activation: bool = True,
    ) -> np.ndarray | None:
        """Backpropagate ∂L/∂a (or ∂L/∂z when ``through_activation`` is False).

        δ = dy ⊙ g'(z);  ∂L/∂W = xᵀ·δ;  ∂L/∂b = Σₙ δ;  returns ∂L/∂x = δ·Wᵀ.
        ``dy`` may be overwritten.

        Parameters
        ----------
        lr : float, optional
            Take the gradient-descent step θ ← θ − lr·∂L/∂θ here instead of leaving ∂L/∂θ in
            ``Param.grad`` for an optimiser (whose grad arrays are then stale). ∂L/∂x is
            computed first, from the weights before the step.
        """
        if self._x is None:
            raise RuntimeError("backward called before forward on this Dense layer")
        delta = self.activation.backward(dy, self._z, self._a) if through_activation else dy
        dx = dot(delta, self.W.value.T) if need_input_grad else None
        if lr is not None and self._step_in_product(delta, lr):
            return dx
        if self._x_ones is not None:
            # [x 1]ᵀ·δ: the rows of ∂L/∂W and, last, ∂L/∂b = Σₙ δ, in one product.
            dot(self._x_ones.T, delta, out=self.Wb.grad)
        else:
            dot(self._x.T, delta, out=self.W.grad)
            if self.b is not None:
                # Σₙ δ as a BLAS product 1ᵀδ: several times faster than sum(axis=0) on
                # narrow δ.
                dot(self._ones(delta.shape[0]), delta, out=self.b.grad)
        if lr is not None:  # the step the product could not take: the same as SGD's
            for param in (self.Wb,) if self._x_ones is not None else self.params():
                param.value -= lr * param.grad
        return dx

    def _step_in_product(self, delta: np.ndarray, lr: float) -> bool:
        """W ← W − lr·xᵀδ (or [W; b] with the input's ones column) as one BLAS call, so no
        separate pass runs over a gradient written by the other BLAS thread (see _blas);
        then b ← b − lr·Σₙδ. False, with nothing changed, for a small block or where NumPy's
        BLAS cannot be called: ``backward`` then writes the gradients and subtracts them."""
        param, inputs = (self.Wb, self._x_ones) if self._x_ones is not None else (self.W, self._x)
        if param.value.size < _FUSED_STEP_MIN_SIZE or not _blas.add_product_t(
            param.value, -lr, inputs, delta
        ):
            return False
        if self._x_ones is None and self.b is not None:
            dot(self._ones(delta.shape[0]), delta, out=self.b.grad)
            self.b.value -= lr * self.b.grad
        return True

    def _ones(self, n: int) -> np.ndarray:
        ones = self._ones_buffer
        if ones is not None and ones.shape[0] == n:
            return ones
        if ones is None or ones.shape[0] < n:
            ones = self._ones_buffer = np.ones(n, dtype=self.W.value.dtype)
            return ones
        return ones[:n]

    def get_config(self) -> dict[str, Any]:
        if self.init_name is None:
            raise ValueError("a Dense layer with a custom initialiser function has no config; "
                             "register the initialiser or pass its name")
        return {
            "class": "Dense",
            "n_in": self.n_in,
            "n_out": self.n_out,
            "activation": self.activation.get_config(),
            "init": self.init_name,
            "use_bias": self.use_bias,
        }

    def __repr__(self) -> str:
        return f"Dense({self.n_in}, {self.n_out}, activation={self.activation.name!r})"


class Dropout(Layer):
    """Inverted dropout: during training each unit is zeroed with probability ``rate`` and
    the survivors are scaled by 1/(1 − rate), so inference is the identity.

    Parameters
    ----------
    rate : float in [0, 1)
    """

    def __init__(self, rate: float) -> None:
        self.rate = check_in_range("dropout rate", rate, 0.0, 1.0, closed_low=True)
        self._mask: np.ndarray | None = None
        self._rng: np.random.Generator | None = None
        self._dtype = np.dtype("float32")

    def build(self, seed: Any = None, dtype: Any = "float32") -> Dropout:
        self._rng = as_rng(seed)
        self._dtype = check_dtype(dtype)
        self.built = True
        return self

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if self._rng is None:
            self.build()
        keep = self._rng.random(x.shape, dtype=self._dtype) >= self.rate
        mask = keep.astype(self._dtype)
        mask *= 1.0 / (1.0 - self.rate)
        self._mask = mask
        return x * mask

    def backward(
        self, dy: np.ndarray, need_input_grad: bool = True, lr: float | None = None
    ) -> np.ndarray | None:
        if self._mask is None:
            return dy
        dy *= self._mask
        return dy

    def get_config(self) -> dict[str, Any]:
        return {"class": "Dropout", "rate": self.rate}

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"


LAYER_CLASSES = {"Dense": Dense, "Dropout": Dropout}


def layer_from_config(config: dict[str, Any]) -> Layer:
    """Rebuild an (unbuilt) layer from ``get_config()`` output."""
    options = dict(config)
    cls_name = options.pop("class", None)
    if cls_name not in LAYER_CLASSES:
        raise ValueError(
            f"unknown layer class {cls_name!r}; choose one of: {', '.join(LAYER_CLASSES)}"
        )
    return LAYER_CLASSES[cls_name](**options)
