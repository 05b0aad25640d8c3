"""ReLU's elementwise passes compiled, on the NumPy path: the part of the compiled path that
large networks gain from.

A network too large for whole compiled epochs (``MAX_MACS_PER_STEP``) spends its time in BLAS
products, which both paths call alike, and in the passes between them. For ReLU layers those
are NumPy's ``z += b``, ``max(z, 0)`` and ``dy · (a > 0)``: three passes and a boolean
temporary over each activation matrix, where ``relu_kernels`` makes two single passes. W3
(MNIST-shaped, [784, 256, 128, 10], batches of 128): 3–6% off the epoch in interleaved runs
(``benchmarks/workloads.py`` ``run_backprop`` with ``compiled="auto"`` against ``"never"``).
The results are NumPy's bit for bit, so whether a fit uses them changes no number.

``fit`` attaches a :class:`ReLUPasses` to the ReLU Dense layers for the NumPy path's epochs
(``Dense.forward`` and ``Dense.backward`` then call it) and detaches it when training ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import MIN_SECONDS, available, import_numba_module, load_or_warn, mode, numpy_seconds

#: where backprop's ReLU lives (a subclass may change the function: not taken)
RELU = ("backprop.activations", "ReLU")

_kernels: Any = None
#: the dtypes the kernels have run in, in this process (loaded, nothing left to pay)
_ran: set[np.dtype] = set()


class ReLUPasses:
    """The compiled passes, for the ReLU layers of one fit.

    Each method returns False, having changed nothing, for arrays the loops do not take
    (not float32 or float64, not C-contiguous, of different dtypes); the layer then runs its
    NumPy code.
    """

    def __init__(self, kernels: Any, layers: Sequence[Any]) -> None:
        self._bias_relu = kernels.bias_relu
        self._relu_backward = kernels.relu_backward
        self.layers = list(layers)

    @classmethod
    def for_fit(cls, model: Any, n_rows: int, batch_size: int, epochs: int
                ) -> ReLUPasses | None:
        """The passes for this fit's ReLU layers, when ``BACKPROP_COMPILED`` allows them:
        ``always``; ``auto`` when this process has run them before in the model's dtype
        (nothing left to load), or the fit is long enough to repay loading them
        (``MIN_SECONDS``, as the compiled path: importing numba and loading the two kernels
        from the disk cache take about 0.3 s each, compiling them the first time on a
        machine about 1 s); never with ``never``.
        """
        setting = mode()
        layers = [layer for layer in model.dense_layers if is_relu(layer.activation)]
        if setting == "never" or not layers:
            return None
        if setting == "auto" and np.dtype(model.dtype) not in _ran and \
                numpy_seconds(model, n_rows, batch_size, epochs) < MIN_SECONDS:
            return None
        if not available():
            return None
        kernels = load_or_warn(load_kernels, "compiled ReLU passes are", stacklevel=5)
        return None if kernels is None else cls(kernels, layers)

    def attach(self) -> None:
        for layer in self.layers:
            layer._relu_passes = self

    def detach(self) -> None:
        for layer in self.layers:
            layer._relu_passes = None

    def forward(self, z: np.ndarray, b: np.ndarray | None) -> bool:
        """z ← max(z + b, 0) in place, z (m, n), b (n,)."""
        if b is None or not _suits(z, b):
            return False
        self._bias_relu(z, b)
        _ran.add(z.dtype)
        return True

    def backward(self, dy: np.ndarray, a: np.ndarray) -> bool:
        """dy ← dy · (a > 0) in place, dy and a (m, n)."""
        if not _suits(dy, a):
            return False
        self._relu_backward(dy, a)
        return True


def warm_up(dtype: Any = "float32") -> None:
    """Load the kernels and run them once in ``dtype``, as a fit that takes them does first
    (``make bench`` does this in its warm-up, as it loads the compiled path)."""
    kernels = load_kernels()
    z = np.ones((2, 2), dtype=dtype)
    kernels.bias_relu(z, z[0])
    kernels.relu_backward(z, z)
    _ran.add(z.dtype)


def _suits(x: np.ndarray, y: np.ndarray) -> bool:
    dtype = x.dtype
    return ((dtype == np.float32 or dtype == np.float64) and y.dtype == dtype
            and x.ndim == 2 and x.flags.c_contiguous and y.flags.c_contiguous
            and x.flags.writeable)


def is_relu(activation: Any) -> bool:
    """Backprop's own ReLU (by class, read without importing the engine)."""
    cls = type(activation)
    return (cls.__module__, cls.__name__) == RELU


def load_kernels() -> Any:
    """``relu_kernels``, importing numba (and compiling, the first time) on first use."""
    global _kernels
    if _kernels is None:
        _kernels = import_numba_module("relu_kernels")
    return _kernels
