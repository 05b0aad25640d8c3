"""The training doctor in the tour: one XOR step in the chapter's notation (§4.3), the
doctor's findings on the XOR seeds (§4.1) and on the deep sigmoid network (§4.4)."""

from __future__ import annotations

from typing import Any

import backprop as bp
from backprop import datasets

from ._context import Context

EXPLAIN_FILE = "xor_step.md"


def explain_xor(ctx: Context, settings: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """One gradient-descent step of the chapter's untrained XOR network, every number shown."""
    report = ctx.report
    ds = datasets.xor()
    model = bp.MLP([2, settings["hidden"], 1], activation=settings["activation"],
                   output_activation="sigmoid", init=settings["init"], seed=seed,
                   dtype="float64")
    step = bp.explain_step(model, ds.X, ds.y, loss=settings["loss"],
                           optimizer=bp.SGD(lr=settings["lr"]))
    ctx.path(EXPLAIN_FILE).write_text(step.to_markdown(), encoding="utf-8")
    report.heading(3, "One training step of the XOR network, in the chapter's notation")
    report.paragraph(
        f"The chapter's XOR network (seed {seed}, before training) takes one step of gradient "
        f"descent on all four points: {settings['loss']} loss, learning rate "
        f"{settings['lr']}. Rows are the four samples; W⁽ˡ⁾ is (n_in, n_out), the transpose of "
        f"the chapter's. z, a and δ are computed from the chapter's equations; ∂L/∂W and ∂L/∂b "
        f"are the library's backpropagation, which agrees with a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾ and Σ δ⁽ˡ⁾ to "
        f"{step.max_check:.1e}; the new weights are the optimiser's step. (`bp.explain_step`, "
        f"`backprop explain`; the same as Markdown in `{EXPLAIN_FILE}`.)")
    titles = {"forward": "Forward pass", "loss": f"Loss: L = {step.loss_value:.6g}",
              "backward": "Backward pass", "update": "Update"}
    section = None
    for t in step.tables(max_rows=4, max_cols=4):
        if t["section"] != section:
            section = t["section"]
            report.heading(4, titles[section])
        formula = f" = {t['formula']}" if t["formula"] else ""
        report.paragraph(f"**{t['symbol']}**{formula} ({' × '.join(map(str, t['shape']))})")
        report.table(t["header"], t["rows"])
    return {"loss": step.loss_value, "max_check": step.max_check,
            "markdown": EXPLAIN_FILE, "step": step.to_dict()}


def _codes(diagnosis: bp.Diagnosis) -> str:
    return ", ".join(f"`{f.code}`" + (" (info)" if f.severity == "info" else "")
                     for f in diagnosis.findings) or "—"


def doctor_on_xor_seeds(ctx: Context, study: dict[str, Any], loss: str) -> dict[str, Any]:
    """``bp.diagnose`` on each XOR seed: the failures' dead units, named by the doctor."""
    ds = datasets.xor()
    rows, found = [], {}
    for seed, (model, history) in enumerate(study["_models"]):
        d = bp.diagnose(model, ds.X, ds.y, history, loss=loss)
        found[seed] = d.to_dict()
        dead = d.get("dead_units")
        rows.append([str(seed), "yes" if study["solved_per_seed"][seed] else "no",
                     str(sum(dead.evidence["dead_units"])) if dead else "0",
                     f"{d.measurements['skill']:.2f}", _codes(d)])
    failed = [s for s, ok in enumerate(study["solved_per_seed"]) if not ok]
    flagged = [s for s in failed if any(f["code"] == "dead_units" and f["severity"] == "warning"
                                        for f in found[s]["findings"])]
    ctx.report.paragraph(
        "The training doctor (`bp.diagnose`) on every seed. Skill is 1 − loss / baseline "
        "loss, the baseline predicting ½ everywhere. A dead-unit finding is a warning only "
        f"while the loss has not halved: it is one for {len(flagged)} of the "
        f"{len(failed)} failed seeds, information for seeds that solved XOR with units to "
        "spare. Every seed also gets `loss_output_mismatch`: the chapter pairs a sigmoid "
        "output with squared error.")
    ctx.report.table(["seed", "solves XOR", "dead hidden units", "skill", "doctor's findings"],
                     rows)
    return {"failed": failed, "dead_units_warning": flagged,
            "findings": {s: [f["code"] for f in d["findings"]] for s, d in found.items()}}


def doctor_on_deep(ctx: Context, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The doctor's findings on the deep sigmoid and ReLU networks of §4.4."""
    ctx.report.paragraph("What the training doctor says about the two runs:")
    ctx.report.table(
        ["hidden activation", "severity", "code", "what was measured"],
        [[name, f.severity, f"`{f.code}`", f.message]
         for name, run in runs.items() for f in run["diagnosis"].findings]
        or [["—", "—", "—", "no findings"]])
    return {name: run["diagnosis"].to_dict()["findings"] for name, run in runs.items()}
