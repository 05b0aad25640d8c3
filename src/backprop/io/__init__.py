"""Safe model files, checkpoints and export.

- :func:`save` / :func:`load`: one safetensors file with the weights, the preprocessor's
  numbers and, as JSON metadata, the architecture, the preprocessor (column names, kinds,
  categories), the training loss and config, class labels, library version and format
  version. Never pickle: loading a file runs no code from it, and every damaged or hostile
  file raises :class:`ModelFileError` naming the file and the problem. Writes are atomic.
- :class:`ModelCheckpoint` and ``fit(..., resume_from=path)``: exact resumption.
- :func:`export_onnx`, :func:`to_torch`, :func:`from_torch`, :func:`export_torch`: deployment
  where backprop is not installed.

The pieces live in ``format`` (container), ``model_file`` (model ↔ tensors and
metadata), ``checkpoint`` and ``export``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .checkpoint import ModelCheckpoint, restore_checkpoint, resume
from .export import ONNX_OPSET, export_onnx, export_torch, from_torch, onnx_inputs, to_torch
from .format import ModelFileError, atomic_write, encode_safetensors, read_safetensors
from .model_file import (
    FORMAT_VERSION,
    check_format,
    decode_model,
    model_metadata,
    model_tensors,
    preprocessor_of,
    preprocessor_tensors,
)

#: the file inside a model directory (what the command line's ``--model DIR`` reads)
MODEL_FILENAME = "model.safetensors"

__all__ = [
    "save", "load", "ModelFileError", "ModelCheckpoint", "restore_checkpoint", "resume",
    "export_onnx", "export_torch", "to_torch", "from_torch", "onnx_inputs",
    "FORMAT_VERSION", "MODEL_FILENAME", "ONNX_OPSET",
]


def _resolve(path: str | os.PathLike) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or Path; got {type(path).__name__}")
    path = Path(path)
    return path / MODEL_FILENAME if path.is_dir() else path


def save(model: Any, path: str | os.PathLike, *, preprocessor: Any = None, scaler: Any = None,
         classes: Any = None, training_config: dict[str, Any] | None = None) -> Path:
    """Write ``model`` to a safetensors file, atomically.

    Parameters
    ----------
    model : Sequential or MLP
    path : str or Path
        The file; an existing directory gets ``model.safetensors`` inside it.
    preprocessor : optional
        Stored instead of ``model.preprocessor`` (for a model trained on rows encoded
        beforehand by this preprocessor): the loaded model carries it.
    scaler : backprop.datasets.Scaler, optional
        A fitted input scaler for a model without a preprocessor: it is stored as the
        model's preprocessor, so the loaded model's ``predict`` takes unscaled rows.
        (``model.preprocessor`` itself, when set, is always stored.)
    classes : list, optional
        Original class labels (``model.classes_`` by default).
    training_config : dict, optional
        JSON-safe description of how the model was trained (``model.training_config`` by
        default).

    Returns
    -------
    Path
        The file written. An interrupted save leaves any earlier file at ``path`` intact.

    Examples
    --------
    >>> import backprop as bp, tempfile, os
    >>> model = bp.MLP([2, 3, 1], output_activation="sigmoid", seed=0)
    >>> path = bp.save(model, os.path.join(tempfile.mkdtemp(), "xor.safetensors"))
    >>> bp.load(path).get_config() == model.get_config()
    True
    """
    from ..network import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a backprop Sequential or MLP; got "
                        f"{type(model).__name__}")
    target = _resolve(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {os.fspath(target)!r}: the directory "
                                f"{os.fspath(target.parent)!r} does not exist")
    pre = preprocessor if preprocessor is not None else preprocessor_of(model, scaler)
    if preprocessor is not None and scaler is not None:
        raise ValueError("pass preprocessor= or scaler=, not both")
    meta = model_metadata(
        model,
        preprocessor=pre,
        classes=classes if classes is not None else getattr(model, "classes_", None),
        training_config=training_config if training_config is not None
        else getattr(model, "training_config", None),
    )
    tensors = {**model_tensors(model), **preprocessor_tensors(pre)}
    return atomic_write(target, encode_safetensors(tensors, meta))


def load(path: str | os.PathLike) -> Any:
    """Read a model written by :func:`save` (or a checkpoint) without running any code.

    Parameters
    ----------
    path : str or Path
        The file, or a directory holding ``model.safetensors``.

    Returns
    -------
    Sequential or MLP
        Rebuilt from its config with the saved weights, its ``preprocessor`` (so that
        ``predict`` takes raw rows as before saving), its training ``loss`` (what
        ``evaluate`` measures), ``classes_`` (list or None) and ``training_config`` (dict or
        None).

    Raises
    ------
    ModelFileError
        The file is empty, truncated, damaged, hostile, from a newer format version, or not
        a backprop model file; the message names the file and the problem.
    FileNotFoundError
        Nothing exists at ``path``.
    """
    path = _resolve(path)
    tensors, meta = read_safetensors(path)
    kind = check_format(meta, path)
    return decode_model(tensors, meta, path, kind)
