"""The chapter tour: every experiment of chapter 4 re-run with the library, written up.

``backprop tour`` (and ``make demo``) calls :func:`run`, which walks the chapter section by
section — XOR and the linear model, the MLP that solves it, shapes, backpropagation and its
gradient check, activations and vanishing gradients, initialisation, XOR's training, moons
with the chapter's settings and a better configuration — and ends with the errata: every
place the chapter's code or text is wrong, measured by running it.

Output folder: ``report.md``, ``report.html``, the PNG figures they reference and
``measurements.json`` (every number the report states).

>>> from backprop import tour
>>> result = tour.run("out/chapter4")          # doctest: +SKIP
>>> result.report_md.name
'report.md'
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..training import PoorFitWarning
from . import errata, s41_mlp, s42_forward, s43_backprop, s44_activations, s45_building
from ._context import Context
from .report import Report

__all__ = ["run", "TourResult", "errata", "Report"]

SECTIONS = (s41_mlp, s42_forward, s43_backprop, s44_activations, s45_building)


@dataclass
class TourResult:
    """Where the tour wrote its output and what it measured."""

    out: Path
    report_md: Path
    report_html: Path
    figures: list[Path]
    measurements: dict[str, Any]
    errata: list[errata.Erratum] = field(default_factory=list)
    seconds: float = 0.0


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return value


def _errata_section(report: Report, items: list[errata.Erratum]) -> None:
    report.heading(2, "Errata")
    report.paragraph(
        f"{len(items)} places where the chapter's code or text is wrong. Each was checked by "
        "running a faithful re-implementation of the chapter's code (a few lines of NumPy "
        "in `backprop/tour/_chapter_code.py`) or, for the claims about its experiments, the "
        "experiment itself; the numbers below are measured on this run. Each erratum is "
        "pinned by a test (`tests/test_errata.py`, and `tests/test_tour.py` for the last "
        "two).")
    report.table(["", "where", "mistake"],
                 [[errata.number(e.key), e.where, e.title] for e in items])
    for e in items:
        report.heading(3, f"{errata.number(e.key)}. {e.title}")
        report.bullets([f"**Where:** {e.where}.", f"**What is wrong:** {e.wrong}",
                        f"**What happens (measured):** {e.measured}",
                        f"**What the library does instead:** {e.library}"])


def _introduction(report: Report, ctx: Context, n_errata: int) -> None:
    m41, moons = ctx.measurements["4.1"], ctx.results["moons"]
    xor = m41["xor"]
    report.paragraph(
        "This report is produced by `backprop tour` (`make demo`): it walks chapter 4 "
        "(neural networks) section by section, re-runs every experiment with the library, "
        "draws every figure from the data it trained on, and measures every number it "
        "states. It ends with the chapter's errata.")
    report.table(
        ["headline", "measured"],
        [["logistic regression on XOR", f"{m41['linear_accuracy']:.0%} accuracy"],
         ["[2, 4, 1] ReLU network on XOR, chapter's settings",
          f"solves it on {xor['solved']} of {xor['seeds']} seeds"],
         ["moons, chapter's settings (test)", f"{moons['chapter']['test_accuracy']:.1%}"],
         ["moons, better configuration (test)", f"{moons['better']['test_accuracy']:.1%}"],
         ["worst gradient-check error (all activations and losses)",
          f"{ctx.measurements['4.3']['gradcheck_worst']:.1e}"],
         ["errata found and measured", str(n_errata)]])


def run(out: str | Path = "out/chapter4", log: Callable[[str], None] | None = None
        ) -> TourResult:
    """Run the whole tour and write the report into ``out``.

    Parameters
    ----------
    out : str or Path, default "out/chapter4"
        Created if missing; existing files of the same names are replaced.
    log : callable, optional
        Called with one line per finished section (the command line prints them).

    Returns
    -------
    TourResult
    """
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = Report("Chapter 4, re-run: neural networks with backprop")
    body = Report(report.title)
    ctx = Context(out=out, report=body, log=log or (lambda line: None))
    timings = {}
    with warnings.catch_warnings():
        # The tour trains networks that fail on purpose (XOR seeds that stall, a deep sigmoid
        # stack, symmetric weights) and measures each failure in its report; fit's warning
        # that such a run learned nothing would only repeat it, in the middle of the log.
        warnings.simplefilter("ignore", PoorFitWarning)
        for section in SECTIONS:
            tick = time.perf_counter()
            section.run(ctx)
            timings[section.__name__.rsplit(".", 1)[1]] = time.perf_counter() - tick
    tick = time.perf_counter()
    found = errata.measure_code_errata()
    found += errata.results_errata(ctx.measurements["4.1"]["xor"], ctx.results["moons"])
    timings["errata"] = time.perf_counter() - tick
    ctx.measurements["errata"] = {e.key: e.values for e in found}
    ctx.measurements["timings"] = timings
    ctx.log(f"errata: {len(found)} measured")
    _introduction(report, ctx, len(found))
    report.blocks.extend(body.blocks)
    _errata_section(report, found)
    seconds = time.perf_counter() - start
    report.paragraph(f"Generated in {seconds:.1f} s.")
    md_path, html_path = report.write(out)
    measurements = _json_safe(ctx.measurements)
    measurements["seconds"] = seconds
    (out / "measurements.json").write_text(json.dumps(measurements, indent=2) + "\n",
                                           encoding="utf-8")
    return TourResult(out=out, report_md=md_path, report_html=html_path,
                      figures=[out / name for name in report.figures],
                      measurements=measurements, errata=found, seconds=seconds)
