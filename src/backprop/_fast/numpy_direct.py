"""NumPy's ``dot``, ``vdot`` and ``copyto`` without their ``__array_function__`` dispatch.

Each of these NumPy functions first runs a Python dispatcher that looks for another array
library's override (about 0.1 µs a call). In the training step every array is a NumPy array
the engine made, so the step calls the C functions behind them directly: on the chapter's
2-4-1 network an epoch makes nine such calls, about a twelfth of its time. Where a NumPy
version lacks ``_implementation``, these are the ordinary functions.
"""

from __future__ import annotations

import numpy as np

dot = getattr(np.dot, "_implementation", np.dot)
vdot = getattr(np.vdot, "_implementation", np.vdot)
copyto = getattr(np.copyto, "_implementation", np.copyto)

__all__ = ["copyto", "dot", "vdot"]
