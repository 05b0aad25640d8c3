"""Time per epoch and peak memory against rows, width and depth, for backprop, scikit-learn,
PyTorch and JAX (curves.png and curves.json beside this file, or where --out says).

Three sweeps of a ReLU network with one sigmoid output, binary cross-entropy, plain SGD,
batches of 128, float32 (scikit-learn: float64, its only training dtype):

- rows 10³ … 10⁶ of 32 features, network [32, 64, 64, 1];
- width 16 … 2048 of [32, w, w, 1] on 4096 rows;
- depth 1 … 8 hidden layers of 64 on 10⁴ rows.

Time: each point is one epoch after a warm-up epoch (imports, JAX's compilation, kernels
loaded), the libraries taking turns in this process, the median of --repeats; on one thread
the figure shows CPU time, which other work on a shared machine does not inflate (the JSON
has wall time too).

Memory: each library and point in a fresh process (``--memory``), so that no library reuses
memory another one, or an earlier point, freed: the library imported and the data created
and a tiny network trained first (what a library loads on first use is a fixed cost), then
the peak resident set (Linux: reset through /proc/self/clear_refs) above the resident set
at that moment, over building the model and training two epochs. It counts
what training needs beyond the data: the copies a library makes of them, its working
memory, JAX's compiled programs; not the library's import. backprop runs ``fit`` as a user
calls it (BACKPROP_COMPILED unset).

Every library runs on --threads threads (1 by default: BLAS through threadpoolctl, PyTorch's
intra-op threads, XLA's Eigen pool), so that the curves measure the same thing on a shared
machine as on a quiet one; 0 keeps each library's own default.
Usage: python benchmarks/curves.py [--quick] [--repeats N] [--threads N] [--out DIR]
       [--only rows,width,depth]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import curves_peers as peers  # noqa: E402

SWEEPS = {
    "rows": {"values": [1_000, 10_000, 100_000, 1_000_000], "make": lambda v: (v, [32, 64, 64, 1])},
    "width": {"values": [16, 64, 256, 1024, 2048], "make": lambda v: (4096, [32, v, v, 1])},
    "depth": {"values": [1, 2, 4, 8], "make": lambda v: (10_000, [32] + [64] * v + [1])},
}
QUICK = {"rows": [100, 1000], "width": [8, 16], "depth": [1, 2]}
QUICK_ROWS = {"width": 256, "depth": 256}
LIBRARIES = ("backprop", "sklearn", "torch", "jax")


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(run, data) -> tuple[float, float]:
    """(seconds, CPU seconds) of one epoch."""
    start, cpu = time.perf_counter(), time.process_time()
    run(data)
    return time.perf_counter() - start, time.process_time() - cpu


def _import(library: str) -> None:
    __import__({"backprop": "backprop", "sklearn": "sklearn.neural_network",
                "torch": "torch", "jax": "jax.numpy"}[library])


def training_memory(library: str, rows: int, sizes: list[int]) -> float | None:
    """MB of peak resident memory above the start for building and training two epochs
    (run in a fresh process by :func:`memory_in_child`); None where the peak cannot be
    reset (not Linux)."""
    _import(library)
    # First use loads more of a library (PyTorch's autograd engine, JAX's CPU client): a
    # fixed cost paid on a tiny network here, so that the measurement is this network's.
    tiny = peers.data(16, 2)
    peers.runner(library, [2, 2, 1], 8)(tiny)
    data = peers.data(rows, sizes[0])
    if not _reset_peak():
        return None
    before = _status_kb("VmRSS")
    run = peers.runner(library, sizes, 128)
    run(data)
    run(data)
    return (_status_kb("VmHWM") - before) / 1024


def memory_in_child(library: str, rows: int, sizes: list[int], threads: int) -> float | None:
    """:func:`training_memory` in a fresh Python process."""
    command = [sys.executable, __file__, "--memory", library, str(rows),
               ",".join(map(str, sizes)), "--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=1800)
    return json.loads(done.stdout.strip().splitlines()[-1])["peak_mb"]


def sweep(name: str, values: list[int], repeats: int, quick: bool, threads: int
          ) -> list[dict]:
    points = []
    for value in values:
        rows, sizes = SWEEPS[name]["make"](value)
        if quick and name in QUICK_ROWS:
            rows = QUICK_ROWS[name]
        data = peers.data(rows, sizes[0])
        runs = {lib: peers.runner(lib, sizes, 128) for lib in LIBRARIES}
        for run in runs.values():  # warm-up: imports, compilation, first allocations
            run(data)
        times = {lib: [] for lib in runs}
        cpu = {lib: [] for lib in runs}
        for _ in range(repeats):
            for lib, run in runs.items():
                seconds, cpu_seconds = measure(run, data)
                times[lib].append(seconds)
                cpu[lib].append(cpu_seconds)
        for lib in runs:
            points.append({"sweep": name, "value": value, "rows": rows, "sizes": sizes,
                           "library": lib, "seconds": statistics.median(times[lib]),
                           "cpu_seconds": statistics.median(cpu[lib]),
                           "peak_mb": memory_in_child(lib, rows, sizes, threads)})
            print(f"{name:>6} {value:>8} {lib:<9} {points[-1]['seconds'] * 1e3:10.2f} ms/epoch"
                  f" ({points[-1]['cpu_seconds'] * 1e3:9.2f} ms CPU)"
                  f"  training memory {_mb(points[-1]['peak_mb'])}", flush=True)
    return points


def _mb(value: float | None) -> str:
    return "n/a (not Linux)" if value is None else f"{value:8.1f} MB"


def plot(points: list[dict], path: Path, threads: int = 0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name for name in SWEEPS if any(p["sweep"] == name for p in points)]
    fig, axes = plt.subplots(2, len(names), figsize=(4.4 * len(names), 7.5), squeeze=False)
    for col, name in enumerate(names):
        for lib in LIBRARIES:
            mine = [p for p in points if p["sweep"] == name and p["library"] == lib]
            xs = [p["value"] for p in mine]
            time_key = "cpu_seconds" if threads == 1 else "seconds"
            axes[0, col].plot(xs, [p[time_key] for p in mine], marker="o", label=lib)
            axes[1, col].plot(xs, [p["peak_mb"] for p in mine], marker="o", label=lib)
        time_label = "CPU seconds per epoch" if threads == 1 else "seconds per epoch"
        for row, label in enumerate((time_label, "peak memory for training (MB)")):
            ax = axes[row, col]
            ax.set_xscale("log", base=2 if name != "rows" else 10)
            # memory from 0 up: a library that allocates nothing beyond the data sits at 0
            ax.set_yscale("log" if row == 0 else "symlog", **({} if row == 0 else
                                                                {"linthresh": 1.0}))
            if row == 1:
                ax.set_ylim(bottom=0)
            ax.set_xlabel({"rows": "rows", "width": "width of the 2 hidden layers",
                           "depth": "hidden layers of 64"}[name])
            ax.set_ylabel(label)
            ax.grid(True, which="both", alpha=0.3)
    axes[0, 0].legend()
    fig.suptitle("One epoch, batch 128, SGD: backprop fit, scikit-learn MLPClassifier (f64), "
                 "PyTorch eager, JAX jitted step" + (f"; {threads} thread(s) each" if threads
                                                     else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(HERE), help="folder for curves.png and .json")
    parser.add_argument("--only", default=",".join(SWEEPS), help="sweeps to run")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for every library (0: each library's default)")
    parser.add_argument("--memory", nargs=3, metavar=("LIBRARY", "ROWS", "SIZES"),
                        help="measure one point's training memory (the child process)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    np.seterr(all="ignore")
    if args.memory:
        library, rows, sizes = args.memory
        with peers.threads(args.threads):
            peak = training_memory(library, int(rows), [int(n) for n in sizes.split(",")])
        print(json.dumps({"peak_mb": peak}))
        return 0
    points = []
    with peers.threads(args.threads):
        for name in args.only.split(","):
            values = QUICK[name] if args.quick else SWEEPS[name]["values"]
            points += sweep(name, values, 1 if args.quick else args.repeats, args.quick,
                            args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "curves.json").write_text(json.dumps({"command": " ".join(sys.argv),
                                                 "threads": args.threads,
                                                 "points": points}, indent=1))
    plot(points, out / "curves.png", args.threads)
    print(f"wrote {out / 'curves.json'} and {out / 'curves.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
