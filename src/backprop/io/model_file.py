"""A model as safetensors tensors and metadata, and back, trusting nothing on the way in.

Tensors are named after ``model.parameters()``: ``dense_1.W`` (n_in, n_out), ``dense_1.b``
(n_out,), ... in the model's dtype; the preprocessor's numbers are float64 tensors
``preprocessor.<key>`` (``offset``, ``scale``, ``fill``, ``target_offset``,
``target_scale``). The metadata (str → str, JSON inside) holds

=====================  ========================================================
``format``             ``"backprop"``
``format_version``     ``"2"`` (a file from a newer version is refused, by name)
``kind``               ``"model"`` or ``"checkpoint"``
``backprop_version``   library version that wrote the file
``model_config``       ``model.get_config()``
``training_config``    JSON object or ``null``
``classes``            JSON list of labels or ``null``
``preprocessor``       ``model.preprocessor.get_config()`` or ``null``
``loss``               the training loss's ``get_config()`` or ``null`` (``evaluate``
                       uses it)
``checkpoint``         (checkpoints only) epoch, optimiser, random state, best value
=====================  ========================================================

Version 1 files had a ``scaler`` entry (``Scaler.get_config()``) instead of the
preprocessor; they load with that scaler as the model's preprocessor. Version 2 exists so
that an older backprop refuses a model whose preprocessing it would silently skip.

On load the architecture config is checked against the tensors (names, shapes, dtype)
*before* anything is built, so a config declaring a billion units never allocates them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .format import DTYPE_CODES, ModelFileError, dump_json, parse_json

FORMAT = "backprop"
FORMAT_VERSION = 2
#: a sanity bound on layers (far above any real MLP) so a config cannot make us build millions
MAX_LAYERS = 10_000
OPTIMIZER_PREFIX = "optimizer."
CALLBACK_PREFIX = "callback."
PREPROCESSOR_PREFIX = "preprocessor."


def library_version() -> str:
    from .. import __version__

    return __version__


# -- writing -------------------------------------------------------------------------------
def model_tensors(model: Any) -> dict[str, np.ndarray]:
    """Copies of every parameter, named ``dense_<k>.W`` / ``dense_<k>.b``."""
    tensors = {p.name: np.array(p.value, copy=True) for p in model.parameters()}
    for name, value in tensors.items():
        if not np.all(np.isfinite(value)):
            raise ValueError(f"cannot save a model whose parameter {name} holds NaN or inf "
                             "(did training diverge?)")
    return tensors


def preprocessor_of(model: Any, scaler: Any = None) -> Any:
    """The preprocessor to store: the model's own, or one made from a ``scaler`` given to
    ``save`` (so that ``predict`` applies it after ``load``)."""
    pre = getattr(model, "preprocessor", None)
    if scaler is None:
        return pre
    if pre is not None:
        raise ValueError("the model already carries a preprocessor (model.preprocessor); "
                         "do not pass scaler= as well")
    if not (isinstance(scaler, dict) or callable(getattr(scaler, "get_config", None))):
        raise TypeError(f"scaler must be a backprop.datasets.Scaler (or its get_config() "
                        f"dict); got {type(scaler).__name__}")
    from ..datasets import Preprocessor

    try:
        pre = Preprocessor.from_scaler(scaler)
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"the scaler config cannot be restored: {exc}") from None
    if pre.n_features_out != model.n_features:
        raise ValueError(f"the scaler was fitted on {pre.n_features_out} features but the model "
                         f"takes {model.n_features}")
    return pre


def preprocessor_tensors(pre: Any) -> dict[str, np.ndarray]:
    """The preprocessor's arrays as float64 tensors named ``preprocessor.<key>``."""
    if pre is None:
        return {}
    return {PREPROCESSOR_PREFIX + key: np.ascontiguousarray(value, dtype=np.float64)
            for key, value in pre.get_arrays().items()}


def _classes_list(classes: Any) -> list[Any] | None:
    if classes is None:
        return None
    if isinstance(classes, (str, bytes, dict)) or not hasattr(classes, "__iter__"):
        raise TypeError(f"classes must be a list of labels; got {type(classes).__name__}")
    # tolist() turns NumPy scalars (sklearn's classes_) into plain Python values
    values = classes.tolist() if isinstance(classes, np.ndarray) else [
        c.item() if isinstance(c, np.generic) else c for c in classes]
    for c in values:
        if not isinstance(c, (str, int, float, bool)) or (
                isinstance(c, float) and not np.isfinite(c)):
            raise TypeError(f"class labels must be strings, integers, finite floats or bools; "
                            f"got {c!r}")
    return values


def model_metadata(model: Any, *, kind: str = "model", preprocessor: Any = None,
                   classes: Any = None, training_config: Any = None) -> dict[str, str]:
    """The metadata strings of a model file (the caller adds the checkpoint entry)."""
    if training_config is not None and not isinstance(training_config, dict):
        raise TypeError(f"training_config must be a dict; got {type(training_config).__name__}")
    return {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": kind,
        "backprop_version": library_version(),
        "model_config": dump_json(model.get_config(), "the model config"),
        "training_config": dump_json(training_config, "training_config"),
        "classes": dump_json(_classes_list(classes), "classes"),
        "preprocessor": dump_json(None if preprocessor is None else preprocessor.get_config(),
                                  "the preprocessor config"),
        "loss": dump_json(_loss_config(getattr(model, "loss", None)), "the loss config"),
    }


def _loss_config(loss: Any) -> dict[str, Any] | None:
    return None if loss is None else loss.get_config()


# -- reading -------------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _dense_specs(config: dict[str, Any], path: Any) -> list[tuple[int, int, bool]]:
    """(n_in, n_out, use_bias) per Dense layer, read from the config without building."""
    kind = config.get("class", "Sequential")
    if kind == "MLP":
        sizes = config.get("layer_sizes")
        if (not isinstance(sizes, list) or not 2 <= len(sizes) <= MAX_LAYERS + 1
                or not all(_is_int(s) and s >= 1 for s in sizes)):
            raise ModelFileError(path, f"MLP layer_sizes must be a list of 2 to {MAX_LAYERS + 1}"
                                       f" positive integers; got {sizes!r:.200}")
        return [(a, b, True) for a, b in zip(sizes, sizes[1:])]
    if kind != "Sequential":
        raise ModelFileError(path, f"unknown model class {kind!r:.100}; expected MLP or "
                                   "Sequential")
    layers = config.get("layers")
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise ModelFileError(path, f"Sequential config needs a list of 1 to {MAX_LAYERS} layers;"
                                   f" got {layers!r:.200}")
    specs = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise ModelFileError(path, f"layer {i} config must be an object; got {layer!r:.100}")
        if layer.get("class") != "Dense":
            continue
        n_in, n_out, bias = layer.get("n_in"), layer.get("n_out"), layer.get("use_bias", True)
        if not (_is_int(n_in) and _is_int(n_out) and n_in >= 1 and n_out >= 1
                and isinstance(bias, bool)):
            raise ModelFileError(path, f"Dense layer {i} needs positive integer n_in, n_out and "
                                       f"a boolean use_bias; got {layer!r:.200}")
        specs.append((n_in, n_out, bias))
    return specs


def expected_shapes(config: dict[str, Any], path: Any) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for k, (n_in, n_out, bias) in enumerate(_dense_specs(config, path), start=1):
        shapes[f"dense_{k}.W"] = (n_in, n_out)
        if bias:
            shapes[f"dense_{k}.b"] = (n_out,)
    return shapes


def _json_entry(meta: dict[str, str], key: str, path: Any, types: tuple[type, ...]) -> Any:
    if key not in meta:
        raise ModelFileError(path, f"the metadata has no {key!r} entry")
    value = parse_json(meta[key], f"metadata {key!r}", path)
    if not isinstance(value, types):
        names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
        raise ModelFileError(path, f"metadata {key!r} must be {names}; got "
                                   f"{type(value).__name__}")
    return value


def check_format(meta: dict[str, str], path: Any) -> str:
    """Check the format markers; returns the file kind ("model" or "checkpoint")."""
    if meta.get("format") != FORMAT:
        raise ModelFileError(path, "not a backprop model file (its metadata has no "
                                   f"'format': {FORMAT!r}); it may be a plain safetensors file")
    version = meta.get("format_version", "")
    if not (version.isascii() and version.isdigit() and len(version) <= 6):
        raise ModelFileError(path, f"format_version {version!r:.40} is not a number")
    if not 1 <= int(version) <= FORMAT_VERSION:
        raise ModelFileError(path, f"format version {int(version)} is not supported; this "
                                   f"backprop ({library_version()}) reads versions 1.."
                                   f"{FORMAT_VERSION}. Upgrade backprop to read it.")
    kind = meta.get("kind")
    if kind not in ("model", "checkpoint"):
        raise ModelFileError(path, f"metadata 'kind' must be 'model' or 'checkpoint'; got "
                                   f"{kind!r:.40}")
    return kind


def decode_model(tensors: dict[str, np.ndarray], meta: dict[str, str], path: Any,
                 kind: str) -> Any:
    """Build the model a validated file describes and set its weights."""
    from ..network import Sequential

    config = _json_entry(meta, "model_config", path, (dict,))
    dtype_name = config.get("dtype", "float32")
    if dtype_name not in ("float32", "float64"):
        raise ModelFileError(path, f"model dtype {dtype_name!r:.40} is not float32 or float64")
    dtype = np.dtype(dtype_name)
    shapes = expected_shapes(config, path)
    params = {n: t for n, t in tensors.items()
              if not n.startswith((OPTIMIZER_PREFIX, CALLBACK_PREFIX, PREPROCESSOR_PREFIX))}
    extra = sorted(n for n in tensors if n.startswith((OPTIMIZER_PREFIX, CALLBACK_PREFIX))
                   ) if kind == "model" else []
    missing, unexpected = sorted(set(shapes) - set(params)), sorted(set(params) - set(shapes))
    if missing or unexpected or extra:
        raise ModelFileError(path, "the tensors do not match the architecture config: "
                                   f"missing {missing[:5]}, unexpected {(unexpected + extra)[:5]}")
    for name, shape in shapes.items():
        tensor = params[name]
        if tensor.shape != shape:
            raise ModelFileError(path, f"tensor {name!r} has shape {tensor.shape} but the config "
                                       f"says {shape}")
        if tensor.dtype != dtype:
            raise ModelFileError(path, f"tensor {name!r} is {DTYPE_CODES[tensor.dtype]} but the "
                                       f"model dtype is {dtype_name}")
        if not np.all(np.isfinite(tensor)):
            raise ModelFileError(path, f"tensor {name!r} holds NaN or inf")
    try:
        model = Sequential.from_config(config)
    except Exception as exc:  # any failure to build means a bad config
        raise ModelFileError(path, f"the architecture config cannot be built: "
                                   f"{type(exc).__name__}: {exc}") from None
    for p in model.parameters():
        # from_config and expected_shapes must agree; a mismatch is a bad file, not a crash
        if p.name not in params or p.value.shape != params[p.name].shape:
            raise ModelFileError(path, f"the config builds parameter {p.name} of shape "
                                       f"{p.value.shape}, which the file does not hold")
        p.value[...] = params[p.name]
    if len(model.parameters()) != len(params):
        raise ModelFileError(path, "the config builds fewer parameters than the file holds")
    model.training_config = _json_entry(meta, "training_config", path, (dict, type(None)))
    model.classes_ = _decode_classes(meta, path)
    model.preprocessor = _decode_preprocessor(meta, tensors, path, model.n_features)
    model.loss = _decode_loss(meta, path)
    return model


def _decode_loss(meta: dict[str, str], path: Any) -> Any:
    """The training loss (absent from files written before it was stored: None)."""
    if "loss" not in meta:
        return None
    config = _json_entry(meta, "loss", path, (dict, type(None)))
    if config is None:
        return None
    from .. import losses

    try:
        return losses.get(config)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(path, f"the loss config is invalid: {exc}") from None


def _decode_classes(meta: dict[str, str], path: Any) -> list[Any] | None:
    classes = _json_entry(meta, "classes", path, (list, type(None)))
    if classes is not None and not all(isinstance(c, (str, int, float, bool)) for c in classes):
        raise ModelFileError(path, "metadata 'classes' must be a list of strings or numbers")
    return classes


def _decode_preprocessor(meta: dict[str, str], tensors: dict[str, np.ndarray], path: Any,
                         n_features: int) -> Any:
    arrays = {name[len(PREPROCESSOR_PREFIX):]: t for name, t in tensors.items()
              if name.startswith(PREPROCESSOR_PREFIX)}
    if "preprocessor" not in meta and "scaler" in meta:
        pre = _decode_scaler(meta, path, n_features)  # a version 1 file
    else:
        config = _json_entry(meta, "preprocessor", path, (dict, type(None)))
        pre = None if config is None else _build_preprocessor(config, arrays, path)
    if pre is None and arrays:
        raise ModelFileError(path, f"the file holds preprocessor tensors {sorted(arrays)[:5]} "
                                   "but no preprocessor config")
    width = getattr(pre, "n_features_out", n_features)
    if width != n_features:
        raise ModelFileError(path, f"the preprocessor gives {width} inputs but the model takes "
                                   f"{n_features}")
    return pre


def _build_preprocessor(config: dict[str, Any], arrays: dict[str, np.ndarray], path: Any) -> Any:
    """A fixed class per ``kind``: nothing in the file chooses what code runs."""
    kind = config.get("kind")
    try:
        if kind == "columns":
            from ..preprocessing import ColumnNames

            return ColumnNames.from_config(config, arrays)
        if kind == "tabular":
            from ..datasets import Preprocessor

            return Preprocessor.from_config(config, arrays)
    except ImportError:
        raise
    except Exception as exc:  # any failure to rebuild means a bad config
        raise ModelFileError(path, f"the preprocessor cannot be rebuilt: {exc}") from None
    raise ModelFileError(path, f"unknown preprocessor kind {kind!r:.40}; expected 'columns' "
                               "or 'tabular'")


def _decode_scaler(meta: dict[str, str], path: Any, n_features: int) -> Any:
    """A version 1 file's ``scaler`` entry, as the preprocessor that applies it."""
    config = _json_entry(meta, "scaler", path, (dict, type(None)))
    if config is None:
        return None
    # Check the width before Scaler.from_config allocates anything from it.
    width = config.get("n_features")
    if width is not None and width != n_features:
        raise ModelFileError(path, f"the scaler config has n_features={width!r:.40} but the "
                                   f"model takes {n_features}")
    for key in ("mean", "scale", "min", "range"):
        values = config.get(key)
        if values is not None and (not isinstance(values, list) or len(values) != n_features):
            raise ModelFileError(path, f"scaler {key!r} must be a list of {n_features} numbers")
    try:
        from ..datasets import Preprocessor, Scaler

        if not Scaler.from_config(config).fitted:
            return None
        return Preprocessor.from_scaler(config)
    except ImportError:
        raise
    except Exception as exc:  # any failure means a bad scaler config
        raise ModelFileError(path, f"the scaler config is invalid: {exc}") from None
