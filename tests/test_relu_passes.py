"""ReLU's elementwise passes compiled on the NumPy path (``_fast/compiled/relu_passes.py``).

They must change no number: a fit with them equals, bit for bit, the same fit on NumPy alone,
in float32 and float64, for plain SGD (whose step is fused into BLAS), Adam, layers without a
bias, validation and the special values (NaN, ±inf, −0.0) NumPy's ufuncs handle their way.
"""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop._fast import compiled
from backprop._fast.compiled import epochs as compiled_epochs
from backprop._fast.compiled import relu_passes

pytest.importorskip("numba")
# the data are noise: the point is equal numbers both ways, not a good fit
pytestmark = pytest.mark.filterwarnings("ignore::backprop.PoorFitWarning")

DTYPES = ("float32", "float64")


@pytest.fixture
def numpy_path(monkeypatch):
    """fit on the NumPy path whatever BACKPROP_COMPILED says (no whole compiled epochs)."""
    monkeypatch.setattr(compiled_epochs, "chosen", lambda *args, **kwargs: False)


@pytest.fixture
def calls(monkeypatch):
    """Counts the compiled passes taken (forward and backward)."""
    counts = {"forward": 0, "backward": 0}
    for name in counts:
        original = getattr(relu_passes.ReLUPasses, name)

        def counted(self, *args, _original=original, _name=name):
            taken = _original(self, *args)
            counts[_name] += taken
            return taken

        monkeypatch.setattr(relu_passes.ReLUPasses, name, counted)
    return counts


def _fit(monkeypatch, mode, dtype, *, use_bias=True, optimizer="sgd", **fit_kwargs):
    monkeypatch.setenv(compiled.ENV, mode)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 12))
    y = rng.integers(0, 3, 300)
    layers = [bp.Dense(12, 96, activation="relu", use_bias=use_bias),
              bp.Dense(96, 96, activation="relu"), bp.Dense(96, 3, activation="softmax")]
    model = bp.Sequential(layers, seed=4, dtype=dtype)
    history = model.fit(X, y, loss="categorical_crossentropy", optimizer=optimizer, epochs=4,
                        batch_size=64, metrics=["accuracy"], **fit_kwargs)
    return model.get_flat_parameters().copy(), history.history


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("settings", [
    {},  # plain SGD: its large blocks step inside BLAS
    {"optimizer": "adam", "validation_split": 0.2},
    {"use_bias": False, "shuffle": False},  # a first layer without bias: backward only
], ids=["sgd", "adam-validation", "no-bias"])
def test_the_passes_change_no_number(monkeypatch, numpy_path, calls, dtype, settings):
    numpy_alone = _fit(monkeypatch, "never", dtype, **settings)
    assert calls == {"forward": 0, "backward": 0}
    with_passes = _fit(monkeypatch, "always", dtype, **settings)
    assert calls["forward"] > 0 and calls["backward"] > 0
    np.testing.assert_array_equal(with_passes[0], numpy_alone[0])
    assert with_passes[1] == numpy_alone[1]


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_kernels_keep_numpys_special_values(dtype):
    kernels = relu_passes.load_kernels()
    special = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5, -1.5, 3e38, -3e38]
    z = np.array([special] * 3, dtype=dtype)
    b = np.array([0.0, -np.inf, np.inf, 0.0, -0.0, np.nan, 1.0, 3e38, 0.0], dtype=dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf: NaN on both sides
        expected = np.maximum(z + b, 0)
    kernels.bias_relu(z, b)
    np.testing.assert_array_equal(z, expected)  # NaN where NumPy has NaN
    assert np.array_equal(np.signbit(z), np.signbit(expected))  # −0.0 kept as NumPy keeps it
    dy = np.array([special] * 3, dtype=dtype)
    a = np.array([[np.nan, 0.0, -0.0, 1.0, 2.0, 0.0, np.inf, 0.0, 1e-30]] * 3, dtype=dtype)
    with np.errstate(invalid="ignore"):  # ±inf · 0: NaN, as both sides make it
        expected = dy * (a > 0)
    kernels.relu_backward(dy, a)
    np.testing.assert_array_equal(dy, expected)
    assert np.array_equal(np.signbit(dy), np.signbit(expected))


def test_arrays_the_loops_do_not_take_are_left_to_numpy():
    passes = relu_passes.ReLUPasses(relu_passes.load_kernels(), [])
    z = np.ones((4, 3))
    assert not passes.forward(z, None)  # no bias: the layer's own code
    assert not passes.forward(z, np.ones(3, dtype=np.float32))  # mixed dtypes
    assert not passes.forward(np.ones((3, 4)).T, np.ones(3))  # not C-contiguous
    assert not passes.backward(np.ones((4, 3), dtype=np.float16), np.ones((4, 3), np.float16))
    assert np.array_equal(z, np.ones((4, 3)))


class ShiftedReLU(bp.activations.ReLU):
    name = "shifted_relu"

    def forward(self, z, out=None):
        return np.maximum(z, 0.5, out=out)


def test_when_a_fit_takes_them(monkeypatch):
    model = bp.MLP([8, 64, 1], activation="relu", output_activation="sigmoid")
    monkeypatch.setenv(compiled.ENV, "never")
    assert relu_passes.ReLUPasses.for_fit(model, 100, 10, 1) is None
    monkeypatch.setenv(compiled.ENV, "always")
    assert relu_passes.ReLUPasses.for_fit(model, 100, 10, 1).layers == model.layers[:1]
    # auto: when the fit is long enough to repay loading them, or they ran before in the
    # model's dtype in this process
    monkeypatch.setenv(compiled.ENV, "auto")
    monkeypatch.setattr(relu_passes, "_ran", set())
    assert relu_passes.ReLUPasses.for_fit(model, 100, 10, 1) is None
    assert relu_passes.ReLUPasses.for_fit(model, 60_000, 128, 10_000) is not None
    relu_passes.warm_up("float64")
    assert relu_passes.ReLUPasses.for_fit(model, 100, 10, 1) is None  # a float32 model
    relu_passes.warm_up("float32")
    assert relu_passes.ReLUPasses.for_fit(model, 100, 10, 1) is not None
    # not a subclass that changes the function, nor a network without ReLU
    shifted = bp.Sequential([bp.Dense(8, 4, activation=ShiftedReLU()), bp.Dense(4, 1)])
    monkeypatch.setenv(compiled.ENV, "always")
    assert relu_passes.ReLUPasses.for_fit(shifted, 100, 10, 1) is None


def test_the_layers_are_left_without_them_after_fit(monkeypatch, numpy_path):
    monkeypatch.setenv(compiled.ENV, "always")
    model = bp.MLP([4, 32, 1], activation="relu", output_activation="sigmoid", seed=0)
    X = np.random.default_rng(0).standard_normal((50, 4))
    model.fit(X, (X[:, 0] > 0).astype(int), loss="binary_crossentropy", optimizer="adam",
              epochs=2, metrics=[])
    assert all(layer._relu_passes is None for layer in model.dense_layers)


class Snapshot(bp.Callback):
    """Copies the model at the end of each epoch, as a callback may (deepcopy and pickle)."""

    def on_epoch_end(self, epoch, logs):
        import copy
        import pickle

        self.copies = [copy.deepcopy(self.model), pickle.loads(pickle.dumps(self.model))]


def test_a_copy_taken_during_fit_leaves_the_passes_behind(monkeypatch, numpy_path):
    monkeypatch.setenv(compiled.ENV, "always")
    model = bp.MLP([4, 32, 1], activation="relu", output_activation="sigmoid", seed=0)
    X = np.random.default_rng(0).standard_normal((50, 4))
    snapshot = Snapshot()
    model.fit(X, (X[:, 0] > 0).astype(int), loss="binary_crossentropy", optimizer="adam",
              epochs=1, metrics=[], callbacks=[snapshot])
    for copied in snapshot.copies:
        assert all(layer._relu_passes is None for layer in copied.dense_layers)
        np.testing.assert_array_equal(copied.predict(X), model.predict(X))


def test_a_broken_numba_install_leaves_numpy_to_train(monkeypatch):
    def broken():
        raise ImportError("numba is broken")

    monkeypatch.setattr(relu_passes, "load_kernels", broken)
    monkeypatch.setenv(compiled.ENV, "always")
    model = bp.MLP([8, 64, 1], activation="relu", output_activation="sigmoid")
    with pytest.warns(RuntimeWarning, match="ReLU passes are unavailable.*numba is broken"):
        assert relu_passes.ReLUPasses.for_fit(model, 100, 10, 1) is None
