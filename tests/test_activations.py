"""Activations: textbook formulas, PyTorch, stability at |z| = 1e4, derivatives, registry."""

from __future__ import annotations

import math
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import backprop as bp
from backprop.activations import ACTIVATIONS

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# The formulas as a textbook writes them (fine for moderate z, which is all they see here).
TEXTBOOK = {
    "identity": lambda z: z,
    "sigmoid": _sigmoid,
    "tanh": lambda z: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)),
    "relu": lambda z: np.maximum(0, z),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.exp(z) - 1),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * (np.exp(z) - 1)),
    "softplus": lambda z: np.log(1 + np.exp(z)),
    "swish": lambda z: z * _sigmoid(z),
    "gelu": lambda z: 0.5 * z * (1 + _erf(z / math.sqrt(2))),
    "gelu_tanh": lambda z: 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                  * (z + 0.044715 * z**3))),
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True),
}

SPECS = {name: name for name in TEXTBOOK}
SPECS["gelu_tanh"] = {"name": "gelu", "approximate": "tanh"}
ELEMENTWISE = [name for name in SPECS if name != "softmax"]
KINKED = {"relu", "leaky_relu", "elu", "selu"}  # slope (or its derivative) jumps at z = 0


def torch_function(torch, key):
    F = torch.nn.functional
    return {
        "identity": lambda z: z,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
        "elu": F.elu,
        "selu": F.selu,
        "softplus": F.softplus,
        "swish": F.silu,
        "gelu": lambda z: F.gelu(z, approximate="none"),
        "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"),
        "softmax": lambda z: F.softmax(z, dim=1),
    }[key]


def test_every_registered_activation_is_covered():
    assert set(ACTIVATIONS.names()) == {"gelu" if k == "gelu_tanh" else k for k in SPECS}


@pytest.mark.parametrize("key", SPECS)
def test_forward_matches_the_textbook_formula(key):
    z = np.linspace(-6, 6, 61).reshape(-1, 1) * np.array([[1.0, 0.5, -0.25]])
    np.testing.assert_allclose(bp.activations.get(SPECS[key]).forward(z.copy()),
                               TEXTBOOK[key](z), rtol=1e-12, atol=1e-15)


def test_hand_worked_values():
    # σ(0) = ½;  σ(ln 3) = 1/(1 + ⅓) = ¾;  tanh(ln 2) = (2 − ½)/(2 + ½) = 3/5
    sig, tanh = bp.activations.get("sigmoid"), bp.activations.get("tanh")
    assert sig(np.array([0.0, math.log(3)])).tolist() == pytest.approx([0.5, 0.75], rel=1e-15)
    assert tanh(np.array([math.log(2)]))[0] == pytest.approx(0.6, rel=1e-15)
    # relu(−2, 3) = (0, 3);  leaky_relu(−2) = −0.02;  softplus(0) = ln 2
    assert bp.activations.get("relu")(np.array([-2.0, 3.0])).tolist() == [0.0, 3.0]
    assert bp.activations.get("leaky_relu")(np.array([-2.0]))[0] == pytest.approx(-0.02)
    assert bp.activations.get("softplus")(np.array([0.0]))[0] == pytest.approx(math.log(2))
    # softmax(ln 1, ln 3) = (1/4, 3/4)
    out = bp.activations.get("softmax")(np.array([[0.0, math.log(3)]]))
    np.testing.assert_allclose(out, [[0.25, 0.75]], rtol=1e-15)


@pytest.mark.parametrize("key", SPECS)
def test_forward_and_derivative_match_torch(torch, key):
    act = bp.activations.get(SPECS[key])
    z = np.linspace(-15, 15, 241)[:, None] * np.array([[1.0, -0.5, 0.3]])
    tz = torch.tensor(z, requires_grad=True)
    t_out = torch_function(torch, key)(tz)
    np.testing.assert_allclose(act.forward(z.copy()), t_out.detach().numpy(),
                               rtol=1e-12, atol=1e-15)
    if key == "softmax":
        return  # its derivative() is the Jacobian's diagonal, checked below
    (t_slope,) = torch.autograd.grad(t_out.sum(), tz)
    # Slopes are O(1); in gelu's left tail both sides form a ~1e-8 slope by cancelling O(1)
    # terms, so agreement there is absolute (a few ulps of 1), not relative.
    np.testing.assert_allclose(act.derivative(z), t_slope.numpy(), rtol=1e-12, atol=1e-14)


EXTREMES = [-1e4, -1e3, -100.0, -20.0, -1.0, -1e-30, 0.0, 1e-30, 1.0, 20.0, 100.0, 1e3, 1e4]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("key", SPECS)
def test_no_warning_and_no_nan_up_to_1e4(key, dtype):
    act = bp.activations.get(SPECS[key])
    z = np.array([EXTREMES, EXTREMES[::-1]], dtype=dtype)
    # Every floating-point event raises, except underflow: e^(−1e4) rounding to 0 is the
    # correctly rounded result (NumPy ignores underflow by default for this reason).
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        a = act.forward(z.copy())
        slope = act.derivative(z.copy())
        dz = act.backward(np.ones_like(z), z.copy(), a.copy())
    for result in (a, slope, dz):
        assert result.dtype == dtype
        assert np.all(np.isfinite(result))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_limits_at_extreme_inputs(dtype):
    z = np.array([-1e4, 1e4], dtype=dtype)

    def get(spec):
        return bp.activations.get(spec)

    np.testing.assert_array_equal(get("sigmoid")(z), [0.0, 1.0])
    np.testing.assert_array_equal(get("tanh")(z), [-1.0, 1.0])
    np.testing.assert_array_equal(get("softplus")(z), [0.0, 1e4])
    np.testing.assert_array_equal(get("swish")(z), [0.0, 1e4])
    np.testing.assert_array_equal(get("gelu")(z), [0.0, 1e4])
    np.testing.assert_array_equal(get({"name": "gelu", "approximate": "tanh"})(z), [0.0, 1e4])
    np.testing.assert_allclose(get("elu")(z), [-1.0, 1e4])
    np.testing.assert_allclose(get("selu")(z), [-SELU_SCALE * SELU_ALPHA, SELU_SCALE * 1e4],
                               rtol=1e-6)
    np.testing.assert_array_equal(get("softmax")(z[None, :]), [[0.0, 1.0]])


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=8),
                  elements=st.floats(-1e4, 1e4)))
def test_softmax_rows_are_distributions(z):
    softmax = bp.activations.get("softmax")
    a = softmax(z)
    assert np.all((a >= 0) & (a <= 1))
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # Shifting a row by a constant changes nothing; the largest logit keeps the largest share.
    np.testing.assert_allclose(softmax(z - z[:, :1]), a, rtol=0, atol=1e-12)
    assert np.all(a[np.arange(len(z)), z.argmax(axis=1)] == a.max(axis=1))


@given(hnp.arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 6)),
                  elements=st.floats(-1e4, 1e4, width=32)))
def test_softmax_rows_sum_to_one_in_float32(z):
    a = bp.activations.get("softmax")(z)
    assert a.dtype == np.float32
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=0, atol=1e-6)


@pytest.mark.parametrize("key", ELEMENTWISE)
def test_derivative_matches_finite_differences(key):
    act = bp.activations.get(SPECS[key])
    z = np.linspace(-5, 5, 201)
    if key in KINKED:
        z = z[np.abs(z) > 1e-3]  # the slope at the kink is a convention, not a limit
    h = 1e-5
    numeric = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), numeric, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("key", ["relu", "leaky_relu"])
def test_slope_at_the_kink_is_that_of_the_left_side(key):
    # PyTorch's convention: relu'(0) = 0 and leaky_relu'(0) = α.
    assert bp.activations.get(key).derivative(np.array([0.0]))[0] == (
        0.0 if key == "relu" else 0.01)


def test_softmax_derivative_and_backward_use_its_jacobian(rng):
    softmax = bp.activations.get("softmax")
    z = rng.normal(size=(4, 3))
    a = softmax(z)
    h = 1e-6
    jac = np.empty((4, 3, 3))  # jac[n, i, j] = ∂aᵢ/∂zⱼ for row n
    for j in range(3):
        step = np.zeros_like(z)
        step[:, j] = h
        jac[:, :, j] = (softmax(z + step) - softmax(z - step)) / (2 * h)
    np.testing.assert_allclose(softmax.derivative(z), np.diagonal(jac, axis1=1, axis2=2),
                               rtol=1e-8)
    dy = rng.normal(size=(4, 3))
    np.testing.assert_allclose(softmax.backward(dy.copy(), z, a),
                               np.einsum("ni,nij->nj", dy, jac), rtol=1e-7, atol=1e-10)


# -- the registry contract ----------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIVATIONS.all_names())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_registry_contract(name, dtype, rng):
    act = bp.activations.get(name)
    assert isinstance(act, bp.activations.Activation)
    assert act.name == ACTIVATIONS.canonical(name)
    assert bp.activations.get(act) is act
    assert bp.activations.get(act.get_config()) == act
    assert bp.activations.get(name.upper()) == act  # names are case-insensitive
    z = rng.normal(size=(5, 4)).astype(dtype) * 3
    z_before = z.copy()
    a = act.forward(z)
    np.testing.assert_array_equal(z, z_before)  # without out=, the input is left alone
    assert a.shape == z.shape and a.dtype == dtype
    # Writing into z itself (what a hidden layer does) gives the same values.
    in_place = z.copy()
    np.testing.assert_array_equal(act.forward(in_place, out=in_place), a)
    dy = rng.normal(size=z.shape).astype(dtype)
    dz = act.backward(dy.copy(), z, a.copy())
    assert dz.shape == z.shape and dz.dtype == dtype
    if not act.needs_input:  # the output alone must be enough
        np.testing.assert_array_equal(act.backward(dy.copy(), None, a.copy()), dz)
    if not act.rowwise:
        np.testing.assert_allclose(dz, dy * act.derivative(z), rtol=1e-5 if dtype == np.float32
                                   else 1e-12)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'relu6'; choose one of: ") as info:
        bp.activations.get("relu6")
    for name in ACTIVATIONS.all_names():
        assert name in str(info.value)
    with pytest.raises(TypeError, match="activation must be a name"):
        bp.activations.get(3.0)


@pytest.mark.parametrize("make, match", [
    (lambda: bp.activations.get({"name": "leaky_relu", "alpha": -0.1}), "alpha"),
    (lambda: bp.activations.get({"name": "elu", "alpha": 0}), "alpha"),
    (lambda: bp.activations.get({"name": "gelu", "approximate": "fast"}), "approximate"),
])
def test_bad_activation_options(make, match):
    with pytest.raises(ValueError, match=match):
        make()
