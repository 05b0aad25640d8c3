"""``diagnose``: measure a model, its data and its training run, and apply the rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import losses as _losses
from ..validation import check_X
from . import measure
from .explain import gradient_norms
from .findings import Diagnosis, json_safe
from .measure import Run, resolve_loss
from .rules import Case, evaluate


def diagnose(model: Any, X: Any, y: Any, history: Any = None, loss: Any = None, *,
             probe_size: int = measure.PROBE_SIZE, seed: int = 0) -> Diagnosis:
    """Say what is wrong with a network and its training, with the numbers that show it.

    Parameters
    ----------
    model : Sequential or MLP
    X : array-like of shape (n_samples, n_features)
        Rows as the network reads them (after any scaling), usually the training rows.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    history : History, dict, TrainingDiverged or None
        The training run: what ``fit`` returned, its ``.history`` dict (a run folder's
        history.json) or the ``TrainingDiverged`` it raised. None uses ``model.history``
        when the model has been trained; without a run only the model and data are judged.
    loss : str or Loss, optional
        Default: the loss of the model's last ``fit``.
    probe_size : int, default 256
        Rows (a fixed random subset) on which activations are measured.
    seed : int, default 0
        Chooses the probe rows.

    Returns
    -------
    Diagnosis
        ``findings`` (each with ``code``, ``severity``, ``message``, ``advice``, ``evidence``)
        and ``measurements``.

    Notes
    -----
    The rules and their thresholds, each from published practice (AUTOTRAINER, CS231n,
    Glorot & Bengio, LeCun et al., Prechelt), are listed in ``doctor.thresholds`` and
    docs/DOCTOR.md. A symptom inside the network (vanishing or exploding gradients, dead or
    saturated units) is a warning only while the loss stays above half the baseline's;
    otherwise it is information.

    Examples
    --------
    >>> import numpy as np, backprop as bp
    >>> X = np.random.default_rng(0).normal(size=(64, 2)); y = (X[:, 0] > 0).astype(int)
    >>> model = bp.MLP([2, 8, 1], output_activation="sigmoid", seed=0)
    >>> history = model.fit(X, y, loss="binary_crossentropy", optimizer=bp.Adam(0.01),
    ...                     epochs=50)
    >>> bp.diagnose(model, X, y).ok
    True
    """
    loss_fn = resolve_loss(model, loss)
    if history is None:
        history = getattr(model, "history", None)
    return Diagnosis(*assess(model, X, y, loss_fn, Run.of(history), probe_size, seed))


def assess(model: Any, X: Any, y: Any, loss_fn: _losses.Loss, run: Run | None,
           probe_size: int = measure.PROBE_SIZE, seed: int = 0, *,
           update_ratio: tuple[np.ndarray, str] | None = None,
           saturated_at_start: list[float | None] | None = None,
           statics: dict[str, Any] | None = None) -> tuple[list, dict]:
    """(findings, measurements) for ``diagnose`` and the ``Doctor`` callback.

    ``statics`` (the Doctor's): input statistics, class counts and the baseline of the whole
    data, when (X, y) are only its probe rows."""
    X = np.asarray(check_X(X, model.n_features), dtype=np.float64)
    T = loss_fn.prepare_targets(y, model.n_outputs, np.float64)
    if X.shape[0] != T.shape[0]:
        raise ValueError(f"X and y have different numbers of rows: X has {X.shape[0]}, "
                         f"y has {T.shape[0]}")
    if X.shape[0] == 0:
        raise ValueError("diagnose needs at least one row of data; got 0 rows")
    rows = measure.probe_rows(X.shape[0], probe_size, seed)
    case = build_case(model, X, T, loss_fn, run, rows, statics)
    if update_ratio is not None:
        case.update_ratio, case.update_how = update_ratio
    case.saturated_at_start = saturated_at_start
    return evaluate(case), measurements_of(case, len(rows))


def build_case(model: Any, X: np.ndarray, T: np.ndarray, loss_fn: _losses.Loss,
               run: Run | None, rows: np.ndarray, statics: dict[str, Any] | None = None
               ) -> Case:
    """Measure everything the rules read (see rules.Case); ``statics`` as in ``assess``."""
    if len(rows) == X.shape[0]:  # the probe is all of X: one forward pass serves both
        _, probe_z, outs = measure.forward(model, X)
        z_out, output = probe_z[-1], outs[-1]
    else:
        _, (z_out,), (output,) = measure.forward(model, X, keep=False)
        _, probe_z, _ = measure.forward(model, X[rows], hidden_only=True)
    output = np.asarray(output, dtype=np.float64)
    model_loss = measure.loss_value(loss_fn, model, z_out, output, T)
    out_name = model.output_activation.name
    if statics is None:
        baseline, what = measure.baseline_loss(loss_fn, T)
        statics = {"baseline": baseline, "what": what,
                   "inputs": measure.input_statistics(X),
                   "classes": measure.target_statistics(T, out_name)}
    classes = statics["classes"]
    case = Case(
        loss=loss_fn.name, output_activation=out_name, n_outputs=model.n_outputs,
        classification=bool(loss_fn.classification or _losses.is_classification_target(T)),
        target_range=(float(T.min()), float(T.max())), model_loss=model_loss,
        baseline_loss=statics["baseline"], baseline_what=statics["what"],
        layers=measure.layer_statistics(model, probe_z),
        inputs=statics["inputs"], classes=classes,
        rarest_recall=None if classes is None else measure.recall_of(output, T,
                                                                     classes["rarest"]),
        run=run)
    grads = run.layer_series("grad_norm") if run is not None else None
    weights = run.layer_series("weight_norm") if run is not None else None
    if grads is not None and weights is not None and len(grads) and len(weights):
        early = run.early()
        case.grad_norms = measure.median_rows(grads, early)
        case.weight_norms = measure.median_rows(weights, early)
        stop = early.stop
        case.grad_source = ("epoch 1" if stop == 1 else f"median of epochs 1–{stop}")
    else:
        case.grad_norms = gradient_norms(model, X[rows], T[rows], loss_fn)
        case.weight_norms = np.array([np.linalg.norm(W) for W in model.weights])
        case.grad_source = "the probe rows at the current weights"
    sizes = [W.size for W in model.weights]
    estimate = measure.estimated_update_ratio(getattr(model, "optimizer", None),
                                              case.grad_norms, case.weight_norms, sizes)
    if estimate is not None:
        case.update_ratio, case.update_how = estimate
    return case


def measurements_of(case: Case, probe_rows: int) -> dict[str, Any]:
    return json_safe({
        "loss": case.loss, "output_activation": case.output_activation,
        "model_loss": case.model_loss, "baseline_loss": case.baseline_loss,
        "baseline": case.baseline_what, "skill": case.skill, "probe_rows": probe_rows,
        "layers": case.layers, "inputs": case.inputs, "classes": case.classes,
        "rarest_recall": case.rarest_recall,
        "gradients": {"grad_norms": case.grad_norms, "weight_norms": case.weight_norms,
                      "measured_on": case.grad_source},
        "update_ratio": case.update_ratio, "update_ratio_from": case.update_how or None,
        "epochs": None if case.run is None else case.run.epochs,
        "diverged": None if case.run is None else case.run.diverged,
    })
