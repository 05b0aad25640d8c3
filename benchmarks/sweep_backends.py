"""Sweep backends: a 16-trial moons sweep, serial against 2 local processes and 2 Dask workers.

For each backend the same sweep runs once to warm up, then ``--repeats`` times, the backends
taking turns run by run; the table shows medians. The Dask LocalCluster (2 worker processes,
1 thread each) is started once, before the runs, and its start-up time is shown apart; the
loky pool starts inside every run (it is part of ``start``).

- ``trials``: first submit to last result recorded (store writes included);
- ``total``: the whole ``sweep()`` call (plan, data, start, trials, ranking, best model);
- speed-up: serial's time over the backend's;
- overhead per trial: worker time not spent inside a trial, ``(workers · trials_time −
  Σ trial durations) / n`` (serialisation, scheduling, the store, idle workers at the end);
- CPU share: Σ trial CPU time / (workers · trials_time), the share of its cores the sweep
  got: on a machine shared with other work it falls below 1 and the speed-up with it, while
  the CPU time per trial shows that the work itself did not grow;
- ceiling: the speed-up two plain Python loops get from two processes at that moment, the
  most any backend could show (2.0 on two free cores).

Two workloads: ``work`` trials (1000 samples, [16, 16] or [32, 32], 100 epochs without early
stopping, about 0.3 s of CPU each) show the speed-up; ``tiny`` trials (one epoch on 100
samples) are nearly all overhead.

Usage: python benchmarks/sweep_backends.py [--repeats 3] [--only work|tiny]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

WORK = """\
[data]
source = "moons"
n_samples = 1000
noise = 0.2
[model]
hidden = [16, 16]
[training]
epochs = 100
batch_size = 32
early_stopping = 0
[evaluation]
figures = false
[sweep]
method = "grid"
repeats = 2
[sweep.space]
"training.optimizer.lr" = [0.003, 0.01, 0.03, 0.1]
"model.hidden" = [[16, 16], [32, 32]]
"""


def _spin(n: int = 3_000_000) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - start


def ceiling() -> float:
    """What 2 processes get from this machine now: the speed-up of two pure-Python loops
    run at once over one after the other (2.0 on two free cores)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_spin, [10, 10])
        start = time.perf_counter()
        pool.map(_spin, [3_000_000, 3_000_000])
        both = time.perf_counter() - start
    return (_spin() + _spin()) / both


TINY = WORK.replace("n_samples = 1000", "n_samples = 100").replace("epochs = 100", "epochs = 1")


def _one(name: str, text: str, backend, folder: Path) -> dict[str, float]:
    from backprop.experiments import sweep

    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    out = folder / f"{name}-{time.perf_counter_ns()}"
    start = time.perf_counter()
    result = sweep(path, out, backend=backend, progress=False, figures=False)
    total = time.perf_counter() - start
    assert len(result.trials) == 16 and all(t["status"] == "ok" for t in result.trials)
    busy = sum(t["duration"] for t in result.trials)
    cpu = sum(t["cpu"] for t in result.trials)
    workers = 1 if name.startswith("serial") else 2
    trials = result.timings["trials"]
    return {"total": total, "trials": trials, "start": result.timings["start"],
            "busy": busy, "overhead_ms": 1000 * (workers * trials - busy) / 16,
            "cpu_ms": 1000 * cpu / 16, "share": cpu / (workers * trials)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["work", "tiny"])
    args = parser.parse_args()

    import distributed

    from backprop.experiments.backends import Dask, Processes

    logging.getLogger("distributed").setLevel(logging.ERROR)
    start = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    cluster_start = time.perf_counter() - start
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.1f} (the "
          f"machine is shared); ceiling: 2 processes get {ceiling():.2f}× from it now; Dask "
          f"LocalCluster(2 processes) started in {cluster_start:.1f} s; median of "
          f"{args.repeats} runs\n")
    backends = {"serial": lambda: "serial", "processes ×2": lambda: Processes(2),
                "dask ×2": lambda: Dask(client=client)}
    workloads = {"work": WORK, "tiny": TINY}
    if args.only:
        workloads = {args.only: workloads[args.only]}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for load, text in workloads.items():
                runs: dict[str, list[dict[str, float]]] = {b: [] for b in backends}
                for name, make in backends.items():  # warm-up: imports, caches
                    _one(name.split()[0], text, make(), Path(tmp))
                for _ in range(args.repeats):
                    for name, make in backends.items():
                        runs[name].append(_one(name.split()[0], text, make(), Path(tmp)))
                med = {b: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
                       for b, rs in runs.items()}
                base = med["serial"]
                print(f"## {load}: 16 trials, Σ trial time (serial) {base['busy']:.2f} s\n")
                print("| backend | trials s | total s | start s | speed-up trials | "
                      "speed-up total | overhead ms/trial | CPU ms/trial | CPU share |")
                print("|---|---|---|---|---|---|---|---|---|")
                for name, m in med.items():
                    print(f"| {name} | {m['trials']:.2f} | {m['total']:.2f} | "
                          f"{m['start']:.2f} | {base['trials'] / m['trials']:.2f}× | "
                          f"{base['total'] / m['total']:.2f}× | {m['overhead_ms']:.1f} | "
                          f"{m['cpu_ms']:.1f} | {m['share']:.0%} |")
                print()
    finally:
        print(f"at the end: load average {os.getloadavg()[0]:.1f}, ceiling {ceiling():.2f}×")
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
