"""The compiled path (numba kernels) against the NumPy path, its reference.

Every activation, loss, optimiser and batch setting the kernels accept trains 100 steps both
ways from the same seed: weights, gradients, optimiser state, history and the random stream
must agree to 1e-5 in float32 and 1e-12 in float64. What the kernels do not accept must run
on the NumPy path, and so must everything when numba is missing.

The kernels compile once per machine (cache=True: later sessions load them from disk).
"""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop._fast import compiled
from backprop._fast.compiled import runner

pytest.importorskip("numba")

TOLERANCE = {"float32": 1e-5, "float64": 1e-12}
DTYPES = ("float32", "float64")


@pytest.fixture
def spy(monkeypatch):
    """Counts the epochs the kernels ran (CompiledTrainer.run)."""
    counts = {"epochs": 0}
    original = runner.CompiledTrainer.run

    def run(self, epochs, *args):
        out, done, reason = original(self, epochs, *args)
        counts["epochs"] += done
        return out, done, reason

    monkeypatch.setattr(runner.CompiledTrainer, "run", run)
    return counts


def _data(n_features, n_outputs, kind, n=40, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features))
    if kind == "classes":
        y = rng.integers(0, n_outputs, n)
    elif kind == "binary":
        y = (rng.random((n, n_outputs)) > 0.5).astype(float)
        y = y[:, 0] if n_outputs == 1 else y
    else:
        y = rng.standard_normal((n, n_outputs))
    return X, y


def _fit_both(monkeypatch, spy, make_model, X, y, expect_compiled=True, **fit_kwargs):
    """Fit a fresh model the NumPy way and the compiled way; return both (model, history)."""
    results = {}
    for mode in ("never", "always"):
        monkeypatch.setenv(compiled.ENV, mode)
        model = make_model()
        # optimiser and callbacks may be given as factories: each fit gets fresh ones
        kwargs = {key: value() if key in ("optimizer", "callbacks") and callable(value)
                  else value for key, value in fit_kwargs.items()}
        before = spy["epochs"]
        history = model.fit(X, y, **kwargs)
        used = spy["epochs"] - before
        results[mode] = (model, history, used)
    assert results["never"][2] == 0
    if expect_compiled:
        assert results["always"][2] > 0, "the compiled path did not run"
    else:
        assert results["always"][2] == 0, "the compiled path ran where it should not"
    return results["never"][:2], results["always"][:2]


def _assert_same(reference, candidate, dtype):
    (m1, h1), (m2, h2) = reference, candidate
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(m2.flat_param.value, m1.flat_param.value, rtol=tol, atol=tol)
    np.testing.assert_allclose(m2.flat_param.grad, m1.flat_param.grad, rtol=tol, atol=tol)
    assert h1.epoch == h2.epoch
    assert sorted(h1.history) == sorted(h2.history)
    for key, values in h1.history.items():
        np.testing.assert_allclose(h2.history[key], values, rtol=tol, atol=tol, err_msg=key)
    o1, o2 = m1.optimizer, m2.optimizer
    assert o1.iterations == o2.iterations
    s1, s2 = o1.state_arrays(m1.flat_param), o2.state_arrays(m2.flat_param)
    assert sorted(s1) == sorted(s2)
    for key, value in s1.items():
        np.testing.assert_allclose(s2[key], value, rtol=tol, atol=tol, err_msg=key)
    assert m1.rng.bit_generator.state == m2.rng.bit_generator.state


HIDDEN = ["identity", "sigmoid", "tanh", "relu", bp.activations.get("leaky_relu"),
          bp.activations.LeakyReLU(alpha=0.2), "elu", bp.activations.ELU(alpha=0.6), "selu",
          "softplus", "swish", "gelu", bp.activations.GELU(approximate="tanh"), "softmax"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", HIDDEN, ids=str)
def test_every_hidden_activation_agrees(monkeypatch, spy, dtype, activation):
    X, y = _data(3, 1, "binary")
    both = _fit_both(monkeypatch, spy,
                     lambda: bp.MLP([3, 6, 5, 1], activation=activation,
                                    output_activation="sigmoid", seed=1, dtype=dtype),
                     X, y, loss="binary_crossentropy", optimizer=lambda: bp.SGD(lr=0.2),
                     epochs=20, batch_size=8)
    _assert_same(*both, dtype)


# (output activation, loss, outputs, targets): every loss, fused and not
OUTPUTS = [
    ("identity", "mse", 2, "values"),
    ("sigmoid", "mse", 1, "values"),
    ("softmax", "mse", 3, "values"),
    ("tanh", "mae", 2, "values"),
    ("identity", bp.losses.Huber(delta=0.3), 2, "values"),
    ("elu", "huber", 1, "values"),
    ("sigmoid", "binary_crossentropy", 1, "binary"),
    ("sigmoid", "binary_crossentropy", 3, "binary"),  # multi-label
    ("softmax", "binary_crossentropy", 3, "binary"),  # not fused: through softmax's Jacobian
    ("softmax", "categorical_crossentropy", 4, "classes"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output, loss, k, kind", OUTPUTS,
                         ids=[f"{o}-{getattr(loss, 'name', loss)}-{k}" for o, loss, k, _ in
                              OUTPUTS])
def test_every_loss_and_output_agrees(monkeypatch, spy, dtype, output, loss, k, kind):
    X, y = _data(4, k, kind)
    both = _fit_both(monkeypatch, spy,
                     lambda: bp.MLP([4, 7, k], activation="tanh", output_activation=output,
                                    seed=2, dtype=dtype),
                     X, y, loss=loss, optimizer=lambda: bp.SGD(lr=0.1), epochs=20,
                     batch_size=8)
    _assert_same(*both, dtype)


OPTIMIZERS = {
    "sgd": lambda: bp.SGD(lr=0.1),
    "sgd momentum": lambda: bp.SGD(lr=0.05, momentum=0.9),
    "sgd nesterov decay": lambda: bp.SGD(lr=0.05, momentum=0.8, nesterov=True,
                                         weight_decay=1e-2),
    "sgd clipnorm": lambda: bp.SGD(lr=0.5, clipnorm=0.1),
    "adam": lambda: bp.Adam(lr=0.01),
    "adam decay clipnorm": lambda: bp.Adam(lr=0.01, weight_decay=0.05, clipnorm=0.5),
    "adamw": lambda: bp.AdamW(lr=0.01, weight_decay=0.1, beta_1=0.8),
    "rmsprop": lambda: bp.RMSprop(lr=0.01),
    "rmsprop momentum decay": lambda: bp.RMSprop(lr=0.005, momentum=0.5, weight_decay=1e-3,
                                                 alpha=0.9),
    "adagrad": lambda: bp.Adagrad(lr=0.05, initial_accumulator_value=0.1, weight_decay=1e-3),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_agrees(monkeypatch, spy, dtype, name):
    X, y = _data(3, 3, "classes")
    both = _fit_both(monkeypatch, spy,
                     lambda: bp.MLP([3, 8, 6, 3], activation="relu",
                                    output_activation="softmax", seed=4, dtype=dtype),
                     X, y, loss="categorical_crossentropy", optimizer=OPTIMIZERS[name],
                     epochs=20, batch_size=8)
    _assert_same(*both, dtype)


# (rows, batch_size, shuffle, epochs): 100 steps each
BATCHES = {
    "full batch": (40, None, True, 100),
    "batch larger than the data": (40, 64, True, 100),
    "shuffled mini-batches": (40, 8, True, 20),
    "mini-batches in order": (40, 8, False, 20),
    "short last batch": (43, 10, True, 20),
    "one row per batch": (10, 1, True, 10),
}


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_callers_batch_order_agrees(monkeypatch, spy, dtype):
    # shuffle=order(n): each epoch's rows in the order the caller gives
    X, y = _data(2, 1, "binary", n=30)
    results = []
    for mode in ("never", "always"):
        monkeypatch.setenv(compiled.ENV, mode)
        model = bp.MLP([2, 5, 1], output_activation="sigmoid", seed=2, dtype=dtype)
        generator = np.random.default_rng(11)
        model.fit(X, y, loss="binary_crossentropy", optimizer="adam", epochs=20, batch_size=6,
                  shuffle=lambda n, g=generator: g.permutation(n))
        results.append(model.get_flat_parameters())
    assert spy["epochs"] == 20
    np.testing.assert_allclose(results[1], results[0], rtol=TOLERANCE[dtype],
                               atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(BATCHES))
def test_every_batch_setting_agrees(monkeypatch, spy, dtype, name):
    n, batch_size, shuffle, epochs = BATCHES[name]
    X, y = _data(2, 1, "binary", n=n)
    both = _fit_both(monkeypatch, spy,
                     lambda: bp.MLP([2, 10, 10, 1], activation="relu",
                                    output_activation="sigmoid", seed=5, dtype=dtype),
                     X, y, loss="binary_crossentropy", optimizer=lambda: bp.Adam(lr=0.01),
                     epochs=epochs, batch_size=batch_size, shuffle=shuffle)
    _assert_same(*both, dtype)


def _extra_settings():
    rng = np.random.default_rng(9)
    weights = rng.random(40) * 2
    X_val, y_val = _data(3, 1, "binary", n=12, seed=8)
    return {
        "sample weights": dict(sample_weight=weights, batch_size=8),
        "sample weights, full batch": dict(sample_weight=weights),
        "l2": dict(l2=0.01, batch_size=8),
        "validation_data": dict(validation_data=(X_val, y_val), batch_size=8),
        "validation_split": dict(validation_split=0.25, batch_size=6),
        "early stopping and a schedule": dict(
            validation_split=0.25, batch_size=6,
            callbacks=lambda: [bp.EarlyStopping(patience=3), bp.StepDecay(step_size=4,
                                                                          gamma=0.5)]),
        "accuracy off": dict(metrics=[], batch_size=8),
    }


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(_extra_settings()))
def test_weights_penalties_validation_and_callbacks_agree(monkeypatch, spy, dtype, name):
    X, y = _data(3, 1, "binary")
    settings = _extra_settings()[name]
    both = _fit_both(monkeypatch, spy,
                     lambda: bp.MLP([3, 6, 1], activation="tanh", output_activation="sigmoid",
                                    seed=6, dtype=dtype),
                     X, y, loss="binary_crossentropy", optimizer=lambda: bp.Adam(lr=0.02),
                     epochs=20, **settings)
    _assert_same(*both, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_wide_layers_through_blas_agree(monkeypatch, spy, dtype):
    # layers large enough for the kernels' BLAS products, and a short last batch
    X, y = _data(40, 3, "classes", n=90)
    both = _fit_both(monkeypatch, spy,
                     lambda: bp.MLP([40, 48, 3], activation="relu",
                                    output_activation="softmax", seed=8, dtype=dtype),
                     X, y, loss="categorical_crossentropy", optimizer=lambda: bp.Adam(lr=0.01),
                     epochs=25, batch_size=24, l2=1e-3)
    assert runner.BLAS_MIN_MACS <= 24 * 40 * 48
    _assert_same(*both, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sizes, batch_size", [([6, 40, 40, 3], 16), ([40, 48, 3], None)],
                         ids=["hidden to hidden", "first layer, full batch"])
def test_weight_gradients_from_delta_by_rows_agree(monkeypatch, spy, dtype, sizes,
                                                   batch_size):
    # a weight block of more than SMALL_GEMM_OUTPUTS entries whose input is feature-major
    # (a hidden layer's activations, or a full batch): its gradient is taken from δ copied
    # by rows
    from backprop._fast.compiled import kernels

    n_in, n_out = sizes[-3], sizes[-2]
    assert n_in * n_out > kernels.SMALL_GEMM_OUTPUTS
    X, y = _data(sizes[0], 3, "classes", n=90)
    both = _fit_both(monkeypatch, spy,
                     lambda: bp.MLP(sizes, activation="tanh", output_activation="softmax",
                                    seed=9, dtype=dtype),
                     X, y, loss="categorical_crossentropy", optimizer=lambda: bp.Adam(lr=0.01),
                     epochs=25, batch_size=batch_size)
    _assert_same(*both, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_layers_without_bias_agree(monkeypatch, spy, dtype):
    X, y = _data(3, 2, "values")
    both = _fit_both(monkeypatch, spy,
                     lambda: bp.Sequential([bp.Dense(3, 5, "tanh", use_bias=False),
                                            bp.Dense(5, 4, "relu"),
                                            bp.Dense(4, 2, use_bias=False)], seed=7,
                                           dtype=dtype),
                     X, y, loss="mse", optimizer=lambda: bp.SGD(lr=0.05, momentum=0.5),
                     epochs=20, batch_size=8)
    _assert_same(*both, dtype)


def test_the_kernels_record_the_elementwise_code_they_compile():
    # Numba's disk cache watches only each function's own file (see kernels.py).
    import hashlib
    from pathlib import Path

    from backprop._fast.compiled import kernels

    source = Path(kernels.__file__).with_name("elementwise.py").read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    assert kernels.ELEMENTWISE_SHA256 == digest, (
        f"elementwise.py changed: set ELEMENTWISE_SHA256 = {digest!r} in kernels.py")


# -- continuing, diverging, stopping ---------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
def test_either_path_continues_the_others_training(monkeypatch, dtype):
    # The compiled path leaves weights, optimiser moments, step counts and the random stream
    # where the NumPy path would: a second fit on either path picks up from the first.
    X, y = _data(3, 1, "binary")
    results = []
    for first, second in (("never", "never"), ("always", "never"), ("never", "always")):
        model = bp.MLP([3, 6, 1], activation="relu", output_activation="sigmoid", seed=3,
                       dtype=dtype)
        opt = bp.Adam(lr=0.01)
        for mode in (first, second):
            monkeypatch.setenv(compiled.ENV, mode)
            model.fit(X, y, loss="binary_crossentropy", optimizer=opt, epochs=10,
                      batch_size=8)
        results.append((model.get_flat_parameters(), opt.iterations))
    tol = TOLERANCE[dtype]
    for weights, iterations in results[1:]:
        np.testing.assert_allclose(weights, results[0][0], rtol=tol, atol=tol)
        assert iterations == results[0][1] == 100


@pytest.mark.parametrize("lr, momentum, scale, expected_epoch, what", [
    (1e6, 0.0, 100, 0, "the loss became NaN or infinite"),  # in the first epoch
    (0.2, 0.9, 10, 4, "the weights exploded"),  # after four good epochs
])
def test_divergence_stops_both_paths_alike(monkeypatch, lr, momentum, scale, expected_epoch,
                                           what):
    X, y = _data(3, 2, "values")
    outcomes = []
    for mode in ("never", "always"):
        monkeypatch.setenv(compiled.ENV, mode)
        model = bp.MLP([3, 8, 2], activation="relu", seed=1, dtype="float64")
        with pytest.raises(bp.TrainingDiverged, match=what) as caught:
            model.fit(X, y * scale, loss="mse",
                      optimizer=bp.SGD(lr=lr, momentum=momentum), epochs=60, batch_size=10)
        outcomes.append((caught.value.epoch, caught.value.history.history.get("loss"),
                         model.get_flat_parameters(), str(caught.value)))
    (epoch1, loss1, w1, msg1), (epoch2, loss2, w2, msg2) = outcomes
    assert epoch1 == epoch2 == expected_epoch
    assert (loss1 is None) == (loss2 is None)
    if loss1 is not None:
        np.testing.assert_allclose(loss2, loss1, rtol=1e-12)
    np.testing.assert_allclose(w2, w1, rtol=1e-12, atol=1e-12)  # the last good weights
    assert msg1.split("(‖θ‖")[0] == msg2.split("(‖θ‖")[0]


def test_many_epochs_run_in_chunks_and_record_every_epoch(monkeypatch, spy):
    # 600 epochs of a History-only fit: the kernels run them many at a time; the history,
    # norms and snapshots (more than the 256 rows kept) are as on the NumPy path.
    X, y = _data(2, 1, "binary")
    calls = {"n": 0}
    original = runner.CompiledTrainer.run

    def run(self, epochs, *args):
        calls["n"] += 1
        return original(self, epochs, *args)

    monkeypatch.setattr(runner.CompiledTrainer, "run", run)
    both = _fit_both(monkeypatch, spy,
                     lambda: bp.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid",
                                    seed=0, dtype="float64"),
                     X, y, loss="binary_crossentropy", optimizer=lambda: bp.SGD(lr=0.5),
                     epochs=600)
    _assert_same(*both, "float64")
    assert len(both[1][1].epoch) == 600
    assert calls["n"] < 600 / 4


# -- what the kernels do not take, and numba's absence ----------------------------------------

class _Doubled(bp.activations.Tanh):
    """A subclass may change the mathematics: the kernels must not take it for tanh."""

    def forward(self, z, out=None):
        return super().forward(z, out) * 2

    def backward(self, dy, z, a):
        return super().backward(dy, z, a / 2) * 2


class _PlainSGD(bp.SGD):
    pass


class _CountBatches(bp.Callback):
    def on_batch_end(self, batch, logs):
        pass


def _sparse_X():
    sparse = pytest.importorskip("scipy.sparse")
    X, _ = _data(3, 1, "binary")
    X[np.abs(X) < 0.8] = 0
    return sparse.csr_matrix(X)


REFUSED = {
    "dropout": dict(model=lambda: bp.MLP([3, 6, 1], output_activation="sigmoid", dropout=0.2,
                                         seed=0)),
    "an activation subclass": dict(model=lambda: bp.Sequential(
        [bp.Dense(3, 6, activation=_Doubled()), bp.Dense(6, 1, activation="sigmoid")],
        seed=0)),
    "an optimiser subclass": dict(optimizer=lambda: _PlainSGD(lr=0.1)),
    "a batch hook": dict(callbacks=lambda: [_CountBatches()]),
    "sparse X": dict(X=_sparse_X),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_the_kernels_do_not_take_runs_on_numpy(monkeypatch, spy, name):
    case = REFUSED[name]
    make = case.get("model", lambda: bp.MLP([3, 6, 1], output_activation="sigmoid", seed=0))
    X, y = _data(3, 1, "binary")
    X = case["X"]() if "X" in case else X
    kwargs = {"optimizer": case.get("optimizer", lambda: bp.SGD(lr=0.1))}
    if "callbacks" in case:
        kwargs["callbacks"] = case["callbacks"]
    (m1, h1), (m2, h2) = _fit_both(monkeypatch, spy, make, X, y, expect_compiled=False,
                                   loss="binary_crossentropy", epochs=5, batch_size=8,
                                   **kwargs)
    np.testing.assert_array_equal(m1.get_flat_parameters(), m2.get_flat_parameters())
    assert h1.history == h2.history


def test_refusal_names_the_reason():
    model = bp.MLP([3, 4, 2], output_activation="sigmoid", dropout=0.1)
    assert "Dropout" in runner.refusal(model, bp.losses.get("mse"), bp.SGD())
    model = bp.MLP([3, 4, 2], output_activation="tanh")
    assert "categorical_crossentropy" in runner.refusal(
        model, bp.losses.get("categorical_crossentropy"), bp.SGD())
    assert runner.refusal(model, bp.losses.get("huber"), bp.RMSprop()) is None


def test_without_numba_fit_runs_on_numpy(tmp_path):
    # numba made unimportable in a fresh interpreter: even "always" trains, on NumPy.
    import subprocess
    import sys
    from pathlib import Path

    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _NoNumba:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'numba' or name.startswith('numba.'):\n"
        "            raise ImportError('numba is blocked for this test')\n"
        "sys.meta_path.insert(0, _NoNumba())\n")
    code = (
        "import importlib.util, numpy as np, backprop as bp\n"
        "from backprop._fast import compiled\n"
        "try:\n"
        "    importlib.util.find_spec('numba')\n"
        "    raise SystemExit('numba is not blocked')\n"
        "except ImportError:\n"
        "    pass\n"
        "X = np.random.default_rng(0).standard_normal((20, 2)); y = (X[:, 0] > 0) * 1\n"
        "m = bp.MLP([2, 4, 1], output_activation='sigmoid', seed=0)\n"
        "h = m.fit(X, y, loss='binary_crossentropy', optimizer=bp.SGD(lr=0.5), epochs=30)\n"
        "assert not compiled.loaded() and 'numba' not in __import__('sys').modules\n"
        "print(h.history['accuracy'][-1])\n")
    src = Path(bp.__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": f"{tmp_path}:{src}", "BACKPROP_COMPILED": "always",
                               "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) > 0.8


# -- the choice --------------------------------------------------------------------------------

def test_the_mode_comes_from_the_environment(monkeypatch):
    for value, expected in (("", "auto"), ("AUTO", "auto"), ("1", "always"), ("on", "always"),
                            ("0", "never"), ("never", "never")):
        monkeypatch.setenv(compiled.ENV, value)
        assert compiled.mode() == expected
    monkeypatch.setenv(compiled.ENV, "fast")
    with pytest.raises(ValueError, match="BACKPROP_COMPILED='fast' is not a mode; choose"):
        compiled.mode()


def test_auto_compiles_long_fits_of_small_networks_only(monkeypatch):
    monkeypatch.setenv(compiled.ENV, "auto")
    sgd, loss = bp.SGD(), bp.losses.get("binary_crossentropy")
    chapter = bp.MLP([2, 10, 10, 1], output_activation="sigmoid")
    # the chapter's 1000 full-batch epochs take a twentieth of a second: not worth loading
    assert not compiled.chosen(chapter, loss, sgd, 800, 800, 1000)
    assert compiled.numpy_seconds(chapter, 800, 800, 1000) < compiled.MIN_SECONDS
    # a hundred times as many epochs is
    assert compiled.chosen(chapter, loss, sgd, 800, 800, 100_000)
    # a large network is not, however long
    large = bp.MLP([784, 1024, 1024, 1], output_activation="sigmoid")
    assert not compiled.chosen(large, loss, sgd, 60_000, 128, 100)
    assert compiled.macs_per_step(large, 128) > compiled.MAX_MACS_PER_STEP
    # Adam's NumPy update costs more: the kernels still gain on a larger batch
    cce, adam = bp.losses.get("categorical_crossentropy"), bp.Adam()
    middle = bp.MLP([32, 512, 512, 10], output_activation="softmax")
    assert (compiled.MAX_MACS_PER_STEP < compiled.macs_per_step(middle, 16)
            <= compiled.MAX_MACS_PER_STEP_ADAM)
    assert compiled.chosen(middle, cce, adam, 4096, 16, 40)
    assert compiled.chosen(middle, cce, bp.AdamW(), 4096, 16, 40)
    assert not compiled.chosen(middle, cce, sgd, 4096, 16, 40)
    assert not compiled.chosen(middle, cce, adam, 4096, 128, 200)
    monkeypatch.setenv(compiled.ENV, "never")
    assert not compiled.chosen(chapter, loss, sgd, 800, 800, 100_000)
    monkeypatch.setenv(compiled.ENV, "always")
    assert compiled.chosen(large, loss, sgd, 60_000, 128, 1)


def test_a_disk_cache_location_is_always_found(tmp_path):
    # NUMBA_CACHE_DIR is honoured; the fallback for a machine with nowhere writable is a
    # directory of its own in the temporary directory.
    import subprocess
    import sys
    from pathlib import Path

    code = ("from backprop._fast.compiled import kernels\n"
            "print(kernels.run_epochs._cache._cache_path)\n")
    src = Path(bp.__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": str(src), "NUMBA_CACHE_DIR": str(tmp_path),
                               "PATH": ""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(tmp_path))
    fallback = compiled.cache_fallback()
    assert fallback.startswith(__import__("tempfile").gettempdir())
