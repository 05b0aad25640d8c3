"""State shared by the tour's sections: the output folder, the report, the measurements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .report import Report


@dataclass
class Context:
    """What every section writes to.

    Attributes
    ----------
    out : Path
        Output folder; figures are saved here beside the report.
    report : Report
    measurements : dict
        Every number the report states, by section (written to ``measurements.json``).
    results : dict
        Objects one section hands to a later one (the XOR seed study, the moons runs).
    log : callable
        Receives one line per finished step.
    """

    out: Path
    report: Report
    measurements: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    log: Callable[[str], None] = lambda line: None

    def path(self, filename: str) -> Path:
        return self.out / filename

    def figure(self, fig: Any, filename: str, caption: str) -> None:
        """Reference a figure already saved at ``self.path(filename)`` and free its memory."""
        if not self.path(filename).is_file():
            raise FileNotFoundError(f"figure {filename} was not written to {self.out}")
        from ..plots.common import pyplot

        pyplot().close(fig)
        self.report.figure(filename, caption)
