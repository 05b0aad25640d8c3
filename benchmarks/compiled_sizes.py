"""Where backprop's compiled path helps: ``fit`` time per step, NumPy path against compiled,
over network widths and batch sizes (the measurement behind ``MAX_MACS_PER_STEP`` and
``MAX_MACS_PER_STEP_ADAM`` in ``backprop/_fast/compiled/__init__.py``).

A [32, w, w, 10] ReLU network with a softmax output on 4096 random rows, plain SGD and
Adam (``--optimizers`` adds momentum, rmsprop, adagrad); each cell is the median of REPEATS
fits taking turns, after a warm-up. A cell's fit is short (about 2·10⁷ multiply-adds), so
the large cells include each path's fixed cost per fit.
Usage: python benchmarks/compiled_sizes.py [--repeats N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings

import numpy as np

import backprop as bp

OPTIMIZERS = {"sgd": lambda: bp.SGD(lr=0.01), "adam": lambda: bp.Adam(lr=1e-3),
              "momentum": lambda: bp.SGD(lr=0.01, momentum=0.9),
              "rmsprop": lambda: bp.RMSprop(lr=1e-3), "adagrad": lambda: bp.Adagrad(lr=0.01)}
WIDTHS = (8, 32, 128, 512)
BATCHES = (16, 128, 1024)
ROWS = 4096


def _fit_seconds(width: int, batch: int, optimizer: str, compiled: str, X, y) -> float:
    os.environ["BACKPROP_COMPILED"] = compiled
    model = bp.MLP([X.shape[1], width, width, 10], activation="relu",
                   output_activation="softmax", seed=0)
    # about 2·10⁷ multiply-adds per fit whatever the size, at least 2 epochs
    macs = ROWS * (X.shape[1] * width + width * width + width * 10)
    epochs = max(2, int(2e7 / macs))
    opt = OPTIMIZERS[optimizer]()
    start = time.perf_counter()
    with warnings.catch_warnings():  # random labels: that nothing is learned is expected
        warnings.simplefilter("ignore", bp.PoorFitWarning)
        model.fit(X, y, loss="categorical_crossentropy", optimizer=opt, epochs=epochs,
                  batch_size=batch, metrics=[])
    steps = epochs * -(-ROWS // batch)
    return (time.perf_counter() - start) / steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the cells to this file")
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)))
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument("--optimizers", default="sgd,adam",
                        help=f"any of {', '.join(OPTIMIZERS)}")
    args = parser.parse_args(argv)
    unknown = set(args.optimizers.split(",")) - set(OPTIMIZERS)
    if unknown:
        parser.error(f"--optimizers: unknown {', '.join(sorted(unknown))}; choose from "
                     f"{', '.join(OPTIMIZERS)}")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((ROWS, 32)).astype(np.float32)
    y = rng.integers(0, 10, ROWS)
    cells = []
    print(f"{'optimizer':<10}{'width':>6}{'batch':>6}{'MACs/step':>12}{'NumPy µs':>10}"
          f"{'compiled µs':>12}{'gain':>7}")
    for optimizer in args.optimizers.split(","):
        for width in map(int, args.widths.split(",")):
            for batch in map(int, args.batches.split(",")):
                runs = {mode: [] for mode in ("never", "always")}
                for mode in runs:  # warm-up (and the compilation)
                    _fit_seconds(width, batch, optimizer, mode, X, y)
                for _ in range(args.repeats):
                    for mode in runs:
                        runs[mode].append(_fit_seconds(width, batch, optimizer, mode, X, y))
                numpy_s = statistics.median(runs["never"])
                compiled_s = statistics.median(runs["always"])
                macs = batch * (32 * width + width * width + width * 10)
                cells.append({"optimizer": optimizer, "width": width, "batch": batch,
                              "macs_per_step": macs, "numpy_s": numpy_s,
                              "compiled_s": compiled_s})
                print(f"{optimizer:<10}{width:>6}{batch:>6}{macs:>12,}{numpy_s * 1e6:>10.1f}"
                      f"{compiled_s * 1e6:>12.1f}{numpy_s / compiled_s:>6.2f}x")
    os.environ.pop("BACKPROP_COMPILED", None)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(cells, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
