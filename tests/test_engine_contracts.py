"""The engine's contracts after the restructure: the Layer contract without speed arguments,
the fit context callbacks receive through set_params, the resumer hook, and the names that
replaced private ones."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import backprop as bp
from backprop import training


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def _model(**kwargs):
    return bp.MLP([3, 8, 1], activation="tanh", output_activation="sigmoid", seed=0,
                  dtype="float64", **kwargs)


@pytest.mark.parametrize("layer", [bp.Layer, bp.Dense, bp.Dropout])
def test_the_layer_contract_has_no_speed_arguments(layer):
    assert list(inspect.signature(layer.forward).parameters) == ["self", "x", "training"]
    assert list(inspect.signature(layer.backward).parameters) == ["self", "dy"]


def test_dense_backward_returns_dx_and_writes_gradients():
    rng = np.random.default_rng(1)
    layer = bp.Dense(3, 2, activation="tanh").build(seed=0, dtype="float64")
    x, dy = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    a = layer.forward(x, training=True)
    dx = layer.backward(dy.copy())
    delta = dy * (1 - a**2)
    np.testing.assert_allclose(layer.W.grad, x.T @ delta, rtol=1e-12)
    np.testing.assert_allclose(layer.b.grad, delta.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(dx, delta @ layer.W.value.T, rtol=1e-12)


def test_a_network_skips_only_its_first_layers_input_gradient():
    model = bp.MLP([3, 4, 4, 1], seed=0)
    assert [layer.needs_input_grad for layer in model.layers] == [False, True, True]


def test_forward_with_ones_equals_forward():
    model = _model()
    first = model.layers[0]
    X = np.random.default_rng(2).standard_normal((7, 3))
    X_ones = np.hstack([X, np.ones((7, 1))])
    plain = first.forward(X, True).copy()
    np.testing.assert_allclose(first.forward_with_ones(X_ones, True), plain, rtol=1e-14)
    with pytest.raises(RuntimeError, match="needs the \\[W; b\\] block"):
        bp.Dense(3, 2).build(seed=0).forward_with_ones(X_ones)


class Recorder(bp.Callback):
    def on_train_begin(self, logs):
        self.seen = dict(self.params)


def test_callbacks_receive_the_fit_context_through_set_params(data):
    X, y = data
    recorder, stop = Recorder(), bp.EarlyStopping(patience=3)
    _model().fit(X, y, loss="bce", epochs=5, batch_size=16, validation_split=0.25,
                 initial_epoch=1, callbacks=[recorder, stop])
    assert recorder.seen == {"epochs": 5, "initial_epoch": 1, "batch_size": 16,
                             "validation": True, "callbacks": [recorder, stop],
                             "resumed": None}
    assert stop.params is recorder.params  # one dict for the fit


def test_a_fitted_model_holds_no_callbacks(data):
    X, y = data
    model = _model()
    history = model.fit(X, y, loss="bce", epochs=2, callbacks=[Recorder()])
    assert model.history is history and history.params["callbacks"] == []
    assert not any(name.startswith("_callbacks") or name.startswith("_has_validation")
                   or name.startswith("_resumed") for name in vars(model))


def test_validation_monitors_read_the_context(data):
    X, y = data
    with pytest.raises(ValueError, match="no validation data"):
        _model().fit(X, y, loss="bce", epochs=2, callbacks=[bp.ReduceLROnPlateau()])
    monitor = bp.EarlyStopping()
    monitor.set_params({"validation": True})
    monitor.check_monitor_available()  # no error with validation data in the context


def test_resume_from_goes_through_the_resumer(data, monkeypatch):
    X, y = data
    calls = []

    def resumer(model, path, optimizer):
        calls.append(path)
        return training.ResumePoint(optimizer, 3)

    monkeypatch.setattr(training, "_resumer", None)
    with pytest.raises(RuntimeError, match="set_resumer"):
        _model().fit(X, y, loss="bce", epochs=5, resume_from="somewhere")
    training.set_resumer(resumer)
    history = _model().fit(X, y, loss="bce", epochs=5, resume_from="somewhere")
    assert calls == ["somewhere"] and history.epoch == [3, 4]


def test_the_package_points_the_resumer_at_io():
    assert training._resumer is not None
    assert training._resumer.__module__ == "backprop"


def test_to_torch_is_a_function_of_the_edge():
    assert not hasattr(bp.Sequential, "to_torch")
    from backprop.io import to_torch

    assert bp.to_torch is to_torch


def test_flat_parameters_include_the_biases_and_keep_their_old_names():
    model = _model()
    theta = model.get_flat_parameters()
    assert theta.size == model.count_params() == sum(p.value.size for p in model.parameters())
    np.testing.assert_array_equal(model.get_flat_weights(), theta)
    model.set_flat_weights(theta * 2)
    np.testing.assert_array_equal(model.get_flat_parameters(), theta * 2)


def test_set_rng_reaches_the_dropout_layers():
    model = bp.MLP([3, 8, 1], dropout=0.5, seed=0)
    rng = np.random.default_rng(5)
    model.set_rng(rng)
    assert model.rng is rng and model.layers[1].rng is rng
    with pytest.raises(TypeError, match="numpy Generator"):
        model.set_rng(5)


def test_from_config_finds_subclasses_without_importing_them():
    model = bp.MLP([2, 3, 1], seed=0)
    assert type(bp.Sequential.from_config(model.get_config())) is bp.MLP
    with pytest.raises(ValueError, match="unknown model class 'Nope'; choose one of: MLP"):
        bp.Sequential.from_config({"class": "Nope"})


def test_a_diverging_fit_leaves_no_fused_step_attached():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 100)) * 1e6
    y = rng.integers(0, 3, 300)
    model = bp.MLP([100, 96, 90, 3], activation="relu", output_activation="softmax", seed=1)
    with pytest.raises(bp.TrainingDiverged):
        model.fit(X, y, loss="categorical_crossentropy", optimizer=bp.SGD(lr=1e6), epochs=2,
                  batch_size=32)
    assert all(layer._fused_step is None for layer in model.dense_layers)
