"""Layers: the ``Layer`` contract, ``Dense`` and ``Dropout``, and ``Param``.

The contract is two methods: ``forward(x, training) -> y`` keeps exactly what ``backward``
needs, and ``backward(dy) -> dx`` takes ∂L/∂y and returns ∂L/∂x without recomputing the
forward pass. ``backward`` *writes* the gradient of the current batch into each ``Param.grad``
(it does not accumulate), so there is no zeroing step to forget and no stale gradient from an
earlier batch can leak into an update. Updating the parameters is the optimiser's business.

How ``fit`` makes this fast without changing it lives in ``backprop._fast`` (see
docs/ARCHITECTURE.md): the parameters are views into one flat buffer, the first layer reads
its input with a column of ones (``Dense.forward_with_ones``), and plain SGD may take its step
inside the gradient product (``Dense._fused_step``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import activations as _activations
from . import initializers as _initializers
from ._fast.numpy_direct import column_sums, dot
from .validation import as_rng, check_dtype, check_in_range, check_positive


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
    """Base class: ``build``, ``forward``, ``backward``, ``params`` and ``get_config``.

    Attributes
    ----------
    needs_input_grad : bool
        Whether ``backward`` must return ∂L/∂x. A network sets it False on its first layer,
        whose input is the data: nobody needs that gradient, and ``Dense`` then skips its
        product (⅓ of the backward arithmetic of a wide first layer).
    """

    built = False
    needs_input_grad = True

    def build(self, seed: Any = None, dtype: Any = "float32") -> Layer:
        self.built = True
        return self

    def params(self) -> list[Param]:
        return []

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """y = f(x) for a batch x of shape (n, n_in), keeping what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        """∂L/∂x from ∂L/∂y (``dy`` may be overwritten), writing each ``Param.grad``."""
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
        # What forward keeps for backward: the input, z (when needed) and a; whether the
        # input carried a column of ones (forward_with_ones).
        self._x: np.ndarray | None = None
        self._z: np.ndarray | None = None
        self._a: np.ndarray | None = None
        self._x_has_ones = False
        #: a sparse input (forward_sparse), kept apart from _x (then None) so that the dense
        #: path's checks stay as they are
        self._x_sparse: Any = None
        #: set by backprop._fast.fused_step while fit takes plain SGD steps inside the
        #: gradient product; None otherwise
        self._fused_step = None
        #: set by backprop._fast.compiled.relu_passes while fit runs ReLU's elementwise
        #: passes compiled (bit for bit NumPy's arithmetic); None otherwise
        self._relu_passes = None

    # A copy (pickle, deepcopy: a callback may take one during fit) leaves behind what a fit
    # attached for its own speed (backprop._fast); a layer pickled before the ReLU passes
    # existed loads with none.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_fused_step"] = state["_relu_passes"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state.setdefault("_relu_passes", None)
        self.__dict__.update(state)

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
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """z = x·W + b, a = g(z). x: (n, n_in) → a: (n, n_out)."""
        if self.W is None:
            raise RuntimeError("Dense layer is not built; call layer.build(seed) or use it in "
                               "a Sequential/MLP")
        # dot: np.dot without its dispatcher, the same product as @ for 2-D arrays
        z = dot(x, self.W.value)
        passes = self._relu_passes
        if passes is not None and not self.keep_z and \
                passes.forward(z, None if self.b is None else self.b.value):
            # z ← max(z + b, 0) in one compiled pass (backprop._fast.compiled.relu_passes)
            self._x, self._z, self._a, self._x_has_ones = x, None, z, False
            return z
        if self.b is not None:
            z += self.b.value
        keep_z = self.keep_z
        a = self.activation.forward(z, out=None if keep_z else z)
        self._x, self._z, self._a, self._x_has_ones = x, (z if keep_z else None), a, False
        return a

    def forward_with_ones(self, x_ones: np.ndarray, training: bool = False) -> np.ndarray:
        """``forward`` for x with a column of ones appended: z = [x 1]·[W; b], one product.

        Parameters
        ----------
        x_ones : ndarray of shape (n, n_in + 1)
            Its last column all ones (``backprop._fast.storage.with_ones_column``). Needs the
            [W; b] block ``Wb`` that a network's parameter storage lays out.
        """
        if self.Wb is None:
            raise RuntimeError("forward_with_ones needs the [W; b] block of a layer with a "
                               "bias inside a Sequential/MLP")
        z = dot(x_ones, self.Wb.value)
        keep_z = self.keep_z
        a = self.activation.forward(z, out=None if keep_z else z)
        self._x, self._z, self._a, self._x_has_ones = x_ones, (z if keep_z else None), a, True
        return a

    def forward_sparse(self, x: Any, training: bool = False) -> np.ndarray:
        """``forward`` for a SciPy sparse x (CSR, as ``validation.check_X`` gives it).

        z = x·W + b is a sparse-dense product, x is never densified, and the backward pass
        computes ∂L/∂W = xᵀ·δ from the sparse x too: the cost follows x's non-zeros.
        """
        if self.W is None:
            raise RuntimeError("Dense layer is not built; call layer.build(seed) or use it in "
                               "a Sequential/MLP")
        z = np.asarray(x @ self.W.value)
        if self.b is not None:
            z += self.b.value
        keep_z = self.keep_z
        a = self.activation.forward(z, out=None if keep_z else z)
        self._x, self._x_sparse, self._z, self._a = None, x, (z if keep_z else None), a
        self._x_has_ones = False
        return a

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
        """δ = dy ⊙ g'(z), then :meth:`backward_delta`. ``dy`` = ∂L/∂a may be overwritten."""
        if self._x is None and self._x_sparse is None:
            raise RuntimeError("backward called before forward on this Dense layer")
        passes = self._relu_passes
        if passes is not None and passes.backward(dy, self._a):  # dy ⊙ g'(z), compiled
            return self.backward_delta(dy)
        return self.backward_delta(self.activation.backward(dy, self._z, self._a))

    def backward_delta(self, delta: np.ndarray) -> np.ndarray | None:
        """Backpropagate δ = ∂L/∂z (the fused losses hand it over directly).

        ∂L/∂W = xᵀ·δ and ∂L/∂b = Σₙ δ are written into ``W.grad`` and ``b.grad``; returns
        ∂L/∂x = δ·Wᵀ (None when ``needs_input_grad`` is False).
        """
        x = self._x
        if x is None:  # the input was sparse (or forward never ran)
            return self._backward_delta_sparse(delta)
        # ∂L/∂x first: a fused step changes W.
        dx = dot(delta, self.W.value.T) if self.needs_input_grad else None
        if self._fused_step is not None:
            self._fused_step(x, delta)  # θ ← θ − η·∂L/∂θ instead (backprop._fast.fused_step)
        elif self._x_has_ones:
            dot(x.T, delta, out=self.Wb.grad)  # [x 1]ᵀ·δ = [∂L/∂W; ∂L/∂b] in one product
        else:
            dot(x.T, delta, out=self.W.grad)
            if self.b is not None:
                column_sums(delta, out=self.b.grad)
        return dx

    def _backward_delta_sparse(self, delta: np.ndarray) -> np.ndarray | None:
        """``backward_delta`` after ``forward_sparse``: ∂L/∂W = xᵀ·δ with the sparse x."""
        x = self._x_sparse
        if x is None:
            raise RuntimeError("backward called before forward on this Dense layer")
        if self._fused_step is not None:
            raise RuntimeError("the fused SGD step takes dense input only; fit does not "
                               "attach it to a layer that reads sparse input")
        dx = dot(delta, self.W.value.T) if self.needs_input_grad else None
        self.W.grad[...] = x.T @ delta
        if self.b is not None:
            column_sums(delta, out=self.b.grad)
        return dx

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
        #: the generator of the masks (a network shares its own, so one seed fixes all)
        self.rng: np.random.Generator | None = None
        self._dtype = np.dtype("float32")

    def build(self, seed: Any = None, dtype: Any = "float32") -> Dropout:
        self.rng = as_rng(seed)
        self._dtype = check_dtype(dtype)
        self.built = True
        return self

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if self.rng is None:
            self.build()
        keep = self.rng.random(x.shape, dtype=self._dtype) >= self.rate
        mask = keep.astype(self._dtype)
        mask *= 1.0 / (1.0 - self.rate)
        self._mask = mask
        return x * mask

    def backward(self, dy: np.ndarray) -> np.ndarray | None:
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
