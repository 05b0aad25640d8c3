"""The model's preprocessor inside exported graphs: ONNX nodes and TorchScript modules.

ONNX, for a :class:`backprop.datasets.Preprocessor`:

- input ``X`` (batch, n_numeric) float32: the numeric and boolean (1/0) columns in table
  order, NaN where missing → ``ai.onnx.ml.Imputer`` (the training fill values; only when the
  model was trained with imputation) → ``ai.onnx.ml.Scaler`` (the offsets and 1/scales);
- one string input (batch, 1) per categorical column, named after the column (the empty
  string is a missing value) → ``ai.onnx.ml.OneHotEncoder`` (``zeros=1``: an unseen category
  gives a row of zeros, as ``predict`` does) → ``Flatten``; with imputation a MatMul then adds
  the empty string's column to the fill category's;
- ``Concat`` of the blocks → the network → ``Y·scale + offset`` for target scaling.

:func:`onnx_inputs` builds that input dict from a DataFrame or array, as ``predict`` reads
it. A model whose preprocessor only names its columns (``ColumnNames``) keeps the single
input ``X``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 3


def tabular(model: Any) -> Any:
    """The model's preprocessor when it encodes or scales (not only names columns)."""
    pre = getattr(model, "preprocessor", None)
    return pre if getattr(pre, "kind", None) == "tabular" else None


# -- ONNX ------------------------------------------------------------------------------------
def onnx_inputs_spec(pre: Any) -> list[tuple[str, str, list[str]]]:
    """``(input name, "float" | "string", columns)`` for each graph input, in order."""
    spec = []
    if pre.numeric_columns:
        spec.append(("X", "float", pre.numeric_columns))
    spec += [(name, "string", [name]) for name in pre.categorical_columns]
    return spec


def onnx_preprocessing(g: Any, pre: Any) -> tuple[str, list[Any]]:
    """Nodes from the raw inputs to the network's input; returns (its name, value infos)."""
    from onnx import TensorProto, helper

    blocks, inputs = [], []
    for name, kind, _ in onnx_inputs_spec(pre):
        g.taken.add(name)
        if kind == "float":
            inputs.append(helper.make_tensor_value_info(
                name, TensorProto.FLOAT, ["batch", len(pre.numeric_columns)]))
            x = name
            if pre.fill_ is not None:
                x = g.op("Imputer", [x], "imputed", domain=ML_DOMAIN,
                         imputed_value_floats=[float(v) for v in pre.fill_],
                         replaced_value_float=float("nan"))
            blocks.append(g.op("Scaler", [x], "scaled", domain=ML_DOMAIN,
                               offset=[float(v) for v in pre.offset_],
                               scale=[float(1.0 / v) for v in pre.scale_]))
        else:
            inputs.append(helper.make_tensor_value_info(name, TensorProto.STRING, ["batch", 1]))
            blocks.append(_onnx_one_hot(g, name, pre.categories[name],
                                        pre.category_fill[name]))
    x = blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, "inputs", axis=1)
    return x, inputs


def _onnx_one_hot(g: Any, name: str, categories: list[str], fill: str | None) -> str:
    cats = list(categories) + ([""] if fill is not None else [])
    encoded = g.op("OneHotEncoder", [name], "one_hot", domain=ML_DOMAIN, cats_strings=cats,
                   zeros=1)
    flat = g.op("Flatten", [encoded], "one_hot_flat", axis=1)
    if fill is None:
        return flat
    # The missing value ("") counts as the fill category: [I; e_fill] maps C+1 columns to C.
    mapping = np.vstack([np.eye(len(categories)), np.eye(len(categories))[categories.index(fill)]])
    return g.op("MatMul", [flat, g.const(mapping, f"{name}.fill")], "one_hot_filled")


def onnx_target(g: Any, y: str, pre: Any) -> str:
    """Network outputs → the target's units (target scaling), or unchanged."""
    if not pre.target_scaling:
        return y
    scaled = g.op("Mul", [y, g.const(pre.target_scale_, "target.scale")], "target_scaled")
    return g.op("Add", [scaled, g.const(pre.target_offset_, "target.offset")], "target")


def onnx_inputs_doc(pre: Any) -> str:
    """JSON for the ONNX model's metadata: which columns each input takes."""
    return json.dumps({name: columns for name, _, columns in onnx_inputs_spec(pre)})


def onnx_inputs(model: Any, X: Any) -> dict[str, np.ndarray]:
    """The onnxruntime feed for raw rows ``X`` (a DataFrame, columns by name, or an array in
    the training column order), for a model exported with its preprocessor.

    Returns
    -------
    dict of str → ndarray
        ``"X"``: float32 (n, n_numeric), booleans as 1/0 and NaN where missing; each
        categorical column: str (n, 1), the empty string where missing.
    """
    pre = tabular(model)
    if pre is None:
        X = model.preprocessor.transform(X) if model.preprocessor is not None else X
        return {"X": np.asarray(X, dtype=np.float32)}
    numeric, text = pre.raw_columns(X)
    feed = {"X": numeric.astype(np.float32)} if pre.numeric_columns else {}
    feed.update({name: values.reshape(-1, 1) for name, values in text.items()})
    return feed


# -- TorchScript -----------------------------------------------------------------------------
def torch_pipeline(model: Any, network: Any) -> Any:
    """``network`` (a torch module for the layers) wrapped with the model's preprocessing:
    ``forward(X)`` for numeric tables, ``forward(X, categories)`` when there are categorical
    columns (``categories[j]``: the j-th categorical column's values, one str per row, ""
    where missing). ``X`` holds the numeric and boolean columns, NaN where missing."""
    pre = tabular(model)
    if pre is None:
        return network
    from .torch_modules import NumericPipeline, OneHot, TabularPipeline

    k = len(pre.numeric_columns)
    n_targets = 0 if pre.target_offset_ is None else pre.target_offset_.size

    def vector(values: Any, fallback: float, size: int) -> np.ndarray:
        return np.full(size, fallback) if values is None else np.asarray(values, np.float64)

    buffers = {
        "fill": vector(pre.fill_, float("nan"), k), "offset": vector(pre.offset_, 0.0, k),
        "scale": vector(pre.scale_, 1.0, k),
        "target_offset": vector(pre.target_offset_, 0.0, n_targets),
        "target_scale": vector(pre.target_scale_, 1.0, n_targets),
    }
    encoders = [OneHot(pre.categories[name], pre.category_fill[name])
                for name in pre.categorical_columns]
    pipeline = TabularPipeline(network, buffers, encoders, k > 0, pre.target_scaling,
                               model.dtype.name)
    return (pipeline if encoders else NumericPipeline(pipeline)).eval()
