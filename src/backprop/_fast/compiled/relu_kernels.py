"""ReLU's two elementwise passes as compiled loops, for the NumPy path's large layers.

NumPy spends two passes and a temporary on each: ``z += b`` then ``max(z, 0)`` forward, and
``dy · (a > 0)`` backward (a boolean array, then a product that casts it). Each loop here is
one pass over a matrix the BLAS product has just written, and does exactly NumPy's arithmetic:
the same float additions, NaN kept as ``np.maximum`` keeps it, −0.0 as it keeps it, and the
mask as a product by 0 or 1 (so a NaN or infinite gradient stays NaN where the mask is 0,
as NumPy's product leaves it). The results are equal bit for bit (``tests/test_compiled.py``).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True)
def bias_relu(z, b):
    """z ← max(z + b, 0) in place, z (m, n) row by row, b (n,)."""
    m, n = z.shape
    for i in range(m):
        for j in range(n):
            v = z[i, j] + b[j]
            # np.maximum(v, 0): v where v >= 0 or v is NaN, else 0
            z[i, j] = v if (v >= 0 or v != v) else 0


@njit(cache=True, nogil=True)
def relu_backward(dy, a):
    """dy ← dy · (a > 0) in place, dy and a (m, n) row by row."""
    m, n = dy.shape
    for i in range(m):
        for j in range(n):
            if not a[i, j] > 0:
                dy[i, j] = dy[i, j] * 0
