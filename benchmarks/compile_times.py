"""What backprop's compiled path costs before it runs: numba's import, the compilation of the
kernels on a machine that has never run them, and their load from the disk cache after.

Each is timed in a fresh Python process with ``NUMBA_CACHE_DIR`` pointing at an empty
directory (the cold compile, which fills it) and then at that directory again (the load).
Usage: python benchmarks/compile_times.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Runs in the child: import numba, then the first compiled fit of a tiny network per dtype
# (which compiles the kernels or loads them), then a second fit (already loaded).
_CHILD = r"""
import json, os, time
start = time.perf_counter()
import numba  # noqa: F401
out = {"import numba": time.perf_counter() - start}
import numpy as np
import backprop as bp
os.environ["BACKPROP_COMPILED"] = "always"
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
y = np.array([0, 1, 1, 0])
for dtype in ("float32", "float64"):
    for when in ("first fit", "second fit"):
        model = bp.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=0,
                       dtype=dtype)
        start = time.perf_counter()
        model.fit(X, y, loss="binary_crossentropy", epochs=2)
        out[f"{dtype} {when}"] = time.perf_counter() - start
print(json.dumps(out))
"""


def _child(cache_dir: str) -> dict[str, float]:
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir,
           "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure() -> dict[str, dict[str, float]]:
    """{"cold": ..., "cached": ...}: seconds for numba's import and each dtype's first fit."""
    with tempfile.TemporaryDirectory(prefix="backprop-numba-") as cache_dir:
        return {"cold": _child(cache_dir), "cached": _child(cache_dir)}


def report() -> str:
    """One paragraph for the bench output (or why there is none)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return "compiled path: numba is not installed; backprop runs its NumPy path"
    times = measure()
    cold, cached = times["cold"], times["cached"]

    def first(run: dict, dtype: str) -> float:  # the kernels' share of the first fit
        return run[f"{dtype} first fit"] - run[f"{dtype} second fit"]

    return ("compiled path, once per process: numba import "
            f"{cached['import numba']:.2f} s, kernels loaded from the disk cache "
            f"{first(cached, 'float32'):.2f} s (float32) / {first(cached, 'float64'):.2f} s "
            "(float64); once per machine (empty cache): compiling "
            f"{first(cold, 'float32'):.1f} s (float32) / {first(cold, 'float64'):.1f} s "
            "(float64). None of this is in the timings below.")


if __name__ == "__main__":
    print(report())
