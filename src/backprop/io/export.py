"""Export to ONNX and PyTorch, and import from PyTorch.

Every activation of the library has an exact ONNX and PyTorch counterpart:

==============  ================================  ============================
backprop        ONNX (opset 17)                   PyTorch
==============  ================================  ============================
identity        (nothing)                         ``nn.Identity``
sigmoid         ``Sigmoid``                       ``nn.Sigmoid``
tanh            ``Tanh``                          ``nn.Tanh``
relu            ``Relu``                          ``nn.ReLU``
leaky_relu      ``LeakyRelu(alpha)``              ``nn.LeakyReLU(alpha)``
elu             ``Elu(alpha)``                    ``nn.ELU(alpha)``
selu            ``Selu``                          ``nn.SELU``
softplus        ``Softplus``                      ``nn.Softplus``
swish           ``x · Sigmoid(x)``                ``nn.SiLU``
gelu            ``½x(1 + Erf(x/√2))`` or the      ``nn.GELU(approximate)``
                tanh formula with ``Tanh``
softmax         ``Softmax(axis=-1)``              ``nn.Softmax(dim=-1)``
==============  ================================  ============================

Only an activation registered by a user (outside this table) cannot be exported; that
raises a ``ValueError`` naming it. Dropout is the identity at inference and is left out of
the ONNX graph. ONNX graphs are float32 (onnxruntime has no float64 kernels for Elu, Selu,
Softplus or Erf); PyTorch modules keep the model's dtype.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..layers import Dense, Dropout
from .export_preprocessing import (
    ML_DOMAIN,
    ML_OPSET,
    onnx_inputs,  # noqa: F401  (public through backprop.io)
    onnx_inputs_doc,
    onnx_preprocessing,
    onnx_target,
    tabular,
    torch_pipeline,
)
from .format import atomic_write

ONNX_OPSET = 17


def _import(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"this needs {module.split('.')[0]}: pip install {extra}") from exc


def _check_model(model: Any) -> None:
    from ..network import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a backprop Sequential or MLP; got "
                        f"{type(model).__name__}")


# -- ONNX ----------------------------------------------------------------------------------
class _Graph:
    """Accumulates ONNX nodes and float32 initialisers with unique names."""

    def __init__(self, helper: Any, numpy_helper: Any) -> None:
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0
        #: names chosen elsewhere (graph inputs named after table columns)
        self.taken: set[str] = set()

    def name(self, stem: str) -> str:
        self._count += 1
        while f"{stem}_{self._count}" in self.taken:
            self._count += 1
        return f"{stem}_{self._count}"

    def const(self, value: Any, stem: str = "c") -> str:
        name = self.name(stem)
        array = np.asarray(value, dtype=np.float32)
        self.initializers.append(self.numpy_helper.from_array(array, name=name))
        return name

    def op(self, op_type: str, inputs: list[str], stem: str, **attrs: Any) -> str:
        out = self.name(stem)
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], **attrs))
        return out


def _onnx_gelu(g: _Graph, x: str, act: Any) -> str:
    if act.approximate == "tanh":
        # ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
        x3 = g.op("Mul", [x, g.op("Mul", [x, x], "sq")], "cube")
        inner = g.op("Add", [x, g.op("Mul", [x3, g.const(0.044715)], "scaled")], "inner")
        t = g.op("Tanh", [g.op("Mul", [inner, g.const(math.sqrt(2.0 / math.pi))], "arg")], "t")
    else:
        # ½x(1 + erf(x/√2))
        t = g.op("Erf", [g.op("Mul", [x, g.const(1.0 / math.sqrt(2.0))], "arg")], "erf")
    half_x = g.op("Mul", [x, g.const(0.5)], "half")
    return g.op("Mul", [half_x, g.op("Add", [t, g.const(1.0)], "one_plus")], "gelu")


_ONNX_ACTIVATIONS = {
    "identity": lambda g, x, a: x,
    "sigmoid": lambda g, x, a: g.op("Sigmoid", [x], "sigmoid"),
    "tanh": lambda g, x, a: g.op("Tanh", [x], "tanh"),
    "relu": lambda g, x, a: g.op("Relu", [x], "relu"),
    "leaky_relu": lambda g, x, a: g.op("LeakyRelu", [x], "leaky_relu", alpha=a.alpha),
    "elu": lambda g, x, a: g.op("Elu", [x], "elu", alpha=a.alpha),
    "selu": lambda g, x, a: g.op("Selu", [x], "selu", alpha=a.alpha, gamma=a.scale),
    "softplus": lambda g, x, a: g.op("Softplus", [x], "softplus"),
    "swish": lambda g, x, a: g.op("Mul", [x, g.op("Sigmoid", [x], "sigmoid")], "swish"),
    "gelu": _onnx_gelu,
    "softmax": lambda g, x, a: g.op("Softmax", [x], "softmax", axis=-1),
}


def _unsupported(activation: Any, target: str, supported: Any) -> ValueError:
    return ValueError(f"activation {activation.name!r} cannot be exported to {target}; "
                      f"supported: {', '.join(sorted(supported))}")


def _onnx_scaling(g: _Graph, x: str, scaler: Any, n_features: int) -> str:
    """Prepend the scaler's (x − offset)/scale so the graph takes raw features."""
    config = scaler if isinstance(scaler, dict) else scaler.get_config()
    if config.get("kind") == "none":
        return x
    offset = config.get("mean", config.get("min"))
    scale = config.get("scale", config.get("range"))
    if offset is None or scale is None:
        raise ValueError("the scaler is not fitted; fit it before exporting it")
    if len(offset) != n_features:
        raise ValueError(f"the scaler was fitted on {len(offset)} features but the model takes "
                         f"{n_features}")
    shifted = g.op("Sub", [x, g.const(offset, "scaler.offset")], "shifted")
    return g.op("Div", [shifted, g.const(scale, "scaler.scale")], "scaled")


def onnx_model(model: Any, scaler: Any = None) -> Any:
    """The model as an ``onnx.ModelProto``: input ``X`` (n, d) float32 (or the preprocessor's
    inputs, see :mod:`.export_preprocessing`), output ``Y``."""
    _check_model(model)
    onnx = _import("onnx", "'backprop[onnx]'")
    from onnx import TensorProto, helper, numpy_helper

    g = _Graph(helper, numpy_helper)
    pre = tabular(model) if scaler is None else None
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", model.n_features])]
    if pre is not None:
        x, inputs = onnx_preprocessing(g, pre)
    else:
        x = "X" if scaler is None else _onnx_scaling(g, "X", scaler, model.n_features)
    for k, layer in enumerate(model.dense_layers, start=1):
        act = layer.activation
        build = _ONNX_ACTIVATIONS.get(act.name)
        if build is None:
            raise _unsupported(act, "ONNX", _ONNX_ACTIVATIONS)
        x = g.op("MatMul", [x, g.const(layer.W.value, f"dense_{k}.W")], f"dense_{k}.xW")
        if layer.b is not None:
            x = g.op("Add", [x, g.const(layer.b.value, f"dense_{k}.b")], f"dense_{k}.z")
        x = build(g, x, act)
    if pre is not None:
        x = onnx_target(g, x, pre)
    g.nodes.append(helper.make_node("Identity", [x], ["Y"]))
    graph = helper.make_graph(
        g.nodes, "backprop_mlp", inputs,
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["batch", model.n_outputs])],
        initializer=g.initializers,
    )
    opsets = [helper.make_opsetid("", ONNX_OPSET)]
    if pre is not None:
        opsets.append(helper.make_opsetid(ML_DOMAIN, ML_OPSET))
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="backprop",
                              ir_version=helper.find_min_ir_version_for(opsets))
    from .. import __version__
    from .format import dump_json

    props = {"backprop_version": __version__,
             "model_config": dump_json(model.get_config(), "config")}
    if pre is not None:
        props["inputs"] = onnx_inputs_doc(pre)
    helper.set_model_props(proto, props)
    onnx.checker.check_model(proto)
    return proto


def export_onnx(model: Any, path: str | os.PathLike, *, scaler: Any = None) -> Path:
    """Write ``model`` as an ONNX file (float32) that onnxruntime runs.

    The graph returns ``Y`` of shape (batch, n_outputs), equal to ``model.predict`` on the
    same rows within 1e-5 (relative). It takes ``X`` of shape (batch, n_features), or, for a
    model carrying a ``datasets.Preprocessor``, the raw columns: ``X`` with the numeric and
    boolean ones and one string input per categorical column, imputed, scaled and one-hot
    encoded inside the graph (``ai.onnx.ml`` operators), with target scaling undone at the
    end. :func:`onnx_inputs` builds that feed from a DataFrame. Written atomically.

    Parameters
    ----------
    model : Sequential or MLP
    path : str or Path
    scaler : backprop.datasets.Scaler, optional
        For a model without a preprocessor: build this input scaling into the graph, which
        then takes unscaled features, ``Y = model.predict(scaler.transform(X))``.

    Examples
    --------
    >>> import backprop as bp, tempfile, os
    >>> model = bp.MLP([2, 3, 1], activation="gelu", output_activation="sigmoid", seed=0)
    >>> path = bp.export_onnx(model, os.path.join(tempfile.mkdtemp(), "m.onnx"))
    """
    return atomic_write(path, onnx_model(model, scaler).SerializeToString())


# -- PyTorch -------------------------------------------------------------------------------
def _torch() -> Any:
    return _import("torch", "torch")


def _torch_activation(nn: Any, act: Any, dtype: str) -> Any:
    table = {
        "identity": lambda: nn.Identity(),
        "sigmoid": lambda: nn.Sigmoid(),
        "tanh": lambda: nn.Tanh(),
        "relu": lambda: nn.ReLU(),
        "leaky_relu": lambda: nn.LeakyReLU(act.alpha),
        "elu": lambda: nn.ELU(act.alpha),
        "selu": lambda: nn.SELU(),
        # Beyond the threshold torch returns z itself, off by log1p(e⁻ᶻ): below float32's
        # resolution at 20, below float64's at 40 (and e⁴⁰ is still far from overflow).
        "softplus": lambda: nn.Softplus(threshold=20.0 if dtype == "float32" else 40.0),
        "swish": lambda: nn.SiLU(),
        "gelu": lambda: nn.GELU(approximate=act.approximate),
        "softmax": lambda: nn.Softmax(dim=-1),
    }
    if act.name not in table:
        raise _unsupported(act, "PyTorch", table)
    return table[act.name]()


def to_torch(model: Any, preprocessing: bool = True) -> Any:
    """An equivalent torch module in eval mode, in the model's dtype.

    Each Dense becomes ``nn.Linear`` (weight = Wᵀ, shape (n_out, n_in)) followed by its
    activation module (none for identity); Dropout becomes ``nn.Dropout``.

    Parameters
    ----------
    model : Sequential
    preprocessing : bool, default True
        For a model carrying a ``datasets.Preprocessor`` (trained from a table): return the
        network wrapped with it, so the module takes the raw columns and returns what
        ``model.predict`` does (``forward(X)``, or ``forward(X, categories)`` with
        categorical columns; see :func:`export_torch`). ``False`` returns the network alone,
        a ``torch.nn.Sequential`` that takes already-preprocessed inputs, as
        :func:`from_torch` reads back. A model without a preprocessor always gives the
        ``nn.Sequential``.
    """
    _check_model(model)
    network = _torch_network(model)
    return torch_pipeline(model, network) if preprocessing else network


def _torch_network(model: Any) -> Any:
    """The layers alone as a ``torch.nn.Sequential`` in eval mode."""
    torch = _torch()
    nn = torch.nn
    dtype = getattr(torch, model.dtype.name)
    modules = []
    for layer in model.layers:
        if isinstance(layer, Dropout):
            modules.append(nn.Dropout(layer.rate))
            continue
        linear = nn.Linear(layer.n_in, layer.n_out, bias=layer.b is not None, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.value.T)))
            if layer.b is not None:
                linear.bias.copy_(torch.from_numpy(layer.b.value))
        modules.append(linear)
        if layer.activation.name != "identity":
            modules.append(_torch_activation(nn, layer.activation, model.dtype.name))
    return nn.Sequential(*modules).eval()


def _activation_from_torch(nn: Any, module: Any, position: int) -> Any:
    kind = type(module)
    simple = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu",
              nn.SELU: "selu", nn.SiLU: "swish"}
    if kind in simple:
        return simple[kind]
    if kind is nn.LeakyReLU:
        return {"name": "leaky_relu", "alpha": float(module.negative_slope)}
    if kind is nn.ELU:
        return {"name": "elu", "alpha": float(module.alpha)}
    if kind is nn.GELU:
        return {"name": "gelu", "approximate": module.approximate}
    if kind is nn.Softplus:
        if module.beta != 1 or module.threshold < 20:
            raise ValueError(f"module {position} is Softplus(beta={module.beta}, threshold="
                             f"{module.threshold}); only beta=1 with threshold >= 20 matches "
                             "backprop's softplus")
        return "softplus"
    if kind is nn.Softmax:
        if module.dim not in (-1, 1):
            raise ValueError(f"module {position} is Softmax(dim={module.dim}); only dim=-1 "
                             "(over the features) is supported")
        return "softmax"
    return None


_SUPPORTED_TORCH = ("Linear, Dropout, Identity, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, SELU, "
                    "Softplus, SiLU, GELU, Softmax")


def from_torch(sequential: Any, dtype: Any = None) -> Any:
    """Import a ``torch.nn.Sequential`` of Linear layers and supported activations.

    Parameters
    ----------
    sequential : torch.nn.Sequential
        Linear layers, each optionally followed by one activation module, and Dropout.
    dtype : {"float32", "float64"}, optional
        Defaults to the dtype of the first Linear layer's weight.

    Returns
    -------
    Sequential
        With the same weights (W = weightᵀ) and outputs.
    """
    torch = _torch()
    nn = torch.nn
    from ..network import Sequential

    if not isinstance(sequential, nn.Sequential):
        hint = ("; for a module from to_torch of a model with preprocessing, pass "
                "to_torch(model, preprocessing=False)"
                if hasattr(sequential, "network") or hasattr(sequential, "inner") else "")
        raise TypeError(f"from_torch expects a torch.nn.Sequential; got "
                        f"{type(sequential).__name__}{hint}")
    layers: list[Any] = []
    linears: list[Any] = []
    pending = None  # the Linear waiting for its activation

    def flush(activation: Any = "identity") -> None:
        nonlocal pending
        layers.append(Dense(pending.in_features, pending.out_features, activation=activation,
                            use_bias=pending.bias is not None))
        linears.append(pending)
        pending = None

    for i, module in enumerate(sequential):
        if type(module) is nn.Linear:
            if pending is not None:
                flush()
            pending = module
        elif type(module) is nn.Dropout:
            if pending is not None:
                flush()
            layers.append(Dropout(float(module.p)))
        elif type(module) is nn.Identity:
            continue  # a no-op wherever it stands
        else:
            activation = _activation_from_torch(nn, module, i)
            if activation is None:
                raise ValueError(f"module {i} ({type(module).__name__}) is not supported; "
                                 f"supported modules: {_SUPPORTED_TORCH}")
            if pending is None:
                raise ValueError(f"module {i} ({type(module).__name__}) does not follow a "
                                 "Linear layer; each activation must come right after one")
            flush(activation)
    if pending is not None:
        flush()
    if not linears:
        raise ValueError("the Sequential holds no Linear layer")
    if dtype is None:
        dtype = str(linears[0].weight.dtype).removeprefix("torch.")
        if dtype not in ("float32", "float64"):
            raise ValueError(f"the Linear weights are {dtype}; pass dtype='float32' or "
                             "'float64' to convert them")
    model = Sequential(layers, dtype=dtype)
    for dense, linear in zip(model.dense_layers, linears):
        dense.W.value[...] = linear.weight.detach().cpu().double().numpy().T
        if linear.bias is not None:
            dense.b.value[...] = linear.bias.detach().cpu().double().numpy()
    return model


def export_torch(model: Any, path: str | os.PathLike) -> Path:
    """Write ``to_torch(model)`` as a TorchScript file, loadable with ``torch.jit.load`` (also
    from C++ through libtorch) without backprop installed. Written atomically.

    A model carrying a ``datasets.Preprocessor`` is written with it: the module's
    ``forward(X)`` takes the numeric and boolean columns (NaN where missing), and with
    categorical columns ``forward(X, categories)`` takes their values too (one list of str
    per column), as :func:`.export_preprocessing.torch_pipeline` describes."""
    torch = _torch()
    module = to_torch(model)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # TorchScript is deprecated in favour of torch.export but remains the format that
        # loads without Python; the warning is not the caller's to act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module), buffer)
    return atomic_write(path, buffer.getvalue())
