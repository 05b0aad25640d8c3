"""The fused step: plain SGD taken inside the product that computes the gradient.

For θ ← θ − η·∂L/∂θ with ∂L/∂W = xᵀδ, a large block is updated as W ← W − η·xᵀδ in one BLAS
``gemm`` with β = 1 (``blas.add_product_t``), run by every BLAS thread, instead of writing
the gradient and then subtracting it in a single-threaded pass that must first fetch the half
of the gradient the other BLAS thread wrote. On the MNIST-shaped workload (W3) that pass was a
fifth of the epoch: 0.60 → 0.47 s.

It is chosen once per ``fit`` (:meth:`FusedStep.for_fit`): only for plain SGD (no momentum,
weight decay or clipnorm, and not a subclass with its own rule), without L2, and without
batch hooks, which might look at the gradients. The loop attaches it to the Dense layers for
every batch of an epoch but the last, whose gradients the history's norms report, and
detaches it for that batch; ``Dense.backward_delta`` then calls it in place of writing its
gradients.

Fallback, decided per block: a block under ``BLAS_MIN_SIZE`` parameters, or any block where
NumPy's BLAS cannot be called, gets its gradient written and subtracted with NumPy, bit for
bit what ``SGD.step`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import blas
from .numpy_direct import column_sums, dot

#: blocks with fewer parameters take the NumPy fallback: a BLAS call through ctypes costs a
#: few µs more than np.dot, more than the pass it saves on a small block
BLAS_MIN_SIZE = 8192


class FusedStep:
    """Plain SGD steps taken inside backpropagation, for one ``fit``.

    Parameters
    ----------
    optimizer : backprop.SGD
        Plain SGD; its learning rate is read when the step is attached (each epoch, after
        the schedules have set it) and its step counts are kept by :meth:`book`.
    layers : list of backprop.Dense
    reads_ones : backprop.Dense, optional
        The layer whose input carries a column of ones (``Dense.forward_with_ones``): its
        block is [W; b].
    """

    def __init__(self, optimizer: Any, layers: Sequence[Any], reads_ones: Any = None) -> None:
        self.optimizer = optimizer
        # η in a list of its own, which the steps read: closures that read it through self
        # would make a reference cycle, keeping this object (and the parameter views its
        # steps hold) alive after fit until Python's rare full collection
        self._lr = [optimizer.lr]
        self.layers = list(layers)
        self._steps = [self._step_for(layer, layer is reads_ones) for layer in self.layers]

    @classmethod
    def for_fit(cls, optimizer: Any, layers: Sequence[Any], reads_ones: Any, *, l2: float,
                batch_hooks: bool) -> FusedStep | None:
        """A ``FusedStep`` when this fit's update is plain gradient descent, else None."""
        if l2 or batch_hooks or not is_plain_sgd(optimizer):
            return None
        return cls(optimizer, layers, reads_ones)

    @property
    def lr(self) -> float:
        """The learning rate of the steps: the optimiser's when last attached."""
        return self._lr[0]

    def attach(self) -> None:
        """Take the steps inside backpropagation from the next batch on, at the current η."""
        self._lr[0] = self.optimizer.lr
        for layer, step in zip(self.layers, self._steps):
            layer._fused_step = step

    def detach(self) -> None:
        """Back to writing gradients (for the optimiser's step)."""
        for layer in self.layers:
            layer._fused_step = None

    def book(self, params: Sequence[Any]) -> None:
        """Count the step that backpropagation took, as ``optimizer.step(params)`` would."""
        optimizer = self.optimizer
        optimizer.iterations += 1
        for p in params:
            optimizer.state_of(p)["step"] += 1

    def _step_for(self, layer: Any, reads_ones: bool) -> Callable[[np.ndarray, np.ndarray],
                                                                   None]:
        """θ ← θ − η·∂L/∂θ for ``layer``, given its input x and δ = ∂L/∂z."""
        block, bias = (layer.Wb, None) if reads_ones else (layer.W, layer.b)
        value, grad = block.value, block.grad
        use_blas = value.size >= BLAS_MIN_SIZE
        rate = self._lr

        def step(x: np.ndarray, delta: np.ndarray) -> None:
            lr = rate[0]
            if not (use_blas and blas.add_product_t(value, -lr, x, delta)):
                dot(x.T, delta, out=grad)
                np.subtract(value, lr * grad, out=value)
            if bias is not None:
                column_sums(delta, out=bias.grad)
                np.subtract(bias.value, lr * bias.grad, out=bias.value)

        return step


def is_plain_sgd(optimizer: Any) -> bool:
    """Whether ``optimizer.step`` is exactly θ ← θ − η·∂L/∂θ: backprop's own SGD (a subclass
    may change the rule) without momentum, weight decay or clipping.

    Read from the optimiser's public config, as this package imports nothing of the engine.
    """
    config = optimizer.get_config()
    return (type(optimizer).__name__ == "SGD" and type(optimizer).__module__ == SGD_MODULE
            and config.get("name") == "sgd" and not config.get("momentum")
            and not config.get("weight_decay") and config.get("clipnorm") is None)


#: where backprop's SGD class lives
SGD_MODULE = "backprop.optimizers"
