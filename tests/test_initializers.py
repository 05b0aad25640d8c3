"""Initialisers: sample moments against bp.initializers.VARIANCE, zero biases, defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop as bp
from backprop.initializers import INITIALIZERS, VARIANCE

UNIFORM = {"xavier_uniform", "he_uniform", "lecun_uniform"}


def test_variance_table_covers_every_initialiser():
    assert set(VARIANCE) == set(INITIALIZERS.names())


# A square matrix cannot tell fan_in from fan_out (xavier's 2/(i+o) equals lecun's 1/i there),
# so a 1000×500 one is drawn as well.
@pytest.mark.parametrize("shape", [(1000, 1000), (1000, 500)])
@pytest.mark.parametrize("name", INITIALIZERS.names())
def test_sample_mean_and_variance_match_the_formula(name, shape):
    W = bp.initializers.get(name)(shape, np.random.default_rng(0), np.float64)
    assert W.shape == shape and W.dtype == np.float64
    variance = VARIANCE[name](*shape)
    if variance == 0:
        assert not W.any()
        return
    n = W.size
    # Standard errors of the sample mean and variance: σ/√n and σ²·√(κ−1)/√n, with excess
    # kurtosis 3 (normal) or 1.8 (uniform). Six standard errors: a wrong formula (a factor
    # of 2 at least) is caught, chance never fails the test.
    kurtosis = 1.8 if name in UNIFORM else 3.0
    assert abs(W.mean()) < 6 * math.sqrt(variance / n)
    assert abs(W.var() - variance) < 6 * variance * math.sqrt((kurtosis - 1) / n)
    if name in UNIFORM:  # the bounds ±√(3·variance) are reached but never crossed
        limit = math.sqrt(3 * variance)
        assert np.abs(W).max() <= limit
        assert np.abs(W).max() > 0.999 * limit


@pytest.mark.parametrize("name", INITIALIZERS.all_names())
def test_registry_contract(name):
    init = bp.initializers.get(name)
    assert callable(init)
    assert bp.initializers.name_of(name) == INITIALIZERS.canonical(name)
    for dtype in (np.float32, np.float64):
        W = init((7, 3), np.random.default_rng(1), dtype)
        assert W.shape == (7, 3) and W.dtype == dtype
    # The same generator state gives the same matrix.
    np.testing.assert_array_equal(init((7, 3), np.random.default_rng(2), np.float64),
                                  init((7, 3), np.random.default_rng(2), np.float64))


def test_unknown_initialiser_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown initializer 'orthogonal'; choose one of: "):
        bp.Dense(3, 2, init="orthogonal")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_biases_start_at_zero(dtype):
    model = bp.MLP([4, 8, 6, 3], activation="tanh", output_activation="softmax", seed=3,
                   dtype=dtype)
    for b in model.biases:
        assert b.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(b, 0.0)
    assert all(np.any(W != 0) for W in model.weights)


DEFAULTS = {
    "relu": "he_normal", "leaky_relu": "he_normal", "elu": "he_normal",
    "selu": "lecun_normal",  # self-normalising networks need variance 1/fan_in
    "sigmoid": "xavier_uniform", "tanh": "xavier_uniform", "identity": "xavier_uniform",
    "softplus": "xavier_uniform", "swish": "xavier_uniform", "gelu": "xavier_uniform",
    "softmax": "xavier_uniform",
}


def test_defaults_cover_every_activation():
    assert set(DEFAULTS) == set(bp.activations.ACTIVATIONS.names())


@pytest.mark.parametrize("activation", DEFAULTS)
def test_default_init_follows_the_activation(activation):
    layer = bp.Dense(600, 300, activation=activation)
    assert layer.init_name == DEFAULTS[activation]
    # The drawn weights have that initialiser's variance, not just its name.
    W = layer.build(seed=0, dtype="float64").W.value
    expected = VARIANCE[DEFAULTS[activation]](600, 300)
    assert W.var() == pytest.approx(expected, rel=0.02)


def test_mlp_defaults_per_layer_and_explicit_init():
    model = bp.MLP([5, 4, 3, 2], activation=["relu", "selu"], output_activation="sigmoid",
                   seed=0)
    assert [layer.init_name for layer in model.dense_layers] == [
        "he_normal", "lecun_normal", "xavier_uniform"]
    model = bp.MLP([5, 4, 2], activation="relu", init="glorot_normal", seed=0)
    assert [layer.init_name for layer in model.dense_layers] == ["xavier_normal"] * 2


def test_same_seed_same_weights_and_custom_callables():
    a = bp.MLP([3, 5, 2], seed=11, dtype="float64")
    b = bp.MLP([3, 5, 2], seed=11, dtype="float64")
    c = bp.MLP([3, 5, 2], seed=12, dtype="float64")
    np.testing.assert_array_equal(a.get_flat_weights(), b.get_flat_weights())
    assert np.any(a.get_flat_weights() != c.get_flat_weights())

    def ones(shape, rng, dtype):
        return np.ones(shape, dtype=dtype)

    layer = bp.Dense(3, 2, init=ones).build(seed=0)
    np.testing.assert_array_equal(layer.W.value, 1.0)
    assert layer.init_name is None
