"""The doctor's thresholds, each with the published practice it comes from.

One table, read by the rules (rules.py) and reproduced in docs/DOCTOR.md (a test keeps the two
equal). Changing a number here changes what the doctor reports; the healthy-run tests
(tests/test_doctor_healthy.py) say whether it starts raising false alarms.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Threshold:
    """One number a rule compares a measurement with.

    Attributes
    ----------
    name : str
    value : float
    meaning : str
        What is compared with ``value``, in words.
    source : str
        The published practice the value comes from.
    """

    name: str
    value: float
    meaning: str
    source: str


_AUTOTRAINER = "AUTOTRAINER (Zhang et al., ICSE 2021), monitor defaults"
_CS231N = "CS231n notes, 'Neural Networks Part 3: babysitting the learning process'"

THRESHOLDS: dict[str, Threshold] = {t.name: t for t in (
    Threshold("vanishing_ratio", 1e-3,
              "‖∂L/∂W⁽¹⁾‖ / ‖∂L/∂W⁽ᴸ⁾‖ in the first epochs is below this (β₁) ...",
              f"{_AUTOTRAINER}: β₁ = 1e-3"),
    Threshold("vanishing_first_norm", 1e-4,
              "... and ‖∂L/∂W⁽¹⁾‖ itself is below this (β₂); a layer vanishes when its own "
              "ratio to the output layer is below β₁",
              f"{_AUTOTRAINER}: β₂ = 1e-4"),
    Threshold("exploding_ratio", 70.0,
              "‖∂L/∂W⁽¹⁾‖ / ‖∂L/∂W⁽ᴸ⁾‖ in the first epochs is above this (β₃)",
              f"{_AUTOTRAINER}: β₃ = 70"),
    Threshold("exploding_relative_gradient", 10.0,
              "some layer's ‖∂L/∂W⁽ˡ⁾‖ / ‖W⁽ˡ⁾‖ in the first epochs is above this: one "
              "gradient-descent step at η = 0.1 would move the layer farther than its own size",
              "Pascanu, Mikolov & Bengio (ICML 2013), gradient norms far above their typical "
              "size; CS231n's update/weight ratio ≈ 1e-3 is four decades below"),
    Threshold("dead_fraction", 0.4,
              "share of a ReLU layer's units that output 0 for every probe row",
              f"{_CS231N}: 'as much as 40% of your network can be dead'"),
    Threshold("dead_fraction_severe", 0.7,
              "the same share, a warning whatever the loss (γ)",
              f"{_AUTOTRAINER}: γ = 0.7 (share of zero gradients)"),
    Threshold("dead_fraction_info", 0.1,
              "the same share, reported as information", "reporting floor of this library"),
    Threshold("saturation_slope", 0.05,
              "a sigmoid or tanh unit is saturated on a row when g'(z) is below this share of "
              "g'(0) (for tanh: a beyond ±0.975)",
              "Glorot & Bengio (AISTATS 2010), saturation of sigmoid/tanh layers"),
    Threshold("saturated_fraction", 0.5,
              "share of a layer's (row, unit) values that are saturated",
              "Glorot & Bengio (AISTATS 2010): a layer driven into saturation learns slowly"),
    Threshold("struggling_skill", 0.5,
              "a run 'struggles' while its skill = 1 − loss/baseline loss is below this (the "
              "loss has not halved); gradient, dead-unit and saturation symptoms are warnings "
              "only then (otherwise information)",
              f"{_AUTOTRAINER}: symptoms count only while training fails to converge"),
    Threshold("baseline_skill", 0.05,
              "skill below this: the network is no better than predicting the class "
              "frequencies (or the mean) for every row",
              "scikit-learn DummyClassifier/DummyRegressor; Karpathy, 'A Recipe for Training "
              "Neural Networks' (2019): beat an input-independent baseline"),
    Threshold("loss_rebound", 0.1,
              "the training loss at the end sits above its lowest value by more than this "
              "share of the baseline loss",
              f"{_AUTOTRAINER}: unstable (oscillating) loss; {_CS231N}: loss curves"),
    Threshold("lr_low_progress", 0.05,
              "the training loss fell by less than this share of the baseline loss over the "
              "whole run ...", f"{_CS231N}: a nearly linear, slow loss curve"),
    Threshold("lr_low_update_ratio", 1e-4,
              "... and one step moves the weights by less than this share of their norm",
              f"{_CS231N}: update/weight ratio should be about 1e-3"),
    Threshold("overfitting_gl", 0.1,
              "generalisation loss GL = val_loss (end) / min val_loss − 1 above this while "
              "the training loss still falls: reported as information",
              "Prechelt, 'Early Stopping — But When?' (1998): GL_α stopping criteria"),
    Threshold("overfitting_gl_warning", 0.5,
              "GL above this without early stopping: a warning",
              "Prechelt (1998); 0.5 allows for the noise of small validation sets"),
    Threshold("input_scale", 10.0,
              "a feature's root mean square is above this",
              "LeCun, Bottou, Orr & Müller, 'Efficient BackProp' (1998), §4.3: inputs with "
              "mean ≈ 0 and variance ≈ 1"),
    Threshold("input_scale_spread", 100.0,
              "largest / smallest standard deviation of the non-constant features is above "
              "this", "LeCun et al. (1998), §4.3: inputs with covariances about the same"),
    Threshold("imbalance_ratio", 0.25,
              "rarest / commonest class count is below this (a binary minority under 20%)",
              "Google ML crash course, 'Imbalanced datasets': minority 1–20% is moderate, "
              "under 1% extreme"),
    Threshold("minority_recall", 0.5,
              "the rarest class's recall on the data is below this: the imbalance is a "
              "warning (otherwise information)", "He & Garcia, 'Learning from Imbalanced "
              "Data' (IEEE TKDE 2009): accuracy hides a neglected minority"),
)}


def value(name: str) -> float:
    """The number of threshold ``name``."""
    return THRESHOLDS[name].value
