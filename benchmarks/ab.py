"""A/B: the same backprop workloads against two source trees, taking turns run by run.

Two long-lived worker processes, one with each tree's ``src`` first on ``PYTHONPATH``, run
``workloads.run_backprop`` on request. The driver asks them in turn (A then B, then B then A in
the next round), so a slow spell of this shared machine falls on both sides rather than on one
side's block of runs. It prints, per workload, each side's median and minimum and three
ratios after/before (above 1: the after tree is slower): of the medians, of the minimums (noise
only ever adds time, so the minimum is the steadiest estimate on a busy machine) and the
median of the ratios of runs taken side by side.

Usage::

    python benchmarks/ab.py --before /work/bench-before --after . [--rounds 9] [--only W1,W3]
        [--compiled never|always]

``--compiled never`` times both trees on their NumPy paths (BACKPROP_COMPILED=never),
``always`` on their compiled paths (as ``make bench``'s headline runs W1, W2 and W4); the
default, ``auto``, lets ``fit`` choose as a user's call would.

Both trees are run with this file's ``workloads.py`` and ``run.py`` specifications, so only the
library differs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker(compiled: str) -> int:
    """Answer "W1".."W4" lines on stdin with one timed run each, as a JSON line."""
    sys.path.insert(0, str(HERE))
    import run  # noqa: PLC0415  (the specifications and data builders of make bench)
    import workloads as wl

    data: dict[str, object] = {}
    print(json.dumps({"backprop": wl.bp.__file__}), flush=True)
    for line in sys.stdin:
        key = line.strip()
        if not key:
            continue
        if key not in data:
            data[key] = run.DATA[key]()
        seconds, accuracy = wl.run_backprop(run.SPECS[key], data[key], compiled=compiled)
        print(json.dumps({"seconds": seconds, "accuracy": accuracy}), flush=True)
    return 0


class Side:
    def __init__(self, name: str, tree: Path, compiled: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(tree / "src"))
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", "--compiled", compiled],
            env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.module = json.loads(self.process.stdout.readline())["backprop"]
        expected = (tree / "src").resolve()
        if not Path(self.module).resolve().is_relative_to(expected):
            raise SystemExit(f"{name}: backprop came from {self.module}, not {expected}")

    def run(self, key: str) -> dict[str, float]:
        self.process.stdin.write(key + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--before", type=Path, help="source tree A (the reference)")
    parser.add_argument("--after", type=Path, default=HERE.parent, help="source tree B")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--only", default="W1,W2,W3,W4")
    parser.add_argument("--compiled", choices=("auto", "never", "always"), default="auto",
                        help="BACKPROP_COMPILED for both trees (never: their NumPy paths; "
                             "always: their compiled paths)")
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.compiled)
    if args.before is None:
        parser.error("--before is required")
    sides = [Side("before", args.before, args.compiled), Side("after", args.after, args.compiled)]
    print(f"before: {sides[0].module}\nafter:  {sides[1].module}\n")
    print(f"{'workload':<9}{'before med':>11}{'after med':>11}{'before min':>11}"
          f"{'after min':>11}  {'after/before: medians':>21}{'minimums':>10}{'pairs':>7}"
          f"{'accuracy':>14}")
    try:
        for key in args.only.split(","):
            for side in sides:  # warm-up: data, imports, allocator, BLAS threads
                side.run(key)
            times: dict[str, list[float]] = {side.name: [] for side in sides}
            accuracy: dict[str, float] = {}
            for round_ in range(args.rounds):
                for side in sides if round_ % 2 == 0 else sides[::-1]:
                    result = side.run(key)
                    times[side.name].append(result["seconds"])
                    accuracy[side.name] = result["accuracy"]
            before, after = (statistics.median(times[s.name]) for s in sides)
            low_before, low_after = (min(times[s.name]) for s in sides)
            pairs = statistics.median(b / a for a, b in zip(times["before"], times["after"]))
            print(f"{key:<9}{before:>10.4f}s{after:>10.4f}s{low_before:>10.4f}s"
                  f"{low_after:>10.4f}s  {after / before:>21.3f}{low_after / low_before:>10.3f}"
                  f"{pairs:>7.3f}{accuracy['before']:>8.3f}/{accuracy['after']:.3f}",
                  flush=True)
    finally:
        for side in sides:
            side.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
