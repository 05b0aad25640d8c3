"""The chapter's mistakes, each measured by running a faithful copy of the faulty code.

>>> from backprop.tour import errata
>>> e = errata.double_division()
>>> round(e.values["ratio_max"] * e.values["m"], 6)
1.0

Two kinds of erratum are collected here:

- mistakes in the chapter's code or formulas (``CODE_ERRATA``), each re-run by a function
  of this module on a few lines of NumPy from :mod:`._chapter_code`;
- claims its experiments do not bear out (``results_errata``), measured with the library by
  the tour's section 4.5 and passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._errata_gradients import (
    binary_cross_entropy,
    cache_layout,
    double_division,
    mse_outputs,
    softmax_jacobian,
)
from ._errata_setup import (
    epochs_modulo,
    one_d_labels,
    silent_names,
    small_normal_variance,
    softmax_axis,
    xavier_comment,
)
from ._erratum import Erratum

__all__ = ["Erratum", "CODE_ERRATA", "ORDER", "number", "measure_code_errata", "results_errata",
           "xavier_comment", "softmax_axis", "cache_layout", "double_division",
           "softmax_jacobian", "binary_cross_entropy", "mse_outputs", "small_normal_variance",
           "epochs_modulo", "silent_names", "one_d_labels"]

#: In the chapter's order.
CODE_ERRATA: tuple[Callable[[], Erratum], ...] = (
    xavier_comment, softmax_axis, cache_layout, double_division, softmax_jacobian,
    binary_cross_entropy, mse_outputs, small_normal_variance, epochs_modulo, silent_names,
    one_d_labels,
)


#: every erratum's key in report order; the report numbers them E1, E2, ...
ORDER: tuple[str, ...] = (*(f.__name__ for f in CODE_ERRATA), "xor_seeds", "moons_underfit")


def number(key: str) -> str:
    """The report's label for an erratum, such as ``"E4"``."""
    return f"E{ORDER.index(key) + 1}"


def measure_code_errata() -> list[Erratum]:
    """Run every faulty computation from the chapter and measure what goes wrong."""
    return [measure() for measure in CODE_ERRATA]


def results_errata(xor: dict[str, Any], moons: dict[str, Any]) -> list[Erratum]:
    """Errata about the chapter's experiments, from the tour's own measurements.

    Parameters
    ----------
    xor : dict
        Section 4.5's XOR seed study: ``seeds``, ``solved``, ``dead_units`` (per failed
        seed), ``wide_solved`` and ``wide_hidden``.
    moons : dict
        Section 4.5's moons runs: ``chapter`` and ``better`` dicts of train/test accuracy,
        and ``linear`` (logistic regression) accuracies.
    """
    failed = xor["seeds"] - xor["solved"]
    dead = xor["dead_units"]
    dead_text = ", ".join(str(d) for d in dead) if dead else "none"
    xor_erratum = Erratum(
        key="xor_seeds",
        title="The 4-unit XOR network works only for some seeds",
        where="§4.5 Train MLP on XOR",
        wrong=(
            "The chapter trains one [2, 4, 1] ReLU network on XOR and presents its result "
            "as what the method does. With only four ReLU units and plain gradient descent "
            "the outcome depends on the initial weights: a unit whose input is negative on "
            "all four points receives no gradient and stays dead."
        ),
        measured=(
            f"With the chapter's settings (He initialisation, MSE, learning rate 0.1, 2000 "
            f"full-batch epochs) the network solves XOR for {xor['solved']} of "
            f"{xor['seeds']} seeds. In the {failed} failures the number of hidden units "
            f"that output 0 on all four points is: {dead_text}."
        ),
        library=(
            f"The tour reports the count rather than one lucky run. A hidden layer of "
            f"{xor['wide_hidden']} units with the same settings solves XOR on "
            f"{xor['wide_solved']} of {xor['seeds']} seeds."
        ),
        values=dict(xor),
    )
    chapter, better, linear = moons["chapter"], moons["better"], moons["linear"]
    beaten = chapter["test_accuracy"] <= linear["test_accuracy"]
    moons_erratum = Erratum(
        key="moons_underfit",
        title=("The chapter's moons settings do not beat a linear model" if beaten else
               "The chapter's moons settings stop far short of what the network can do"),
        where="§4.5.3 Train on non-linearly separable data (moons dataset)",
        wrong=(
            "Squared error on a sigmoid output multiplies every gradient by σ'(z) ≤ ¼, and "
            "1000 full-batch steps of size 0.01 are few, so the network stops far from a "
            "curved boundary. The chapter prints the accuracies without comparing them with "
            "anything, and its summary says the network handles non-linearly separable data; "
            "this run does not show that."
        ),
        measured=(
            f"Trained exactly as in the chapter, the [2, 10, 10, 1] network reaches "
            f"{chapter['train_accuracy']:.1%} train and {chapter['test_accuracy']:.1%} test "
            f"accuracy; logistic regression on the same split reaches "
            f"{linear['train_accuracy']:.1%} and {linear['test_accuracy']:.1%}."
        ),
        library=(
            f"With binary cross-entropy (fused with the sigmoid), Adam and mini-batches "
            f"({better['description']}) the library reaches "
            f"{better['train_accuracy']:.1%} train and {better['test_accuracy']:.1%} test "
            f"accuracy in {better['epochs']} epochs."
        ),
        values={"chapter": dict(chapter), "better": dict(better), "linear": dict(linear)},
    )
    return [xor_erratum, moons_erratum]
