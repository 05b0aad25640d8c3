"""The doctor's API: findings and their JSON, bad input, no side effects on the model or on
training, the threshold table in the docs, the command line, the shaded figure."""

from __future__ import annotations

import json
import re
from pathlib import Path

import doctor_cases as cases
import numpy as np
import pytest

import backprop as bp
from backprop.cli import main
from backprop.doctor import CODES, THRESHOLDS, Diagnosis, Finding

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def moons():
    return cases._moons(200)


def _trained(X, y, **options):
    model = bp.MLP([2, 8, 1], activation="relu", output_activation="sigmoid", seed=0)
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01),
                        epochs=20, batch_size=32, **options)
    return model, history


# -- findings -------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"code": "sad_units"}, "unknown finding code 'sad_units'"),
    ({"severity": "error"}, "severity must be 'info' or 'warning'"),
])
def test_a_finding_refuses_unknown_codes_and_severities(kwargs, match):
    args = {"code": "dead_units", "severity": "info", "message": "m", "advice": "a", **kwargs}
    with pytest.raises(ValueError, match=match):
        Finding(**args)


def test_diagnosis_lists_warnings_first_and_round_trips_through_json():
    d = Diagnosis([Finding("overfitting", "info", "m1", "a1", {"gl": np.float64(0.2)}),
                   Finding("dead_units", "warning", "m2", "a2", {"layers": np.array([1, 2])},
                           epoch=3)],
                  {"skill": np.float32(0.5), "nan": float("nan")})
    assert d.codes == ["dead_units", "overfitting"] and not d.ok
    assert "dead_units" in d and d.get("overfitting").evidence["gl"] == 0.2
    text = json.dumps(d.to_dict(), allow_nan=False)
    back = Diagnosis.from_dict(json.loads(text))
    assert back.codes == d.codes and back.get("dead_units").epoch == 3
    assert back.get("dead_units").evidence["layers"] == [1, 2]
    assert back.measurements["nan"] is None
    assert "| warning | `dead_units` |" in d.to_markdown()


def test_every_code_the_issue_asks_for_exists():
    assert set(CODES) >= {"vanishing_gradients", "exploding_gradients", "dead_units",
                          "saturated_units", "learning_rate_too_high", "learning_rate_too_low",
                          "overfitting", "no_better_than_baseline", "unscaled_inputs",
                          "class_imbalance", "loss_output_mismatch"}


# -- bad input ------------------------------------------------------------------------------
def test_diagnose_needs_a_loss_for_an_untrained_model(moons):
    X, y = moons
    with pytest.raises(ValueError, match="pass loss="):
        bp.diagnose(bp.MLP([2, 4, 1], seed=0), X, y)


@pytest.mark.parametrize("X, y, history, error, match", [
    (np.zeros((5, 2)), np.zeros(4), None, ValueError, "different numbers of rows"),
    (np.zeros((5, 3)), np.zeros(5), None, ValueError, "3 features"),
    (np.zeros((5, 2)), np.zeros(5), "history", TypeError, "history must be"),
])
def test_diagnose_names_what_is_wrong_with_its_input(X, y, history, error, match):
    with pytest.raises(error, match=match):
        bp.diagnose(bp.MLP([2, 4, 1], seed=0), X, y, history=history, loss="mse")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"X": np.zeros((3, 2))}, ValueError, "both X and y"),
    ({"every": 0}, ValueError, "every must be a positive integer"),
    ({"probe_size": 0}, ValueError, "probe_size must be a positive integer"),
    ({"on_finding": 3}, TypeError, "on_finding must be callable"),
])
def test_the_doctor_checks_its_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        bp.Doctor(**kwargs)


# -- no side effects ------------------------------------------------------------------------
def test_diagnose_changes_neither_the_weights_nor_the_random_stream(moons):
    X, y = moons
    model = bp.MLP([2, 8, 1], output_activation="sigmoid", dropout=0.5, seed=0)
    weights, state = model.get_flat_weights(), model.rng.bit_generator.state
    bp.diagnose(model, X, y, loss="binary_crossentropy")
    np.testing.assert_array_equal(model.get_flat_weights(), weights)
    assert model.rng.bit_generator.state == state


@pytest.mark.parametrize("optimizer", [lambda: bp.SGD(lr=0.5), lambda: bp.Adam(lr=0.01)])
def test_training_with_the_doctor_reaches_the_same_weights_as_without(moons, optimizer):
    X, y = moons
    runs = []
    for callbacks in ([], [bp.Doctor(X, y, every=1)]):
        model = bp.MLP([2, 16, 1], output_activation="sigmoid", dropout=0.2, seed=3)
        model.fit(X, y, loss="binary_crossentropy", optimizer=optimizer(), epochs=10,
                  batch_size=32, callbacks=callbacks)
        runs.append(model.get_flat_weights())
    np.testing.assert_array_equal(*runs)


def test_the_doctor_records_each_check_as_json(moons):
    X, y = moons
    seen = []
    doctor = bp.Doctor(X, y, every=5, on_finding=seen.append)
    model = bp.MLP([2, 8, 1], output_activation="sigmoid", seed=0)
    model.fit(X, y, loss="mse", optimizer=bp.Adam(lr=0.01), epochs=20, callbacks=[doctor])
    assert [r["epoch"] for r in doctor.records] == [0, 1, 5, 10, 15, 20]
    json.dumps(doctor.records, allow_nan=False)
    first = doctor.records[1]
    assert len(first["grad_norms"]) == 2 and first["update_ratio"][0] > 0
    assert seen and seen[0].code == "loss_output_mismatch" and seen[0].epoch == 0
    assert doctor.diagnosis.get("loss_output_mismatch").epoch == 0
    json.dumps(doctor.diagnosis.to_dict(), allow_nan=False)


def test_diagnose_uses_the_model_history_by_default(moons):
    X, y = moons
    model, history = _trained(X, y)
    d = bp.diagnose(model, X, y)
    assert d.measurements["epochs"] == len(history.epoch) == 20
    assert d.measurements["gradients"]["measured_on"] == "median of epochs 1–2"
    assert bp.diagnose(model, X, y, history=history.history).measurements["epochs"] == 20


# -- the thresholds table in the docs -------------------------------------------------------
def test_the_docs_list_every_threshold_with_its_value_and_source():
    text = (ROOT / "docs" / "DOCTOR.md").read_text(encoding="utf-8")
    table = text.split("## Thresholds and their sources")[1].split("\n## ")[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", table, flags=re.M))
    assert set(rows) == set(THRESHOLDS)
    for name, threshold in THRESHOLDS.items():
        assert float(rows[name]) == threshold.value, name
        assert threshold.source in text, name
    for code in CODES:
        assert f"| `{code}` |" in text


# -- command line and figure ----------------------------------------------------------------
@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("doctor") / "run"
    assert main(["train", "--data", "moons", "--n-samples", "300", "--hidden", "8",
                 "--epochs", "15", "--quiet", "--no-plots", "--out", str(out)]) == 0
    return out


def test_train_writes_its_diagnosis_into_the_run_folder(run_folder, capsys):
    saved = json.loads((run_folder / "diagnosis.json").read_text(encoding="utf-8"))
    assert set(saved) == {"ok", "findings", "measurements"}
    assert "diagnosis.json" in json.loads((run_folder / "config.json").read_text())["files"]


def test_backprop_doctor_diagnoses_a_saved_run(run_folder, tmp_path, capsys):
    output = tmp_path / "d.json"
    assert main(["doctor", "--model", str(run_folder), "--data", "moons", "--n-samples",
                 "300", "--output", str(output)]) == 0
    saved = json.loads(output.read_text(encoding="utf-8"))
    assert saved["measurements"]["epochs"] == 15
    assert "Doctor" in capsys.readouterr().out


def test_backprop_doctor_reports_problems_in_a_table(tmp_path, capsys):
    out = tmp_path / "bad"
    assert main(["train", "--data", "moons", "--n-samples", "200", "--hidden", "8",
                 "--optimizer", "sgd", "--lr", "1e-6", "--epochs", "10", "--quiet",
                 "--no-plots", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "learning_rate_too_low" in printed and "warning" in printed
    assert "learning_rate_too_low" in (out / "diagnosis.json").read_text(encoding="utf-8")


@pytest.mark.filterwarnings("ignore::backprop.PoorFitWarning")  # the run fails on purpose
def test_the_gradient_flow_figure_shades_the_vanishing_layers():
    from matplotlib.collections import PolyCollection

    from backprop.plots import plot_gradient_flow

    result = cases.vanishing()
    X, y = cases._moons(200)
    model = bp.MLP([2] + [32] * 8 + [1], activation="sigmoid", output_activation="sigmoid",
                   seed=0)
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.1), epochs=30)
    diagnosis = bp.diagnose(model, X, y, history)
    layers = diagnosis.get("vanishing_gradients").evidence["layers"]
    for given in (diagnosis, diagnosis.to_dict(), result.diagnosis):
        fig = plot_gradient_flow(history, diagnosis=given)
        bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
        assert len(bands) == 1 and bands[0].get_label().startswith("vanishing gradients")
        dashed = [line for line in fig.axes[0].lines if line.get_linestyle() == "--"]
        assert len(dashed) == len(layers)
    plain = plot_gradient_flow(history)
    assert not [c for c in plain.axes[0].collections if isinstance(c, PolyCollection)]
    with pytest.raises(TypeError, match="diagnosis must be a Diagnosis"):
        plot_gradient_flow(history, diagnosis=[1, 2])
