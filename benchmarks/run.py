"""`make bench`: backprop against JAX, scikit-learn and PyTorch on the same networks, one run.

Every peer runs at its fastest setting for the same updates, and at its default setting too
where that differs (scikit-learn shuffles by default, which on a full batch changes no update
but copies X every epoch). JAX runs in its two usual forms: one jitted step per batch from a
Python loop ("jax step") and the whole run compiled with lax.scan ("jax scan"). backprop runs
through ``model.fit``: "backprop" on the path fit's size rule gives a network this size
(compiled for W1, W2, W4, the kernels loaded by the warm-up as JAX's programs are compiled
by it; for W3 the NumPy path with ReLU's passes compiled, which ``auto`` takes for a fit of
2 s or more or once they have run in the process, loaded by the warm-up too), "backprop
NumPy" on its NumPy path alone, which ``fit`` also takes by itself for a lone fit this short
in a fresh process (loading numba costs more than these fits take).
Compile and load times are not in the timings: they are reported apart.

Each measurement is the median of REPEATS runs after one warm-up, the libraries taking turns
run by run; ratios are peer/backprop (above 1 means backprop is faster).
Usage: python benchmarks/run.py [--repeats N] [--only W1,W3] [--markdown]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

from backprop._fast.compiled import relu_passes

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compile_times  # noqa: E402
import peer_jax  # noqa: E402
import workloads as wl  # noqa: E402

SPECS = {
    "W1": wl.Spec("W1 chapter moons", [2, 10, 10, 1], "sgd", 0.5, 1000, None),
    "W2": wl.Spec("W2 digits", [64, 128, 64, 10], "adam", 1e-3, 50, 32),
    "W3": wl.Spec("W3 MNIST-shape", [784, 256, 128, 10], "sgd", 0.01, 1, 128),
    "W4": wl.Spec("W4 one XOR step", [2, 4, 1], "sgd", 0.5, 2000, None),
}
DATA = {"W1": wl.chapter_moons, "W2": wl.digits, "W3": wl.mnist_shape, "W4": wl.xor}
TARGETS = {  # minimum peer/backprop ratios from the speed issues (5 and 14)
    "W1": {"jax step": 2.0, "jax scan": 1.0, "sklearn f64": 3.0, "torch": 3.5},
    "W2": {"jax step": 1.5, "jax scan": 1.0, "sklearn f64": 3.5, "torch": 4.5},
    "W3": {"jax step": 1.3, "sklearn f64": 3.0, "sklearn f32": 1.8, "torch": 1.15},
    "W4": {"jax step": 3.0, "sklearn f64": 3.5, "torch": 9.0},
}
ROOFLINE_TARGET = 0.75
#: seconds between timed runs: OpenBLAS's idle threads spin for about 0.1 s
PAUSE = 0.25


def runners(key: str, spec: wl.Spec, data: wl.Data) -> dict:
    """Every library's runner for one workload, in the order they take turns."""
    runs = {
        "backprop": partial(wl.run_backprop, spec, data, compiled=headline_mode(spec, data)),
        "backprop NumPy": partial(wl.run_backprop, spec, data, compiled="never"),
        "jax step": partial(peer_jax.run_jax_step, spec, data),
        "jax scan": partial(peer_jax.run_jax_scan, spec, data),
        "sklearn f64": partial(wl.run_sklearn, spec, data),
        "sklearn f32": partial(wl.run_sklearn, spec, data, float32=True),
        # one thread below the sizes torch splits across threads (no parallel work to lose,
        # no thread wake-ups to pay, and immune to a busy machine's other processes)
        "torch": partial(wl.run_torch, spec, data, threads=None if key == "W3" else 1),
    }
    if wl.is_full_batch(spec, data):  # the fair setting differs from the default
        runs["sklearn f64 default"] = partial(wl.run_sklearn, spec, data, shuffle=True)
    if key == "W3":  # timed in the same rounds, so a slow spell weighs on both sides
        runs[ROOFLINE] = partial(roofline_run, spec, data)
    return runs


#: the W3 row that times the epoch's matrix products alone (not a library)
ROOFLINE = "matmul roofline"


def roofline_run(spec: wl.Spec, data: wl.Data) -> tuple[float, float]:
    """(seconds, NaN): one epoch's products alone, timed like a library's run."""
    return wl.matmul_roofline(spec.sizes, data.X_train, spec.batch_size), math.nan


def machine() -> str:
    import jax
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
    try:
        import numba

        numba_version = numba.__version__
    except ImportError:
        numba_version = "absent"
    return (f"{cpu}, {os.cpu_count()} cores, BLAS {', '.join(blas)}; Python "
            f"{platform.python_version()}, NumPy {np.__version__}, numba {numba_version}, "
            f"JAX {jax.__version__}, scikit-learn {sklearn.__version__}, PyTorch "
            f"{torch.__version__}, backprop {wl.bp.__version__}")


def measure(runs: dict, repeats: int, pause: float = PAUSE) -> dict:
    """Time every library ``repeats`` times after one warm-up each (imports, compilation,
    allocator, BLAS threads). The repeats are interleaved, one run of each library per
    round, so a slow spell of this shared machine falls on all of them rather than on one
    library's block. Each run starts ``pause`` seconds after the last ended, when the thread
    pools the last one woke (OpenBLAS's, XLA's, PyTorch's) have stopped spinning, as a
    user's single fit would find them."""
    for fn in runs.values():
        fn()
    times = {name: [] for name in runs}
    accs = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            time.sleep(pause)
            seconds, accuracy = fn()
            times[name].append(seconds)
            accs[name].append(accuracy)
    return {name: {"median": statistics.median(times[name]), "min": min(times[name]),
                   "max": max(times[name]), "accuracy": statistics.median(accs[name])}
            for name in runs}


def unit(key: str, spec: wl.Spec, seconds: float, n_train: int) -> str:
    if key == "W1":
        return f"{seconds / spec.epochs * 1e3:.4f} ms/epoch"
    if key == "W4":
        return f"{seconds / spec.epochs * 1e6:.1f} µs/step"
    if key == "W3":
        return f"{n_train / seconds:,.0f} samples/s"
    return f"{seconds:.3f} s"


def headline_mode(spec: wl.Spec, data: wl.Data) -> str:
    """BACKPROP_COMPILED for the "backprop" column: the compiled path wherever fit's size
    rule takes it for a long fit (a network small enough), else ``auto``: the NumPy path,
    with ReLU's elementwise passes compiled (loaded by the warm-up)."""
    from backprop._fast import compiled

    model = wl.bp.MLP(spec.sizes)
    batch = min(spec.batch_size or data.X_train.shape[0], data.X_train.shape[0])
    return ("always" if compiled.macs_per_step(model, batch) <= compiled.MAX_MACS_PER_STEP
            else "auto")


def auto_choice(spec: wl.Spec, data: wl.Data) -> str:
    """The path ``fit`` takes for this workload with BACKPROP_COMPILED unset."""
    from backprop._fast import compiled

    binary = spec.sizes[-1] == 1
    model = wl.bp.MLP(spec.sizes, output_activation="sigmoid" if binary else "softmax")
    loss = wl.bp.losses.get("binary_crossentropy" if binary else "categorical_crossentropy")
    n = data.X_train.shape[0]
    before = os.environ.pop(compiled.ENV, None)
    try:
        chosen = compiled.chosen(model, loss, wl.bp.optimizers.get(spec.optimizer), n,
                                 min(spec.batch_size or n, n), spec.epochs)
    finally:
        if before is not None:
            os.environ[compiled.ENV] = before
    return "compiled" if chosen else "NumPy"


def report(key: str, spec: wl.Spec, data: wl.Data, results: dict) -> tuple[bool, dict]:
    """Print one workload's table; returns (all its targets met, ratios by peer)."""
    n_train = data.X_train.shape[0]
    ours = results["backprop"]["median"]
    print(f"{spec.name}: {spec.sizes}, {spec.optimizer} lr={spec.lr}, {spec.epochs} epochs, "
          f"batch {spec.batch_size or 'full'}, {n_train} training rows; fit alone would "
          f"choose its {auto_choice(spec, data)} path")
    print(f"  {'library':<21}{'median':>11}{'min':>10}{'max':>10}  {'per unit':<24}"
          f"{'accuracy':>9}{'ratio':>8}{'target':>8}")
    met, ratios = True, {}
    for name, r in results.items():
        if name == ROOFLINE:
            continue
        ratio = ratios[name] = r["median"] / ours
        target = TARGETS[key].get(name)
        verdict = "" if target is None else ("ok" if ratio >= target else "MISS")
        met &= verdict != "MISS"
        print(f"  {name:<21}{r['median']:>10.4f}s{r['min']:>9.4f}s{r['max']:>9.4f}s  "
              f"{unit(key, spec, r['median'], n_train):<24}{r['accuracy']:>9.3f}"
              f"{ratio:>7.2f}x{'' if target is None else f'{target:>5.2f}x ' + verdict:>10}")
    if key == "W3":
        n_weights = sum(i * o for i, o in zip(spec.sizes, spec.sizes[1:]))
        roof = results[ROOFLINE]["median"]
        share = ratios["roofline"] = roof / ours
        met &= share >= ROOFLINE_TARGET
        print(f"  backprop: {6 * n_weights * n_train / ours / 1e9:.1f} GFLOP/s; matmul "
              f"roofline {roof:.3f} s ({n_train / roof:,.0f} samples/s) -> {share:.0%} of the "
              f"roofline (target {ROOFLINE_TARGET:.0%}: "
              f"{'ok' if share >= ROOFLINE_TARGET else 'MISS'})")
    compiled = {name: peer_jax.compile_seconds(name, spec.name) for name in ("jax step",
                                                                            "jax scan")}
    print("  compile (not in the times): " + ", ".join(f"{name} {s:.2f} s"
                                                       for name, s in compiled.items()))
    print()
    return met, ratios


def markdown(rows: dict, results: dict) -> None:
    """The README's table: one row per workload, times and ratios from this run."""
    columns = ["jax step", "jax scan", "sklearn f64", "sklearn f64 default", "sklearn f32",
               "torch"]
    print("| workload | backprop | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for key, (spec, data, ratios) in rows.items():
        ours = results[key]["backprop"]["median"]
        cells = []
        for name in columns:
            if name not in ratios:
                cells.append("—")
                continue
            target = TARGETS[key].get(name)
            mark = "" if target is None else (" ✓" if ratios[name] >= target else " ✗")
            cells.append(f"{ratios[name]:.2f}×{mark}")
        print(f"| {spec.name} | {unit(key, spec, ours, data.X_train.shape[0])} | "
              + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="W1,W2,W3,W4")
    parser.add_argument("--markdown", action="store_true", help="print the README table too")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}\n")
    print(compile_times.report(), "\n")
    # Load the compiled path once, as any process that has trained a network before has,
    # and ReLU's compiled passes (what a fit of 2 s or more on the NumPy path loads).
    wl.run_backprop(SPECS["W4"], DATA["W4"](), compiled="always")
    relu_passes.warm_up("float32")
    all_met, rows, results = True, {}, {}
    for key in args.only.split(","):
        spec, data = SPECS[key], DATA[key]()
        results[key] = measure(runners(key, spec, data), args.repeats)
        met, ratios = report(key, spec, data, results[key])
        all_met &= met
        rows[key] = (spec, data, ratios)
    if args.markdown:
        markdown(rows, results)
        print()
    print("all targets met" if all_met else "some targets missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
