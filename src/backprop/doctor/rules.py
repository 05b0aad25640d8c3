"""The rules: each reads the measured ``Case`` and returns a ``Finding`` (or nothing).

Thresholds come from thresholds.py, where each has its source. One principle runs through
them, taken from AUTOTRAINER: a symptom inside the network (small gradients, dead or saturated
units) is a *warning* only while the run also fails to learn (its loss has not fallen to half
the baseline's); in a run that learns well it is reported as *info*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import losses as _losses
from .findings import Finding, sup
from .measure import Run
from .thresholds import value

#: output activations and the interval their values lie in
OUTPUT_RANGES = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0),
                 "relu": (0.0, np.inf), "softplus": (0.0, np.inf)}


@dataclass
class Case:
    """Everything measured about one model, its data and its run (see ``diagnose``)."""

    loss: str
    output_activation: str
    n_outputs: int
    classification: bool
    target_range: tuple[float, float]
    model_loss: float
    baseline_loss: float
    baseline_what: str
    layers: list[dict[str, Any]] = field(default_factory=list)
    inputs: dict[str, Any] | None = None
    classes: dict[str, Any] | None = None
    rarest_recall: float | None = None
    run: Run | None = None
    #: per-layer ‖∂L/∂W⁽ˡ⁾‖ and ‖W⁽ˡ⁾‖ where gradient problems show, and where they came from
    grad_norms: np.ndarray | None = None
    weight_norms: np.ndarray | None = None
    grad_source: str = ""
    update_ratio: np.ndarray | None = None
    update_how: str = ""
    #: saturated share per hidden layer at the Doctor's first check (None: not watched)
    saturated_at_start: list[float | None] | None = None
    #: False when the baseline loss is only a stand-in (the Doctor without data)
    baseline_known: bool = True

    @property
    def skill(self) -> float:
        """1 − loss/baseline: 0 for a constant prediction, 1 for a perfect fit."""
        if not self.baseline_loss > 0:
            return 1.0 if self.model_loss <= self.baseline_loss else 0.0
        return 1.0 - self.model_loss / self.baseline_loss

    @property
    def struggling(self) -> bool:
        return self.skill < value("struggling_skill")

    def gated(self) -> str:
        return "warning" if self.struggling else "info"


def _layers_text(layers: list[int]) -> str:
    return ("layer " if len(layers) == 1 else "layers ") + ", ".join(map(str, layers))


def _fit_note(case: Case) -> str:
    return (f"; loss {case.model_loss:.3g}, baseline {case.baseline_loss:.3g} "
            f"({case.baseline_what})")


# -- the loss and the output layer ---------------------------------------------------------
def loss_output_mismatch(case: Case) -> Finding | None:
    out, loss = case.output_activation, case.loss
    evidence = {"loss": loss, "output_activation": out, "n_outputs": case.n_outputs}
    problem = advice = None
    impossible = _losses.pairing_problem(loss, out, case.n_outputs)  # the pairs fit refuses
    if impossible is not None:
        problem = impossible.problem
        advice = (f"Use output_activation={impossible.activation!r} with "
                  f"loss={impossible.loss!r} ({impossible.note}).")
    elif case.classification and loss in ("mse", "mae", "huber") and out in ("sigmoid",
                                                                             "softmax"):
        problem = (f"the loss {loss}, taken through a {out} output, multiplies the error by "
                   "the output's slope, which vanishes exactly when a unit is confidently "
                   "wrong")
        advice = ("Use binary_crossentropy with a sigmoid output, or categorical_crossentropy "
                  "with softmax: the fused pair hands back δ⁽ᴸ⁾ = (p − y)/N (Golik et al., "
                  "Interspeech 2013).")
    elif not case.classification and out in OUTPUT_RANGES:
        low, high = OUTPUT_RANGES[out]
        t_low, t_high = case.target_range
        if t_low < low - 1e-9 or t_high > high + 1e-9:
            evidence["output_range"], evidence["target_range"] = [low, high], [t_low, t_high]
            problem = (f"a {out} output lies in [{low:g}, {high:g}] but the targets span "
                       f"[{t_low:.3g}, {t_high:.3g}]: the network cannot reach them")
            advice = ("Use output_activation='identity' for regression (and standardise the "
                      "targets).")
    if problem is None:
        return None
    return Finding("loss_output_mismatch", "warning", problem[0].upper() + problem[1:] + ".",
                   advice, evidence)


# -- gradients -----------------------------------------------------------------------------
def _gradient_ratios(case: Case) -> np.ndarray | None:
    g = case.grad_norms
    if g is None or g.size < 2 or not np.all(np.isfinite(g)) or g[-1] <= 0:
        return None
    return g / g[-1]


def vanishing_gradients(case: Case) -> Finding | None:
    ratios = _gradient_ratios(case)
    if ratios is None:
        return None
    g = case.grad_norms
    if not (ratios[0] < value("vanishing_ratio") and g[0] < value("vanishing_first_norm")):
        return None
    layers = [k + 1 for k in range(len(ratios) - 1) if ratios[k] < value("vanishing_ratio")]
    depth = len(ratios)
    return Finding(
        "vanishing_gradients", case.gated(),
        f"The gradient reaching layer 1 is {ratios[0]:.1e} times the output layer's "
        f"(‖∂L/∂W⁽¹⁾‖ = {g[0]:.1e}, {case.grad_source}); {_layers_text(layers)} barely "
        f"learn" + (_fit_note(case) if case.struggling else "") + ".",
        "Use ReLU-family hidden activations with He initialisation, or fewer layers; sigmoid "
        "and tanh multiply the backpropagated error by g'(z) ≤ 0.25 (≤ 1) at every layer.",
        {"layers": layers, "ratio_first_to_last": ratios[0], "grad_norms": g,
         "depth": depth, "measured_on": case.grad_source,
         "thresholds": {"ratio": value("vanishing_ratio"),
                        "first_norm": value("vanishing_first_norm")}})


def exploding_gradients(case: Case) -> Finding | None:
    g, w = case.grad_norms, case.weight_norms
    if g is None:
        return None
    evidence: dict[str, Any] = {"grad_norms": g, "measured_on": case.grad_source}
    if not np.all(np.isfinite(g)):
        what = "the gradient norms became NaN or infinite"
        layers = [k + 1 for k in range(g.size) if not np.isfinite(g[k])]
    else:
        ratios = _gradient_ratios(case)
        relative = g / np.where(w > 0, w, np.nan) if w is not None else None
        if ratios is not None and ratios[0] > value("exploding_ratio"):
            layers = [k + 1 for k in range(g.size - 1) if ratios[k] > value("exploding_ratio")]
            what = (f"the gradient grows {ratios[0]:.3g}-fold from the output layer to "
                    "layer 1")
            evidence["ratio_first_to_last"] = ratios[0]
        elif relative is not None and np.nanmax(relative) > value("exploding_relative_gradient"):
            layers = [k + 1 for k in range(g.size)
                      if relative[k] > value("exploding_relative_gradient")]
            worst = int(np.nanargmax(relative))
            what = (f"‖∂L/∂W{sup(worst + 1)}‖ = {g[worst]:.3g} is {relative[worst]:.3g} times "
                    f"the layer's own weight norm")
            evidence["relative_gradients"] = relative
        else:
            return None
    evidence["layers"] = layers
    severity = "warning" if case.struggling or not np.all(np.isfinite(g)) else "info"
    return Finding(
        "exploding_gradients", severity,
        f"Exploding gradients in {_layers_text(layers)}: {what} ({case.grad_source}).",
        "Scale the initial weights to the layer width (He for ReLU, Xavier for tanh), "
        "standardise inputs and targets, and clip the gradient (clipnorm=1.0).", evidence)


# -- units ---------------------------------------------------------------------------------
def dead_units(case: Case) -> Finding | None:
    rows = [s for s in case.layers if s.get("dead_fraction") is not None]
    if not rows:
        return None
    worst = max(rows, key=lambda s: s["dead_fraction"])
    share = worst["dead_fraction"]
    if share < value("dead_fraction_info"):
        return None
    if share >= value("dead_fraction_severe"):
        severity = "warning"
    elif share >= value("dead_fraction"):
        severity = case.gated()
    else:
        severity = "info"
    affected = [s for s in rows if s["dead_fraction"] >= value("dead_fraction_info")]
    parts = ", ".join(f"{s['dead_units']} of {s['units']} in layer {s['layer']}"
                      for s in affected)
    return Finding(
        "dead_units", severity,
        f"Dead units (output 0 for every probe row, so they pass no gradient): {parts}"
        + (_fit_note(case) if severity == "warning" and case.struggling else "") + ".",
        "Lower the learning rate, start the biases at 0 (or a small positive value), use He "
        "initialisation, or a leaky_relu/elu activation that keeps a gradient below zero.",
        {"layers": [s["layer"] for s in affected],
         "dead_units": [s["dead_units"] for s in affected],
         "units": [s["units"] for s in affected],
         "dead_fraction": [s["dead_fraction"] for s in affected],
         "thresholds": {"info": value("dead_fraction_info"), "warning": value("dead_fraction"),
                        "severe": value("dead_fraction_severe")}})


def saturated_units(case: Case) -> Finding | None:
    rows = [s for s in case.layers if s.get("saturated_fraction") is not None]
    limit = value("saturated_fraction")
    affected = [s for s in rows if s["saturated_fraction"] >= limit]
    if not affected:
        return None
    at_start = case.saturated_at_start
    from_start = [s["layer"] for s in affected
                  if at_start is not None and len(at_start) >= s["layer"]
                  and (at_start[s["layer"] - 1] or 0.0) >= limit]
    severity = "warning" if case.struggling or from_start else "info"
    parts = ", ".join(f"{s['saturated_fraction']:.0%} in layer {s['layer']} "
                      f"({s['activation']})" for s in affected)
    note = (f"; saturated from the first check in {_layers_text(from_start)}"
            if from_start else "")
    return Finding(
        "saturated_units", severity,
        f"Saturated units (g'(z) below {value('saturation_slope'):.0%} of its peak): {parts} "
        f"of the (row, unit) values{note}.",
        "Standardise the inputs and use Xavier initialisation for sigmoid/tanh layers (or "
        "ReLU-family activations); a smaller learning rate keeps the weights from growing "
        "into saturation.",
        {"layers": [s["layer"] for s in affected],
         "saturated_fraction": [s["saturated_fraction"] for s in affected],
         "from_start": from_start, "threshold": limit})


# -- data ----------------------------------------------------------------------------------
def unscaled_inputs(case: Case) -> Finding | None:
    s = case.inputs
    if s is None:
        return None
    big = s["max_rms"] > value("input_scale")
    spread = s["std_spread"] > value("input_scale_spread")
    if not (big or spread):
        return None
    if big:
        cols = [j for j, r in zip(s["largest_features"], s["largest_rms"])
                if r > value("input_scale")]
        what = (f"feature {cols[0]} has root mean square {s['max_rms']:.3g}"
                + (f" ({len(cols)} of the top 5 are above {value('input_scale'):g})"
                   if len(cols) > 1 else ""))
    else:
        what = f"feature scales differ {s['std_spread']:.3g}-fold"
    return Finding(
        "unscaled_inputs", "warning",
        f"The inputs are not scaled: {what}; initialisers assume inputs of order 1.",
        "Standardise each feature on the training rows (datasets.Scaler, or --scale "
        "standard): x' = (x − mean)/std.",
        {**s, "thresholds": {"rms": value("input_scale"),
                             "spread": value("input_scale_spread")}})


def class_imbalance(case: Case) -> Finding | None:
    c = case.classes
    if c is None or c["ratio"] >= value("imbalance_ratio"):
        return None
    counts, k = c["counts"], c["rarest"]
    share = counts[k] / sum(counts)
    recall = case.rarest_recall
    severity = "warning" if recall is not None and recall < value("minority_recall") else "info"
    recall_text = "" if recall is None else f"; the model finds {recall:.0%} of its rows"
    return Finding(
        "class_imbalance", severity,
        f"Class {k} has {counts[k]} of {sum(counts)} rows ({share:.1%}){recall_text}.",
        "Weight the rare class up (fit(..., sample_weight=...) with weights ∝ 1/class count) "
        "and judge the model by per-class recall, not accuracy.",
        {"counts": counts, "rarest_class": k, "ratio": c["ratio"], "rarest_recall": recall,
         "thresholds": {"ratio": value("imbalance_ratio"),
                        "recall": value("minority_recall")}})


def no_better_than_baseline(case: Case) -> Finding | None:
    if not case.baseline_known or case.skill >= value("baseline_skill"):
        return None
    return Finding(
        "no_better_than_baseline", "warning",
        f"The network is no better than predicting {case.baseline_what} for every row: loss "
        f"{case.model_loss:.4g} against {case.baseline_loss:.4g}.",
        "It is not learning from the inputs; read the other findings for why (learning rate, "
        "gradients, dead units), and check that X and y belong together.",
        {"loss": case.model_loss, "baseline_loss": case.baseline_loss,
         "baseline": case.baseline_what, "skill": case.skill,
         "threshold": value("baseline_skill")})


# -- the training run ----------------------------------------------------------------------
def _tail(series: np.ndarray) -> float:
    """Median of the last tenth of a series (1 to 10 values): robust to one noisy epoch."""
    k = max(1, min(10, series.size // 10))
    return float(np.median(series[-k:]))


def learning_rate_too_high(case: Case) -> Finding | None:
    run = case.run
    if run is None:
        return None
    lr = run.series("lr")
    evidence: dict[str, Any] = {"lr": float(lr[-1]) if lr.size else None}
    if case.update_ratio is not None:
        evidence["update_ratio"], evidence["update_ratio_from"] = case.update_ratio, \
            case.update_how
    if run.diverged:
        evidence["diverged"], evidence["epochs_finished"] = run.diverged, run.epochs
        what = run.diverged.split(". ")[0].rstrip(".")
        return Finding(
            "learning_rate_too_high", "warning",
            what[0].upper() + what[1:] + (f" (learning rate {lr[-1]:g})." if lr.size else "."),
            "Lower the learning rate tenfold, or clip the gradient (clipnorm=1.0).", evidence)
    loss = run.series("loss")
    if loss.size < 5 or not np.all(np.isfinite(loss)) or not case.baseline_loss > 0:
        return None
    lowest, end = float(loss.min()), _tail(loss)
    rebound = (end - lowest) / case.baseline_loss
    if rebound <= value("loss_rebound"):
        return None
    evidence.update({"lowest_loss": lowest, "lowest_epoch": int(np.argmin(loss)) + 1,
                     "final_loss": end, "rebound": rebound,
                     "threshold": value("loss_rebound")})
    return Finding(
        "learning_rate_too_high", "warning",
        f"The training loss fell to {lowest:.3g} (epoch {int(np.argmin(loss)) + 1}) and then "
        f"climbed back to {end:.3g}: the steps overshoot"
        + (f" (learning rate {lr[-1]:g})" if lr.size else "") + ".",
        "Lower the learning rate (by 3–10×) or add a schedule that decays it.", evidence)


def learning_rate_too_low(case: Case) -> Finding | None:
    run = case.run
    if run is None or case.update_ratio is None or not case.struggling:
        return None
    loss = run.series("loss")
    if loss.size < 5 or not np.all(np.isfinite(loss)) or not case.baseline_loss > 0:
        return None
    progress = (float(loss[0]) - _tail(loss)) / case.baseline_loss
    biggest = float(np.nanmax(case.update_ratio)) if np.any(np.isfinite(case.update_ratio)) \
        else 0.0
    if progress >= value("lr_low_progress") or biggest >= value("lr_low_update_ratio"):
        return None
    lr = run.series("lr")
    return Finding(
        "learning_rate_too_low", "warning",
        f"In {run.epochs} epochs the loss fell by {progress:.1%} of the baseline loss, and one "
        f"step moves the weights by {biggest:.1e} of their size"
        + (f" (learning rate {lr[-1]:g})" if lr.size else "") + ".",
        "Raise the learning rate (tenfold at a time) until the loss falls steadily; an "
        "update of about 1e-3 of the weights per step is a good target.",
        {"lr": float(lr[-1]) if lr.size else None, "progress": progress,
         "update_ratio": case.update_ratio, "update_ratio_from": case.update_how,
         "thresholds": {"progress": value("lr_low_progress"),
                        "update_ratio": value("lr_low_update_ratio")}})


def overfitting(case: Case) -> Finding | None:
    run = case.run
    if run is None:
        return None
    val, loss = run.series("val_loss"), run.series("loss")
    if val.size < 5 or not np.all(np.isfinite(val)) or loss.size != val.size:
        return None
    best = int(np.argmin(val))
    gl = _tail(val) / float(val[best]) - 1 if val[best] > 0 else 0.0
    still_fitting = _tail(loss) < float(loss[best])
    if gl <= value("overfitting_gl") or not still_fitting:
        return None
    severity = ("warning" if gl > value("overfitting_gl_warning") and not run.stopped_early
                else "info")
    caught = " Early stopping ended the run." if run.stopped_early else ""
    return Finding(
        "overfitting", severity,
        f"The validation loss was lowest at epoch {best + 1} ({val[best]:.3g}) and has risen "
        f"{gl:.0%} since, while the training loss kept falling ({loss[best]:.3g} → "
        f"{_tail(loss):.3g}).{caught}",
        "Stop at the best epoch (EarlyStopping(patience=...)), add L2 (l2=1e-4) or dropout, "
        "use a smaller network or more data.",
        {"best_epoch": best + 1, "best_val_loss": float(val[best]), "final_val_loss": _tail(val),
         "generalisation_loss": gl, "stopped_early": run.stopped_early,
         "thresholds": {"info": value("overfitting_gl"),
                        "warning": value("overfitting_gl_warning")}})


RULES = (loss_output_mismatch, exploding_gradients, learning_rate_too_high,
         vanishing_gradients, dead_units, saturated_units, unscaled_inputs,
         no_better_than_baseline, class_imbalance, overfitting)


def evaluate(case: Case) -> list[Finding]:
    """Every rule on ``case``; the too-low learning rate only where no internal problem
    (vanishing gradients, dead units) already explains a stalled loss."""
    findings = [f for f in (rule(case) for rule in RULES) if f is not None]
    explained = {f.code for f in findings if f.severity == "warning"} & {
        "vanishing_gradients", "dead_units", "exploding_gradients", "learning_rate_too_high",
        "loss_output_mismatch"}
    if not explained:
        low = learning_rate_too_low(case)
        if low is not None:
            findings.append(low)
    return findings
