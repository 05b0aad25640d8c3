"""Model files: save → load, metadata, atomic writes, hostile files (checkpoints: see
test_io_checkpoint.py)."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from activation_specs import ACTIVATION_SPECS
from activation_specs import spec_id as _spec_id
from safetensors_bytes import edit_header as _edit_header
from safetensors_bytes import join as _join
from safetensors_bytes import split as _split

import backprop as bp
from backprop.datasets import Preprocessor, Scaler
from backprop.io import MODEL_FILENAME
from backprop.io import format as _io_format


@pytest.fixture
def data():
    gen = np.random.default_rng(3)
    X = gen.normal(size=(40, 3))
    return X, (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(np.int64)


# -- save → load ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATION_SPECS, ids=_spec_id)
def test_save_load_gives_identical_predictions(tmp_path, data, activation, dtype):
    X, y = data
    model = bp.MLP([3, 6, 5, 2], activation=activation, output_activation="softmax",
                   dropout=0.1, seed=5, dtype=dtype)
    model.fit(X, y, loss="categorical_crossentropy", optimizer="adam", epochs=3,
              batch_size=16)
    path = bp.save(model, tmp_path / "m.safetensors")
    loaded = bp.load(path)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    assert loaded.dtype == np.dtype(dtype)
    for a, b in zip(loaded.get_flat_weights(), model.get_flat_weights()):
        assert a == b
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.predict(X).dtype == np.dtype(dtype)


def test_sequential_without_bias_round_trips(tmp_path, data):
    X, _ = data
    model = bp.Sequential([bp.Dense(3, 4, activation="tanh", use_bias=False), bp.Dropout(0.3),
                           bp.Dense(4, 1, activation="sigmoid", init="zeros")], seed=1,
                          dtype="float64")
    model.weights[1][...] = np.arange(4.0).reshape(4, 1) / 10
    loaded = bp.load(bp.save(model, tmp_path / "s.safetensors"))
    assert loaded.get_config() == model.get_config()
    assert loaded.biases[0] is None
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_metadata_round_trip(tmp_path, data):
    X, y = data
    scaler = Scaler("standard").fit(X)
    model = bp.MLP([3, 4, 1], output_activation="sigmoid", seed=0)
    training = {"loss": "binary_crossentropy", "epochs": 7, "lr": 0.01, "batch_size": None}
    path = bp.save(model, tmp_path / "m.safetensors", scaler=scaler, classes=np.array([3, 8]),
                   training_config=training)
    loaded = bp.load(path)
    assert loaded.classes_ == [3, 8]
    assert loaded.training_config == training
    # the scaler rides along as the model's preprocessor: predict takes unscaled rows
    assert isinstance(loaded.preprocessor, Preprocessor)
    np.testing.assert_allclose(loaded.preprocessor.transform(X), scaler.transform(X),
                               rtol=1e-12)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(scaler.transform(X)))
    _, meta = _io_format.read_safetensors(path)
    assert meta["backprop_version"] == bp.__version__
    assert meta["format_version"] == "2" and meta["format"] == "backprop"
    # A loaded model keeps its metadata when saved again without arguments.
    again = bp.load(bp.save(loaded, tmp_path / "again.safetensors"))
    assert again.classes_ == [3, 8] and again.training_config == training
    np.testing.assert_array_equal(again.predict(X), loaded.predict(X))


def test_model_without_metadata_loads_none(tmp_path):
    loaded = bp.load(bp.save(bp.MLP([2, 1], seed=0), tmp_path / "m.safetensors"))
    assert loaded.preprocessor is None and loaded.classes_ is None
    assert loaded.training_config is None and loaded.loss is None


def test_directory_path_means_model_file_inside(tmp_path):
    model = bp.MLP([2, 3, 1], seed=0)
    written = bp.save(model, tmp_path)
    assert written == tmp_path / MODEL_FILENAME and written.is_file()
    np.testing.assert_array_equal(bp.load(tmp_path).get_flat_weights(),
                                  model.get_flat_weights())


def test_loading_a_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.safetensors"):
        bp.load(tmp_path / "nothing.safetensors")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"classes": "ab"}, TypeError, "classes must be a list"),
    ({"classes": [object()]}, TypeError, "class labels must be"),
    ({"classes": [float("nan")]}, TypeError, "class labels must be"),
    ({"training_config": [1, 2]}, TypeError, "training_config must be a dict"),
    ({"training_config": {"f": print}}, TypeError, "JSON-safe"),
    ({"training_config": {"x": float("inf")}}, ValueError, "JSON-safe"),
    ({"scaler": 3}, TypeError, "scaler must be"),
    ({"scaler": Scaler().fit(np.ones((4, 5)))}, ValueError, "fitted on 5 features"),
    ({"scaler": {"kind": "minmax", "min": [0, 0]}}, ValueError, "cannot be restored"),
])
def test_save_refuses_bad_metadata(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        bp.save(bp.MLP([2, 1], seed=0), tmp_path / "m.safetensors", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_non_finite_weights_and_non_models(tmp_path):
    model = bp.MLP([2, 1], seed=0)
    model.weights[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        bp.save(model, tmp_path / "m.safetensors")
    with pytest.raises(TypeError, match="Sequential or MLP"):
        bp.save({"W": 1}, tmp_path / "m.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        bp.save(bp.MLP([2, 1]), tmp_path / "no" / "such" / "m.safetensors")


# -- atomic writes -------------------------------------------------------------------------
@pytest.mark.parametrize("crash", [OSError("No space left on device"), KeyboardInterrupt()])
def test_interrupted_save_leaves_previous_file_intact(tmp_path, monkeypatch, crash):
    path = tmp_path / "m.safetensors"
    old = bp.MLP([2, 4, 1], seed=1)
    bp.save(old, path)
    before = path.read_bytes()

    def write_half_then_crash(f, data):
        f.write(data[: len(data) // 2])
        f.flush()
        raise crash

    monkeypatch.setattr(_io_format, "_write_all", write_half_then_crash)
    with pytest.raises(type(crash)) as info:
        bp.save(bp.MLP([2, 4, 1], seed=2), path)
    assert info.value is crash  # the simulated crash, after half the bytes were written
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # no temp file
    np.testing.assert_array_equal(bp.load(path).get_flat_weights(), old.get_flat_weights())


def test_save_replaces_the_file_in_one_step(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    bp.save(bp.MLP([2, 1], seed=1), path)
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        # At the moment of the rename the new file is complete in the same directory.
        seen.append((os.path.dirname(src), bp.load(src).get_config()["seed"]))
        real_replace(src, dst)

    monkeypatch.setattr(_io_format.os, "replace", spy)
    bp.save(bp.MLP([2, 1], seed=9), path)
    assert seen == [(str(tmp_path), 9)]
    assert bp.load(path).seed == 9


# -- hostile and damaged files -------------------------------------------------------------
def _edit_meta(key, edit):
    def change(header):
        value = json.loads(header["__metadata__"][key])
        header["__metadata__"][key] = json.dumps(edit(value))
    return lambda raw: _edit_header(raw, change)


def _set(mapping, key, value):
    mapping[key] = value
    return mapping


def _nan_weight(raw: bytes) -> bytes:
    header, body = _split(raw)
    start = header["dense_1.W"]["data_offsets"][0]
    body = body[:start] + struct.pack("<f", float("nan")) + body[start + 4 :]
    return _join(header, body)


PICKLE_EXPLOIT = b"cos\nsystem\n(S'echo owned > /tmp/backprop_owned'\ntR."
HOSTILE = [
    ("empty", lambda raw: b"", "empty"),
    ("shorter than the length field", lambda raw: raw[:5], "8-byte header length"),
    ("truncated header", lambda raw: raw[:40], "truncated"),
    ("truncated body", lambda raw: raw[:-7], "truncated"),
    ("tensors overlap", lambda raw: _edit_header(raw, lambda h: h["dense_1.b"].update(
        data_offsets=[0, 20])), "gap or overlap"),
    ("trailing bytes", lambda raw: raw + b"\0" * 4, "trailing bytes"),
    ("absurd header length", lambda raw: struct.pack("<Q", 2**63) + raw[8:], "valid range"),
    ("zero header length", lambda raw: bytes(8) + raw[8:], "valid range"),
    ("absurd tensor size", lambda raw: _edit_header(raw, lambda h: h["dense_1.W"].update(
        shape=[10**6, 10**6], data_offsets=[0, 4 * 10**12])), "past the end"),
    ("offsets past the end", lambda raw: _edit_header(raw, lambda h: h["dense_1.W"].update(
        data_offsets=[10**9, 10**9 + 60])), "past the end"),
    ("offsets disagree with shape", lambda raw: _edit_header(raw, lambda h: h["dense_1.b"].update(
        data_offsets=[0, 3])), "needs"),
    ("negative shape", lambda raw: _edit_header(raw, lambda h: h["dense_1.b"].update(
        shape=[-4])), "shape"),
    ("integer dtype", lambda raw: _edit_header(raw, lambda h: h["dense_1.b"].update(
        dtype="I32")), "dtype 'I32'"),
    ("header not JSON", lambda raw: struct.pack("<Q", 9) + b"{not json" + raw[8:],
     "header is not valid JSON"),
    ("header not UTF-8", lambda raw: struct.pack("<Q", 4) + b'{"\xff}', "not UTF-8"),
    ("header NaN literal", lambda raw: _join({"x": float("nan")}, b""), "not valid JSON"),
    ("duplicate keys", lambda raw: struct.pack("<Q", 15) + b'{"a":{},"a":{}}', "duplicate"),
    ("header an entry of the wrong kind", lambda raw: _join({"w": [1, 2]}, b""), "header entry"),
    ("metadata values not strings", lambda raw: _edit_header(
        raw, lambda h: h["__metadata__"].update(format=1)), "strings to strings"),
    ("metadata not JSON", lambda raw: _edit_header(
        raw, lambda h: h["__metadata__"].update(model_config="{'class': 'MLP'")),
     "'model_config' is not valid JSON"),
    ("metadata nested too deeply", lambda raw: _edit_header(
        raw, lambda h: h["__metadata__"].update(classes="[" * 100_000 + "]" * 100_000)),
     "nested too deeply"),
    ("unknown activation", _edit_meta("model_config", lambda c: _set(
        c, "activation", {"name": "__import__('os').system"})), "unknown activation"),
    ("unknown layer option", _edit_meta("model_config", lambda c: _set(c, "evil", 1)),
     "cannot be built"),
    ("shapes disagree with config", _edit_meta("model_config", lambda c: _set(
        c, "layer_sizes", [3, 7, 2])), "shape"),
    ("config declares a huge layer", _edit_meta("model_config", lambda c: _set(
        c, "layer_sizes", [3, 10**12, 2])), "shape"),
    ("dtype disagrees with tensors", _edit_meta("model_config", lambda c: _set(
        c, "dtype", "float64")), "model dtype is float64"),
    ("unsupported dtype in config", _edit_meta("model_config", lambda c: _set(
        c, "dtype", "float16")), "not float32 or float64"),
    ("unknown model class", _edit_meta("model_config", lambda c: _set(c, "class", "Lambda")),
     "unknown model class"),
    ("preprocessor of another width", _edit_meta("preprocessor", lambda c: _set(
        c, "columns", c["columns"][:2])), "preprocessor cannot be rebuilt"),
    ("preprocessor of an unknown kind", _edit_meta("preprocessor", lambda c: _set(
        c, "kind", "pickle")), "unknown preprocessor kind"),
    ("preprocessor with a bad kind of column", _edit_meta("preprocessor", lambda c: _set(
        c, "columns", [{"name": "x", "kind": "code"}] * 3)), "preprocessor cannot be rebuilt"),
    ("loss that does not exist", _edit_meta("loss", lambda c: {"name": "os.system"}),
     "loss config is invalid"),
    ("classes not a list", _edit_meta("classes", lambda c: {"a": 1}), "'classes' must be"),
    ("NaN weights", _nan_weight, "NaN or inf"),
    ("newer format version", lambda raw: _edit_header(
        raw, lambda h: h["__metadata__"].update(format_version="99")), "format version 99"),
    ("plain safetensors file", lambda raw: _edit_header(
        raw, lambda h: h.pop("__metadata__")), "not a backprop model file"),
    ("missing tensor", lambda raw: _edit_header(raw, lambda h: h["__metadata__"].update(
        model_config=json.dumps({**json.loads(h["__metadata__"]["model_config"]),
                                 "layer_sizes": [3, 5, 5, 2]}))), "missing"),
    ("pickle renamed", lambda raw: PICKLE_EXPLOIT, "valid range"),
    ("pickle protocol 4", lambda raw: b"\x80\x04\x95\x1d" + bytes(7) + b"}\x94." + raw[:20],
     "valid range"),
    ("zip (torch.save) renamed", lambda raw: b"PK\x03\x04" + raw, "valid range"),
]


@pytest.fixture
def good_file(tmp_path):
    model = bp.MLP([3, 5, 2], activation="relu", output_activation="softmax", seed=4)
    scaler = Scaler("standard").fit(np.random.default_rng(0).normal(size=(20, 3)))
    return bp.save(model, tmp_path / "good.safetensors", scaler=scaler, classes=["a", "b"])


@pytest.mark.parametrize("damage, match", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_files_raise_model_file_error(good_file, tmp_path, damage, match):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(damage(good_file.read_bytes()))
    with pytest.raises(bp.ModelFileError, match=match) as info:
        bp.load(bad)
    assert str(bad) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert not os.path.exists("/tmp/backprop_owned")


def test_the_table_starts_from_a_good_file(good_file):
    model = bp.load(good_file)
    assert model.classes_ == ["a", "b"] and model.n_features == 3
