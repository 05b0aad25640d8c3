"""What the Doctor callback costs: W2 of `make bench` with and without it, in turns.

W2 is digits, [64, 128, 64, 10] ReLU/softmax, Adam 1e-3, batches of 32, 50 epochs. Each round
trains once with and once without ``bp.Doctor(X, y)`` (default settings: a check at the
initial weights and after every epoch, then the full diagnosis when training ends), the order
alternating from round to round so that a slow spell of the shared machine falls on both.
Reported for wall-clock time and for the training thread's CPU time (which a busy machine
disturbs less: time spent descheduled is not counted): the median of each, the median of the
per-round ratios, and the median share of a run spent inside the Doctor's own hooks (timed
around each call).
Usage: python benchmarks/doctor_overhead.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402
import workloads as wl  # noqa: E402


class TimedDoctor(wl.bp.Doctor):
    """The Doctor with a stopwatch around each of its hooks (``seconds``)."""

    seconds = cpu = 0.0

    def _timed(self, hook, *args):
        start, cpu = time.perf_counter(), time.thread_time()
        hook(*args)
        self.seconds += time.perf_counter() - start
        self.cpu += time.thread_time() - cpu

    def on_train_begin(self, logs):
        self._timed(super().on_train_begin, logs)

    def on_epoch_begin(self, epoch, logs):
        self._timed(super().on_epoch_begin, epoch, logs)

    def on_epoch_end(self, epoch, logs):
        self._timed(super().on_epoch_end, epoch, logs)

    def on_train_end(self, logs):
        self._timed(super().on_train_end, logs)


def train_w2(data: wl.Data, doctor: bool, seed: int = 0) -> dict[str, float]:
    """Wall and CPU seconds of fit (and of the Doctor's hooks), test accuracy and the
    Doctor's warnings, for one W2 run."""
    spec = bench.SPECS["W2"]
    model = wl.bp.MLP(spec.sizes, activation="relu", output_activation="softmax", seed=seed)
    callbacks = [TimedDoctor(data.X_train, data.y_train)] if doctor else []
    start, cpu = time.perf_counter(), time.thread_time()
    model.fit(data.X_train, data.y_train, loss="categorical_crossentropy",
              optimizer=wl.bp.Adam(lr=spec.lr), epochs=spec.epochs,
              batch_size=spec.batch_size, shuffle=True, metrics=[], callbacks=callbacks)
    seconds, cpu = time.perf_counter() - start, time.thread_time() - cpu
    return {"wall": seconds, "cpu": cpu,
            "accuracy": float(np.mean(model.predict_classes(data.X_test) == data.y_test)),
            "warnings": len(callbacks[0].diagnosis.warnings) if doctor else 0,
            "wall_inside": callbacks[0].seconds if doctor else 0.0,
            "cpu_inside": callbacks[0].cpu if doctor else 0.0}


def summary(runs: dict[bool, list[dict[str, float]]], clock: str) -> dict[str, float]:
    with_doctor = [r[clock] for r in runs[True]]
    without = [r[clock] for r in runs[False]]
    return {"median_without_s": round(statistics.median(without), 4),
            "median_with_s": round(statistics.median(with_doctor), 4),
            "overhead_of_medians": round(statistics.median(with_doctor)
                                         / statistics.median(without) - 1, 4),
            "median_paired_overhead": round(statistics.median(
                w / o - 1 for w, o in zip(with_doctor, without)), 4),
            "median_share_inside_doctor": round(statistics.median(
                r[f"{clock}_inside"] / (r[clock] - r[f"{clock}_inside"])
                for r in runs[True]), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    data = bench.DATA["W2"]()
    train_w2(data, True)  # warm-up: imports, BLAS threads, caches
    train_w2(data, False)
    runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for r in range(args.rounds):
        for doctor in (True, False) if r % 2 == 0 else (False, True):
            runs[doctor].append(train_w2(data, doctor))
    result = {"workload": bench.SPECS["W2"].name, "rounds": args.rounds,
              "wall": summary(runs, "wall"), "cpu": summary(runs, "cpu"),
              "accuracy": {"with": runs[True][-1]["accuracy"],
                           "without": runs[False][-1]["accuracy"]},
              "doctor_warnings": sum(r["warnings"] for r in runs[True])}
    print(f"{result['workload']}, {args.rounds} rounds with and without the Doctor in turns:")
    for clock in ("wall", "cpu"):
        s = result[clock]
        print(f"  {clock:>4}: {s['median_without_s']:.3f} s without, {s['median_with_s']:.3f} s "
              f"with (medians): {s['overhead_of_medians']:+.1%}; paired rounds "
              f"{s['median_paired_overhead']:+.1%}; inside the Doctor's hooks "
              f"{s['median_share_inside_doctor']:.1%} of the rest")
    print(f"  test accuracy {result['accuracy']['without']:.3f} without, "
          f"{result['accuracy']['with']:.3f} with; the Doctor's warnings: "
          f"{result['doctor_warnings']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
