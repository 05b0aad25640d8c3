"""Issue 11, replayed: each test is one row of the issue's table, done as a user would (the
command line in a subprocess, or Python), asserting the fixed behaviour.

Real data nobody tuned: scikit-learn's wine and (raw) diabetes sets written to CSV files, and
hand-made messy tables (``workflow_data``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from workflow_data import (
    cli,
    diabetes_frame,
    flat,
    messy_frame,
    ratings_frame,
    wine_frame,
    write,
)

import backprop as bp
from backprop import datasets

ORT = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("workflow")


@pytest.fixture(scope="module")
def wine_run(work):
    """``backprop train --data wine.csv --target cultivar`` with the defaults."""
    path = write(wine_frame(), work / "wine.csv")
    done = cli("train", "--data", path, "--target", "cultivar", "--out", work / "wine",
               "--quiet", cwd=work)
    assert done.returncode == 0, done.stderr
    return path, work / "wine", done.stdout


@pytest.fixture(scope="module")
def diabetes_run(work):
    """``backprop train --data diabetes.csv --target progression`` with the defaults."""
    path = write(diabetes_frame(), work / "diabetes.csv")
    done = cli("train", "--data", path, "--target", "progression", "--out", work / "diabetes",
               "--quiet", "--no-plots", cwd=work)
    assert done.returncode == 0, done.stderr
    return path, work / "diabetes", done.stdout


def _cli_predictions(work, run, data, name):
    out = work / f"{name}.csv"
    done = cli("predict", "--model", run, "--data", data, "--output", out, cwd=work)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(out)


def _onnx(work, run, name):
    out = work / f"{name}.onnx"
    done = cli("export", "--model", run, "--format", "onnx", "--output", out, cwd=work)
    assert done.returncode == 0, done.stderr
    return ORT.InferenceSession(str(out), providers=["CPUExecutionProvider"])


# -- row 1: a loaded model predicts on raw rows --------------------------------------------
def test_row01_loaded_model_predicts_raw_rows_as_the_cli_and_onnx_do(work, wine_run):
    path, run, stdout = wine_run
    frame = wine_frame()
    raw = frame.drop(columns="cultivar")
    model = bp.load(run)
    proba = model.predict(raw.to_numpy())
    accuracy = float(np.mean(proba.argmax(axis=1) == frame["cultivar"]))
    assert accuracy > 0.9  # was 33%: predict ignored the saved scaler
    cli_rows = _cli_predictions(work, run, path, "wine_preds")
    np.testing.assert_allclose(cli_rows[["p_0", "p_1", "p_2"]].to_numpy(), proba, atol=1e-12)
    onnx = _onnx(work, run, "wine").run(None, {"X": raw.to_numpy(np.float32)})[0]
    np.testing.assert_allclose(onnx, proba, rtol=1e-5, atol=1e-6)


def test_row01_a_scaler_passed_to_save_is_applied_after_load(tmp_path):
    ds = datasets.wine()
    scaler = datasets.Scaler().fit(ds.X)
    model = bp.MLP([13, 8, 3], output_activation="softmax", seed=0)
    model.fit(scaler.transform(ds.X), ds.y, loss="categorical_crossentropy", optimizer="adam",
              epochs=30, batch_size=32)
    loaded = bp.load(bp.save(model, tmp_path / "m.safetensors", scaler=scaler))
    np.testing.assert_array_equal(loaded.predict(ds.X), model.predict(scaler.transform(ds.X)))


# -- row 2: regression keeps its target scaling in every path ------------------------------
def test_row02_regression_target_units_in_load_cli_onnx_and_torch(work, diabetes_run):
    import torch

    path, run, _ = diabetes_run
    frame = diabetes_frame()
    raw = frame.drop(columns="progression")
    model = bp.load(run)
    values = model.predict(raw)[:, 0]
    assert 100 < values.mean() < 200  # the target's units (was 2.32 from ONNX)
    np.testing.assert_allclose(_cli_predictions(work, run, path, "dia_preds")["prediction"],
                               values, rtol=1e-12)
    onnx = _onnx(work, run, "diabetes").run(None, {"X": raw.to_numpy(np.float32)})[0][:, 0]
    np.testing.assert_allclose(onnx, values, rtol=1e-5)
    done = cli("export", "--model", run, "--format", "torch", "--output", work / "dia.pt",
               cwd=work)
    assert done.returncode == 0, done.stderr
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load's own notice
        scripted = torch.jit.load(str(work / "dia.pt"))(torch.tensor(raw.to_numpy()))
    np.testing.assert_allclose(scripted.numpy()[:, 0], values, rtol=1e-6)


# -- rows 3, 4, 5: impossible output layers are refused, naming the right pairing ----------
@pytest.mark.parametrize("sizes, output, loss, right", [
    ([4, 16, 3], "identity", "categorical_crossentropy", "output_activation='softmax'"),
    ([4, 16, 3], "sigmoid", "categorical_crossentropy", "output_activation='softmax'"),
    ([4, 16, 1], "softmax", "binary_crossentropy", "output_activation='sigmoid'"),
    ([4, 16, 1], "identity", "binary_crossentropy", "output_activation='sigmoid'"),
], ids=["row03-identity+cce", "row04-sigmoid3+cce", "row04-softmax1+bce", "row05-identity+bce"])
def test_rows03_05_impossible_pairs_are_refused_at_fit(sizes, output, loss, right):
    ds = datasets.iris()
    y = ds.y if sizes[-1] == 3 else (ds.y == 0).astype(int)
    model = bp.MLP(sizes, output_activation=output, seed=0)
    with pytest.raises(ValueError, match=f"use {right}"):
        model.fit(ds.X, y, loss=loss, epochs=5)


def test_row04_the_cli_refuses_sigmoid_units_with_categorical_crossentropy(work):
    done = cli("train", "--data", "iris", "--output-activation", "sigmoid", "--loss",
               "categorical_crossentropy", "--out", work / "no", "--quiet", cwd=work)
    assert done.returncode == 2
    assert "use --output-activation softmax --loss categorical_crossentropy" in done.stderr
    assert not (work / "no").exists()


def test_row04_the_cli_trains_two_softmax_units_with_binary_crossentropy(work):
    # what the CLI did with "softmax + bce": now two units on one-hot targets, a valid pair
    done = cli("train", "--data", "moons", "--output-activation", "softmax", "--loss",
               "binary_crossentropy", "--epochs", "40", "--out", work / "moons2", "--quiet",
               "--no-plots", cwd=work)
    assert done.returncode == 0, done.stderr
    config = json.loads((work / "moons2" / "config.json").read_text())
    assert config["model"]["layer_sizes"][-1] == 2
    assert config["metrics"]["test"]["accuracy"] > 0.8


def test_row04_the_estimators_check_the_pairing_too():
    from backprop.sklearn import MLPClassifier

    class Miswired(MLPClassifier):
        def _output(self, settings, n_outputs):
            return "identity", "identity", "binary_crossentropy"

    ds = datasets.moons(n_samples=60, seed=0)
    with pytest.raises(ValueError, match="use output_activation='sigmoid'"):
        Miswired(max_iter=5).fit(ds.X, ds.y)


def test_row05_divergence_names_the_pairing_when_it_is_the_cause():
    class Linear(bp.activations.Activation):  # a user's activation: its range is unknown
        name = "my_linear"

        def forward(self, z, out=None):
            return z.copy()

        def backward(self, dy, z, a):
            return dy

    ds = datasets.moons(n_samples=200, seed=0)
    model = bp.Sequential([bp.Dense(2, 8, activation="tanh"),
                           bp.Dense(8, 1, activation=Linear())], seed=0)
    with pytest.raises(bp.TrainingDiverged, match="likely cause.*output layer.*sigmoid output "
                                                  "with binary_crossentropy"):
        model.fit(ds.X, ds.y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.5),
                  epochs=50)


# -- row 6: early stopping with restore-best by default ------------------------------------
def test_row06_defaults_keep_the_best_validation_epoch(diabetes_run):
    _, run, stdout = diabetes_run
    config = json.loads((run / "config.json").read_text())
    history = json.loads((run / "history.json").read_text())
    assert config["metrics"]["test"]["r2"] > 0.3  # was −0.085 after 200 epochs
    best = int(np.argmin(history["val_loss"])) + 1
    assert config["training"]["early_stopping"] == 20
    assert config["training"]["saved_epoch"] == history["saved_epoch"] == best
    assert f"saved the weights of epoch {best}" in flat(stdout)


def test_row06_the_history_figure_marks_the_saved_epoch(wine_run):
    _, run, stdout = wine_run
    history = json.loads((run / "history.json").read_text())
    saved = history.pop("saved_epoch")
    history.pop("epoch")
    from backprop import plots

    fig = plots.plot_history(history, saved_epoch=saved)
    marks = [line for line in fig.axes[0].get_lines()
             if line.get_label() == f"saved model (epoch {saved})"]
    assert marks and list(marks[0].get_xdata()) == [saved, saved]
    assert (run / "history.png").is_file()


def test_row06_early_stopping_0_saves_the_last_epoch(work):
    done = cli("train", "--data", "moons", "--n-samples", "200", "--epochs", "15",
               "--early-stopping", "0", "--out", work / "last", "--quiet", "--no-plots",
               cwd=work)
    assert done.returncode == 0, done.stderr
    config = json.loads((work / "last" / "config.json").read_text())
    assert config["training"]["saved_epoch"] == config["training"]["epochs_run"] == 15
    assert "saved the weights of the last epoch, 15" in flat(done.stdout)


# -- row 7: a messy table ------------------------------------------------------------------
@pytest.fixture(scope="module")
def messy_csv(work):
    return write(messy_frame(), work / "shop.csv")


def test_row07_missing_values_are_one_error_naming_every_column(work, messy_csv):
    done = cli("train", "--data", messy_csv, "--target", "price", "--out", work / "m0",
               cwd=work)
    assert done.returncode == 2
    message = done.stderr.strip()
    assert message.count("\n") == 0
    for fragment in ("in 3 columns", "'colour' (lines 7, 92)", "'size' (lines 5, 42, 79)",
                     "'weight' (line 13)", "--impute median"):
        assert fragment in message


def test_row07_categories_booleans_gaps_and_ids_are_handled(work, messy_csv):
    done = cli("train", "--data", messy_csv, "--target", "price", "--impute", "median",
               "--out", work / "shop", "--quiet", "--no-plots", cwd=work)
    assert done.returncode == 0, done.stderr
    assert "column 'item_id' looks like a row identifier" in flat(done.stdout)
    model = bp.load(work / "shop")
    pre = model.preprocessor
    assert pre.feature_names == ["colour", "organic", "size", "weight"]
    assert pre.kinds == {"colour": "categorical", "organic": "boolean", "size": "numeric",
                         "weight": "numeric"}
    assert pre.categories["colour"] == ["blue", "green", "red"]
    config = json.loads((work / "shop" / "config.json").read_text())
    assert config["data"]["left_out"] == {"price": "the target", "item_id": "an ID column"}
    assert config["metrics"]["test"]["r2"] > 0.8
    # the same file, predicted as it is (ID and target columns included)
    preds = _cli_predictions(work, work / "shop", messy_csv, "shop_preds")
    frame = datasets.read_table(messy_csv, "price", features=list(pre.feature_names)).X
    expected = model.predict(frame)[:, 0]
    np.testing.assert_allclose(preds["prediction"], expected, rtol=1e-12)
    # the exported graph one-hot encodes and imputes too (ai.onnx.ml operators)
    from backprop.io import onnx_inputs

    session = _onnx(work, work / "shop", "shop")
    assert [i.name for i in session.get_inputs()] == ["X", "colour"]
    got = session.run(None, onnx_inputs(model, frame))[0][:, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_row07_drop_and_features_pick_the_columns(work, messy_csv):
    done = cli("train", "--data", messy_csv, "--target", "price", "--impute", "median",
               "--drop", "weight", "--out", work / "shop_drop", "--quiet", "--no-plots",
               "--epochs", "5", cwd=work)
    assert done.returncode == 0, done.stderr
    assert bp.load(work / "shop_drop").preprocessor.feature_names == ["colour", "organic",
                                                                      "size"]
    done = cli("train", "--data", messy_csv, "--target", "price", "--features",
               "item_id,organic", "--out", work / "shop_pick", "--quiet", "--no-plots",
               "--epochs", "5", cwd=work)
    assert done.returncode == 0, done.stderr  # the gaps are in columns left out
    assert bp.load(work / "shop_pick").preprocessor.feature_names == ["item_id", "organic"]


# -- row 8: delimiters -----------------------------------------------------------------------
@pytest.mark.parametrize("name, sep", [("wine_semicolon.csv", ";"), ("wine.tsv", "\t")])
def test_row08_semicolons_and_tsv_files_are_read(work, name, sep):
    path = write(wine_frame(), work / name, sep=sep)
    done = cli("train", "--data", path, "--target", "cultivar", "--epochs", "30",
               "--out", work / name.replace(".", "_"), "--quiet", "--no-plots", cwd=work)
    assert done.returncode == 0, done.stderr
    config = json.loads((work / name.replace(".", "_") / "config.json").read_text())
    assert config["data"]["delimiter"] == sep and config["data"]["n_features"] == 13
    assert config["metrics"]["test"]["accuracy"] > 0.85


def test_row08_a_wrong_delimiter_gets_a_hint(tmp_path):
    path = write(wine_frame().head(20), tmp_path / "commas.tsv")  # a .tsv that holds commas
    with pytest.raises(ValueError, match="read as one column: is the file separated by "
                                         "commas"):
        datasets.read_table(path, "cultivar")


# -- row 9: a numeric target with --loss mse is a regression ----------------------------------
def test_row09_ratings_with_loss_mse_are_a_regression(work):
    path = write(ratings_frame(), work / "ratings.csv")
    done = cli("train", "--data", path, "--target", "rating", "--loss", "mse",
               "--out", work / "ratings", "--quiet", "--no-plots", cwd=work)
    assert done.returncode == 0, done.stderr
    config = json.loads((work / "ratings" / "config.json").read_text())
    assert config["data"]["task"] == "regression" and config["model"]["layer_sizes"][-1] == 1
    assert config["metrics"]["test"]["r2"] > 0.5
    done = cli("train", "--data", path, "--target", "rating", "--epochs", "3",
               "--out", work / "ratings_classes", "--quiet", "--no-plots", cwd=work)
    assert done.returncode == 0, done.stderr
    assert "read as 5 classes (1, 2, 3, 4, 5); to predict it as a number use --task " \
           "regression" in flat(done.stdout)


def test_row09_a_classification_loss_on_numbers_says_what_to_do(work):
    path = write(diabetes_frame().head(80), work / "small_diabetes.csv")
    done = cli("train", "--data", path, "--target", "progression", "--loss",
               "binary_crossentropy", "--out", work / "x", cwd=work)
    assert done.returncode == 2
    assert "use --loss mse" in done.stderr and "--task classification" in done.stderr


# -- row 10: evaluate after load uses the training loss --------------------------------------
def test_row10_evaluate_after_load_uses_the_stored_loss(tmp_path):
    ds = datasets.breast_cancer()
    model = bp.MLP([30, 8, 1], output_activation="sigmoid", seed=0)
    model.preprocessor = datasets.Preprocessor().fit(ds.X)
    model.fit(ds.X, ds.y, loss="binary_crossentropy", optimizer="adam", epochs=20)
    before = model.evaluate(ds.X, ds.y)
    loaded = bp.load(bp.save(model, tmp_path / "m.safetensors"))
    assert loaded.loss.name == "binary_crossentropy"
    assert loaded.evaluate(ds.X, ds.y) == pytest.approx(before, rel=1e-12)


# -- row 12: the single-sample hint --------------------------------------------------------
def test_row12_one_sample_hint_is_reshape_1_minus_1():
    ds = datasets.iris()
    model = bp.MLP([4, 3], output_activation="softmax", seed=0)
    with pytest.raises(ValueError, match=r"one sample of 4 features: pass X.reshape\(1, -1\)"):
        model.predict(ds.X[0])
    assert model.predict(ds.X[0].reshape(1, -1)).shape == (1, 3)


# -- row 13: columns by name --------------------------------------------------------------
def test_row13_a_dataframe_is_reordered_by_name_and_checked(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=80), "b": rng.normal(3, 2, size=80)})
    y = (df["a"] + df["b"] > 3).astype(int)
    model = bp.MLP([2, 6, 1], output_activation="sigmoid", seed=0)
    model.fit(df[["a", "b"]], y, loss="binary_crossentropy", epochs=5)
    for m in (model, bp.load(bp.save(model, tmp_path / "m.safetensors"))):
        np.testing.assert_array_equal(m.predict(df[["b", "a"]]), m.predict(df[["a", "b"]]))
        with pytest.raises(ValueError, match="missing 'b'"):
            m.predict(df[["a"]])
        with pytest.raises(ValueError, match="unexpected 'c'"):
            m.predict(df.assign(c=1.0))


def test_row13_the_cli_matches_columns_by_name(work, wine_run):
    path, run, _ = wine_run
    frame = wine_frame()
    shuffled = write(frame[list(frame.columns[::-1])], work / "wine_reversed.csv")
    a = _cli_predictions(work, run, path, "w1")
    b = _cli_predictions(work, run, shuffled, "w2")
    pd.testing.assert_frame_equal(a, b)


# -- row 14: no worse than the trivial predictor without a word ------------------------------
def test_row14_fit_warns_when_no_better_than_the_mean():
    ds = datasets.diabetes()
    with pytest.warns(bp.PoorFitWarning, match="no better than .* the mean of y"):
        bp.MLP([10, 1], seed=0).fit(ds.X, ds.y)  # fit's defaults: SGD, full batch


def test_row14_the_warning_names_the_callers_line_and_the_tour_keeps_quiet(tmp_path):
    ds = datasets.diabetes()
    model = bp.MLP([10, 1], seed=0)
    for train in (lambda: model.fit(ds.X, ds.y), lambda: bp.fit(model, ds.X, ds.y)):
        with pytest.warns(bp.PoorFitWarning) as caught:
            train()
        assert {w.filename for w in caught if w.category is bp.PoorFitWarning} == {__file__}
    # the tour's failing runs are on purpose, and measured in its report
    done = cli("tour", "--out", tmp_path / "tour", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "PoorFitWarning" not in done.stderr + done.stdout


def test_row14_fit_warns_when_no_better_than_the_class_frequencies():
    ds = datasets.moons(n_samples=300, seed=0)
    model = bp.MLP([2, 10, 10, 1], output_activation="sigmoid", seed=0)
    with pytest.warns(bp.PoorFitWarning, match="class frequencies|most frequent class"):
        model.fit(ds.X, ds.y, loss="binary_crossentropy", optimizer=bp.Adam(lr=10),
                  epochs=60, batch_size=32)


def test_row14_the_cli_says_so(work):
    done = cli("train", "--data", "moons", "--lr", "10", "--epochs", "60", "--out",
               work / "lr10", "--quiet", "--no-plots", cwd=work)
    assert done.returncode == 0, done.stderr
    out = flat(done.stdout)
    assert "warning:" in out and "within chance" in out


def test_row14_the_doctor_does_not_contradict_the_warnings(work):
    rng = np.random.default_rng(0)  # labels that are noise: nothing to learn
    frame = pd.DataFrame(rng.standard_normal((300, 4)), columns=list("abcd"))
    frame["label"] = rng.integers(0, 2, 300)
    path = write(frame, work / "noise.csv")
    done = cli("train", "--data", path, "--target", "label", "--epochs", "50", "--out",
               work / "noise", "--no-plots", cwd=work)
    assert done.returncode == 0, done.stderr
    out = flat(done.stdout)
    assert "within chance" in out  # the held-out rows say so
    assert "nothing looks wrong" not in out
    assert "the warnings above are about the held-out rows" in out


def test_row14_a_good_fit_does_not_warn():
    ds = datasets.moons(n_samples=300, seed=0)
    model = bp.MLP([2, 10, 10, 1], output_activation="sigmoid", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bp.PoorFitWarning)
        model.fit(ds.X, ds.y, loss="binary_crossentropy", optimizer="adam", epochs=60,
                  batch_size=32)



def test_row14_a_perfect_fit_on_a_few_rows_does_not_warn():
    # XOR's four rows: chance spans 50% ± 50%, so no accuracy can tell a fit from luck;
    # a network that solves it must not be told it learned nothing.
    ds = datasets.xor()
    model = bp.MLP([2, 4, 1], activation="elu", output_activation="sigmoid", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bp.PoorFitWarning)
        model.fit(ds.X, ds.y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.05),
                  epochs=300)
    assert model.evaluate(ds.X, ds.y)["accuracy"] == 1.0

# -- row 16: Ctrl-C ------------------------------------------------------------------------
def test_row16_ctrl_c_says_where_saves_and_exits_130(work):
    args = [sys.executable, "-m", "backprop", "train", "--data", "moons", "--epochs",
            "1000000", "--early-stopping", "0", "--out", str(work / "interrupted"),
            "--quiet", "--no-plots"]
    process = subprocess.Popen(args, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    first = process.stdout.readline()  # printed just before training starts
    assert "network" in first
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    text = flat(first + out)
    assert "interrupted at epoch" in text and "of 1000000" in text
    config = json.loads((work / "interrupted" / "config.json").read_text())
    assert config["training"]["interrupted"] is True
    assert bp.load(work / "interrupted").n_outputs == 1


def test_row16_fit_sets_history_interrupted():
    class Stop(bp.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 3:
                raise KeyboardInterrupt

    ds = datasets.moons(n_samples=100, seed=0)
    history = bp.MLP([2, 4, 1], output_activation="sigmoid", seed=0).fit(
        ds.X, ds.y, loss="binary_crossentropy", epochs=50, callbacks=[Stop()])
    assert history.interrupted and not history.stopped_early and len(history.epoch) == 4


# -- row 17: gradcheck on a one-unit softmax -------------------------------------------------
def test_row17_gradcheck_explains_a_single_softmax_unit(work):
    done = cli("gradcheck", "--output-activation", "softmax", cwd=work)
    assert done.returncode == 1
    assert "why: a softmax over a single output unit always outputs 1" in flat(done.stdout)
    model = bp.MLP([2, 3, 1], output_activation="softmax", seed=0)
    with pytest.warns(RuntimeWarning, match="gradient is exactly 0"):
        bp.gradcheck(model, np.ones((4, 2)), np.zeros(4))
