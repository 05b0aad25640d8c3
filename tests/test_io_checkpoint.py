"""Checkpoints: ModelCheckpoint, exact resume (10 + 10 epochs = 20), damaged checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors_bytes import edit_header as _edit_header

import backprop as bp
from backprop.io import format as _io_format
from backprop.io import restore_checkpoint


# -- checkpoints and exact resume ----------------------------------------------------------
def _resume_data():
    gen = np.random.default_rng(11)
    X = gen.normal(size=(150, 4))
    return X, (X[:, 0] * X[:, 1] + 0.3 * X[:, 2] > 0).astype(np.int64)


def _fresh():
    return bp.MLP([4, 12, 8, 1], activation="tanh", output_activation="sigmoid",
                  dropout=[0.2, 0.1], seed=21)


FIT = dict(loss="binary_crossentropy", batch_size=20, shuffle=True, validation_split=0.2,
           l2=1e-4)


def test_ten_plus_ten_epochs_equal_twenty_bit_for_bit(tmp_path):
    X, y = _resume_data()
    single = _fresh()
    h_single = single.fit(X, y, optimizer=bp.Adam(lr=0.01), epochs=20, **FIT)

    first = _fresh()
    ckpt = bp.ModelCheckpoint(tmp_path / "ckpt.safetensors")
    first.fit(X, y, optimizer=bp.Adam(lr=0.01), epochs=10, callbacks=[ckpt], **FIT)
    assert ckpt.last_path == tmp_path / "ckpt.safetensors"

    resumed = _fresh()  # a new process would build the model again from the same seed
    h_resumed = resumed.fit(X, y, optimizer=bp.Adam(lr=0.01), epochs=20,
                            resume_from=ckpt.last_path, **FIT)
    assert h_resumed.epoch == list(range(10, 20))
    np.testing.assert_array_equal(resumed.get_flat_weights(), single.get_flat_weights())
    assert h_resumed.history["loss"] == h_single.history["loss"][10:]
    assert h_resumed.history["val_loss"] == h_single.history["val_loss"][10:]
    assert resumed.optimizer.iterations == single.optimizer.iterations == 20 * 6
    np.testing.assert_array_equal(resumed.optimizer.state_arrays(resumed.flat_param)["v_sum"],
                                  single.optimizer.state_arrays(single.flat_param)["v_sum"])
    assert resumed.rng.bit_generator.state == single.rng.bit_generator.state


class _PowerCut(bp.Callback):
    """Interrupts training in the middle of an epoch, as Ctrl-C or a killed process would."""

    def __init__(self, epoch: int, batch: int) -> None:
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs):
        self.epoch = epoch

    def on_batch_end(self, batch, logs):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt


def test_training_interrupted_midway_resumes_from_a_loaded_checkpoint(tmp_path):
    X, y = _resume_data()
    single = _fresh()
    single.fit(X, y, optimizer=bp.Adam(lr=0.01), epochs=16, **FIT)

    interrupted = _fresh()
    ckpt = bp.ModelCheckpoint(tmp_path / "ckpt.safetensors")
    history = interrupted.fit(X, y, optimizer=bp.Adam(lr=0.01), epochs=16,
                              callbacks=[ckpt, _PowerCut(epoch=7, batch=2)], **FIT)
    assert history.interrupted and history.epoch == list(range(7))

    # A new process: the model comes from the checkpoint file itself.
    resumed = bp.load(ckpt.last_path)
    h = resumed.fit(X, y, optimizer="adam", epochs=16, resume_from=ckpt.last_path, **FIT)
    assert h.epoch == list(range(7, 16))
    np.testing.assert_array_equal(resumed.get_flat_weights(), single.get_flat_weights())


def test_resume_builds_the_checkpoint_optimizer_and_learning_rate(tmp_path):
    X, y = _resume_data()
    single = _fresh()
    opt = bp.SGD(lr=0.1, momentum=0.9, nesterov=True)
    single.fit(X, y, optimizer=opt, epochs=6, callbacks=[bp.StepDecay(2, 0.5)], **FIT)

    first = _fresh()
    ckpt = bp.ModelCheckpoint(tmp_path / "c-{epoch:02d}.safetensors", monitor="loss")
    first.fit(X, y, optimizer=bp.SGD(lr=0.1, momentum=0.9, nesterov=True), epochs=3,
              callbacks=[ckpt, bp.StepDecay(2, 0.5)], **FIT)
    assert ckpt.last_path.name == "c-03.safetensors"
    assert len(list(tmp_path.glob("c-*.safetensors"))) == 3

    resumed = _fresh()
    # A different optimiser kind is replaced by the checkpoint's, lr included (0.05 after
    # the decay at epoch 2).
    returned, epoch = restore_checkpoint(resumed, ckpt.last_path, bp.Adam())
    assert epoch == 3 and isinstance(returned, bp.SGD)
    assert returned.lr == 0.05 and returned.momentum == 0.9 and returned.nesterov
    # The same callbacks in the same places: the schedule gets back its starting rate (0.1)
    # from the checkpoint, not the decayed rate the optimiser resumes with.
    resumed.fit(X, y, optimizer="sgd", epochs=6, resume_from=ckpt.last_path,
                callbacks=[bp.ModelCheckpoint(tmp_path / "r.safetensors", monitor="loss"),
                           bp.StepDecay(2, 0.5)], **FIT)
    np.testing.assert_array_equal(resumed.get_flat_weights(), single.get_flat_weights())


def test_early_stopping_and_plateau_state_survive_a_resume(tmp_path):
    X, y = _resume_data()

    def callbacks(path):
        return [bp.ModelCheckpoint(path, monitor="val_loss"),
                bp.EarlyStopping(patience=2, min_delta=1e-3, restore_best_weights=True),
                bp.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=1e-3)]

    single = _fresh()
    whole = single.fit(X, y, optimizer=bp.Adam(lr=0.05), epochs=40,
                       callbacks=callbacks(tmp_path / "s.safetensors"), **FIT)
    assert whole.stopped_early and len(whole.epoch) > 8  # the test needs a late stop

    first = _fresh()
    first.fit(X, y, optimizer=bp.Adam(lr=0.05), epochs=6,
              callbacks=callbacks(tmp_path / "c.safetensors"), **FIT)
    resumed = _fresh()
    rest = resumed.fit(X, y, optimizer="adam", epochs=40, resume_from=tmp_path / "c.safetensors",
                       callbacks=callbacks(tmp_path / "r.safetensors"), **FIT)
    assert rest.epoch == whole.epoch[6:] and rest.stopped_early
    assert rest.history["lr"] == whole.history["lr"][6:]
    np.testing.assert_array_equal(resumed.get_flat_weights(), single.get_flat_weights())


def test_a_callback_missing_on_resume_is_reported(tmp_path):
    X, y = _resume_data()
    first = _fresh()
    first.fit(X, y, optimizer=bp.Adam(lr=0.05), epochs=2, **FIT,
              callbacks=[bp.ModelCheckpoint(tmp_path / "c.safetensors", monitor="loss"),
                         bp.StepDecay(2, 0.5)])
    with pytest.warns(RuntimeWarning, match="StepDecay at position 1"):
        _fresh().fit(X, y, optimizer="adam", epochs=3, resume_from=tmp_path / "c.safetensors",
                     **FIT)


def test_optimizer_with_the_checkpoint_settings_receives_the_state(tmp_path):
    X, y = _resume_data()
    model = _fresh()
    ckpt = bp.ModelCheckpoint(tmp_path / "c.safetensors", monitor="loss")
    model.fit(X, y, optimizer=bp.RMSprop(lr=0.003, momentum=0.5), epochs=2, callbacks=[ckpt],
              **FIT)
    saved = model.optimizer.state_arrays(model.flat_param)

    resumed = _fresh()
    mine = bp.RMSprop(lr=1.0, momentum=0.5)  # same settings apart from the learning rate
    returned, epoch = restore_checkpoint(resumed, ckpt.last_path, mine)
    assert returned is mine and epoch == 2
    assert mine.lr == 0.003 and mine.iterations == model.optimizer.iterations == 2 * 6
    state = mine.state_arrays(resumed.flat_param)
    assert state["step"] == saved["step"] == 12
    np.testing.assert_array_equal(state["buffer"], saved["buffer"])
    np.testing.assert_array_equal(state["square_avg"], saved["square_avg"])

    # Other settings would not continue the same run: the checkpoint's optimiser is rebuilt.
    other = bp.RMSprop(lr=0.003)
    returned, _ = restore_checkpoint(_fresh(), ckpt.last_path, other)
    assert returned is not other and returned.momentum == 0.5


def test_save_best_only_writes_on_improvement_and_keeps_best_across_resume(tmp_path):
    X, y = _resume_data()
    model = _fresh()
    ckpt = bp.ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True)
    history = model.fit(X, y, optimizer=bp.Adam(lr=0.05), epochs=8, callbacks=[ckpt], **FIT)
    val = history.history["val_loss"]
    assert ckpt.best == min(val) and ckpt.best_epoch == int(np.argmin(val))
    _, meta = _io_format.read_safetensors(ckpt.last_path)
    info = json.loads(meta["checkpoint"])
    assert info["epoch"] == ckpt.best_epoch + 1 and info["best"] == min(val)

    again = bp.ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True)
    resumed = _fresh()
    resumed.fit(X, y, optimizer="adam", epochs=info["epoch"], resume_from=ckpt.last_path,
                callbacks=[again], **FIT)
    assert again.best == min(val)  # carried over, so a worse epoch cannot overwrite the file


def test_checkpoint_monitor_errors(tmp_path):
    X, y = _resume_data()
    with pytest.raises(ValueError, match="no validation data"):
        _fresh().fit(X, y, epochs=1, callbacks=[bp.ModelCheckpoint(
            tmp_path / "c.safetensors", save_best_only=True)], loss="binary_crossentropy")
    with pytest.raises(ValueError, match="'nope', which is not logged"):
        _fresh().fit(X, y, epochs=1, callbacks=[bp.ModelCheckpoint(
            tmp_path / "c.safetensors", monitor="nope", save_best_only=True)],
            loss="binary_crossentropy")
    with pytest.raises(ValueError, match="cannot fill in the checkpoint path"):
        _fresh().fit(X, y, epochs=1, callbacks=[bp.ModelCheckpoint(tmp_path / "{oops}.st")],
                     loss="binary_crossentropy")
    with pytest.raises(TypeError, match="save_best_only"):
        bp.ModelCheckpoint("c.safetensors", save_best_only="yes")


def test_a_loaded_checkpoint_is_a_model(tmp_path):
    X, y = _resume_data()
    model = _fresh()
    ckpt = bp.ModelCheckpoint(tmp_path / "c.safetensors", monitor="loss")
    model.fit(X, y, optimizer="adam", epochs=2, callbacks=[ckpt], **FIT)
    np.testing.assert_array_equal(bp.load(ckpt.last_path).predict(X), model.predict(X))


def _checkpoint(tmp_path):
    X, y = _resume_data()
    ckpt = bp.ModelCheckpoint(tmp_path / "c.safetensors", monitor="loss")
    _fresh().fit(X, y, optimizer="adam", epochs=1, callbacks=[ckpt], **FIT)
    return ckpt.last_path


def _edit_checkpoint(key, value):
    def change(header):
        info = json.loads(header["__metadata__"]["checkpoint"])
        info[key] = value
        header["__metadata__"]["checkpoint"] = json.dumps(info)
    return change


@pytest.mark.parametrize("change, match", [
    (_edit_checkpoint("rng_state", {"bit_generator": "os.system"}), "unknown bit generator"),
    (_edit_checkpoint("rng_state", {"bit_generator": "PCG64", "state": {"state": -1}}),
     "invalid PCG64 random state"),
    (_edit_checkpoint("epoch", -3), "epoch must be an integer"),
    (_edit_checkpoint("optimizer", {"name": "adam", "lr": -1}), "optimizer config"),
    (_edit_checkpoint("optimizer", {"name": "evil"}), "unknown optimizer"),
    (_edit_checkpoint("optimizer_scalars", {"step": "1"}), "optimizer_scalars"),
    (_edit_checkpoint("optimizer_scalars", {"step": 1.5}), "optimizer state 'step'"),
    (_edit_checkpoint("optimizer_scalars", {"m_sum": 1}), "appears both as numbers and as tensors"),
    (_edit_checkpoint("optimizer_scalars", {"velocity": 1}), "'velocity' does not fit"),
    (lambda h: h.update({"optimizer.momentum": h.pop("optimizer.m_sum")}),
     "optimizer state 'momentum' does not fit"),
    (lambda h: h["optimizer.m_sum"].update(shape=[1, h["optimizer.m_sum"]["shape"][0]]),
     "optimizer tensor 'optimizer.m_sum' must be"),
    (lambda h: h["__metadata__"].update(kind="model"), "not a checkpoint"),
])
def test_damaged_checkpoints_raise_before_touching_the_model(tmp_path, change, match):
    path = _checkpoint(tmp_path)
    path.write_bytes(_edit_header(path.read_bytes(), change))
    model = _fresh()
    before = model.get_flat_weights()
    state = model.rng.bit_generator.state
    with pytest.raises(bp.ModelFileError, match=match):
        restore_checkpoint(model, path, bp.Adam())
    np.testing.assert_array_equal(model.get_flat_weights(), before)
    assert model.rng.bit_generator.state == state


def test_checkpoints_with_torch_style_adam_moments_still_load(tmp_path):
    """Older checkpoints hold Adam's m and v as torch defines them; now it keeps m/(1−β₁)
    and v/(1−β₂). A file with "m" and "v" loads into the same moments."""
    path = _checkpoint(tmp_path)
    saved = _fresh()
    opt = bp.Adam()
    restore_checkpoint(saved, path, opt)
    m_sum = opt.state_arrays(saved.flat_param)["m_sum"]

    def rename(header):
        header["optimizer.m"] = header.pop("optimizer.m_sum")
        header["optimizer.v"] = header.pop("optimizer.v_sum")

    path.write_bytes(_edit_header(path.read_bytes(), rename))
    model = _fresh()
    legacy = bp.Adam()
    restore_checkpoint(model, path, legacy)
    # The file's "m" holds what was m_sum, read as torch's m: m_sum = m/(1−β₁).
    np.testing.assert_allclose(legacy.state_arrays(model.flat_param)["m_sum"], m_sum / 0.1,
                               rtol=1e-6)
    np.testing.assert_allclose(legacy.moments(model.flat_param)[0], m_sum, rtol=1e-6)
    assert set(legacy.state_arrays(model.flat_param)) == {"step", "m_sum", "v_sum"}


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    path = _checkpoint(tmp_path)
    other = bp.MLP([4, 12, 8, 1], activation="relu", output_activation="sigmoid",
                   dropout=[0.2, 0.1], seed=21)
    with pytest.raises(bp.ModelFileError, match="architecture"):
        restore_checkpoint(other, path, None)
    with pytest.warns(RuntimeWarning, match="seed=21"):
        restore_checkpoint(bp.MLP([4, 12, 8, 1], activation="tanh", output_activation="sigmoid",
                                  dropout=[0.2, 0.1], seed=22), path)
