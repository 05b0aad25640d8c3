"""Sparse input (SciPy CSR/CSC matrices and arrays) recognised without importing SciPy.

The engine depends on NumPy only. A SciPy sparse matrix can only exist once ``scipy.sparse``
has been imported by someone, so the check looks there and nowhere else; for a NumPy array it
costs one type comparison.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

__all__ = ["is_sparse"]


def is_sparse(X: Any) -> bool:
    """True for a SciPy sparse matrix or array (any format)."""
    if type(X) is np.ndarray:
        return False
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and bool(sparse.issparse(X))
