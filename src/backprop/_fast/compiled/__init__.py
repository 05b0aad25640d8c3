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

- the network is small enough that Python's per-call overhead matters: at most
  MAX_MACS_PER_STEP multiply-adds in a batch's forward products. Above that both paths
  spend their time in the same BLAS products, and NumPy's fused SGD update
  (``_fast/fused_step.py``) wins. Adam's update on the NumPy path is a dozen passes over
  the parameters, which the kernels do in one: for Adam (and AdamW) the line is
  MAX_MACS_PER_STEP_ADAM.
- the fit is long enough to pay for loading the kernels: importing numba and loading the
  machine code from its disk cache costs about a second once per process (compiling them,
  the first time on a machine, about 20 s per dtype; then cached). So ``auto`` takes the
  compiled path when the NumPy path would need at least MIN_SECONDS, by a fixed estimate
  from the sizes (``numpy_seconds``). Short fits, the chapter's among them, stay on NumPy
  unless ``BACKPROP_COMPILED=always``.

The choice depends only on the model, the data's size and the settings, never on timings or
on what this process has done before: the same fit takes the same path, so it gives the same
bits every time.

The disk cache (``cache=True``) lives in ``__pycache__`` beside the kernels, or, where the
package is read-only, in the user's cache directory (numba's own fallback), or wherever
``NUMBA_CACHE_DIR`` points.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import warnings
from collections.abc import Callable
from typing import Any

from .runner import CompiledTrainer, qualified_name, refusal

__all__ = ["CompiledTrainer", "chosen", "load_kernels", "loaded", "mode", "numpy_seconds",
           "refusal"]

ENV = "BACKPROP_COMPILED"
_MODES = {"auto": "auto", "always": "always", "1": "always", "on": "always",
          "never": "never", "0": "never", "off": "never"}
#: ``auto`` compiles fits the NumPy path would need at least this long for (about twice
#: the once-per-process cost of loading the kernels, so the gain repays it)
MIN_SECONDS = 2.0
#: above this many multiply-adds in a batch's forward products the NumPy path is as fast
#: (``compiled_sizes.py``: every cell below gains 1.1–6.7×; plain SGD above loses, 0.45–0.89×)
MAX_MACS_PER_STEP = 2_000_000
#: the same for Adam: from 2.4 to 4.5 million the kernels still gain 1.07–1.77×, from 22
#: million on they lose (0.45–0.86×), as SGD does
MAX_MACS_PER_STEP_ADAM = 5_000_000
ADAM = ("backprop.optimizers.Adam", "backprop.optimizers.AdamW")
#: the NumPy path's cost model (numpy_seconds), fitted to W1–W4 on the benchmark machine
STEP_SECONDS, LAYER_SECONDS, MAC_SECONDS, ELEMENT_SECONDS = 5e-6, 4e-6, 4e-11, 2e-9

_kernels: Any = None
_controller: Any = None


def mode() -> str:
    """``BACKPROP_COMPILED`` as one of "auto", "always", "never"."""
    value = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if value not in _MODES:
        raise ValueError(f"{ENV}={os.environ[ENV]!r} is not a mode; choose one of: "
                         "auto, always (1, on), never (0, off)")
    return _MODES[value]


def available() -> bool:
    """Numba is installed (found without importing it)."""
    try:
        return importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):  # a finder that refuses it, a broken install
        return False


def loaded() -> bool:
    """The kernels are imported in this process (numba's import and the cache load paid)."""
    return _kernels is not None


def load_kernels() -> Any:
    """The kernels module, importing numba (and compiling, the first time) on first use."""
    global _kernels
    if _kernels is None:
        _kernels = import_numba_module("kernels")
    return _kernels


def import_numba_module(name: str) -> Any:
    """This package's numba module ``name`` (``kernels``, ``relu_kernels``), imported."""
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except RuntimeError as error:
        # numba found no writable place for its cache (neither beside the package nor in the
        # user's cache directory): keep it in the temporary directory instead.
        if "no locator available" not in str(error):
            raise
        import numba

        numba.config.CACHE_DIR = cache_fallback()
        return importlib.import_module(f"{__name__}.{name}")


def load_or_warn(load: Callable[[], Any], what: str, stacklevel: int) -> Any:
    """``load()``, or None with a RuntimeWarning naming ``what``: a broken numba install
    must not stop training, which goes on on the NumPy path."""
    try:
        return load()
    except Exception as error:
        warnings.warn(f"backprop's {what} unavailable ({error!r}); training on the NumPy "
                      "path", RuntimeWarning, stacklevel=stacklevel + 1)
        return None


def one_blas_thread() -> contextlib.AbstractContextManager:
    """BLAS on one thread while the kernels run (threadpoolctl; a no-op without it).

    The kernels' products are small (MAX_MACS_PER_STEP): a second BLAS thread only adds a
    hand-over per product, and on a busy machine its spinning waits for a core. Measured on
    the digits workload (W2): 0.37 s on one thread against 0.43 s on two with other work on
    the machine, the same when it is quiet.
    """
    global _controller
    if _controller is None:
        try:
            import threadpoolctl

            _controller = threadpoolctl.ThreadpoolController()
        except Exception:  # not installed, or a platform it cannot inspect
            _controller = False
    if not _controller:
        return contextlib.nullcontext()
    return _controller.limit(limits=1, user_api="blas")


def cache_fallback() -> str:
    """Where the disk cache goes when numba finds nowhere writable by itself."""
    import tempfile

    user = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return os.path.join(tempfile.gettempdir(), f"backprop-numba-{user}")


def macs_per_step(model: Any, batch_size: int) -> int:
    """Multiply-adds of one batch's forward products (backward doubles them)."""
    return batch_size * sum(layer.n_in * layer.n_out for layer in model.dense_layers)


def max_macs_per_step(opt: Any) -> int:
    """The largest batch (in forward multiply-adds) ``auto`` compiles for this optimiser."""
    return MAX_MACS_PER_STEP_ADAM if qualified_name(opt) in ADAM else MAX_MACS_PER_STEP


def numpy_seconds(model: Any, n_rows: int, batch_size: int, epochs: int) -> float:
    """About how long the NumPy path takes for this fit: per step a fixed cost, a cost per
    layer (its NumPy calls), per multiply-add and per activation element."""
    layers = model.dense_layers
    steps_per_epoch = -(-n_rows // batch_size)
    step = (STEP_SECONDS + LAYER_SECONDS * len(layers)
            + MAC_SECONDS * macs_per_step(model, batch_size)
            + ELEMENT_SECONDS * batch_size * sum(layer.n_out for layer in layers))
    return step * steps_per_epoch * epochs


def chosen(model: Any, loss: Any, opt: Any, n_rows: int, batch_size: int,
           epochs: int) -> bool:
    """Whether this fit runs compiled (see the module's notes)."""
    setting = mode()
    if setting == "never" or refusal(model, loss, opt) is not None:
        return False
    if setting == "auto" and not (macs_per_step(model, batch_size) <= max_macs_per_step(opt)
                                  and numpy_seconds(model, n_rows, batch_size,
                                                    epochs) >= MIN_SECONDS):
        return False
    # Last: looking for numba searches the import path (≈ 40 µs), which the arithmetic
    # above spares every fit too short or too large to take the compiled path.
    return available()
