"""Time per epoch and peak memory against rows, width and depth, for backprop, scikit-learn,
PyTorch and JAX (curves.png and curves.json beside this file, or where --out says).

Three sweeps of a ReLU network with one sigmoid output, binary cross-entropy, plain SGD,
batches of 128, float32 (scikit-learn: float64, its only training dtype):

- rows 10³ … 10⁶ of 32 features, network [32, 64, 64, 1];
- width 16 … 2048 of [32, w, w, 1] on 4096 rows;
- depth 1 … 8 hidden layers of 64 on 10⁴ rows.

Each point is one epoch after a warm-up epoch (imports, JAX's compilation, kernels loaded),
the libraries taking turns, the median of --repeats; on one thread the figure shows CPU
time, which other work on a shared machine does not inflate (the JSON has wall time too).
Peak memory is the growth of the process's peak resident set during the timed epoch (Linux:
the peak is reset through /proc/self/clear_refs before each run), data creation excluded:
it shows the copies a library makes of the data and its working memory. backprop runs
``fit`` as a user calls it (BACKPROP_COMPILED unset).

Every library runs on --threads threads (1 by default: BLAS through threadpoolctl, PyTorch's
intra-op threads, XLA's Eigen pool), so that the curves measure the same thing on a shared
machine as on a quiet one; 0 keeps each library's own default.
Usage: python benchmarks/curves.py [--quick] [--repeats N] [--threads N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
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


def measure(run, data) -> tuple[float, float, float | None]:
    """(seconds, CPU seconds, peak MB above the resident set at the start) of one epoch."""
    can_reset = _reset_peak()
    before = _status_kb("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    run(data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = (_status_kb("VmHWM") - before) / 1024 if can_reset else None
    return seconds, cpu, peak


def sweep(name: str, values: list[int], repeats: int, quick: bool) -> list[dict]:
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
        memory = {lib: [] for lib in runs}
        for _ in range(repeats):
            for lib, run in runs.items():
                seconds, cpu_seconds, peak = measure(run, data)
                times[lib].append(seconds)
                cpu[lib].append(cpu_seconds)
                memory[lib].append(peak)
        for lib in runs:
            peaks = [m for m in memory[lib] if m is not None]
            points.append({"sweep": name, "value": value, "rows": rows, "sizes": sizes,
                           "library": lib, "seconds": statistics.median(times[lib]),
                           "cpu_seconds": statistics.median(cpu[lib]),
                           "peak_mb": max(peaks) if peaks else None})
            print(f"{name:>6} {value:>8} {lib:<9} {points[-1]['seconds'] * 1e3:10.2f} ms/epoch"
                  f" ({points[-1]['cpu_seconds'] * 1e3:9.2f} ms CPU)"
                  f"  peak +{points[-1]['peak_mb'] or 0:8.1f} MB", flush=True)
    return points


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
            axes[1, col].plot(xs, [p["peak_mb"] or 0 for p in mine], marker="o", label=lib)
        time_label = "CPU seconds per epoch" if threads == 1 else "seconds per epoch"
        for row, label in enumerate((time_label, "peak memory above start (MB)")):
            ax = axes[row, col]
            ax.set_xscale("log", base=2 if name != "rows" else 10)
            if row == 0:
                ax.set_yscale("log")
            else:
                ax.set_yscale("symlog", linthresh=1.0)
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
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    np.seterr(all="ignore")
    points = []
    with peers.threads(args.threads):
        for name in args.only.split(","):
            values = QUICK[name] if args.quick else SWEEPS[name]["values"]
            points += sweep(name, values, 1 if args.quick else args.repeats, args.quick)
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
