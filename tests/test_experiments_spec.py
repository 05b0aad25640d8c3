"""Experiment files: checked key by key with the line, written back, and run bit for bit."""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import backprop as bp
from backprop.cli import main
from backprop.experiments import Experiment, ExperimentError, run
from backprop.experiments.lines import KeyLines
from backprop.experiments.tomlout import dumps

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXPERIMENT = """\
[experiment]
name = "small moons"

[data]
source = "moons"
n_samples = 200
noise = 0.2
seed = 3

[model]
hidden = [8, 8]
activation = "tanh"
dropout = 0.1
seed = 5

[training]
epochs = 12
batch_size = 16
l2 = 1e-4
optimizer = {name = "sgd", lr = 0.1, momentum = 0.9}
early_stopping = {patience = 4, min_delta = 0.0}
schedule = {name = "step", step_size = 5, gamma = 0.5}

[evaluation]
splits = ["validation", "test"]
figures = false
"""


@pytest.fixture
def experiment_file(tmp_path) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def test_sections_are_normalised_with_defaults(experiment_file):
    exp = Experiment.from_file(experiment_file)
    assert exp.get("training.optimizer") == {"name": "sgd", "lr": 0.1, "momentum": 0.9}
    assert exp.get("training.early_stopping") == {"patience": 4, "min_delta": 0.0,
                                                  "restore_best": True}
    assert exp.get("data.test_size") == 0.2 and exp.get("model.dtype") == "float32"
    assert exp.get("model.output_activation") == "auto"
    assert Experiment({"data": {"source": "moons"}, "training": {"optimizer": "Adam"}}
                      ).get("training.optimizer") == {"name": "adam"}


def test_written_file_reads_back_as_the_same_experiment(experiment_file, tmp_path):
    exp = Experiment.from_file(experiment_file)
    again = Experiment.from_file(exp.write(tmp_path / "out" / "again.toml"))
    assert again.config == exp.config
    assert again.digest() == exp.digest()


@pytest.mark.filterwarnings("ignore:training ended with")  # 2 epochs: paths are the point
def test_csv_paths_stay_relative_to_the_file_that_names_them(tmp_path):
    (tmp_path / "data").mkdir()
    rows = [[f"{x:.3f}", f"{x * x:.3f}", str(int(x > 0))] for x in np.linspace(-1, 1, 40)]
    with open(tmp_path / "data" / "points.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["a", "b", "label"], *rows])
    exp = Experiment.from_text('[data]\nsource = "data/points.csv"\ntarget = "label"\n'
                               'drop = ["b"]\n[training]\nepochs = 2\n', root=tmp_path)
    copy = Experiment.from_file(exp.write(tmp_path / "deep" / "er" / "exp.toml"))
    assert copy.get("data.source") == "../../data/points.csv"
    assert copy.data_source == exp.data_source
    result = run(copy)
    assert result.model.n_features == 1  # "b" was dropped


BAD = [
    ("[data]\nsource = \"moons\"\n[training]\nepochs = 0\n", 4,
     "training.epochs must be an integer ≥ 1; got 0"),
    ("[data]\nsource = \"moons\"\n\n[training]\nlrr = 0.1\n", 5,
     "unknown key training.lrr"),
    ("[data]\nsource = \"moons\"\n[trainin]\nepochs = 3\n", 3,
     "unknown key trainin (did you mean 'training'?)"),
    ("[data]\nsource = \"moons\"\n[training]\noptimizer = {name = \"adam\", lr = -1}\n", 4,
     "training.optimizer.lr is refused by Adam"),
    ("[data]\nsource = \"moons\"\n[training.optimizer]\nname = \"adam\"\nmomentum = 0.9\n", 5,
     "Adam has no setting 'momentum'"),
    ("[data]\nsource = \"moons\"\n[model]\nactivation = \"relu6\"\n", 4,
     "unknown activation 'relu6'"),
    ("[data]\nsource = \"moons\"\n[model]\nhidden = [8, 0]\n", 4,
     "model.hidden must be a list of layer widths ≥ 1"),
    ("[data]\nsource = \"moons\"\n[model]\nhidden = [8]\ndropout = [0.1, 0.2]\n", 5,
     "model.dropout lists 2 values for 1 hidden layers"),
    ("[data]\nsource = \"moonz\"\n", 2, "data.source is neither a data set"),
    ("[data]\nsource = \"x.csv\"\n", 2, "name the column to predict with data.target"),
    ("[data]\nsource = \"iris\"\ntarget = \"y\"\n", 3, "data.target applies to CSV files"),
    ("[data]\nsource = \"moons\"\nval_size = 0.5\ntest_size = 0.5\n", 3,
     "data.val_size plus data.test_size must stay below 1"),
    ("[data]\nsource = \"moons\"\nval_size = 0.0\n[training]\nearly_stopping = 5\n", 5,
     "training.early_stopping watches the validation loss"),
    ("[data]\nsource = \"moons\"\n[training]\nschedule = {name = \"cosine\", nope = 1}\n", 4,
     "CosineDecay has no setting 'nope'"),
    ("[data]\nsource = \"moons\"\n[training]\nshuffle = \"yes\"\n", 4,
     "training.shuffle must be true or false"),
    ("[data]\nsource = \"moons\"\n[sweep]\nmethod = \"random\"\n[sweep.space]\n"
     "\"model.hidden\" = [[4]]\n", 4, "draws configurations: set sweep.trials"),
    ("[data]\nsource = \"moons\"\n[sweep]\nmetric = \"val_f1\"\n[sweep.space]\n"
     "\"model.hidden\" = [[4]]\n", 4, "sweep.metric must be <split>_<metric>"),
    ("[data]\nsource = \"moons\"\n[sweep.space]\n\"training.optimizer.lr\" = "
     "{loguniform = [0.1, 0.001]}\n", 4, "two numbers with low < high"),
    ("[data]\nsource = \"moons\"\n[sweep.space]\n\"training.optimizer.lr\" = "
     "{uniform = [0.1, 0.2]}\n", 4, "a grid needs num = K points"),
    ("[data]\nsource = \"moons\"\n[sweep.space]\n\"model.hidden\" = 4\n", 4,
     "must be a list of values or a table with one of"),
]


@pytest.mark.parametrize("text, line, message", BAD, ids=[m for _, _, m in BAD])
def test_bad_files_name_the_key_and_the_line(text, line, message):
    with pytest.raises(ExperimentError) as caught:
        Experiment.from_text(text, "bad.toml")
    assert str(caught.value).startswith(f"bad.toml line {line}: ")
    assert message in str(caught.value)


def test_a_toml_syntax_error_names_the_file_and_the_position():
    with pytest.raises(ExperimentError, match=r"bad.toml: not a valid TOML file: .*line 2"):
        Experiment.from_text("[data]\nsource = \n", "bad.toml")


def test_overrides_are_checked_and_name_where_they_came_from(experiment_file):
    exp = Experiment.from_file(experiment_file)
    assert exp.with_values({"model.hidden": [3]}).get("model.hidden") == [3]
    with pytest.raises(ExperimentError, match=r"^--set model\.hidden: model\.hidden must be"):
        exp.with_values({"model.hidden": "wide"}, origin=lambda path: "--set model.hidden")


def test_key_lines_cover_dotted_quoted_inline_and_multiline_keys():
    text = ('[a]\nx = 1\n"q.r" = {s = [1,\n  2], t = 3}\n[a.b]\ny = "[not a header]"\n'
            'z = [\n  "w = 1",\n]\n')
    lines = KeyLines(text)
    assert lines.line_of(("a", "x")) == 2
    assert lines.line_of(("a", "q.r", "t")) == 3
    assert lines.line_of(("a", "b", "y")) == 6
    assert lines.line_of(("a", "b", "z")) == 7
    assert lines.line_of(("a", "b", "w")) == 5  # unknown: its enclosing table


SCALARS = st.one_of(st.booleans(), st.integers(-10**12, 10**12), st.text(max_size=12),
                    st.floats(allow_nan=False, allow_infinity=False))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6)


@given(st.dictionaries(st.text(min_size=1, max_size=8),
                       st.dictionaries(st.text(min_size=1, max_size=8), VALUES, max_size=4),
                       min_size=1, max_size=3))
def test_the_writer_round_trips_through_tomllib(sections):
    assert tomllib.loads(dumps(sections)) == sections


def test_the_same_file_trains_the_same_weights_twice(experiment_file, tmp_path):
    first = run(experiment_file, tmp_path / "a")
    second = run(tmp_path / "a" / "experiment.toml", tmp_path / "b")
    assert first.model.get_flat_weights().tobytes() == second.model.get_flat_weights().tobytes()
    assert first.metrics == second.metrics
    assert set(first.metrics) == {"val_loss", "val_accuracy", "test_loss", "test_accuracy"}
    loaded = bp.load(tmp_path / "b" / "model.safetensors")
    assert np.array_equal(loaded.get_flat_weights(), second.model.get_flat_weights())


def test_train_writes_the_experiment_that_run_repeats_bit_for_bit(tmp_path):
    out = tmp_path / "trained"
    assert main(["train", "--data", "moons", "--n-samples", "300", "--hidden", "8,4",
                 "--activation", "tanh", "--dropout", "0.1", "--optimizer", "sgd", "--lr", "0.05",
                 "--epochs", "25", "--batch-size", "16", "--l2", "1e-3", "--early-stopping",
                 "5", "--seed", "7", "--out", str(out), "--quiet", "--no-plots"]) == 0
    written = Experiment.from_file(out / "experiment.toml")
    assert written.get("training.optimizer") == {"name": "sgd", "lr": 0.05}
    assert written.get("model.output_activation") == "sigmoid"
    assert main(["run", str(out / "experiment.toml"), "--out", str(tmp_path / "again"),
                 "--quiet"]) == 0
    trained = bp.load(out / "model.safetensors")
    again = bp.load(tmp_path / "again" / "model.safetensors")
    assert trained.get_flat_weights().tobytes() == again.get_flat_weights().tobytes()
    assert json.loads((out / "config.json").read_text())["metrics"]["test"]["accuracy"] == \
        json.loads((tmp_path / "again" / "config.json").read_text())["metrics"]["test_accuracy"]


def test_train_on_a_csv_writes_a_path_relative_to_its_run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    with open("points.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["a", "b", "y"], *([f"{a:.4f}", f"{b:.4f}",
                                                          f"{a + 2 * b:.4f}"] for a, b in X)])
    assert main(["train", "--data", "points.csv", "--target", "y", "--epochs", "5",
                 "--out", "runs/csv", "--quiet", "--no-plots"]) == 0
    assert Experiment.from_file("runs/csv/experiment.toml").get("data.source") == \
        "../../points.csv"
    assert main(["run", "runs/csv/experiment.toml", "--out", "runs/again", "--quiet"]) == 0
    first, second = bp.load("runs/csv/model.safetensors"), bp.load("runs/again/model.safetensors")
    assert first.get_flat_weights().tobytes() == second.get_flat_weights().tobytes()
    metrics = json.loads(Path("runs/again/config.json").read_text())["metrics"]
    assert {"test_loss", "test_mse", "test_r2"} <= set(metrics)
    assert all(math.isfinite(v) for v in metrics.values())


def test_run_command_writes_a_folder_that_predict_reads(experiment_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(experiment_file), "--out", str(out), "--set", "training.epochs=3",
                 "--set", "evaluation.figures=true", "--quiet"]) == 0
    assert {"model.safetensors", "experiment.toml", "history.json", "history.png",
            "boundary.png"} <= {p.name for p in out.iterdir()}
    assert Experiment.from_file(out / "experiment.toml").get("training.epochs") == 3
    assert main(["predict", "--model", str(out), "--data", "moons", "--n-samples", "20",
                 "--output", str(tmp_path / "p.csv")]) == 0
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 21
    assert main(["run", str(experiment_file), "--set", "training.epochs=-1"]) == 2
    assert "--set training.epochs: training.epochs must be an integer" in capsys.readouterr().err


def test_a_file_from_another_version_warns():
    exp = Experiment({"experiment": {"backprop_version": "0.0.1"},
                      "data": {"source": "xor", "val_size": 0.0, "test_size": 0.0},
                      "training": {"epochs": 1}})
    with pytest.warns(RuntimeWarning, match="written by backprop 0.0.1"):
        run(exp)


def test_bp_sweep_loads_on_first_use_and_no_backend_library_before_a_sweep():
    import subprocess

    code = ("import sys\nimport backprop as bp\n"
            "assert 'backprop.experiments' not in sys.modules\n"
            "from backprop.experiments.sweep import sweep\nassert bp.sweep is sweep\n"
            "heavy = {'distributed', 'dask', 'joblib', 'optuna', 'matplotlib'}\n"
            "assert not heavy & set(sys.modules), heavy & set(sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _raw_table(path: Path) -> Path:
    """A ;-separated table as it comes: a number with gaps, a text category, a boolean and
    an ID column, and a yes/no label."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(160):
        x, colour = rng.normal(), ["red", "green", "blue"][i % 3]
        label = "yes" if x + (colour == "red") > 0.4 else "no"
        rows.append([str(1000 + i), f"{x:.3f}" if i % 17 else "", colour,
                     str(i % 2 == 0).lower(), label])
    with open(path, "w", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([["id", "x", "colour", "even", "label"],
                                                     *rows])
    return path


def test_a_raw_table_with_categories_and_gaps_needs_impute_then_predicts_raw_rows(tmp_path):
    _raw_table(tmp_path / "raw.csv")
    text = ('[data]\nsource = "raw.csv"\ntarget = "label"\n\n[training]\nepochs = 30\n'
            'batch_size = 16\n')
    path = tmp_path / "raw.toml"
    path.write_text(text)
    with pytest.raises(ExperimentError, match=r"raw.toml line 2: .*missing values.*'x'.*"
                                              r"data.impute"):
        run(path)
    path.write_text(text.replace('target = "label"', 'target = "label"\nimpute = "median"'))
    result = run(path, tmp_path / "out")
    assert result.model.preprocessor.categorical_columns == ["colour"]
    loaded = bp.load(tmp_path / "out" / "model.safetensors")
    import pandas as pd

    raw = pd.DataFrame({"colour": ["red", "blue"], "x": [0.1, np.nan], "even": [True, False]})
    assert np.array_equal(loaded.predict(raw), result.model.predict(raw))
    assert result.metrics["test_accuracy"] > 0.7


def test_train_on_a_raw_table_with_its_options_is_repeated_by_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _raw_table(tmp_path / "raw.csv")
    assert main(["train", "--data", "raw.csv", "--target", "label", "--impute", "median",
                 "--drop", "even", "--task", "classification", "--epochs", "40",
                 "--out", "runs/raw", "--quiet", "--no-plots"]) == 0
    written = Experiment.from_file("runs/raw/experiment.toml")
    assert written.get("data.impute") == "median" and written.get("data.drop") == ["even"]
    assert written.get("data.task") == "classification"
    assert written.get("training.early_stopping.patience") == 20  # train's default
    assert main(["run", "runs/raw/experiment.toml", "--out", "runs/again", "--quiet"]) == 0
    first, second = bp.load("runs/raw/model.safetensors"), bp.load("runs/again/model.safetensors")
    assert first.get_flat_weights().tobytes() == second.get_flat_weights().tobytes()
    assert first.preprocessor.get_config() == second.preprocessor.get_config()


@pytest.mark.filterwarnings("ignore:training ended with")
@pytest.mark.parametrize("section, message", [
    ('[model]\noutput_activation = "identity"', "line 6: .*binary_crossentropy needs"),
    ('[training]\nloss = "categorical_crossentropy"', "line 6: .*with sigmoid outputs"),
    ('[training]\nloss = "mse"', None),  # moons is no file: mse trains on the 0/1 labels
])
def test_a_loss_and_output_that_cannot_learn_together_are_refused(tmp_path, section, message):
    path = tmp_path / "e.toml"
    path.write_text(f'[data]\nsource = "moons"\nn_samples = 50\n\n{section}\n'
                    + ("epochs = 2\n" if section.startswith("[training]") else ""))
    if message is None:
        assert run(path).metrics["test_loss"] >= 0
        return
    with pytest.raises(ExperimentError, match=message):
        run(path)
