"""``Doctor``: the diagnosis as a callback, checking the run while it trains."""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from ..callbacks import Callback
from ..training import TrainingDiverged
from ..validation import check_X
from . import measure
from .diagnose import assess
from .explain import backpropagate
from .findings import Diagnosis, Finding, json_safe
from .measure import Run, resolve_loss
from .rules import Case, evaluate

#: checks per run when ``every`` is not given
CHECKS_PER_RUN = 5
#: what the check at the initial weights (epoch 0) may report: the loss curve does not exist
#: yet, and an untrained network is expected to be no better than the baseline
INITIAL_CODES = ("exploding_gradients", "vanishing_gradients", "dead_units", "saturated_units",
                 "unscaled_inputs", "loss_output_mismatch", "class_imbalance")
#: live findings kept in the final diagnosis when the end of the run no longer shows them
KEPT_CODES = ("exploding_gradients", "vanishing_gradients")


class Doctor(Callback):
    """Check a run while it trains and diagnose it when it ends.

    Every ``every`` epochs it reads what the loop already has — the loss, the gradient each
    ``Param`` holds from the epoch's last batch, the weights and how far this epoch moved
    them — and runs one forward pass over a fixed probe batch (at most ``probe_size`` rows)
    for the activation statistics. New findings are kept in ``findings`` (with the epoch
    they appeared) and passed to ``on_finding``; when training ends (or diverges),
    ``diagnosis`` holds the full :func:`diagnose` of the run.

    Parameters
    ----------
    X, y : array-like, optional
        The training rows (as the network reads them). Without them the doctor judges the
        gradients and the loss curve only, with the first epoch's loss standing in for the
        baseline.
    every : int, optional
        Check every ``every`` epochs (and at the first); default: about 5 checks per run.
    probe_size : int, default 256
    seed : int, default 0
        Chooses the probe rows.
    on_finding : callable, optional
        Called with each new ``Finding`` (and again when one rises to a warning).

    Attributes
    ----------
    records : list of dict
        One JSON-safe dict per check: ``epoch`` (1-based), ``loss``, ``val_loss``, ``lr``,
        ``grad_norms``, ``weight_norms``, ``update_ratio`` (‖ΔW⁽ˡ⁾‖/‖W⁽ˡ⁾‖ per step over the
        epoch), ``dead_fraction`` and ``saturated_fraction`` per hidden layer.
    findings : list of Finding
        As found during training, each with the ``epoch`` it first appeared.
    diagnosis : Diagnosis or None
        Set by ``on_train_end``.

    Examples
    --------
    >>> import numpy as np, backprop as bp
    >>> X = np.random.default_rng(0).normal(size=(64, 2)); y = (X[:, 0] > 0).astype(int)
    >>> doctor = bp.Doctor(X, y)
    >>> model = bp.MLP([2, 8, 1], output_activation="sigmoid", seed=0)
    >>> history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(0.01),
    ...                     epochs=50, callbacks=[doctor])
    >>> doctor.diagnosis.ok
    True
    """

    def __init__(self, X: Any = None, y: Any = None, every: int | None = None,
                 probe_size: int = measure.PROBE_SIZE, seed: int = 0,
                 on_finding: Callable[[Finding], None] | None = None) -> None:
        if (X is None) != (y is None):
            raise ValueError("Doctor needs both X and y for its probe batch, or neither")
        if every is not None and (isinstance(every, bool) or not isinstance(every, int)
                                  or every < 1):
            raise ValueError(f"every must be a positive integer; got every={every!r}")
        if isinstance(probe_size, bool) or not isinstance(probe_size, int) or probe_size < 1:
            raise ValueError(f"probe_size must be a positive integer; got {probe_size!r}")
        if on_finding is not None and not callable(on_finding):
            raise TypeError("on_finding must be callable (it receives each new Finding)")
        self.X, self.y = X, y
        self.every, self.probe_size, self.seed = every, probe_size, seed
        self.on_finding = on_finding
        self.records: list[dict[str, Any]] = []
        self.findings: list[Finding] = []
        self.diagnosis: Diagnosis | None = None

    # -- set-up ----------------------------------------------------------------------------
    def on_train_begin(self, logs):
        model = self.model
        self.loss_fn = resolve_loss(model, None)
        self._every = self.every or max(1, math.ceil((logs.get("epochs") or 1) /
                                                      CHECKS_PER_RUN))
        self.records, self.findings, self.diagnosis = [], [], None
        self._logs: dict[str, list[float]] = {}
        self._epochs_seen = 0
        self._before: list[np.ndarray] | None = None
        self._weights = [p for p in model.parameters() if p.name.endswith(".W")]
        self._probe = self._static = None
        if self.X is not None:
            X = check_X(self.X, model.n_features)
            T = self.loss_fn.prepare_targets(self.y, model.n_outputs, np.float64)
            if X.shape[0] != T.shape[0]:
                raise ValueError(f"Doctor: X has {X.shape[0]} rows but y has {T.shape[0]}")
            rows = measure.probe_rows(X.shape[0], self.probe_size, self.seed)
            # in the model's dtype: the checks cost what a forward pass of training costs
            self._probe = (np.ascontiguousarray(X[rows], dtype=model.dtype), T[rows])
            baseline, what = measure.baseline_loss(self.loss_fn, T)
            self._static = {"baseline": baseline, "what": what,
                            "inputs": measure.input_statistics(X),
                            "classes": measure.target_statistics(
                                T, model.output_activation.name),
                            "range": (float(T.min()), float(T.max()))}
            self._initial_check()

    def _initial_check(self) -> None:
        """Epoch 0: gradients and activations at the initial weights, where a bad
        initialisation shows before the first steps hide it."""
        X, T = self._probe
        model = self.model
        with np.errstate(over="ignore", invalid="ignore"):
            inputs, zs, outs, deltas, _, _ = backpropagate(model, X, T, self.loss_fn)
        layers = measure.layer_statistics(model, zs)
        record = json_safe({
            "epoch": 0, "loss": measure.loss_value(self.loss_fn, model, zs[-1], outs[-1], T),
            "val_loss": None, "lr": getattr(model.optimizer, "lr", None),
            "grad_norms": [_number(np.linalg.norm(measure.product_t(a, d)))
                           for a, d in zip(inputs, deltas)],
            "weight_norms": [_norm(p.value) for p in self._weights], "update_ratio": None,
            "dead_fraction": [s["dead_fraction"] for s in layers],
            "saturated_fraction": [s["saturated_fraction"] for s in layers]})
        self.records.append(record)
        for finding in evaluate(self._live_case(record, layers, initial_loss=record["loss"])):
            if finding.code in INITIAL_CODES:
                self._note(dataclasses.replace(finding, epoch=0))

    def _due(self, epoch: int) -> bool:
        return self._epochs_seen == 0 or (epoch + 1) % self._every == 0

    # -- each epoch ------------------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs):
        if self._due(epoch):
            self._before = [p.value.copy() for p in self._weights]
            self._steps_before = getattr(self.model.optimizer, "iterations", None)

    def on_epoch_end(self, epoch, logs):
        for key in ("loss", "val_loss", "lr"):
            if key in logs:
                self._logs.setdefault(key, []).append(float(logs[key]))
        due, self._epochs_seen = self._due(epoch), self._epochs_seen + 1
        if not due or self._before is None:
            return
        record, layers = self._check(epoch, logs)
        self._before = None
        self.records.append(record)
        for finding in evaluate(self._live_case(record, layers)):
            self._note(dataclasses.replace(finding, epoch=epoch + 1))

    def _check(self, epoch: int, logs: dict[str, Any]) -> tuple[dict[str, Any], list[dict]]:
        grads = [_norm(p.grad) for p in self._weights]
        weights = [_norm(p.value) for p in self._weights]
        steps = getattr(self.model.optimizer, "iterations", None)
        update = None
        if steps is not None and self._steps_before is not None and steps > self._steps_before:
            update = []
            for p, before in zip(self._weights, self._before):
                size = _norm(before)
                update.append(_norm(p.value - before) / size / (steps - self._steps_before)
                              if size > 0 else None)
        layers = [] if self._probe is None else measure.layer_statistics(
            self.model, measure.forward(self.model, self._probe[0], hidden_only=True)[1])
        return {"epoch": epoch + 1, "loss": _number(logs.get("loss")),
                "val_loss": _number(logs.get("val_loss")), "lr": _number(logs.get("lr")),
                "grad_norms": [_number(g) for g in grads],
                "weight_norms": [_number(w) for w in weights], "update_ratio": update,
                "dead_fraction": [s["dead_fraction"] for s in layers],
                "saturated_fraction": [s["saturated_fraction"] for s in layers]}, layers

    def _live_case(self, record: dict[str, Any], layers: list[dict], run: Run | None = None,
                   initial_loss: float | None = None) -> Case:
        model, static = self.model, self._static
        losses = self._logs.get("loss") or [initial_loss if initial_loss is not None
                                            else float("nan")]
        if static is None:  # no data: the first epoch's loss stands in for the baseline
            static = {"baseline": losses[0], "what": "the first epoch's loss",
                      "inputs": None, "classes": None, "range": (0.0, 1.0)}
        case = Case(loss=self.loss_fn.name, output_activation=model.output_activation.name,
                    n_outputs=model.n_outputs, classification=static["classes"] is not None
                    or self.loss_fn.classification, target_range=static["range"],
                    model_loss=losses[-1], baseline_loss=static["baseline"],
                    baseline_what=static["what"], layers=layers,
                    inputs=static["inputs"], classes=static["classes"],
                    run=run or Run(dict(self._logs)),
                    grad_norms=_array(record["grad_norms"]),
                    weight_norms=_array(record["weight_norms"]),
                    grad_source=f"epoch {record['epoch']}",
                    saturated_at_start=self.records[0]["saturated_fraction"],
                    baseline_known=self._static is not None)
        if record["update_ratio"] is not None:
            case.update_ratio = _array(record["update_ratio"])
            case.update_how = "measured this epoch"
        return case

    def _note(self, finding: Finding) -> None:
        known = next((i for i, f in enumerate(self.findings) if f.code == finding.code), None)
        if known is None:
            self.findings.append(finding)
        elif finding.severity == "warning" and self.findings[known].severity == "info":
            self.findings[known] = finding
        else:
            return
        if self.on_finding is not None:
            self.on_finding(finding)

    # -- the end ---------------------------------------------------------------------------
    def on_train_end(self, logs):
        exc = sys.exc_info()[1]  # fit calls this from its `finally`, also on divergence
        history = exc if isinstance(exc, TrainingDiverged) else getattr(self.model, "history",
                                                                         None)
        run = Run.of(history) if history is not None else Run(dict(self._logs))
        if self.model.stop_training and not run.diverged:
            run.stopped_early = True
        ratios = [_array(r["update_ratio"]) for r in self.records
                  if r["update_ratio"] is not None]
        measured = (np.median(np.vstack(ratios), axis=0),
                    "measured by the Doctor (median over its checks)") if ratios else None
        start = self.records[0]["saturated_fraction"] if self.records else None
        if self.X is not None:
            # On the probe rows (the cost of a check, whatever the data's size), with the
            # whole data's input scales, class counts and baseline from on_train_begin.
            findings, measurements = assess(self.model, *self._probe, self.loss_fn, run,
                                            self.probe_size, self.seed, update_ratio=measured,
                                            saturated_at_start=start, statics=self._static)
        elif self.records:  # no data: the last check again, judged on the whole run
            case = self._live_case(self.records[-1], [], run)
            grads, weights = run.layer_series("grad_norm"), run.layer_series("weight_norm")
            if grads is not None and weights is not None:
                case.grad_norms = measure.median_rows(grads, run.early())
                case.weight_norms = measure.median_rows(weights, run.early())
                case.grad_source = f"median of epochs 1–{run.early().stop}"
            findings, measurements = evaluate(case), {}
        else:
            findings, measurements = [], {}
        # Gradient trouble seen while training stays in the record even if the run recovered.
        final = {f.code for f in findings}
        findings += [f for f in self.findings if f.code in KEPT_CODES and f.code not in final]
        first_seen = {f.code: f.epoch for f in self.findings}
        findings = [dataclasses.replace(f, epoch=f.epoch if f.epoch is not None
                                        else first_seen.get(f.code)) for f in findings]
        measurements["checks"] = self.records
        self.diagnosis = Diagnosis(findings, measurements)


def _norm(x: np.ndarray) -> float:
    # einsum: no BLAS call, so no thread-pool wake-up for a few thousand numbers
    return math.sqrt(float(_einsum("ij,ij->", x, x)))


_einsum = getattr(np.einsum, "_implementation", np.einsum)


def _number(value: Any) -> float | None:
    """A JSON-safe float: None for a missing or non-finite value."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _array(values: list) -> np.ndarray:
    """A JSON-safe list of numbers (None for a missing one) as a float array."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
