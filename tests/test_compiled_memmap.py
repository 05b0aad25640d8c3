"""``fit`` on a memmap: one batch at a time from the file, on either path, never a copy of X.

An 80 MB float32 memmap (above the size ``fit`` would copy for batches in order) trains,
validation_split included, in a fresh interpreter with its allocations traced: the peak
must stay far below the file's size. The same check on a 2 GB file is
``benchmarks/memmap_scale.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp

ROWS, FEATURES = 163_840, 128  # 80 MB of float32
#: allowed traced peak during one fit; a copy of X alone would be 80 MB
LIMIT = 20 << 20

_CHILD = r"""
import json, os, sys, tracemalloc
import numpy as np
import backprop as bp

path, rows, features = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, features))
y = (np.arange(rows) % 3 == 0).astype(np.int64)
# numba's import and the kernels' load are a fixed cost, not data: paid before tracing
os.environ["BACKPROP_COMPILED"] = "always"
bp.MLP([features, 16, 1], output_activation="sigmoid").fit(
    X[:64], y[:64], loss="binary_crossentropy", epochs=1, batch_size=8)
peaks = {}
for mode in ("never", "always"):
    for shuffle in (True, False):
        os.environ["BACKPROP_COMPILED"] = mode
        model = bp.MLP([features, 16, 1], output_activation="sigmoid", seed=0)
        tracemalloc.start()
        history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=1e-3),
                            epochs=1, batch_size=1024, shuffle=shuffle,
                            validation_split=0.1)
        peaks[f"{mode} shuffle={shuffle}"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert np.isfinite(history.history["val_loss"][0])
print(json.dumps(peaks))
"""


@pytest.fixture(scope="module")
def memmap_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("memmap") / "X.f32"
    data = np.memmap(path, dtype=np.float32, mode="w+", shape=(ROWS, FEATURES))
    rng = np.random.default_rng(0)
    for start in range(0, ROWS, 40_960):  # written in parts: no 80 MB array in this process
        data[start:start + 40_960] = rng.standard_normal((40_960, FEATURES), dtype=np.float32)
    data.flush()
    del data
    return path


def test_fit_reads_a_memmap_one_batch_at_a_time(memmap_file):
    pytest.importorskip("numba")
    src = Path(bp.__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", _CHILD, str(memmap_file), str(ROWS),
                           str(FEATURES)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(src), "PATH": ""})
    assert done.returncode == 0, done.stderr
    peaks = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(peaks) == {f"{m} shuffle={s}" for m in ("never", "always")
                          for s in (True, False)}
    for name, peak in peaks.items():
        assert peak < LIMIT, f"{name}: {peak / 2**20:.1f} MB traced"


def test_validation_split_does_not_copy_X_and_equals_the_copied_split():
    # The split by index trains on exactly the rows (and in the order) the copies would give.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    settings = dict(loss="binary_crossentropy", optimizer="adam", epochs=3, batch_size=32)
    split = bp.MLP([4, 8, 1], output_activation="sigmoid", seed=5, dtype="float64")
    history = split.fit(X, y, validation_split=0.2, **settings)
    train_idx, val_idx = bp.training.split_indices(
        split.loss.prepare_targets(y, 1, np.float64), 300, 0.2, np.random.default_rng(5))
    copied = bp.MLP([4, 8, 1], output_activation="sigmoid", seed=5, dtype="float64")
    expected = copied.fit(X[train_idx], y[train_idx], validation_data=(X[val_idx], y[val_idx]),
                          **settings)
    np.testing.assert_array_equal(split.get_flat_parameters(), copied.get_flat_parameters())
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(history.history[key], expected.history[key], rtol=1e-12)


def test_validation_in_parts_equals_one_pass(monkeypatch):
    from backprop._fast import loop

    rng = np.random.default_rng(2)
    X = rng.standard_normal((500, 3))
    y = rng.integers(0, 3, 500)
    results = []
    for part in (10_000, 64):
        monkeypatch.setattr(loop, "VALIDATION_BATCH", part)
        model = bp.MLP([3, 6, 3], output_activation="softmax", seed=0, dtype="float64")
        results.append(model.fit(X, y, loss="categorical_crossentropy", epochs=2,
                                 batch_size=50, validation_split=0.3, l2=1e-3).history)
    for key in ("val_loss", "val_accuracy"):
        np.testing.assert_allclose(results[1][key], results[0][key], rtol=1e-12)


def test_parts_shrink_for_wide_layers_and_give_the_one_pass_loss():
    import tracemalloc

    from backprop._fast import loop

    narrow = bp.MLP([3, 6, 3], seed=0)
    wide = bp.MLP([16, 2048, 1], output_activation="sigmoid", seed=0, dtype="float64")
    assert loop.part_rows(narrow) == loop.VALIDATION_BATCH
    assert loop.part_rows(wide) == loop.PART_NUMBERS // 2048  # 1024 rows
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6000, 16))
    y = (X[:, 0] > 0).astype(float)
    loss = bp.losses.get("binary_crossentropy")
    T = y.reshape(-1, 1)
    tracemalloc.start()
    value, a = loop.forward_in_parts(wide, loss, X, None, T)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # one pass holds 6000 × 2048 float64 activations (98 MB) at least once; parts of 1024
    # rows hold 17 MB
    assert peak < 40e6, f"{peak / 1e6:.0f} MB"
    np.testing.assert_allclose(value, wide.loss_value(wide.predict(X), T, loss), rtol=1e-12)
    np.testing.assert_allclose(a, wide.predict(X), rtol=1e-12)
