"""The command line: train → predict → evaluate round trips, plots, checks, clear errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _write_csv(path: Path, header: list[str], rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def points(work) -> tuple[Path, np.ndarray, np.ndarray]:
    """A 3-feature CSV whose label ('in'/'out') depends non-linearly on the features."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((240, 3))
    labels = np.where(X[:, 0] ** 2 + X[:, 1] ** 2 > 1.4, "out", "in")
    # the target column sits between features, to show columns are matched by name
    rows = [[repr(float(a)), repr(float(b)), lab, repr(float(c))]
            for (a, b, c), lab in zip(X, labels)]
    return _write_csv(work / "points.csv", ["u", "v", "label", "w"], rows), X, labels


@pytest.fixture(scope="module")
def trained(work, points) -> Path:
    path, _, _ = points
    out = work / "points_model"
    code = main(["train", "--data", str(path), "--target", "label", "--hidden", "16",
                 "--epochs", "60", "--batch-size", "16", "--seed", "1", "--out", str(out),
                 "--early-stopping", "0", "--quiet", "--no-plots"])
    assert code == 0
    return out


def test_train_writes_model_history_and_full_configuration(trained):
    for name in ("model.safetensors", "history.csv", "history.json", "config.json"):
        assert (trained / name).is_file(), name
    config = json.loads((trained / "config.json").read_text())
    assert config["data"]["feature_names"] == ["u", "v", "w"]
    assert config["data"]["classes"] == ["in", "out"]
    assert config["split"] == {"train": 144, "validation": 48, "test": 48, "test_size": 0.2,
                               "val_size": 0.2, "stratified": True, "seed": 1}
    assert config["arguments"]["hidden"] == [16] and config["arguments"]["epochs"] == 60
    assert config["training"]["loss"] == "binary_crossentropy"
    assert set(config["metrics"]) == {"train", "validation", "test"}
    assert config["metrics"]["test"]["accuracy"] > 0.75
    history = json.loads((trained / "history.json").read_text())
    assert len(history["loss"]) == len(history["epoch"]) == 60
    with open(trained / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 60
    assert float(rows[-1]["loss"]) == pytest.approx(history["loss"][-1])
    model = bp.load(trained)
    assert model.classes_ == ["in", "out"]
    assert model.training_config["data"]["target"] == "label"


def test_predict_matches_the_loaded_model(work, points, trained):
    path, X, _ = points
    preds = work / "preds.csv"
    assert main(["predict", "--model", str(trained), "--data", str(path),
                 "--output", str(preds)]) == 0
    with open(preds, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["prediction", "p_in", "p_out"]
    model = bp.load(trained)
    expected = model.predict(X)[:, 0]  # raw rows: the model carries its scaling
    p_out = np.array([float(r["p_out"]) for r in rows])
    p_in = np.array([float(r["p_in"]) for r in rows])
    np.testing.assert_array_equal(p_out, expected.astype(np.float64))
    np.testing.assert_allclose(p_in + p_out, 1.0, rtol=1e-12)
    assert [r["prediction"] for r in rows] == ["out" if p > 0.5 else "in" for p in expected]


def test_evaluate_reports_the_models_metrics(work, points, trained, capsys):
    path, X, labels = points
    report = work / "metrics.json"
    capsys.readouterr()
    assert main(["evaluate", "--model", str(trained), "--data", str(path),
                 "--output", str(report)]) == 0
    shown = capsys.readouterr().out
    metrics = json.loads(report.read_text())["metrics"]
    model = bp.load(trained)
    y = (labels == "out").astype(int)
    direct = model.evaluate(X, y)  # the loss stored in the file: binary_crossentropy
    assert metrics["n"] == 240
    assert metrics["accuracy"] == pytest.approx(direct["accuracy"])
    assert metrics["loss"] == pytest.approx(direct["loss"], rel=1e-6)
    assert f"{direct['accuracy']:.2%}" in shown


def test_train_on_moons_draws_every_figure(work):
    out = work / "moons"
    assert main(["train", "--data", "moons", "--n-samples", "300", "--hidden", "8,8",
                 "--activation", "relu", "--loss", "binary_crossentropy", "--optimizer",
                 "adam", "--lr", "0.01", "--epochs", "40", "--batch-size", "32", "--l2",
                 "1e-4", "--dropout", "0.1", "--early-stopping", "20", "--seed", "42",
                 "--out", str(out), "--quiet"]) == 0
    for name in ("architecture.png", "history.png", "gradient_flow.png", "boundary.png"):
        assert (out / name).read_bytes()[:8] == PNG_SIGNATURE, name
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["dropout"] == 0.1 and config["training"]["l2"] == 1e-4
    assert "boundary.png" in config["files"]


def test_regression_round_trip(work):
    rng = np.random.default_rng(5)
    X = rng.uniform(-2, 2, (200, 2))
    y = 50 + 10 * np.sin(X[:, 0]) + 5 * X[:, 1]
    path = _write_csv(work / "reg.csv", ["a", "b", "y"],
                      [[repr(float(a)), repr(float(b)), repr(float(t))]
                       for (a, b), t in zip(X, y)])
    out = work / "reg_model"
    assert main(["train", "--data", str(path), "--target", "y", "--hidden", "16",
                 "--epochs", "150", "--out", str(out), "--quiet", "--no-plots"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["data"]["task"] == "regression"
    assert config["metrics"]["test"]["r2"] > 0.8
    preds = work / "reg_preds.csv"
    assert main(["predict", "--model", str(out), "--data", str(path),
                 "--output", str(preds)]) == 0
    with open(preds, newline="") as handle:
        values = np.array([float(r["prediction"]) for r in csv.DictReader(handle)])
    model = bp.load(out)
    expected = model.predict(X)[:, 0]  # in the target's units: the model un-scales it
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert np.sqrt(np.mean((values - y) ** 2)) < 4.0  # the target spans about 50 ± 20


def test_plot_commands_write_pngs(work, trained):
    moons = work / "moons_plots"
    assert main(["train", "--data", "moons", "--n-samples", "200", "--epochs", "5",
                 "--out", str(moons), "--quiet", "--no-plots"]) == 0
    cases = {
        "act.png": ["plot", "activations", "--names", "relu,tanh"],
        "arch.png": ["plot", "architecture", "--layers", "2,4,3,1"],
        "arch_model.png": ["plot", "architecture", "--model", str(trained)],
        "hist.png": ["plot", "history", "--model", str(trained)],
        "bound.png": ["plot", "boundary", "--model", str(moons), "--data", "moons",
                      "--n-samples", "200", "--seed", "7"],
    }
    for name, argv in cases.items():
        assert main([*argv, "--output", str(work / name)]) == 0, name
        assert (work / name).read_bytes()[:8] == PNG_SIGNATURE, name


def test_gradcheck_prints_one_row_per_parameter(capsys):
    assert main(["gradcheck", "--hidden", "4,3", "--activation", "relu"]) == 0
    out = capsys.readouterr().out
    for name in ("dense_1.W", "dense_1.b", "dense_2.W", "dense_3.b"):
        assert name in out
    assert "below tolerance" in out
    # an impossible tolerance fails the check: exit status 1
    assert main(["gradcheck", "--hidden", "3", "--tolerance", "1e-30"]) == 1


def test_export_onnx_matches_the_model(work, points, trained):
    import onnxruntime as ort

    path, X, _ = points
    target = work / "points.onnx"
    assert main(["export", "--model", str(trained), "--format", "onnx",
                 "--output", str(target)]) == 0
    model = bp.load(trained)
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    # the graph takes raw features: the scaling is inside it
    got = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})[0]
    np.testing.assert_allclose(got, model.predict(X), rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def bad_files(work, trained) -> dict[str, Path]:
    broken = work / "broken_model"
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"not a model file at all")
    wide = _write_csv(work / "wide.csv", ["a", "b", "c", "d", "label"],
                      [[1, 2, 3, 4, "in"], [2, 3, 4, 5, "out"], [0, 1, 0, 1, "in"]])
    other = _write_csv(work / "other.csv", ["x", "y", "label"], [[1, 2, "in"], [3, 4, "out"]])
    strange = _write_csv(work / "strange.csv", ["u", "v", "w", "label"],
                         [[1, 2, 3, "up"], [2, 3, 4, "down"], [0, 1, 0, "up"]])
    text = _write_csv(work / "text.csv", ["u", "v", "w"], [[1, 2, 3], [2, "many", 4]])
    return {"broken": broken, "wide": wide, "other": other, "strange": strange, "text": text}


BAD_ARGUMENTS = {
    "unknown data set": (["train", "--data", "mooons"], "unknown data set"),
    "missing file": (["train", "--data", "{work}/nope.csv", "--target", "y"], "not found"),
    "unknown column": (["train", "--data", "{work}/points.csv", "--target", "colour"],
                       "unknown target column"),
    "csv without target": (["train", "--data", "{work}/points.csv"], "--target"),
    "bad --hidden": (["train", "--data", "moons", "--hidden", "10,x"], "--hidden"),
    "zero width": (["train", "--data", "moons", "--hidden", "10,0"], "--hidden"),
    "negative lr": (["train", "--data", "moons", "--lr", "-0.1"], "--lr"),
    "unknown activation": (["train", "--data", "moons", "--activation", "rleu"],
                           "unknown activation"),
    "early stopping without validation": (
        ["train", "--data", "moons", "--early-stopping", "5", "--val-size", "0"],
        "--val-size"),
    "model dir missing": (["evaluate", "--model", "{work}/no_such_model", "--data", "moons"],
                          "no model at"),
    "broken model file": (["evaluate", "--model", "{broken}", "--data", "moons"],
                          "model.safetensors"),
    "feature count mismatch": (["evaluate", "--model", "{trained}", "--data", "moons"],
                               "missing 'u', 'v', 'w'; unexpected 'x1', 'x2'"),
    "csv columns mismatch": (["evaluate", "--model", "{trained}", "--data", "{wide}",
                              "--target", "label"], "unexpected 'a', 'b', 'c', 'd'"),
    "predict with missing column": (["predict", "--model", "{trained}", "--data", "{other}",
                                     "--output", "{work}/p.csv"], "missing 'u', 'v', 'w'"),
    "labels the model never saw": (["evaluate", "--model", "{trained}", "--data", "{strange}",
                                    "--target", "label"], "labels the model never saw"),
    "non-numeric feature": (["predict", "--model", "{trained}", "--data", "{text}",
                             "--output", "{work}/p.csv"], "not a number"),
    "unknown command": (["fly"], "invalid choice"),
    "missing --data": (["train"], "--data"),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_input_gives_one_clear_line(case, work, trained, bad_files, capsys):
    argv, fragment = BAD_ARGUMENTS[case]
    names = {"work": work, "trained": trained, **bad_files}
    argv = [a.format(**names) for a in argv]
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("backprop: error:")
    assert fragment in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0
    assert "train" in capsys.readouterr().out


def test_console_script_entry_point(tmp_path):
    # The installed `backprop` script, in a real subprocess: the entry point and the exit
    # status of a usage error.
    script = Path(sys.executable).with_name("backprop")
    done = subprocess.run([str(script), "train", "--data", "moons", "--lr", "0"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("backprop: error: argument --lr")
    assert "Traceback" not in done.stderr
