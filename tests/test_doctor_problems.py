"""Each finding code comes out of a run built to have that problem, from diagnose() and from
the Doctor callback alike (the runs are in tests/doctor_cases.py)."""

from __future__ import annotations

import functools

import doctor_cases as cases
import numpy as np
import pytest

import backprop as bp
from backprop import datasets

# These runs are built to fail; fit's own verdict on them (PoorFitWarning) is expected.
pytestmark = pytest.mark.filterwarnings("ignore::backprop.PoorFitWarning")


@functools.cache
def outcome(run):
    return run()


@pytest.mark.parametrize("code", list(cases.PROBLEMS))
def test_the_run_built_for_a_problem_reports_it(code):
    run, _ = cases.PROBLEMS[code]
    result = outcome(run)
    found, live = result.diagnosis.get(code), result.doctor.get(code)
    assert found is not None, f"diagnose missed {code}: {result.diagnosis.codes}"
    assert live is not None, f"the Doctor missed {code}: {result.doctor.codes}"
    assert live.severity == "warning"
    # Saturation after training is information unless it was there from the start, which
    # only the Doctor saw; every other problem is a warning either way.
    assert found.severity == ("info" if code == "saturated_units" else "warning")
    assert found.message and found.advice and found.evidence
    assert live.epoch is not None


def test_vanishing_names_the_first_layers_and_the_measured_ratio():
    f = outcome(cases.vanishing).diagnosis.get("vanishing_gradients")
    assert f.evidence["layers"][0] == 1 and 9 not in f.evidence["layers"]
    assert f.evidence["ratio_first_to_last"] < 1e-3
    assert f.evidence["grad_norms"][0] < 1e-4


def test_exploding_initial_scale_diverges_and_its_gradients_are_huge():
    d = outcome(cases.exploding).diagnosis
    f = d.get("exploding_gradients")
    assert max(f.evidence["relative_gradients"]) > 10
    assert "diverged" in d.get("learning_rate_too_high").evidence
    assert d.measurements["epochs"] == 0


def test_the_doctor_sees_a_bad_initial_scale_even_when_adam_recovers():
    X, y = cases._moons()
    model = bp.MLP([2] + [64] * 5 + [1], activation="relu", output_activation="sigmoid",
                   seed=0)
    for W in model.weights:
        W *= 3.0
    seen = []
    doctor = bp.Doctor(X, y, on_finding=seen.append)
    model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=1e-3), epochs=5,
              batch_size=32, callbacks=[doctor])
    f = doctor.diagnosis.get("exploding_gradients")
    assert f is not None and f.epoch == 0
    assert any(s.code == "exploding_gradients" and s.epoch == 0 for s in seen)


def test_dead_units_counts_every_unit_of_both_layers():
    f = outcome(cases.dead).diagnosis.get("dead_units")
    assert f.evidence["dead_units"] == [16, 16] and f.evidence["dead_fraction"] == [1.0, 1.0]


def test_inputs_times_100_are_flagged_with_their_scale():
    d = outcome(cases.unscaled).diagnosis
    assert d.get("unscaled_inputs").evidence["max_rms"] == pytest.approx(100, rel=0.01)
    assert d.get("saturated_units").evidence["saturated_fraction"][0] > 0.9
    assert outcome(cases.unscaled).doctor.get("saturated_units").evidence["from_start"] == [1]


def test_learning_rate_too_high_from_a_rising_loss_and_from_divergence():
    rising = outcome(cases.lr_high).diagnosis.get("learning_rate_too_high").evidence
    assert rising["final_loss"] > rising["lowest_loss"] and rising["lr"] == 5.0
    diverged = outcome(cases.lr_high_diverging).diagnosis.get("learning_rate_too_high")
    assert diverged.severity == "warning" and "diverged" in diverged.message


def test_learning_rate_too_low_measures_the_update_ratio():
    for d in (outcome(cases.lr_low).diagnosis, outcome(cases.lr_low).doctor):
        f = d.get("learning_rate_too_low")
        assert max(f.evidence["update_ratio"]) < 1e-4 and f.evidence["progress"] < 0.05


def test_overfitting_reports_the_best_epoch_and_the_rise():
    f = outcome(cases.overfitting).diagnosis.get("overfitting")
    assert f.evidence["generalisation_loss"] > 0.5
    assert 1 <= f.evidence["best_epoch"] < 100


def test_class_imbalance_counts_the_rare_class_and_its_recall():
    f = outcome(cases.imbalance).diagnosis.get("class_imbalance")
    assert f.evidence["rarest_class"] == 1 and f.evidence["counts"][1] < 70
    assert f.evidence["rarest_recall"] < 0.5


def test_early_stopping_turns_overfitting_into_information():
    X, y = cases._moons(60, noise=0.35)
    model = bp.MLP([2, 128, 128, 1], activation="relu", output_activation="sigmoid", seed=0)
    history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01),
                        epochs=200, validation_split=0.3,
                        callbacks=[bp.EarlyStopping(patience=30)])
    f = bp.diagnose(model, X, y, history).get("overfitting")
    assert history.stopped_early and f is not None and f.severity == "info"


@pytest.mark.parametrize("make, loss, what", [
    (lambda: bp.MLP([2, 8, 3], output_activation="sigmoid", seed=0),
     "categorical_crossentropy", "softmax"),
    (lambda: bp.MLP([2, 8, 1], output_activation="softmax", seed=0),
     "binary_crossentropy", "single output"),
    (lambda: bp.MLP([2, 8, 1], output_activation="identity", seed=0),
     "binary_crossentropy", "sigmoid"),
    (lambda: bp.MLP([2, 8, 1], output_activation="sigmoid", seed=0), "mse", "confidently"),
])
def test_loss_output_mismatch_names_the_pair(make, loss, what):
    X, y = cases._moons(100)
    y = np.eye(3)[y] if loss == "categorical_crossentropy" else y
    f = bp.diagnose(make(), X, y, loss=loss).get("loss_output_mismatch")
    assert f is not None and f.severity == "warning" and what in f.message + f.advice


def test_regression_targets_outside_a_relu_output_are_unreachable():
    ds = datasets.diabetes()
    y = (ds.y - ds.y.mean()) / ds.y.std()  # half the targets are negative
    model = bp.MLP([10, 8, 1], output_activation="relu", seed=0)
    f = bp.diagnose(model, cases._scaled(ds.X), y, loss="mse").get("loss_output_mismatch")
    assert f.evidence["output_range"][0] == 0 and f.evidence["target_range"][0] < 0


def test_the_doctor_without_data_still_finds_vanishing_gradients():
    X, y = cases._moons(200)
    model = bp.MLP([2] + [32] * 8 + [1], activation="sigmoid", output_activation="sigmoid",
                   seed=0)
    doctor = bp.Doctor()
    model.fit(X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.1), epochs=30,
              callbacks=[doctor])
    assert doctor.diagnosis.get("vanishing_gradients").severity == "warning"
    assert "no_better_than_baseline" not in doctor.diagnosis  # no data, no baseline


def test_the_doctor_diagnoses_a_diverged_run():
    result = outcome(cases.lr_high_diverging)
    f = result.doctor.get("learning_rate_too_high")
    assert f is not None and "diverged" in f.evidence
