"""`make bench` keeps working: every runner trains a tiny network and the table is built.

Speed itself is never asserted here (no timed assertions in unit tests); `make bench` reports
it against the issue's targets.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import run  # noqa: E402
import workloads as wl  # noqa: E402

pytest.importorskip("torch")


@pytest.mark.parametrize("optimizer, batch_size", [("sgd", None), ("adam", 2)])
def test_every_runner_trains_the_same_tiny_network(optimizer, batch_size):
    spec = wl.Spec("tiny", [2, 4, 1], optimizer, 0.1, 5, batch_size)
    data = wl.xor()
    runners = {"backprop": wl.run_backprop, "sklearn": wl.run_sklearn, "torch": wl.run_torch}
    for name, runner in runners.items():
        seconds, accuracy = runner(spec, data)
        assert seconds > 0, name
        assert 0.0 <= accuracy <= 1.0, name


def test_measure_interleaves_the_libraries_and_summarises_each():
    calls = []

    def runner(name, seconds):
        def run_once():
            calls.append(name)
            return seconds, 1.0
        return run_once

    results = run.measure({"a": runner("a", 2.0), "b": runner("b", 1.0)}, repeats=3)
    assert calls == ["a", "b"] + ["a", "b"] * 3  # a warm-up each, then turns
    assert results["a"] == {"median": 2.0, "min": 2.0, "max": 2.0, "accuracy": 1.0}
    assert results["b"]["median"] == 1.0


def test_matmul_roofline_times_the_products_of_one_epoch():
    X = np.random.default_rng(0).standard_normal((64, 8), dtype=np.float32)
    assert wl.matmul_roofline([8, 6, 3], X, 16) > 0
