"""Fuzzing the loader: every corruption of a real model file loads a valid model or raises
ModelFileError — never another exception, never a hang, never code from the file."""

from __future__ import annotations

import json
import struct
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import backprop as bp
from backprop.datasets import Preprocessor, Scaler
from backprop.io import restore_checkpoint
from backprop.preprocessing import ColumnNames


def _model() -> bp.MLP:
    return bp.MLP([3, 4, 2], activation="elu", output_activation="softmax", dropout=0.25,
                  seed=2)


def _real_files() -> tuple[bytes, bytes]:
    """A saved model (with scaler, classes, training config) and a checkpoint, as bytes."""
    scaler = Scaler("minmax").fit(np.arange(12.0).reshape(4, 3))
    X = np.random.default_rng(0).normal(size=(30, 3))
    with tempfile.TemporaryDirectory() as d:
        model_file = bp.save(_model(), Path(d) / "m.safetensors", scaler=scaler,
                             classes=["x", "y"],
                             training_config={"epochs": 3, "loss": "categorical_crossentropy"})
        ckpt = bp.ModelCheckpoint(Path(d) / "c.safetensors", monitor="loss")
        _model().fit(X, (X[:, 0] > 0).astype(int), loss="categorical_crossentropy",
                     optimizer="adam", epochs=2, batch_size=8, callbacks=[ckpt])
        return model_file.read_bytes(), ckpt.last_path.read_bytes()


MODEL_BYTES, CHECKPOINT_BYTES = _real_files()

# Replacement values for JSON edits: plausible and absurd, of every JSON type.
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.integers(-3, 10),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.sampled_from(["relu", "softmax", "gelu", "MLP", "Sequential", "Dense", "Dropout",
                     "float64", "float16", "F64", "I64", "standard", "minmax", "none",
                     "adam", "sgd", "PCG64", "MT19937", "tanh", "leaky_relu"]))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "alpha", "class", "n_in", "n_out", "kind", "mean", "shape",
                         "dtype", "rate", "state", "step", "lr", "x"]) | st.text(max_size=4),
        inner, max_size=4),
    max_leaves=8)


def _apply_flips(raw: bytes, edits: list[tuple[int, int]]) -> bytes:
    data = bytearray(raw)
    for at, value in edits:
        data[at] = value
    return bytes(data)


def _decoded(text: str):
    try:
        return {"json": json.loads(text)}
    except ValueError:
        return text  # "backprop", "0.1.0": plain strings


def _leaf_paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaf_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaf_paths(value, (*prefix, i))


def corruptions(raw: bytes) -> st.SearchStrategy[bytes]:
    """Byte-level and structured damage to the safetensors file ``raw``."""
    header_len = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + header_len])
    body = raw[8 + header_len :]

    def document() -> dict:
        # The header with every metadata string decoded, so that edits reach inside them.
        doc = json.loads(json.dumps(header))
        doc["__metadata__"] = {k: _decoded(v) for k, v in doc["__metadata__"].items()}
        return doc

    def encode(doc: dict) -> bytes:
        meta = doc.get("__metadata__")
        if isinstance(meta, dict):
            doc["__metadata__"] = {
                k: json.dumps(v["json"]) if isinstance(v, dict) and set(v) == {"json"} else v
                for k, v in meta.items()}
        text = json.dumps(doc).encode()
        return struct.pack("<Q", len(text)) + text + body

    paths = [p for p in _leaf_paths(document()) if p]

    @st.composite
    def json_edits(draw):
        doc = document()
        for _ in range(draw(st.integers(1, 3))):
            path = draw(st.sampled_from(paths))
            parent = doc
            try:
                for key in path[:-1]:
                    parent = parent[key]
                if draw(st.booleans()) and isinstance(parent, dict):
                    parent.pop(path[-1], None)
                else:
                    parent[path[-1]] = draw(json_values)
            except (KeyError, IndexError, TypeError):
                continue  # an earlier edit removed or replaced this path
        return encode(doc)

    positions = st.integers(0, len(raw) - 1)
    in_header = st.integers(0, 8 + header_len - 1)
    # Mostly JSON punctuation and digits, so that a damaged header often still decodes.
    json_bytes = st.sampled_from(b'{}[]",:0123456789-+eE. ntfalsu\\') | st.integers(0, 255)
    return st.one_of(
        st.builds(lambda n: raw[:n], positions),                                  # truncate
        st.builds(lambda e: _apply_flips(raw, e),                                 # flip bytes
                  st.lists(st.tuples(positions, st.integers(0, 255)), min_size=1, max_size=8)),
        st.builds(lambda e: _apply_flips(raw, e),                                 # in the header
                  st.lists(st.tuples(in_header, json_bytes), min_size=1, max_size=4)),
        st.builds(lambda n: struct.pack("<Q", n) + raw[8:],                       # header length
                  st.integers(0, 2**64 - 1) | st.integers(0, len(raw) + 8)),
        st.builds(lambda at, junk, cut: raw[:at] + junk + raw[at + cut :],        # splice
                  positions, st.binary(max_size=64), st.integers(0, 32)),
        # JSON edits twice: they reach the deepest checks (config against tensors, scaler,
        # classes, optimiser and random state).
        json_edits(), json_edits(),
    )


FUZZ = settings(max_examples=500, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "m.safetensors"


def test_fuzz_inputs_start_from_loadable_files(target):
    target.write_bytes(MODEL_BYTES)
    assert bp.load(target).classes_ == ["x", "y"]
    target.write_bytes(CHECKPOINT_BYTES)
    assert restore_checkpoint(_model(), target, None)[1] == 2


@FUZZ
@given(data=corruptions(MODEL_BYTES))
def test_every_corruption_loads_a_valid_model_or_raises_model_file_error(target, data):
    target.write_bytes(data)
    try:
        model = bp.load(target)
    except bp.ModelFileError as exc:
        note(str(exc))
        assert str(target) in str(exc)
        return
    # It loaded: then it is a whole, usable model.
    assert isinstance(model, bp.Sequential)
    assert np.all(np.isfinite(model.get_flat_weights()))
    pre = model.preprocessor
    width = model.n_features if pre is None else len(pre.feature_names)
    with np.errstate(all="ignore"):
        out = model.predict(np.zeros((2, width)))
    assert out.shape == (2, model.n_outputs)
    assert model.classes_ is None or isinstance(model.classes_, list)
    assert model.training_config is None or isinstance(model.training_config, dict)
    assert pre is None or isinstance(pre, (Preprocessor, ColumnNames))


@settings(FUZZ, max_examples=300)
@given(data=corruptions(CHECKPOINT_BYTES))
def test_every_corrupt_checkpoint_restores_or_raises_model_file_error(target, data):
    target.write_bytes(data)
    model = _model()
    before = model.get_flat_weights()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "seed differs" after an edit
            opt, epoch = restore_checkpoint(model, target, bp.Adam())
    except bp.ModelFileError as exc:
        note(str(exc))
        np.testing.assert_array_equal(model.get_flat_weights(), before)  # untouched
        return
    assert isinstance(opt, bp.optimizers.Optimizer) and isinstance(epoch, int) and epoch >= 0
    assert np.all(np.isfinite(model.get_flat_weights()))
    model.rng.random()  # the restored generator works
