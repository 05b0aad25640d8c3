"""`make bench`: backprop against scikit-learn and PyTorch on the same networks, one run.

Each measurement is the median of REPEATS runs after one warm-up, the libraries taking turns
run by run; ratios are peer/backprop (above 1 means backprop is faster).
Usage: python benchmarks/run.py [--repeats N] [--only W1,W3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workloads as wl  # noqa: E402

SPECS = {
    "W1": wl.Spec("W1 chapter moons", [2, 10, 10, 1], "sgd", 0.5, 1000, None),
    "W2": wl.Spec("W2 digits", [64, 128, 64, 10], "adam", 1e-3, 50, 32),
    "W3": wl.Spec("W3 MNIST-shape", [784, 256, 128, 10], "sgd", 0.01, 1, 128),
    "W4": wl.Spec("W4 one XOR step", [2, 4, 1], "sgd", 0.5, 2000, None),
}
DATA = {"W1": wl.chapter_moons, "W2": wl.digits, "W3": wl.mnist_shape, "W4": wl.xor}
TARGETS = {  # minimum peer/backprop ratios from the speed issue
    "W1": {"sklearn f64": 3.0, "torch": 3.5},
    "W2": {"sklearn f64": 3.5, "torch": 4.5},
    "W3": {"sklearn f64": 3.0, "sklearn f32": 1.8, "torch": 1.15},
    "W4": {"sklearn f64": 3.5, "torch": 9.0},
}


def machine() -> str:
    import sklearn
    import threadpoolctl
    import torch

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # NumPy's own BLAS (SciPy may load a second copy), which backprop and scikit-learn use.
    infos = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    infos.sort(key=lambda i: "numpy" not in i["filepath"])
    blas = [f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)"
            for i in infos][:1]
    import os

    return (f"{cpu}, {os.cpu_count()} cores, BLAS {', '.join(blas)}; Python "
            f"{platform.python_version()}, NumPy {np.__version__}, scikit-learn "
            f"{sklearn.__version__}, PyTorch {torch.__version__}, backprop {wl.bp.__version__}")


def measure(runs: dict, repeats: int) -> dict:
    """Time every library ``repeats`` times after one warm-up each (imports, allocator, BLAS
    threads). The repeats are interleaved, one run of each library per round, so a slow
    spell of this shared machine falls on all of them rather than on one library's block."""
    for fn in runs.values():
        fn()
    times = {name: [] for name in runs}
    accs = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            seconds, accuracy = fn()
            times[name].append(seconds)
            accs[name].append(accuracy)
    return {name: {"median": statistics.median(times[name]), "min": min(times[name]),
                   "max": max(times[name]), "accuracy": statistics.median(accs[name])}
            for name in runs}


def unit(key: str, spec: wl.Spec, seconds: float, n_train: int) -> str:
    if key in ("W1",):
        return f"{seconds / spec.epochs * 1e3:.4f} ms/epoch"
    if key == "W4":
        return f"{seconds / spec.epochs * 1e6:.1f} µs/step"
    if key == "W3":
        return f"{n_train / seconds:,.0f} samples/s"
    return f"{seconds:.3f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="W1,W2,W3,W4")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}\n")
    all_met = True
    for key in args.only.split(","):
        spec, data = SPECS[key], DATA[key]()
        n_train = data.X_train.shape[0]
        runs = {
            "backprop": partial(wl.run_backprop, spec, data),
            "sklearn f64": partial(wl.run_sklearn, spec, data),
            "sklearn f32": partial(wl.run_sklearn, spec, data, float32=True),
            "torch": partial(wl.run_torch, spec, data),
        }
        results = measure(runs, args.repeats)
        ours = results["backprop"]["median"]
        print(f"{spec.name}: {spec.sizes}, {spec.optimizer} lr={spec.lr}, {spec.epochs} epochs, "
              f"batch {spec.batch_size or 'full'}, {n_train} training rows")
        print(f"  {'library':<12}{'median':>12}{'min':>10}{'max':>10}  {'per unit':<24}"
              f"{'accuracy':>9}{'ratio':>8}{'target':>8}")
        for name, r in results.items():
            ratio = r["median"] / ours
            target = TARGETS[key].get(name)
            met = "" if target is None else ("ok" if ratio >= target else "MISS")
            all_met &= met != "MISS"
            print(f"  {name:<12}{r['median']:>11.4f}s{r['min']:>9.4f}s{r['max']:>9.4f}s  "
                  f"{unit(key, spec, r['median'], n_train):<24}{r['accuracy']:>9.3f}"
                  f"{ratio:>7.2f}x{'' if target is None else f'{target:>5.2f}x ' + met:>10}")
        if key == "W3":
            n_weights = sum(i * o for i, o in zip(spec.sizes, spec.sizes[1:]))
            gflops = 6 * n_weights * n_train / ours / 1e9
            roof = statistics.median(
                wl.matmul_roofline(spec.sizes, data.X_train, spec.batch_size) for _ in range(3))
            share = roof / ours
            all_met &= share >= 0.6
            print(f"  backprop: {gflops:.1f} GFLOP/s; matmul roofline {roof:.3f} s "
                  f"({n_train / roof:,.0f} samples/s) -> {share:.0%} of the roofline "
                  f"(target 60%: {'ok' if share >= 0.6 else 'MISS'})")
        print()
    print("all targets met" if all_met else "some targets missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
