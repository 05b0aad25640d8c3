"""``fit`` on data larger than memory: a float32 memmap of 2 GB or more, one epoch with
shuffled mini-batches and ``validation_split=0.1``, on each path, in a fresh process each.

Reported per run: the peak of NumPy's traced allocations during ``fit`` (tracemalloc), the
peak of the process's anonymous resident memory above what it held before ``fit`` (sampled
from /proc every millisecond), the kernel's peak resident set (ru_maxrss, which also counts
the file's pages the process mapped: those are the page cache, not memory the process
holds), and the time. The file is written in parts and deleted afterwards.
Usage: python benchmarks/memmap_scale.py [--gb 2.2] [--dir DIR] [--features 256]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_CHILD = r"""
import json, os, resource, sys, threading, time, tracemalloc
import numpy as np
import backprop as bp

path, rows, features, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]


def anon_kb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0


X = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, features))
y = (np.asarray(X[:, 0]) > 0).astype(np.int64)  # one column read: the targets
os.environ["BACKPROP_COMPILED"] = mode
model = bp.MLP([features, 64, 1], output_activation="sigmoid", seed=0)
model.fit(X[:256], y[:256], loss="binary_crossentropy", epochs=1, batch_size=64)  # warm-up
before = anon_kb()
peak = [before]
done = threading.Event()


def sample():
    while not done.is_set():
        peak[0] = max(peak[0], anon_kb())
        time.sleep(0.001)


sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
tracemalloc.start()
start = time.perf_counter()
history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=1e-3), epochs=1,
                    batch_size=4096, validation_split=0.1)
seconds = time.perf_counter() - start
traced = tracemalloc.get_traced_memory()[1]
done.set()
sampler.join()
print(json.dumps({"mode": mode, "seconds": seconds, "traced_peak_mb": traced / 2**20,
                  "anon_peak_above_start_mb": (peak[0] - before) / 1024,
                  "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "model_mb": model.count_params() * 4 / 2**20,
                  "val_accuracy": history.history["val_accuracy"][-1]}))
"""


def write_memmap(path: Path, rows: int, features: int) -> None:
    """Random float32 rows written 65536 at a time (never the whole array in memory)."""
    data = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows, features))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 65536):
        stop = min(rows, start + 65536)
        data[start:stop] = rng.standard_normal((stop - start, features), dtype=np.float32)
    data.flush()
    del data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=2.2, help="size of X in GB (2**30 bytes)")
    parser.add_argument("--features", type=int, default=256)
    parser.add_argument("--dir", default=None, help="where to write the file (default: tmp)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    rows = int(args.gb * 2**30 / (4 * args.features))
    folder = Path(args.dir or tempfile.gettempdir())
    free = shutil.disk_usage(folder).free
    size = rows * args.features * 4
    if free < size * 1.2:
        raise SystemExit(f"{folder} has {free / 2**30:.1f} GB free; {size / 2**30:.1f} GB needed")
    path = folder / f"backprop-memmap-{os.getpid()}.f32"
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src),
                                                         os.environ.get("PYTHONPATH", "")])}
    results = []
    try:
        write_memmap(path, rows, args.features)
        print(f"X: {rows:,} × {args.features} float32 = {size / 2**30:.2f} GB at {path}")
        for mode in ("never", "always"):
            done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(rows),
                                   str(args.features), mode], env=env, capture_output=True,
                                  text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results.append(result)
            print(f"{'NumPy path' if mode == 'never' else 'compiled path':<14} "
                  f"{result['seconds']:6.1f} s; traced peak {result['traced_peak_mb']:.1f} MB, "
                  f"anonymous memory peak +{result['anon_peak_above_start_mb']:.1f} MB, "
                  f"ru_maxrss {result['ru_maxrss_mb']:.0f} MB (file pages included); "
                  f"model {result['model_mb']:.2f} MB; val_accuracy "
                  f"{result['val_accuracy']:.3f}")
    finally:
        path.unlink(missing_ok=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "features": args.features,
                                               "gb": size / 2**30, "runs": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
