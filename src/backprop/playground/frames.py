"""Frames: what the page draws, computed from a :class:`~.trainer.Snapshot`.

A frame is one binary WebSocket message::

    uint32 little-endian  n = length of the JSON header (padded with spaces to 4 bytes)
    n bytes               the header, UTF-8 JSON
    arrays                each at header["arrays"][name]["offset"] bytes after the header,
                          4-byte aligned, little-endian

The header holds the epoch, the train and test loss (and accuracy for classes), the
gradient norm of each layer and the learning rate. The arrays are

``output``   float32 (K, R, R): the network's output over the R × R plane (R = 100), row 0
             at the top; K = 1 (sigmoid probability of the blue class, or a regression
             value) or one probability per class.
``neurons``  uint8 (N, r, r): each hidden neuron's activation over the plane, −1 → 0,
             0 → 128, +1 → 255 (clipped), r = 50 (25 for more than 64 neurons).
``inputs``   uint8 (F, r, r): each input feature over the plane, scaled by its largest size.
``params``   float32: per Dense layer its W (n_in × n_out, row-major), then its b (n_out).

The drawing network is a twin of the training one (same architecture, weights copied from
the snapshot), so drawing shares no arrays with the worker thread.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from .. import Dense, Sequential
from .config import Config
from .data import PlaneData
from .network import loss_name, targets
from .trainer import Snapshot

OUTPUT_RESOLUTION = 100
#: neurons drawn at the smaller resolution above this count
MANY_NEURONS = 64


class View:
    """Everything a frame of one network generation is drawn from.

    Parameters
    ----------
    generation : int
    config : Config
    data : PlaneData
    model : Sequential
        The training network (only its architecture is used).
    """

    def __init__(self, generation: int, config: Config, data: PlaneData, model: Any) -> None:
        self.generation = generation
        self.config = config
        self.data = data
        self.model = Sequential.from_config(model.get_config())
        self.loss = loss_name(config, data)
        R = OUTPUT_RESOLUTION
        n_hidden = sum(config.hidden)
        self.neuron_resolution = 50 if n_hidden <= MANY_NEURONS else 25
        step = R // self.neuron_resolution
        rows = np.arange(step // 2, R, step)
        self.subgrid = (rows[:, None] * R + rows[None, :]).ravel()
        dtype = self.model.dtype
        self.grid = np.ascontiguousarray(data.inputs(data.grid(R), config.features), dtype=dtype)
        self.X_train = data.inputs(data.X_train, config.features).astype(dtype)
        self.X_test = data.inputs(data.X_test, config.features).astype(dtype)
        self.T_train = targets(data, data.y_train)
        self.T_test = targets(data, data.y_test)
        inputs = self.grid[self.subgrid].T
        size = np.abs(inputs).max(axis=1, keepdims=True)
        self.inputs = _to_bytes(inputs / np.where(size > 0, size, 1))
        self._spans = [(w.shape, w.size) for w in self.model.weights]

    def render(self, snap: Snapshot, lr: float, extra: dict[str, Any] | None = None) -> bytes:
        """The frame for ``snap`` (which must belong to this generation)."""
        model = self.model
        model.set_flat_weights(snap.values)
        a = self.grid
        hidden = []
        last = model.dense_layers[-1]
        for layer in model.layers:
            a = layer.forward(a, False)
            if isinstance(layer, Dense) and layer is not last:
                hidden.append(a[self.subgrid])
        R, r = OUTPUT_RESOLUTION, self.neuron_resolution
        output = np.ascontiguousarray(a.T, dtype=np.float32).reshape(-1, R, R)
        neurons = _to_bytes(np.concatenate(hidden, axis=1).T) if hidden \
            else np.zeros((0,), np.uint8)
        params = np.concatenate([np.concatenate([w.ravel(), b.ravel()])
                                 for w, b in zip(model.weights, model.biases)])
        train = model.evaluate(self.X_train, self.T_train, loss=self.loss)
        test = model.evaluate(self.X_test, self.T_test, loss=self.loss)
        header: dict[str, Any] = {
            "type": "frame", "generation": self.generation, "seq": snap.seq,
            "epoch": snap.epoch, "playing": snap.playing, "lr": lr,
            "train_loss": _finite(train["loss"]), "test_loss": _finite(test["loss"]),
            "train_accuracy": _finite(train.get("accuracy")),
            "test_accuracy": _finite(test.get("accuracy")),
            "grad_norms": [_finite(g) for g in snap.grad_norms],
            "neuron_resolution": r, "resolution": R,
        }
        if extra:
            header.update(extra)
        arrays = {"output": output, "neurons": neurons.reshape(-1, r, r),
                  "inputs": self.inputs.reshape(-1, r, r),
                  "params": params.astype(np.float32)}
        return pack(header, arrays)


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _to_bytes(values: np.ndarray) -> np.ndarray:
    """Activations in [−1, 1] as bytes 0..255 (clipped), for the page's colour scale."""
    return np.clip(np.rint((values + 1.0) * 127.5), 0, 255).astype(np.uint8)


def pack(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """One binary frame: the header (with each array's dtype, shape and offset), then the
    arrays, each 4-byte aligned."""
    blobs, layout, offset = [], {}, 0
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        code = {"float32": "f32", "uint8": "u8"}[array.dtype.name]
        raw = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        layout[name] = {"dtype": code, "shape": list(array.shape), "offset": offset}
        pad = -len(raw) % 4
        blobs.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    text = json.dumps({**header, "arrays": layout}, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    return struct.pack("<I", len(text)) + text + b"".join(blobs)


def unpack(frame: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a frame written by :func:`pack` (for tests and tools)."""
    (n,) = struct.unpack_from("<I", frame)
    header = json.loads(frame[4 : 4 + n])
    arrays = {}
    for name, spec in header["arrays"].items():
        dtype = np.dtype({"f32": "<f4", "u8": "u1"}[spec["dtype"]])
        count = int(np.prod(spec["shape"]))
        arrays[name] = np.frombuffer(frame, dtype, count, 4 + n + spec["offset"]) \
            .reshape(spec["shape"])
    return header, arrays
