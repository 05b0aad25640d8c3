"""Each erratum of the chapter, pinned by the measurement that shows it.

The faulty code is re-run from ``backprop.tour._chapter_code``; the first tests check that
this re-implementation is faithful where the chapter is right, so that what the errata
measure is the chapter's mistake and not one of ours.
"""

from __future__ import annotations

import numpy as np
import pytest

import backprop as bp
from backprop.tour import _chapter_code as chapter
from backprop.tour import errata


# -- the re-implementation agrees with the library where the chapter is right ---------------
def test_chapter_trainer_mse_gradient_is_the_library_gradient():
    # Section 4.5's backward with a sigmoid output and squared error is correct: it must
    # match the library's backpropagation for the same weights exactly.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 2))
    y = rng.integers(0, 2, (7, 1)).astype(np.float64)
    model = bp.MLP([2, 5, 3, 1], activation="tanh", output_activation="sigmoid", seed=0,
                   dtype="float64")
    trainer = chapter.Trainer([2, 5, 3, 1], "tanh", "sigmoid")
    trainer.weights, trainer.biases = chapter.chapter_layout(model)
    out, cache = trainer.forward(X)
    np.testing.assert_allclose(out, model.predict(X), rtol=1e-12)
    loss, grads = model.loss_and_gradients(X, y, loss="mse")
    assert trainer.compute_loss(out, y) == pytest.approx(loss, rel=1e-12)
    for (dW, db), (tW, tb) in zip(trainer.backward(y, out, cache), grads):
        np.testing.assert_allclose(dW, tW.T, rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(db[:, 0], tb, rtol=1e-10, atol=1e-15)


def test_chapter_trainer_softmax_rows_sum_to_one():
    trainer = chapter.Trainer([2, 4, 3], "relu", "softmax", seed=1)
    out = trainer.predict_proba(np.random.default_rng(1).standard_normal((6, 2)))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)


def test_unknown_names_fall_through_to_identity():
    z = np.array([[-2.0, 3.0]])
    np.testing.assert_array_equal(chapter.activate(z, "leaky_relu"), z)
    np.testing.assert_array_equal(chapter.activate(z, "relu"), [[0.0, 3.0]])


# -- one test per erratum ---------------------------------------------------------------------
def test_xavier_comment_draws_he_scale():
    v = errata.xavier_comment().values
    assert v["drawn_std"] == pytest.approx(v["he_std"], rel=0.03)
    assert abs(v["drawn_std"] - v["xavier_std"]) > 0.03  # √2 apart for a square layer
    assert v["library_xavier_std"] == pytest.approx(v["xavier_std"], rel=0.03)
    assert v["library_he_std"] == pytest.approx(v["he_std"], rel=0.03)


def test_softmax_axis_normalises_over_the_batch():
    v = errata.softmax_axis().values
    assert max(abs(s - 1) for s in v["row_sums"]) > 0.1
    np.testing.assert_allclose(v["column_sums"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(v["alone"], 1.0)  # one example: every class gets 1.0
    assert v["library_row_error"] < 1e-12
    assert v["library_alone_diff"] < 1e-12


def test_cache_layout_crashes_the_chapters_own_test():
    v = errata.cache_layout().values
    assert v["crash"].startswith("ValueError") and "matmul" in v["crash"]
    assert v["silent_relative_error"] > 0.1
    assert v["library_gradcheck_max_error"] < 1e-6


def test_double_division_gives_one_mth_of_the_gradient():
    v = errata.double_division().values
    assert v["ratio_min"] * v["m"] == pytest.approx(1.0, rel=1e-9)
    assert v["ratio_max"] * v["m"] == pytest.approx(1.0, rel=1e-9)
    assert v["library_gradcheck_max_error"] < 1e-6


def test_softmax_cross_entropy_ignores_the_jacobian():
    v = errata.softmax_jacobian().values
    assert v["faulty_off_target_max"] == 0.0
    assert v["true_off_target_max"] > 1e-4
    assert v["faulty_first_nan_epoch"] is not None or v["faulty_accuracy"] < 0.5
    assert v["faulty_accuracy"] < 0.5
    assert v["library_accuracy"] > 0.9


def test_binary_cross_entropy_without_one_minus_y_predicts_one_class():
    v = errata.binary_cross_entropy().values
    assert v["class0_gradient_max"] == 0.0
    assert v["share_predicted_one"] > 0.99
    assert v["faulty_accuracy"] < 0.55
    assert v["library_accuracy"] > 0.8


def test_mse_loss_and_gradient_disagree_by_the_number_of_outputs():
    v = errata.mse_outputs().values
    assert v["ratio_min"] == pytest.approx(1 / v["k"], rel=1e-5)
    assert v["ratio_max"] == pytest.approx(1 / v["k"], rel=1e-5)
    assert v["library_gradcheck_max_error"] < 1e-6


def test_small_normal_is_a_hundred_times_below_the_written_variance():
    v = errata.small_normal_variance().values
    assert v["std"] == pytest.approx(0.01, rel=0.05)
    assert v["variance"] == pytest.approx(1e-4, rel=0.1)  # the text says 0.01
    assert v["library_std"] == pytest.approx(0.01, rel=0.05)


def test_fewer_than_ten_epochs_divide_by_zero():
    v = errata.epochs_modulo().values
    assert v["crash"].startswith("ZeroDivisionError")
    assert v["library_epochs"] == 5


def test_unknown_activation_names_make_a_linear_network():
    v = errata.silent_names(seeds=6).values
    assert v["chapter_solved"] == 0
    assert v["chapter_best_accuracy"] <= 0.75
    assert v["library_solved"] >= 2
    assert "unknown activation 'rleu'" in v["library_message"]


def test_flat_labels_broadcast_and_crash():
    v = errata.one_d_labels().values
    assert v["loss_flat"] != pytest.approx(v["loss_column"], rel=1e-3)
    assert v["crash"].startswith("ValueError")
    assert v["library_loss_flat"] == v["library_loss_column"]


def test_every_code_erratum_is_numbered_and_written_up():
    assert len(errata.ORDER) == len(set(errata.ORDER)) == len(errata.CODE_ERRATA) + 2
    assert errata.number("xavier_comment") == "E1"
    e = errata.double_division()
    assert e.key in errata.ORDER
    for text in (e.title, e.where, e.wrong, e.measured, e.library):
        assert text and "{" not in text  # every placeholder was filled in


def test_results_errata_state_the_measured_numbers():
    xor = {"seeds": 20, "solved": 14, "dead_units": [2, 0], "wide_hidden": 8,
           "wide_solved": 19}
    moons = {"chapter": {"train_accuracy": 0.84, "test_accuracy": 0.82},
             "better": {"train_accuracy": 0.98, "test_accuracy": 0.99, "epochs": 60,
                        "description": "Adam"},
             "linear": {"train_accuracy": 0.87, "test_accuracy": 0.855}}
    xor_e, moons_e = errata.results_errata(xor, moons)
    assert "14 of 20 seeds" in xor_e.measured and "19 of 20" in xor_e.library
    assert "82.0% test" in moons_e.measured and "85.5%" in moons_e.measured
    assert moons_e.title.endswith("do not beat a linear model")
    moons["chapter"]["test_accuracy"] = 0.9
    assert not errata.results_errata(xor, moons)[1].title.endswith("linear model")
