"""Sparse input: backprop's MLPClassifier on a TF-IDF-shaped CSR matrix, against densifying
it first and against scikit-learn's MLPClassifier on the same sparse matrix.

The matrix is TF-IDF-like: ``--rows`` documents × ``--cols`` terms at ``--density``, positive
weights with rows of unit L2 norm, and ``--classes`` labels that a linear model of the terms
decides. Each variant runs in a fresh Python process, so that its peak memory is its own:
the peak resident set size (Linux VmHWM, reset after the data is built) while densifying (for
that variant) and fitting, and the fit time per epoch. Prints a Markdown table.

Usage: python benchmarks/sparse_tfidf.py [--rows 20000] [--cols 50000] [--density 0.001]
       [--hidden 100] [--epochs 2] [--dtype float32] [--max-dense-gb 6]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

VARIANTS = {
    "backprop, sparse X": ("backprop", False),
    "backprop, X densified": ("backprop", True),
    "scikit-learn, sparse X": ("sklearn", False),
}


def tfidf_like(rows: int, cols: int, density: float, classes: int, dtype, seed: int = 0):
    """A CSR matrix shaped like TF-IDF features and labels a linear model of them gives."""
    from scipy import sparse

    gen = np.random.default_rng(seed)
    X = sparse.random(rows, cols, density=density, format="csr", dtype=np.float64, rng=gen)
    X.data = -np.log(np.maximum(X.data, 1e-3))  # idf-like: many small weights, a few large
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ X
    scores = X @ gen.normal(size=(cols, classes))
    y = np.argmax(scores + 0.01 * gen.normal(size=scores.shape), axis=1)
    return sparse.csr_matrix(X, dtype=dtype), y


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def _reset_peak_rss() -> None:
    # Writing 5 to clear_refs resets VmHWM to the current resident size (Linux ≥ 4.0).
    Path("/proc/self/clear_refs").write_text("5")


def run_variant(name: str, args: argparse.Namespace) -> dict:
    """Build the data, then densify (if the variant does) and fit, measuring that part."""
    from sklearn.exceptions import ConvergenceWarning

    library, densify = VARIANTS[name]
    X, y = tfidf_like(args.rows, args.cols, args.density, args.classes, args.dtype)
    if library == "backprop":
        from backprop.sklearn import MLPClassifier
    else:
        from sklearn.neural_network import MLPClassifier
    est = MLPClassifier(hidden_layer_sizes=(args.hidden,), max_iter=args.epochs,
                        learning_rate_init=1e-2, random_state=0)
    _reset_peak_rss()
    before = _peak_rss_mb()
    start = time.perf_counter()
    if densify:
        X = X.toarray()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    seconds = time.perf_counter() - start
    return {"seconds_per_epoch": seconds / est.n_iter_, "peak_mb": _peak_rss_mb(),
            "added_mb": _peak_rss_mb() - before, "accuracy": float(est.score(X, y)),
            "epochs": est.n_iter_}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--cols", type=int, default=50_000)
    parser.add_argument("--density", type=float, default=0.001)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--max-dense-gb", type=float, default=6.0,
                        help="skip densifying when the dense X would be larger")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # one variant, in a child
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args)))
        return
    dense_gb = args.rows * args.cols * np.dtype(args.dtype).itemsize / 1e9
    print(f"{args.rows:,} × {args.cols:,} at density {args.density:g} "
          f"({args.rows * args.cols * args.density:,.0f} non-zeros), {args.dtype}, "
          f"one hidden layer of {args.hidden}, adam, batch 200, {args.epochs} epochs; "
          f"dense X would take {dense_gb:.1f} GB\n")
    print("| variant | time per epoch | peak memory (RSS) | added by densify + fit | "
          "train accuracy |")
    print("|---|---|---|---|---|")
    for name, (_, densify) in VARIANTS.items():
        if densify and dense_gb > args.max_dense_gb:
            print(f"| {name} | skipped: dense X needs {dense_gb:.1f} GB > --max-dense-gb | "
                  "| | |")
            continue
        child = [sys.executable, __file__, "--variant", name,
                 *[f"--{key.replace('_', '-')}={value}" for key, value in vars(args).items()
                   if key != "variant"]]
        result = json.loads(subprocess.run(child, check=True, capture_output=True,
                                           text=True).stdout.splitlines()[-1])
        print(f"| {name} | {result['seconds_per_epoch']:.2f} s | "
              f"{result['peak_mb']:,.0f} MB | {result['added_mb']:,.0f} MB | "
              f"{result['accuracy']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
