"""What the Doctor callback costs: W2 of `make bench` with and without it, in turns.

W2 is digits, [64, 128, 64, 10] ReLU/softmax, Adam 1e-3, batches of 32, 50 epochs. Each round
trains once with and once without ``bp.Doctor(X, y)`` (default settings: a check at the
initial weights and after every epoch, then the full diagnosis when training ends), the order
alternating from round to round so that a slow spell of the shared machine falls on both.
Reported: the median time of each, the median of the per-round ratios, and the median share
of a run spent inside the Doctor's own hooks (timed around each call: the least noisy of the
three on a busy machine).
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

    seconds = 0.0

    def _timed(self, hook, *args):
        start = time.perf_counter()
        hook(*args)
        self.seconds += time.perf_counter() - start

    def on_train_begin(self, logs):
        self._timed(super().on_train_begin, logs)

    def on_epoch_begin(self, epoch, logs):
        self._timed(super().on_epoch_begin, epoch, logs)

    def on_epoch_end(self, epoch, logs):
        self._timed(super().on_epoch_end, epoch, logs)

    def on_train_end(self, logs):
        self._timed(super().on_train_end, logs)


def train_w2(data: wl.Data, doctor: bool, seed: int = 0
             ) -> tuple[float, float, int, float]:
    """(seconds, test accuracy, warnings, seconds inside the Doctor) of one W2 run, timed
    around fit alone."""
    spec = bench.SPECS["W2"]
    model = wl.bp.MLP(spec.sizes, activation="relu", output_activation="softmax", seed=seed)
    callbacks = [TimedDoctor(data.X_train, data.y_train)] if doctor else []
    start = time.perf_counter()
    model.fit(data.X_train, data.y_train, loss="categorical_crossentropy",
              optimizer=wl.bp.Adam(lr=spec.lr), epochs=spec.epochs,
              batch_size=spec.batch_size, shuffle=True, metrics=[], callbacks=callbacks)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(model.predict_classes(data.X_test) == data.y_test))
    warnings = len(callbacks[0].diagnosis.warnings) if doctor else 0
    return seconds, accuracy, warnings, callbacks[0].seconds if doctor else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    data = bench.DATA["W2"]()
    train_w2(data, True)  # warm-up: imports, BLAS threads, caches
    train_w2(data, False)
    times: dict[bool, list[float]] = {True: [], False: []}
    ratios, inside, accuracy, warnings = [], [], {}, 0
    for r in range(args.rounds):
        order = (True, False) if r % 2 == 0 else (False, True)
        seconds = {}
        for doctor in order:
            seconds[doctor], accuracy[doctor], w, spent = train_w2(data, doctor)
            times[doctor].append(seconds[doctor])
            warnings += w
            if doctor:
                inside.append(spent / (seconds[doctor] - spent))
        ratios.append(seconds[True] / seconds[False])
    with_doctor, without = statistics.median(times[True]), statistics.median(times[False])
    result = {"workload": bench.SPECS["W2"].name, "rounds": args.rounds,
              "median_without_s": round(without, 4), "median_with_s": round(with_doctor, 4),
              "overhead_of_medians": round(with_doctor / without - 1, 4),
              "median_paired_overhead": round(statistics.median(ratios) - 1, 4),
              "median_share_inside_doctor": round(statistics.median(inside), 4),
              "accuracy": accuracy, "doctor_warnings": warnings}
    print(f"{result['workload']}: without the Doctor {without:.3f} s, with it "
          f"{with_doctor:.3f} s (medians of {args.rounds}); overhead "
          f"{result['overhead_of_medians']:+.1%} (median of paired rounds "
          f"{result['median_paired_overhead']:+.1%}; time inside the Doctor's hooks "
          f"{result['median_share_inside_doctor']:.1%} of the rest); test accuracy "
          f"{accuracy[False]:.3f} / {accuracy[True]:.3f}; warnings {warnings}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
