"""The compiled path: whole epochs of a Dense network in one Numba call.

On networks of the chapter's size a NumPy step is 20–30 calls of about half a microsecond
each plus the Python around them, while the arithmetic is a few hundred operations. The
kernels (``kernels.py``, ``elementwise.py``) run forward, loss, backward and the optimiser's
update for every batch of an epoch — or of many epochs — without returning to Python.
The NumPy path stays the reference and the fallback: the kernels agree with it to 1e-5 in
float32 and 1e-12 in float64 over 100 steps for every activation, loss, optimiser and batch
setting they accept (``tests/test_compiled.py``), and leave weights, gradients, optimiser
state and the random stream exactly where the NumPy path would.

Numba is optional (the ``fast`` extra) and imported only here, lazily: without it, or for
anything the kernels do not accept (Dropout, a custom activation, loss, optimiser or layer),
``fit`` runs the NumPy path. ``BACKPROP_COMPILED`` chooses:

- ``auto`` (default): compiled when it helps, by the measurements below;
- ``always`` (or ``1``): compiled whenever accepted, compiling first if need be;
- ``never`` (or ``0``): the NumPy path.

When ``auto`` chooses it (measured with ``benchmarks/compiled_sizes.py``, see the README):

- the kernels must be loaded: importing numba and loading the machine code from its disk
  cache costs about LOAD_SECONDS once per process (compiling, the first time on a machine,
  about 20 s for both dtypes, then cached). So a fit in a process that has not loaded them
  runs its first epoch on NumPy, timed; if the remaining epochs would take longer than
  LOAD_SECONDS on NumPy, it loads the kernels and runs them compiled.
- the network must be small enough that Python's per-call overhead matters: at most
  MAX_MACS_PER_STEP multiply-adds per batch. Above that both paths spend their time in the
  same BLAS products and NumPy's fused SGD update (``_fast/fused_step.py``) wins.

The disk cache (``cache=True``) lives in ``__pycache__`` beside the kernels, or, where the
package is read-only, in the user's cache directory (numba's own fallback), or wherever
``NUMBA_CACHE_DIR`` points.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from .runner import CompiledTrainer, refusal

__all__ = ["CompiledTrainer", "chosen", "load_kernels", "loaded", "mode", "refusal"]

ENV = "BACKPROP_COMPILED"
_MODES = {"auto": "auto", "always": "always", "1": "always", "on": "always",
          "never": "never", "0": "never", "off": "never"}
#: seconds to import numba and load the kernels from the disk cache (measured: 0.4–0.9 s on
#: the benchmark machine, most of it numba's import)
LOAD_SECONDS = 1.0
#: above this many multiply-adds per batch the NumPy path is as fast (measured)
MAX_MACS_PER_STEP = 2_000_000

_kernels: Any = None


def mode() -> str:
    """``BACKPROP_COMPILED`` as one of "auto", "always", "never"."""
    value = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if value not in _MODES:
        raise ValueError(f"{ENV}={os.environ[ENV]!r} is not a mode; choose one of: "
                         "auto, always (1, on), never (0, off)")
    return _MODES[value]


def available() -> bool:
    """Numba is installed (found without importing it)."""
    return importlib.util.find_spec("numba") is not None


def loaded() -> bool:
    """The kernels are imported in this process (numba's import and the cache load paid)."""
    return _kernels is not None


def load_kernels() -> Any:
    """The kernels module, importing numba (and compiling, the first time) on first use."""
    global _kernels
    if _kernels is None:
        from . import kernels as module

        _kernels = module
    return _kernels


def macs_per_step(model: Any, batch_size: int) -> int:
    """Multiply-adds of one batch's forward products (the backward pass doubles them)."""
    return batch_size * sum(layer.n_in * layer.n_out for layer in model.dense_layers)


def chosen(model: Any, loss: Any, opt: Any, batch_size: int) -> str | None:
    """Before the first epoch: "compiled", "trial" (time an epoch on NumPy, then decide with
    :func:`worth_loading`) or None (the NumPy path)."""
    setting = mode()
    if setting == "never" or refusal(model, loss, opt) is not None or not available():
        return None
    if setting == "always":
        return "compiled"
    if macs_per_step(model, batch_size) > MAX_MACS_PER_STEP:
        return None
    return "compiled" if loaded() else "trial"


def worth_loading(epoch_seconds: float, epochs_left: int) -> bool:
    """After a timed NumPy epoch: would the rest of the run on NumPy outlast loading?"""
    return epoch_seconds * epochs_left > LOAD_SECONDS
