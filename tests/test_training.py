"""Training: XOR and moons are learnt, runs are reproducible, and the loop behaves."""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop as bp
from backprop.training import split_indices


class Snapshots(bp.Callback):
    """Copies the weights at the end of every epoch (what the loop calls a finished epoch)."""

    def __init__(self):
        self.weights = []

    def on_epoch_end(self, epoch, logs):
        self.weights.append(self.model.get_flat_weights())


# -- learning -------------------------------------------------------------------------------


def test_xor_is_learnt_from_nearly_every_seed(xor_data):
    """MLP([2, 4, 1]) learns XOR for at least 19 of the seeds 0..19.

    Configuration (chosen by experiment): elu hidden units (default He-normal init), sigmoid
    output, binary cross-entropy, Adam(lr=0.05), full batch, 300 epochs, float32.
    Measured over seeds 0..299 it reaches 100% accuracy 299 times, each with every output at
    least 0.48 away from the 0.5 threshold. (tanh with the same settings: 290/300; relu:
    about half, since a relu unit with zero bias is dead on the (0, 0) corner.)
    """
    X, y = xor_data
    solved = 0
    for seed in range(20):
        model = bp.MLP([2, 4, 1], activation="elu", output_activation="sigmoid", seed=seed)
        model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.05), epochs=300)
        solved += bool(np.all(model.predict_classes(X) == y))
    assert solved >= 19


@pytest.fixture(scope="module")
def moons():
    """The chapter's moons: 1000 samples, noise 0.2, 80/20 split, standardised on train."""
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_moons(n_samples=1000, noise=0.2, random_state=42)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def test_moons_reach_96_percent_test_accuracy(moons):
    # relu hidden, sigmoid output, binary cross-entropy, Adam(lr=0.05), full batch, 500 epochs
    # (measured: 97.0-98.5% over seeds 0..9).
    X_train, X_test, y_train, y_test = moons
    model = bp.MLP([2, 10, 10, 1], activation="relu", output_activation="sigmoid", seed=42)
    model.fit(X_train, y_train, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.05),
              epochs=500)
    assert np.mean(model.predict_classes(X_test) == y_test) >= 0.96
    assert model.evaluate(X_test, y_test)["accuracy"] >= 0.96


def test_fit_equals_the_same_loop_in_torch(torch, blobs):
    # Mini-batches of 16 in order, Adam, l2: every step of fit against autograd + torch.optim.
    X, y = blobs
    lam = 1e-3
    model = bp.MLP([3, 6, 1], activation="tanh", output_activation="sigmoid", seed=3,
                   dtype="float64")
    W1, b1, W2, b2 = (torch.tensor(v.copy(), requires_grad=True)
                      for v in (model.weights[0], model.biases[0],
                                model.weights[1], model.biases[1]))
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01),
                        epochs=4, batch_size=16, shuffle=False, l2=lam)
    opt = torch.optim.Adam([W1, b1, W2, b2], lr=0.01)
    tX, ty = torch.from_numpy(X), torch.from_numpy(y.astype(np.float64)).reshape(-1, 1)
    epoch_losses = []
    for _ in range(4):
        total = 0.0
        for start in range(0, len(X), 16):
            xb, yb = tX[start:start + 16], ty[start:start + 16]
            opt.zero_grad()
            logits = torch.tanh(xb @ W1 + b1) @ W2 + b2
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yb)
            loss = loss + lam * (W1.pow(2).sum() + W2.pow(2).sum())
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        epoch_losses.append(total / len(X))
    np.testing.assert_allclose(history.history["loss"], epoch_losses, rtol=1e-12)
    for ours, theirs in zip([*model.weights, *model.biases], [W1, W2, b1, b2]):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-12)


def test_full_batch_is_one_gradient_step_per_epoch(blobs):
    X, y = blobs
    fitted = bp.MLP([3, 5, 1], activation="tanh", output_activation="sigmoid", seed=0,
                    dtype="float64")
    manual = bp.MLP([3, 5, 1], activation="tanh", output_activation="sigmoid", seed=0,
                    dtype="float64")
    steps = []

    class CountSteps(bp.Callback):
        def on_batch_end(self, batch, logs):
            steps.append(batch)

    history = fitted.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.5),
                         epochs=3, batch_size=None, callbacks=[CountSteps()])
    losses = []
    for _ in range(3):
        value, grads = manual.loss_and_gradients(X, y, loss="binary_crossentropy")
        losses.append(value)
        for (dW, db), W, b in zip(grads, manual.weights, manual.biases):
            W -= 0.5 * dW
            b -= 0.5 * db
    assert steps == [0, 0, 0]
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-13)
    np.testing.assert_allclose(fitted.get_flat_weights(), manual.get_flat_weights(),
                               rtol=1e-13, atol=1e-15)
    # A batch at least as large as the data set is the same full batch.
    again = bp.MLP([3, 5, 1], activation="tanh", output_activation="sigmoid", seed=0,
                   dtype="float64")
    again.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.5), epochs=3,
              batch_size=10_000)
    np.testing.assert_array_equal(again.get_flat_weights(), fitted.get_flat_weights())


# -- reproducibility ------------------------------------------------------------------------


def _noisy_run(X, y, seed):
    model = bp.MLP([3, 8, 8, 1], activation="relu", output_activation="sigmoid", dropout=0.3,
                   seed=seed)
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01),
                        epochs=5, batch_size=16, shuffle=True, validation_split=0.25)
    return model.get_flat_weights(), history.history


def test_same_seed_gives_bit_identical_runs(blobs):
    X, y = blobs
    weights_a, history_a = _noisy_run(X, y, seed=123)
    weights_b, history_b = _noisy_run(X, y, seed=123)
    np.testing.assert_array_equal(weights_a, weights_b)
    assert history_a == history_b  # every logged float, exactly
    weights_c, history_c = _noisy_run(X, y, seed=124)
    assert np.any(weights_a != weights_c)
    assert history_a["loss"] != history_c["loss"]


def test_dropout_and_shuffling_draw_from_the_model_seed(blobs):
    # Same initial weights, different generator: the randomness of training alone differs.
    X, y = blobs
    a = bp.MLP([3, 8, 1], output_activation="sigmoid", dropout=0.5, seed=1)
    b = bp.MLP([3, 8, 1], output_activation="sigmoid", dropout=0.5, seed=2)
    b.set_flat_weights(a.get_flat_weights())
    for model in (a, b):
        model.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.1), epochs=2,
                  batch_size=8)
    assert np.any(a.get_flat_weights() != b.get_flat_weights())


def test_a_callable_shuffle_gives_each_epochs_row_order(blobs):
    # order(n) per epoch: training on its rows equals training unshuffled on rows laid out
    # in that order, epoch by epoch.
    X, y = blobs
    orders = [np.random.default_rng(k).permutation(len(X)) for k in range(3)]
    calls = iter(orders)
    given = bp.MLP([3, 5, 1], output_activation="sigmoid", seed=0, dtype="float64")
    given.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01), epochs=3,
              batch_size=16, shuffle=lambda n: next(calls))
    laid_out = bp.MLP([3, 5, 1], output_activation="sigmoid", seed=0, dtype="float64")
    opt = bp.Adam(lr=0.01)
    for order in orders:
        laid_out.fit(X[order], y[order], loss="binary_crossentropy", optimizer=opt, epochs=1,
                     batch_size=16, shuffle=False)
    np.testing.assert_allclose(given.get_flat_parameters(), laid_out.get_flat_parameters(),
                               rtol=1e-12)
    with pytest.raises(TypeError, match="shuffle must be True, False or a callable"):
        given.fit(X, y, shuffle="yes")


# -- validation split -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_validation_split_is_stratified(blobs, seed):
    # A model that answers 1 whatever the input: its accuracy is the share of positives. One
    # third of the 120 samples are positive; a 25% split must keep a third on both sides
    # (10 of 30 and 30 of 90), which a plain random split rarely does.
    X, y = blobs
    model = bp.MLP([3, 1], output_activation="sigmoid", seed=seed, dtype="float64")
    model.weights[0][...] = 0.0
    model.biases[0][...] = 10.0
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=1e-300),
                        epochs=1, validation_split=0.25)
    assert history.history["val_accuracy"] == [pytest.approx(1 / 3, rel=1e-12)]
    assert history.history["accuracy"] == [pytest.approx(1 / 3, rel=1e-12)]


def test_split_indices_keep_class_proportions():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    T = np.eye(3)[labels]
    train, val = split_indices(T, 100, 0.2, np.random.default_rng(0))
    assert np.bincount(labels[val]).tolist() == [10, 6, 4]
    assert np.bincount(labels[train]).tolist() == [40, 24, 16]
    assert sorted([*train, *val]) == list(range(100))
    # Regression targets: a plain random split of the right size.
    train, val = split_indices(None, 100, 0.3, np.random.default_rng(0))
    assert len(val) == 30 and len(set(train) | set(val)) == 100


# -- history, callbacks, early stopping, interruption -----------------------------------------


def test_history_keys_and_values(blobs):
    X, y = blobs
    model = bp.MLP([3, 4, 4, 1], activation="tanh", output_activation="sigmoid", seed=0,
                   dtype="float64")
    start = model.get_flat_weights()
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.1), epochs=6,
                        validation_data=(X[:20], y[:20]))
    assert model.history is history
    norms = {f"{kind}/layer{k}" for kind in ("grad_norm", "weight_norm") for k in (1, 2, 3)}
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} | norms
    assert all(len(v) == 6 for v in history.history.values())
    assert history.epoch == list(range(6))
    assert history.layer_series("weight_norm").shape == (6, 3)
    assert not history.stopped_early and not history.interrupted
    # The last epoch's figures describe the final weights.
    final = model.evaluate(X[:20], y[:20])
    assert history.history["val_loss"][-1] == pytest.approx(final["loss"], rel=1e-12)
    assert history.history["val_accuracy"][-1] == final["accuracy"]
    for k, W in enumerate(model.weights, start=1):
        assert history.history[f"weight_norm/layer{k}"][-1] == pytest.approx(
            np.linalg.norm(W), rel=1e-12)
    # The first epoch's loss and gradient norms are measured at the starting weights.
    model.set_flat_weights(start)
    value, grads = model.loss_and_gradients(X, y, loss="binary_crossentropy")
    assert history.history["loss"][0] == pytest.approx(value, rel=1e-12)
    for k, (dW, _) in enumerate(grads, start=1):
        assert history.history[f"grad_norm/layer{k}"][0] == pytest.approx(
            np.linalg.norm(dW), rel=1e-12)
    # Regression: no accuracy is logged.
    regression = bp.MLP([3, 2, 1], seed=0).fit(X, X[:, 0] * 0.3, loss="mse", epochs=2)
    assert not {"accuracy", "val_accuracy"} & set(regression.history)


@pytest.mark.parametrize("use_bias", [True, False])
def test_layer_norms_match_each_layer(blobs, use_bias):
    # Each layer's grad_norm is ‖∂L/∂W⁽ᵏ⁾‖ alone, never mixed with bias gradients.
    X, y = blobs
    model = bp.Sequential([bp.Dense(3, 4, "tanh", use_bias=use_bias),
                           bp.Dense(4, 2, "tanh", use_bias=use_bias),
                           bp.Dense(2, 1, "sigmoid", use_bias=use_bias)], seed=0,
                          dtype="float64")
    start = model.get_flat_weights()
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.1), epochs=1)
    final = [np.linalg.norm(W) for W in model.weights]
    model.set_flat_weights(start)
    _, grads = model.loss_and_gradients(X, y, loss="binary_crossentropy")
    np.testing.assert_allclose(history.layer_series("grad_norm")[0],
                               [np.linalg.norm(dW) for dW, _ in grads], rtol=1e-12)
    np.testing.assert_allclose(history.layer_series("weight_norm")[0], final, rtol=1e-12)


def test_callback_hooks_are_called_in_order(blobs):
    X, y = blobs
    calls = []

    class Recorder(bp.Callback):
        def on_train_begin(self, logs):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs):
            calls.append(f"epoch_begin {epoch}")

        def on_batch_begin(self, batch, logs):
            calls.append(f"batch_begin {batch} size={logs['size']}")

        def on_batch_end(self, batch, logs):
            assert math.isfinite(logs["loss"])
            calls.append(f"batch_end {batch}")

        def on_epoch_end(self, epoch, logs):
            assert {"loss", "accuracy", "lr"} <= set(logs)
            calls.append(f"epoch_end {epoch}")

        def on_train_end(self, logs):
            calls.append("train_end")

    recorder = Recorder()
    model = bp.MLP([3, 2, 1], output_activation="sigmoid", seed=0)
    model.fit(X[:100], y[:100], loss="binary_crossentropy", epochs=2, batch_size=60,
              callbacks=[recorder])
    assert recorder.model is model
    epoch = ["batch_begin 0 size=60", "batch_end 0", "batch_begin 1 size=40", "batch_end 1"]
    assert calls == ["train_begin", "epoch_begin 0", *epoch, "epoch_end 0",
                     "epoch_begin 1", *epoch, "epoch_end 1", "train_end"]


def test_early_stopping_stops_and_restores_the_best_weights(blobs):
    # 16 training samples and a net of 32×32 units overfit within a few epochs, so the
    # validation loss falls, then rises.
    X, y = blobs
    model = bp.MLP([3, 32, 32, 1], activation="relu", output_activation="sigmoid", seed=0)
    stop = bp.EarlyStopping(monitor="val_loss", patience=5)
    snapshots = Snapshots()
    history = model.fit(X[:16], y[:16], loss="binary_crossentropy", optimizer=bp.Adam(lr=0.05),
                        epochs=300, validation_data=(X[16:], y[16:]),
                        callbacks=[snapshots, stop])
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert best > 0 and stop.best_epoch == best
    # patience = 5 bad epochs are tolerated; the sixth stops training.
    assert len(history.epoch) == best + 5 + 2 < 300
    assert stop.stopped_epoch == best + 6 and history.stopped_early
    np.testing.assert_array_equal(model.get_flat_weights(), snapshots.weights[best])
    assert model.evaluate(X[16:], y[16:])["loss"] == pytest.approx(val_loss[best], rel=1e-6)


def test_early_stopping_without_validation_data_says_what_to_do(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="no validation data.*monitor='loss'"):
        bp.MLP([3, 1], seed=0).fit(X, y, epochs=2, callbacks=[bp.EarlyStopping()])


class _Interrupt(bp.Callback):
    """Presses Ctrl-C at a chosen epoch or batch, remembering the weights at that moment."""

    def __init__(self, epoch=None, batch=None):
        self.at_epoch, self.at_batch = epoch, batch
        self.epoch = 0
        self.weights = None
        self.ended = False

    def on_epoch_begin(self, epoch, logs):
        self.epoch = epoch

    def _press(self):
        self.weights = self.model.get_flat_weights()
        raise KeyboardInterrupt

    def on_batch_end(self, batch, logs):
        if self.at_batch is not None and (self.epoch, batch) == self.at_batch:
            self._press()

    def on_epoch_end(self, epoch, logs):
        if epoch == self.at_epoch:
            self._press()

    def on_train_end(self, logs):
        self.ended = True


@pytest.mark.parametrize("where, epochs_done", [
    (dict(epoch=3), 4),  # History, the first callback, has recorded epoch 3 already
    (dict(batch=(1, 2)), 1),  # in the middle of epoch 1: only epoch 0 completed
])
def test_ctrl_c_stops_and_keeps_the_weights(blobs, where, epochs_done):
    X, y = blobs
    interrupt = _Interrupt(**where)
    model = bp.MLP([3, 4, 1], output_activation="sigmoid", seed=0)
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.1), epochs=50,
                        batch_size=10, callbacks=[interrupt])
    assert history.interrupted and not history.stopped_early
    assert history.epoch == list(range(epochs_done))
    assert all(len(v) == epochs_done for v in history.history.values())
    assert interrupt.ended  # on_train_end still runs
    np.testing.assert_array_equal(model.get_flat_weights(), interrupt.weights)


# -- divergence -----------------------------------------------------------------------------


@pytest.mark.parametrize("hidden, output, loss", [
    ("relu", "sigmoid", "binary_crossentropy"),
    ("relu", "identity", "mse"),
    # Bounded outputs saturate: the loss stays finite (never NaN), yet training is wrecked.
    ("tanh", "sigmoid", "mse"),
    ("sigmoid", "sigmoid", "binary_crossentropy"),
])
@pytest.mark.parametrize("seed", [0, 1])
def test_lr_1e6_stops_with_a_clear_error_and_finite_weights(moons, hidden, output, loss, seed):
    X_train, _, y_train, _ = moons
    model = bp.MLP([2, 10, 10, 1], activation=hidden, output_activation=output, seed=seed)
    initial = model.get_flat_weights()
    epochs = Snapshots()
    with pytest.raises(bp.TrainingDiverged, match=r"diverged in epoch \d+") as info:
        model.fit(X_train, y_train, loss=loss, optimizer=bp.SGD(lr=1e6), epochs=100,
                  callbacks=[epochs])
    error = info.value
    message = str(error)
    assert f"epoch {error.epoch + 1}" in message  # 1-based, as a person counts epochs
    assert "smaller learning rate" in message and "lr=1e+06" in message
    assert error.history.epoch == list(range(error.epoch))
    weights = model.get_flat_weights()
    assert np.all(np.isfinite(weights))
    # The model keeps the weights of the last epoch that ended well (or its initial ones).
    kept = epochs.weights[-1] if error.epoch > 0 else initial
    np.testing.assert_array_equal(weights, kept)


# The overflow warnings NumPy emits on the way to a NaN are expected here.
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_nan_loss_stops_training_and_keeps_the_last_finite_weights(moons):
    X_train, _, y_train, _ = moons
    model = bp.MLP([2, 10, 1], activation="relu", seed=0)
    initial = model.get_flat_weights()
    # Inputs of 1e20 overflow float32 in the squared error at the very first step.
    with pytest.raises(bp.TrainingDiverged, match="the loss became NaN or infinite"):
        model.fit(X_train * 1e20, y_train, loss="mse", optimizer=bp.SGD(lr=1e-3), epochs=5)
    np.testing.assert_array_equal(model.get_flat_weights(), initial)


def test_steady_large_steps_are_not_mistaken_for_divergence(moons):
    X_train, _, y_train, _ = moons
    model = bp.MLP([2, 10, 10, 1], activation="relu", output_activation="sigmoid",
                   init="zeros", seed=0)  # from ‖W‖ = 0 the first epoch's growth is unbounded
    model.fit(X_train, y_train, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.5),
              epochs=20)
    assert np.isfinite(model.history.history["loss"]).all()


def test_pickle_and_deepcopy_keep_parameters_as_views_of_one_buffer():
    import copy
    import pickle

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = bp.MLP([3, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01), epochs=3)
    for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert np.shares_memory(clone.weights[0], clone.flat_param.value)
        np.testing.assert_array_equal(clone.predict(X), model.predict(X))
        # Training the clone and the original further gives the same weights (moments kept).
        clone.fit(X, y, loss="binary_crossentropy", optimizer=clone.optimizer, epochs=2)
    model.fit(X, y, loss="binary_crossentropy", optimizer=model.optimizer, epochs=2)
    np.testing.assert_array_equal(clone.get_flat_weights(), model.get_flat_weights())


# -- norms and divergence with few snapshot rows --------------------------------------------


class GrowingRate(bp.Callback):
    """Multiplies the learning rate by 10 after every epoch: training diverges in a few."""

    def on_epoch_end(self, epoch, logs):
        self.model.optimizer.lr *= 10


@pytest.mark.parametrize("dtype, rtol", [("float32", 1e-6), ("float64", 1e-13)])
def test_norms_squared_in_chunks_equal_the_squared_copy(moons, monkeypatch, dtype, rtol):
    """A large model's snapshots are squared in chunks (no squared copy of the rows): the
    norms are those of the copy, to rounding."""
    from backprop._fast import norms as _norms

    X_train, _, y_train, _ = moons

    def norms(square_at_once, chunk):
        monkeypatch.setattr(_norms, "SQUARE_AT_ONCE", square_at_once)
        monkeypatch.setattr(_norms, "CHUNK", chunk)
        model = bp.MLP([2, 10, 10, 1], output_activation="sigmoid", seed=3, dtype=dtype)
        history = model.fit(X_train, y_train, loss="binary_crossentropy", epochs=6,
                            batch_size=100)
        return {key: history.layer_series(key) for key in ("grad_norm", "weight_norm")}

    reference = norms(1 << 20, 1 << 16)
    chunked = norms(0, 7)  # every snapshot in chunks of 7 numbers
    for key in reference:
        np.testing.assert_allclose(chunked[key], reference[key], rtol=rtol)


@pytest.mark.parametrize("budget_rows", [1, 3])
def test_norms_and_divergence_do_not_depend_on_snapshot_rows(moons, monkeypatch, budget_rows):
    """Each epoch's [values | gradients] goes into a row of a buffer reduced when full;
    with 1 or 3 rows (large models) the norms and the restored weights are the same as with
    the 256 rows a small model gets."""
    from backprop._fast import norms as _norms

    X_train, _, y_train, _ = moons

    def run(rows):
        model = bp.MLP([2, 10, 10, 1], activation="relu", output_activation="identity",
                       seed=3, dtype="float64")
        storage = model.storage.buffer.size
        monkeypatch.setattr(_norms, "SNAPSHOT_BUDGET", rows * storage if rows else 1 << 22)
        history = model.fit(X_train, y_train, loss="mse", optimizer=bp.SGD(lr=0.05), epochs=8,
                            batch_size=100)
        epochs = Snapshots()
        with pytest.raises(bp.TrainingDiverged) as info:
            model.fit(X_train, y_train, loss="mse", optimizer=bp.SGD(lr=0.01), epochs=50,
                      callbacks=[epochs, GrowingRate()])
        return history, info.value, epochs.weights, model.get_flat_weights()

    history, error, kept, weights = run(budget_rows)
    reference, reference_error, _, reference_weights = run(None)
    assert error.epoch == reference_error.epoch > budget_rows
    for key in ("grad_norm", "weight_norm"):
        np.testing.assert_array_equal(history.layer_series(key), reference.layer_series(key))
        np.testing.assert_array_equal(error.history.layer_series(key),
                                      reference_error.history.layer_series(key))
    np.testing.assert_array_equal(weights, kept[-1])  # the last epoch that ended well
    np.testing.assert_array_equal(weights, reference_weights)


@pytest.mark.parametrize("settings", [
    {"batch_size": 32},  # shuffled batches gathered into buffers, fused SGD step
    {"batch_size": None},  # the full batch: X copied with a ones column
    {"batch_size": 32, "validation_split": 0.25, "optimizer": "adam"},
], ids=["mini-batch", "full-batch", "validation-adam"])
def test_fit_leaves_no_reference_cycles(blobs, settings):
    # A cycle through the loop (a bound method kept on itself, a step closure reading its
    # owner) kept X's ones-column copy and the norm snapshots (34 MB on a 4.3M-parameter
    # network) alive after fit until Python's rare full collection: fits in a loop grew.
    import gc

    X, y = blobs
    model = bp.MLP([X.shape[1], 16, 3], output_activation="softmax", seed=0)
    fit = dict(loss="categorical_crossentropy", epochs=3, metrics=["accuracy"], **settings)
    model.fit(X, y, **fit)  # what loads once per process (numba's kernels) leaves its own
    while gc.collect():  # earlier tests' garbage (a finaliser may free more)
        pass
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        model.fit(X, y, **fit)
        gc.collect()
        garbage = [type(o).__qualname__ for o in gc.garbage
                   if type(o).__module__.startswith("backprop")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert garbage == []


def test_a_large_models_fit_holds_no_copy_of_the_starting_weights():
    # The weights restored on divergence before the first epoch ends live in the norm
    # snapshot row the epoch will fill (``NormSnapshots.hold``), not in a copy of their own:
    # a 1.08 M-parameter fit allocates 3.25× its parameters at the peak, 4.25× with the copy.
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 32), dtype=np.float32)
    y = rng.integers(0, 2, 512)
    model = bp.MLP([32, 1024, 1024, 1], output_activation="sigmoid", seed=0)
    fit = dict(loss="binary_crossentropy", epochs=2, batch_size=128, metrics=[])
    model.fit(X, y, **fit)  # first-use allocations (caches, BLAS buffers) out of the way
    start = model.get_flat_parameters().copy()
    tracemalloc.start()
    try:
        model.fit(X, y, **fit)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3.75 * model.flat_param.value.nbytes
    # ... and what it holds is still restored: a NaN loss in the first epoch of a fit
    model.set_flat_parameters(start)
    X_bad = X.copy()
    X_bad[300:] = 1e30  # finite inputs whose products overflow float32 after the first rows
    with pytest.raises(bp.TrainingDiverged):
        model.fit(X_bad, y, shuffle=False, **fit)
    np.testing.assert_array_equal(model.get_flat_parameters(), start)
