"""Checkpoints: ``ModelCheckpoint`` writes them during ``fit``; ``restore_checkpoint`` resumes.

A checkpoint is a model file (see ``model_file``) with ``kind = "checkpoint"``, the optimiser's
arrays as tensors ``optimizer.<key>`` (each the shape of ``model.flat_param``), and a
``checkpoint`` metadata entry::

    {"epoch": 10,                 # epochs completed; training resumes at this epoch index
     "optimizer": {...},          # optimizer.get_config(), including the current lr
     "optimizer_scalars": {"step": 40},
     "iterations": 40,
     "rng_state": {...},          # model.rng.bit_generator.state (shuffling and dropout)
     "monitor": "val_loss", "best": 0.31}

Everything that decides the next update is in the file, so ``fit(..., resume_from=path)``
after ``n`` epochs continues with exactly the weights a single uninterrupted run would have.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import optimizers as _optimizers
from ..callbacks import MonitorCallback, monitor_mode
from ..training import ResumePoint
from .format import (
    DTYPE_CODES,
    ModelFileError,
    atomic_write,
    dump_json,
    encode_safetensors,
    parse_json,
    read_safetensors,
)
from .model_file import (
    CALLBACK_PREFIX,
    OPTIMIZER_PREFIX,
    check_format,
    decode_model,
    model_metadata,
    model_tensors,
    preprocessor_tensors,
)

#: NumPy bit generators whose state a checkpoint may restore
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


# -- writing -------------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def checkpoint_bytes(model: Any, epoch: int, monitor: str | None = None,
                     best: float | None = None, callbacks: Any = ()) -> bytes:
    """The file contents of a checkpoint taken after ``epoch`` completed epochs, with the
    state of each of ``callbacks`` (by position: ``fit``'s ``callbacks=``)."""
    opt = model.optimizer
    if opt is None:
        raise ValueError("the model has no optimizer yet; a checkpoint is taken during fit")
    tensors = {**model_tensors(model),
               **preprocessor_tensors(getattr(model, "preprocessor", None))}
    scalars = {}
    for key, value in opt.state_arrays(model.flat_param).items():
        if isinstance(value, np.ndarray):
            tensors[OPTIMIZER_PREFIX + key] = value.astype(model.dtype, copy=True)
        else:
            scalars[key] = _jsonable(value)
    saved_callbacks = []
    for index, cb in enumerate(callbacks):
        state = cb.get_state()
        if not state:
            continue
        numbers = {}
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                tensors[f"{CALLBACK_PREFIX}{index}.{key}"] = value.astype(model.dtype, copy=True)
            else:
                numbers[key] = _jsonable(value)
        saved_callbacks.append({"index": index, "class": type(cb).__name__, "state": numbers})
    meta = model_metadata(model, kind="checkpoint",
                          preprocessor=getattr(model, "preprocessor", None),
                          classes=getattr(model, "classes_", None),
                          training_config=getattr(model, "training_config", None))
    meta["checkpoint"] = dump_json({
        "epoch": int(epoch),
        "optimizer": opt.get_config(),
        "optimizer_scalars": scalars,
        "iterations": int(opt.iterations),
        "rng_state": _jsonable(model.rng.bit_generator.state),
        "monitor": monitor,
        "best": best if best is not None and math.isfinite(best) else None,
        "callbacks": saved_callbacks,
    }, "the checkpoint state")
    return encode_safetensors(tensors, meta)


class ModelCheckpoint(MonitorCallback):
    """Save the model, optimiser state, epoch and random state at the end of epochs.

    Resume with ``model.fit(..., resume_from=path)``: the continued run reaches exactly the
    weights of an uninterrupted one (same seed, shuffling and dropout included).

    Parameters
    ----------
    path : str or Path
        File to write (atomically). May contain ``{epoch}`` (1-based) and logged names,
        e.g. ``"ckpt-{epoch:03d}-{val_loss:.3f}.safetensors"``; parent folders are created.
    monitor : str, default "val_loss"
        Logged value that defines the best epoch.
    save_best_only : bool, default False
        Write only when ``monitor`` improves; otherwise write after every epoch.
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; "auto" is "max" for accuracies.

    Attributes
    ----------
    best : float
        Best monitored value so far (carried over when training resumes from a checkpoint).
    best_epoch : int or None
    last_path : Path or None
        The file written most recently.

    Examples
    --------
    >>> import backprop as bp
    >>> ckpt = bp.ModelCheckpoint("run/ckpt.safetensors", monitor="val_loss")
    """

    def __init__(self, path: str | os.PathLike, monitor: str = "val_loss",
                 save_best_only: bool = False, mode: str = "auto") -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or Path; got {type(path).__name__}")
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a logged name such as 'val_loss'; got {monitor!r}")
        if not isinstance(save_best_only, bool):
            raise TypeError(f"save_best_only must be True or False; got {save_best_only!r}")
        self.path = path
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.mode = monitor_mode(monitor, mode)
        self.min_delta = 0.0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.last_path: Path | None = None

    def on_train_begin(self, logs):
        if self.save_best_only:
            self.check_monitor_available()
        # This fit resumes from a checkpoint: continue from its best value, so
        # save_best_only does not overwrite the best file with a worse epoch.
        resumed = self.params.get("resumed")
        if (resumed is not None and resumed.monitor == self.monitor
                and resumed.best is not None and self.improved(resumed.best, self.best)):
            self.best = resumed.best

    def on_epoch_end(self, epoch, logs):
        current = logs.get(self.monitor)
        improved = (current is not None and math.isfinite(current)
                    and self.improved(current, self.best))
        if improved:
            self.best, self.best_epoch = float(current), epoch
        if self.save_best_only:
            if current is None:
                raise ValueError(f"ModelCheckpoint monitors {self.monitor!r}, which is not "
                                 f"logged; available: {', '.join(sorted(logs))}")
            if not improved:
                return
        path = self._format_path(epoch, logs)
        path.parent.mkdir(parents=True, exist_ok=True)
        best = self.best if math.isfinite(self.best) else None
        atomic_write(path, checkpoint_bytes(self.model, epoch + 1, self.monitor, best,
                                            self.params.get("callbacks", ())))
        self.last_path = path

    def _format_path(self, epoch: int, logs: dict[str, Any]) -> Path:
        text = os.fspath(self.path)
        if "{" not in text:
            return Path(text)
        try:
            return Path(text.format(epoch=epoch + 1, **logs))
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"cannot fill in the checkpoint path {text!r} ({exc}); it may use "
                             f"{{epoch}} and the logged names: {', '.join(sorted(logs))}") from None


# -- reading -------------------------------------------------------------------------------
def _layout(model: Any) -> tuple[list[dict[str, Any]], str]:
    # The initialiser is irrelevant once the weights are restored.
    layers = [{k: v for k, v in layer.get_config().items() if k != "init"}
              for layer in model.layers]
    return layers, model.dtype.name


def _checkpoint_entry(meta: dict[str, str], path: Any) -> dict[str, Any]:
    if "checkpoint" not in meta:
        raise ModelFileError(path, "the metadata has no 'checkpoint' entry")
    info = parse_json(meta["checkpoint"], "metadata 'checkpoint'", path)
    if not isinstance(info, dict):
        raise ModelFileError(path, "metadata 'checkpoint' must be an object")
    epoch, iterations = info.get("epoch"), info.get("iterations")
    for name, value in (("epoch", epoch), ("iterations", iterations)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ModelFileError(path, f"checkpoint {name} must be an integer >= 0; got "
                                       f"{value!r:.40}")
    scalars = info.get("optimizer_scalars")
    if not isinstance(scalars, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in scalars.values()):
        raise ModelFileError(path, "checkpoint optimizer_scalars must map names to numbers")
    for key in ("optimizer", "rng_state"):
        if not isinstance(info.get(key), dict):
            raise ModelFileError(path, f"checkpoint {key} must be an object")
    best = info.get("best")
    if best is not None and (isinstance(best, bool) or not isinstance(best, (int, float))):
        raise ModelFileError(path, f"checkpoint best must be a number or null; got {best!r:.40}")
    monitor = info.get("monitor")
    if monitor is not None and not isinstance(monitor, str):
        raise ModelFileError(path, "checkpoint monitor must be a string or null")
    return info


def _bit_generator(state: dict[str, Any], path: Any) -> np.random.BitGenerator:
    """A fresh bit generator in the saved state (validated before the model is touched)."""
    name = state.get("bit_generator")
    if name not in BIT_GENERATORS:
        raise ModelFileError(path, f"random state of unknown bit generator {name!r:.40}; "
                                   f"expected one of {', '.join(BIT_GENERATORS)}")
    bit_generator = getattr(np.random, name)()
    try:
        bit_generator.state = state
    except Exception as exc:  # NumPy's checks raise several types; any means a bad state
        raise ModelFileError(path, f"invalid {name} random state: {exc}") from None
    return bit_generator


def _set_rng(model: Any, bit_generator: np.random.BitGenerator) -> None:
    current = model.rng
    if type(current.bit_generator) is type(bit_generator):
        current.bit_generator.state = bit_generator.state
    else:  # a different generator type: the model (and its dropout layers) take a new one
        model.set_rng(np.random.Generator(bit_generator))


def _check_optimizer_state(opt: _optimizers.Optimizer, model: Any, state: dict[str, Any],
                           path: Any) -> None:
    """Each saved entry must be one the optimiser keeps, an array where it keeps an array."""
    template = opt.init_state(model.flat_param)
    # arrays that older versions kept, which the optimiser converts on loading
    template.update(dict.fromkeys(opt.legacy_state_arrays, model.flat_param.value))
    for key, value in state.items():
        kept = template.get(key, None)
        if key not in template or isinstance(kept, np.ndarray) != isinstance(value, np.ndarray) \
                or (isinstance(kept, int) and not isinstance(value, int)) \
                or (not isinstance(value, np.ndarray) and value < 0):
            raise ModelFileError(path, f"optimizer state {key!r} does not fit {opt!r}, which "
                                       f"keeps: {', '.join(sorted(template))}")


def _same_settings(opt: Any, saved: _optimizers.Optimizer) -> bool:
    """Whether ``opt`` is the checkpoint's kind of optimiser with the same settings (the
    learning rate aside, which the checkpoint restores): only then does it continue the run."""
    if not isinstance(opt, _optimizers.Optimizer) or type(opt) is not type(saved):
        return False
    mine, theirs = opt.get_config(), saved.get_config()
    mine.pop("lr"), theirs.pop("lr")
    return mine == theirs


def restore_checkpoint(model: Any, path: str | os.PathLike,
                       opt: Any = None) -> tuple[_optimizers.Optimizer, int]:
    """Load a checkpoint into ``model`` and return the optimiser and the epoch to start at.

    Restores the weights, the optimiser's moments, step counts, iteration count and learning
    rate, and the model's random generator (shuffling, dropout). ``opt`` receives the state
    when it is the checkpoint's kind of optimiser with the same settings (the learning rate
    aside); otherwise — say ``fit`` got a bare name such as ``"sgd"`` — the checkpoint's
    optimiser is rebuilt from its config, so the run continues exactly as it would have.
    Everything is validated before the model or the optimiser is changed.

    Parameters
    ----------
    model : Sequential
        Must have the checkpoint's architecture and dtype.
    path : str or Path
    opt : Optimizer, optional

    Returns
    -------
    optimizer : Optimizer
    initial_epoch : int
        Epochs already completed; ``fit`` continues from this epoch index.

    Raises
    ------
    ModelFileError
        The file is damaged, not a checkpoint, or does not fit ``model``.
    """
    point = resume(model, path, opt)
    return point.optimizer, point.epoch


def resume(model: Any, path: str | os.PathLike, opt: Any = None) -> ResumePoint:
    """:func:`restore_checkpoint`, returning everything ``fit(..., resume_from=path)`` needs.

    The :class:`backprop.training.ResumePoint` also carries the callbacks' saved states and
    the writing ModelCheckpoint's monitored best. ``fit`` reaches this function through
    ``backprop.training.set_resumer``, so the engine never imports io.
    """
    saved, info, fresh, state, bit_generator, callback_states = _read(model, path)
    # Validated: now change the model and the optimiser.
    model.set_flat_parameters(saved.get_flat_parameters())
    target = opt if _same_settings(opt, fresh) else fresh
    target.reset()
    if state:
        target.load_state_arrays(model.flat_param, state)
    target.lr = fresh.lr
    target.iterations = info["iterations"]
    _set_rng(model, bit_generator)
    for attr in ("preprocessor", "classes_", "training_config"):
        if getattr(model, attr, None) is None:
            setattr(model, attr, getattr(saved, attr))
    return ResumePoint(target, info["epoch"], callback_states, info.get("monitor"),
                       info.get("best"))


def _read(model: Any, path: Any) -> tuple[Any, dict[str, Any], _optimizers.Optimizer,
                                           dict[str, Any], np.random.BitGenerator, list]:
    """Read and validate a checkpoint for ``model`` without changing anything: the saved
    model, the checkpoint entry, a fresh optimiser from its config, the optimiser state, the
    random generator and the callback states."""
    tensors, meta = read_safetensors(path)
    if check_format(meta, path) != "checkpoint":
        raise ModelFileError(path, "this is a model file, not a checkpoint; checkpoints are "
                                   "written by ModelCheckpoint during fit")
    saved = decode_model(tensors, meta, path, "checkpoint")
    if _layout(saved) != _layout(model):
        raise ModelFileError(path, f"the checkpoint's architecture {saved!r} "
                                   f"({saved.dtype.name}) differs from the model's {model!r} "
                                   f"({model.dtype.name})")
    info = _checkpoint_entry(meta, path)
    try:
        fresh = _optimizers.get(info["optimizer"])
    except Exception as exc:  # registry and constructor checks; any means a bad config
        raise ModelFileError(path, f"the optimizer config cannot be built: {exc}") from None
    size = model.flat_param.value.size
    arrays = {}
    for name, tensor in tensors.items():
        if name.startswith(OPTIMIZER_PREFIX):
            if tensor.shape != (size,) or tensor.dtype != model.dtype:
                raise ModelFileError(path, f"optimizer tensor {name!r} must be "
                                           f"{DTYPE_CODES[model.dtype]} of shape ({size},); got "
                                           f"{DTYPE_CODES[tensor.dtype]} {tensor.shape}")
            arrays[name[len(OPTIMIZER_PREFIX):]] = tensor
    bit_generator = _bit_generator(info["rng_state"], path)
    callback_states = _callback_states(info, tensors, size, model.dtype, path)
    both = sorted(set(info["optimizer_scalars"]) & set(arrays))
    if both:
        raise ModelFileError(path, f"optimizer state {both} appears both as numbers and as "
                                   "tensors")
    state = {**info["optimizer_scalars"], **arrays}
    _check_optimizer_state(fresh, model, state, path)
    if isinstance(saved.seed, int) and isinstance(model.seed, int) and saved.seed != model.seed:
        warnings.warn(f"the checkpoint was written by a model with seed={saved.seed}, this "
                      f"model has seed={model.seed}: a validation_split drawn from the seed "
                      "will differ from the original run's", RuntimeWarning, stacklevel=4)
    return saved, info, fresh, state, bit_generator, callback_states


def _callback_states(info: dict[str, Any], tensors: dict[str, np.ndarray], size: int,
                     dtype: np.dtype, path: Any) -> list[dict[str, Any]]:
    """Validated callback states: numbers or null, and 1-D arrays of the model's size."""
    entries = info.get("callbacks", [])
    if not isinstance(entries, list):
        raise ModelFileError(path, "checkpoint callbacks must be a list")
    states = []
    for entry in entries:
        if not (isinstance(entry, dict) and isinstance(entry.get("index"), int)
                and not isinstance(entry.get("index"), bool) and entry["index"] >= 0
                and isinstance(entry.get("class"), str) and isinstance(entry.get("state"), dict)
                and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
                        for v in entry["state"].values())):
            raise ModelFileError(path, "each checkpoint callback entry must hold an index, a "
                                       "class name and a state of numbers")
        states.append({"index": entry["index"], "class": entry["class"],
                       "state": dict(entry["state"])})
    by_index = {s["index"]: s for s in states}
    for name, tensor in tensors.items():
        if not name.startswith(CALLBACK_PREFIX):
            continue
        index_text, _, key = name[len(CALLBACK_PREFIX):].partition(".")
        if not index_text.isdigit() or int(index_text) not in by_index or not key:
            raise ModelFileError(path, f"callback tensor {name!r} has no callback entry")
        if tensor.shape != (size,) or tensor.dtype != dtype:
            raise ModelFileError(path, f"callback tensor {name!r} must have shape ({size},) "
                                       f"and the model's dtype; got {tensor.shape}")
        by_index[int(index_text)]["state"][key] = tensor
    return states
