"""The one matrix product NumPy cannot express: C ← C + α·AᵀB (BLAS ``gemm`` with β = 1).

Plain gradient descent, θ ← θ − η·xᵀδ, can then happen inside the product that computes the
gradient, on every BLAS thread, instead of in a separate pass. That pass is slow for a reason
NumPy cannot avoid: it runs on one core and must first fetch the half of the gradient the
other BLAS thread wrote on the other core. On the MNIST-shaped benchmark it was a fifth of
the epoch.

We call the BLAS that NumPy itself loaded (the OpenBLAS shipped inside NumPy's wheels), so no
second thread pool competes with NumPy's. Where it is not found, or a check product at first
use disagrees with ``np.dot``, ``add_product_t`` returns False and callers fall back to
``np.dot`` and a NumPy update; nothing else changes.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

# cblas enums (cblas.h)
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112

# Symbol names, as NumPy's OpenBLAS builds export them, and the integer width of each:
# scipy-openblas64 (NumPy's wheels) prefixes "scipy_" and suffixes "64_" to its ILP64 API.
_SYMBOLS = (
    ("scipy_cblas_{}gemm64_", ctypes.c_int64),
    ("cblas_{}gemm64_", ctypes.c_int64),
    ("scipy_cblas_{}gemm", ctypes.c_int),
)


def _numpy_openblas_files() -> Iterator[Path]:
    """The OpenBLAS library files bundled with NumPy (Linux, Windows and macOS wheels)."""
    config = getattr(np.__config__, "CONFIG", {})  # NumPy >= 1.25
    blas = config.get("Build Dependencies", {}).get("blas", {})
    if "openblas" not in str(blas.get("name", "")).lower():
        return
    package = Path(np.__file__).resolve().parent
    for folder in (package.parent / "numpy.libs", package / ".dylibs"):
        if folder.is_dir():
            yield from sorted(folder.glob("*openblas*"))


def _load(ctype: str) -> Callable | None:
    """The cblas ``?gemm`` for ``ctype`` ("s" or "d") from NumPy's own BLAS, or None."""
    real = ctypes.c_float if ctype == "s" else ctypes.c_double
    for path in _numpy_openblas_files():
        try:
            library = ctypes.CDLL(str(path))
        except OSError:
            continue
        for pattern, integer in _SYMBOLS:
            function = getattr(library, pattern.format(ctype), None)
            if function is None:
                continue
            enum, pointer = ctypes.c_int, ctypes.c_void_p
            function.argtypes = [enum, enum, enum, integer, integer, integer, real, pointer,
                                 integer, pointer, integer, real, pointer, integer]
            function.restype = None
            return function
    return None


@functools.cache
def _gemm_for(dtype: np.dtype) -> Callable | None:
    """The checked ``?gemm`` for ``dtype``: loaded once, and only if one small product through
    it agrees with NumPy's."""
    gemm = _load("s" if dtype == np.float32 else "d")
    if gemm is None:
        return None
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 3)).astype(dtype)
    B = rng.standard_normal((5, 4)).astype(dtype)
    C = rng.standard_normal((3, 4)).astype(dtype)
    expected = C - 0.5 * (A.T @ B)
    if _call(gemm, C, -0.5, A, B) and np.allclose(C, expected, rtol=1e-5, atol=1e-5):
        return gemm
    return None


def _rows(array: np.ndarray) -> int | None:
    """BLAS's leading dimension of an aligned 2-D array with contiguous rows, else None."""
    if not array.flags.aligned:
        return None
    itemsize = array.itemsize
    n_rows, n_columns = array.shape
    row_stride, column_stride = array.strides
    if n_columns > 1 and column_stride != itemsize:
        return None
    if n_rows == 1:  # one row: its stride is never used (NumPy may report 0)
        return n_columns
    if row_stride % itemsize or row_stride < itemsize * n_columns:
        return None
    return row_stride // itemsize


def add_product_t(C: np.ndarray, alpha: float, A: np.ndarray, B: np.ndarray) -> bool:
    """C ← C + α·AᵀB in place, in one BLAS call; False (C untouched) where that is not possible.

    Parameters
    ----------
    C : ndarray of shape (k, n)
        Updated in place; float32 or float64, rows contiguous.
    alpha : float
    A : ndarray of shape (m, k)
    B : ndarray of shape (m, n)
        Same dtype as C, rows contiguous, not overlapping C.

    Returns
    -------
    bool
        True when the update was done; False when NumPy's BLAS is not available or the arrays
        do not suit it (the caller then computes AᵀB with NumPy).
    """
    dtype = C.dtype
    if dtype not in (np.float32, np.float64) or A.dtype != dtype or B.dtype != dtype:
        return False
    gemm = _gemm_for(dtype)
    return gemm is not None and _call(gemm, C, alpha, A, B)


def _call(gemm: Callable, C: np.ndarray, alpha: float, A: np.ndarray, B: np.ndarray) -> bool:
    """``gemm`` on row-major arrays of one dtype, if their shapes and strides suit it."""
    if A.ndim != 2 or B.ndim != 2 or C.ndim != 2:
        return False
    m, k = A.shape
    n = B.shape[1]
    if B.shape[0] != m or C.shape != (k, n) or not C.flags.writeable or 0 in (m, k, n):
        return False
    lda, ldb, ldc = _rows(A), _rows(B), _rows(C)
    if lda is None or ldb is None or ldc is None:
        return False
    gemm(_ROW_MAJOR, _TRANS, _NO_TRANS, k, n, m, alpha, A.ctypes.data, lda, B.ctypes.data, ldb,
         1.0, C.ctypes.data, ldc)
    return True
