"""Export: ONNX (run in onnxruntime) and PyTorch, both directions, against model.predict."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from activation_specs import ACTIVATION_SPECS
from activation_specs import spec_id as _spec_id

import backprop as bp
from backprop.activations import Activation
from backprop.io import export_torch, to_torch

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def X():
    # Wide enough to reach the saturated and negative branches of every activation.
    return np.random.default_rng(8).normal(scale=3.0, size=(64, 4))


def _model(activation, output="softmax", dtype="float32", n_out=3):
    model = bp.MLP([4, 7, 6, n_out], activation=activation, output_activation=output,
                   dropout=0.2, seed=12, dtype=dtype)
    # Larger weights than the initialiser's push pre-activations far into every branch.
    model.set_flat_weights(model.get_flat_weights() * 2 + 0.1)
    return model


def _run_onnx(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["Y"], {"X": X.astype(np.float32)})[0]


# -- ONNX ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATION_SPECS, ids=_spec_id)
def test_onnx_outputs_equal_predict(tmp_path, X, activation, dtype):
    model = _model(activation, dtype=dtype)
    path = bp.export_onnx(model, tmp_path / "m.onnx")
    out = _run_onnx(path, X)
    assert out.dtype == np.float32 and out.shape == (64, 3)
    np.testing.assert_allclose(out, model.predict(X), rtol=0, atol=1e-5)


@pytest.mark.parametrize("output", ["identity", "sigmoid", "softmax", "tanh", "softplus"])
def test_onnx_every_output_activation_and_any_batch_size(tmp_path, X, output):
    model = _model("relu", output=output, n_out=2)
    path = bp.export_onnx(model, tmp_path / "m.onnx")
    for rows in (slice(0, 1), slice(0, 37)):
        np.testing.assert_allclose(_run_onnx(path, X[rows]), model.predict(X[rows]),
                                   rtol=0, atol=1e-5)


def test_onnx_file_is_valid_and_describes_the_model(tmp_path):
    model = bp.Sequential([bp.Dense(4, 5, activation="gelu", use_bias=False),
                           bp.Dense(5, 2, activation="sigmoid")], seed=0)
    path = bp.export_onnx(model, tmp_path / "m.onnx")
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["backprop_version"] == bp.__version__
    assert '"class": "Sequential"' in props["model_config"].replace('":"', '": "')
    assert [i.name for i in proto.graph.input] == ["X"]
    assert [o.name for o in proto.graph.output] == ["Y"]
    assert {op.domain or "" for op in proto.opset_import} == {""}
    # No bias: one MatMul and no Add before the first activation.
    assert [n.op_type for n in proto.graph.node][:2] == ["MatMul", "Mul"]


@pytest.mark.parametrize("kind", ["standard", "minmax", "none"])
def test_onnx_can_carry_the_input_scaler(tmp_path, X, kind):
    from backprop.datasets import Scaler

    raw = X * [1.0, 10.0, 100.0, 0.1] + [0.0, 5.0, -50.0, 2.0]
    scaler = Scaler(kind).fit(raw)
    model = _model("tanh", output="sigmoid", n_out=2)
    path = bp.export_onnx(model, tmp_path / "m.onnx", scaler=scaler)
    np.testing.assert_allclose(_run_onnx(path, raw), model.predict(scaler.transform(raw)),
                               rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="fitted on 2 features but the model takes 4"):
        bp.export_onnx(model, tmp_path / "bad.onnx", scaler=Scaler().fit(raw[:, :2]))
    with pytest.raises(ValueError, match="not fitted"):
        bp.export_onnx(model, tmp_path / "bad.onnx", scaler=Scaler("standard"))


class Cube(Activation):
    """A user's own activation that no export format knows."""

    name = "cube"

    def forward(self, z, out=None):
        return np.power(z, 3, out=out)

    def backward(self, dy, z, a):
        return dy * 3 * np.cbrt(a) ** 2


def test_unknown_activation_cannot_be_exported(tmp_path):
    model = bp.Sequential([bp.Dense(2, 3, activation=Cube(), init="xavier_uniform"),
                           bp.Dense(3, 1)], seed=0)
    with pytest.raises(ValueError, match="'cube' cannot be exported to ONNX; supported: elu"):
        bp.export_onnx(model, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="'cube' cannot be exported to PyTorch"):
        to_torch(model)
    assert list(tmp_path.iterdir()) == []


# -- PyTorch -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATION_SPECS, ids=_spec_id)
def test_to_torch_outputs_equal_predict(torch, X, activation, dtype):
    model = _model(activation, dtype=dtype)
    module = to_torch(model)
    assert isinstance(module, torch.nn.Sequential) and not module.training
    assert module[0].weight.dtype == getattr(torch, dtype)
    with torch.no_grad():
        out = module(torch.from_numpy(X.astype(dtype))).numpy()
    tol = 2e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(out, model.predict(X), rtol=0, atol=tol)


@pytest.mark.parametrize("activation", ACTIVATION_SPECS, ids=_spec_id)
def test_torch_round_trip_keeps_weights_and_architecture(torch, X, activation):
    model = _model(activation, dtype="float64")
    back = bp.from_torch(bp.to_torch(model))
    assert [layer.get_config() for layer in back.layers] == \
        [layer.get_config() for layer in model.layers]
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back.get_flat_weights(), model.get_flat_weights())
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_from_torch_imports_a_pytorch_network(torch, X):
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.05), nn.Dropout(0.3),
                        nn.Linear(8, 8, bias=False), nn.ELU(alpha=0.7),
                        nn.Linear(8, 6), nn.GELU(approximate="tanh"),
                        nn.Linear(6, 5), nn.Linear(5, 5), nn.SiLU(), nn.Linear(5, 3),
                        nn.Identity(), nn.Softmax(dim=-1)).eval()
    model = bp.from_torch(net)
    assert model.dtype == np.float32
    assert [type(layer).__name__ for layer in model.layers] == \
        ["Dense", "Dropout", "Dense", "Dense", "Dense", "Dense", "Dense"]
    assert [d.activation.name for d in model.dense_layers] == \
        ["leaky_relu", "elu", "gelu", "identity", "swish", "softmax"]
    assert model.dense_layers[0].activation.alpha == pytest.approx(0.05)
    assert model.dense_layers[1].b is None
    with torch.no_grad():
        expected = net(torch.from_numpy(X.astype(np.float32))).numpy()
    np.testing.assert_allclose(model.predict(X), expected, rtol=0, atol=2e-6)
    as64 = bp.from_torch(net, dtype="float64")
    np.testing.assert_allclose(as64.predict(X), expected, rtol=0, atol=2e-6)


@pytest.mark.parametrize("build, error, match", [
    (lambda nn: nn.Sequential(nn.Linear(2, 2), nn.Hardtanh()), ValueError,
     "Hardtanh.*not supported; supported modules: Linear"),
    (lambda nn: nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), ValueError,
     "does not follow a Linear"),
    (lambda nn: nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Tanh()), ValueError,
     "does not follow a Linear"),
    (lambda nn: nn.Sequential(nn.Linear(2, 2), nn.Softplus(beta=2)), ValueError, "beta=1"),
    (lambda nn: nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=0)), ValueError, "dim=-1"),
    (lambda nn: nn.Sequential(nn.Linear(2, 2).half()), ValueError, "torch.float16|float16"),
    (lambda nn: nn.Sequential(nn.Dropout(0.1)), ValueError, "no Linear"),
    (lambda nn: nn.Linear(2, 2), TypeError, "torch.nn.Sequential"),
])
def test_from_torch_refuses_what_it_cannot_express(torch, build, error, match):
    with pytest.raises(error, match=match):
        bp.from_torch(build(torch.nn))


def test_export_torch_writes_torchscript_that_loads_without_backprop(torch, tmp_path, X):
    model = _model({"name": "gelu", "approximate": "tanh"}, output="sigmoid", n_out=2,
                   dtype="float64")
    path = export_torch(model, tmp_path / "m.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = torch.jit.load(str(path))
    with torch.no_grad():
        out = loaded(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, model.predict(X), rtol=0, atol=1e-12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]
