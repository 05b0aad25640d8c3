"""What the doctor hands back: ``Finding`` (one problem, measured) and ``Diagnosis`` (all)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEVERITIES = ("info", "warning")

#: every code the doctor can report, in the order findings are listed
CODES = (
    "loss_output_mismatch", "exploding_gradients", "learning_rate_too_high",
    "vanishing_gradients", "dead_units", "saturated_units", "unscaled_inputs",
    "learning_rate_too_low", "no_better_than_baseline", "class_imbalance", "overfitting",
)


_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def sup(l: int | str) -> str:
    """The chapter's layer superscript: sup(2) == '⁽²⁾'."""
    return f"⁽{str(l).translate(_SUPERSCRIPT)}⁾"


def json_safe(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays turned into Python numbers and lists, and
    non-finite floats into None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


@dataclass(frozen=True)
class Finding:
    """One problem the doctor measured.

    Attributes
    ----------
    code : str
        Stable identifier, one of ``CODES`` (``"vanishing_gradients"``, ...).
    severity : {"info", "warning"}
        "warning": training is (or will be) hurt; "info": worth knowing, not hurting now.
    message : str
        What was measured, in one sentence with the numbers.
    advice : str
        The fix, in one or two sentences.
    evidence : dict
        The measured numbers (JSON-safe): layers (1-based), epochs (1-based), values and the
        thresholds they were compared with.
    epoch : int or None
        First epoch (1-based) at which the ``Doctor`` callback saw it; None from ``diagnose``.
    """

    code: str
    severity: str
    message: str
    advice: str
    evidence: dict[str, Any] = field(default_factory=dict)
    epoch: int | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown finding code {self.code!r}; choose one of: "
                             f"{', '.join(CODES)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be 'info' or 'warning'; got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: code, severity, message, advice, evidence, epoch."""
        return json_safe({"code": self.code, "severity": self.severity,
                          "message": self.message, "advice": self.advice,
                          "evidence": self.evidence, "epoch": self.epoch})

    def __str__(self) -> str:
        return f"[{self.severity}] {self.code}: {self.message} {self.advice}"


@dataclass
class Diagnosis:
    """Findings about one model and its training run, with the measurements behind them.

    Attributes
    ----------
    findings : list of Finding
        Warnings first, then information, each group in ``CODES`` order.
    measurements : dict
        Everything measured, findings or not (JSON-safe): probe statistics per layer, input
        scales, the baseline loss, gradient ratios, ...

    Examples
    --------
    >>> d = Diagnosis([Finding("class_imbalance", "info", "5% of rows are class 1.", "...")])
    >>> d.codes, d.ok
    (['class_imbalance'], True)
    """

    findings: list[Finding] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        order = {code: i for i, code in enumerate(CODES)}
        self.findings = sorted(self.findings, key=lambda f: (f.severity != "warning",
                                                             order[f.code]))

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when nothing rose to a warning."""
        return not self.warnings

    def get(self, code: str) -> Finding | None:
        """The finding with this code, or None."""
        return next((f for f in self.findings if f.code == code), None)

    def __contains__(self, code: object) -> bool:
        return any(f.code == code for f in self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``{"ok", "findings": [...], "measurements": {...}}``."""
        return {"ok": self.ok, "findings": [f.to_dict() for f in self.findings],
                "measurements": json_safe(self.measurements)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnosis:
        """Rebuild from ``to_dict()`` output (say, a run folder's diagnosis.json)."""
        findings = [Finding(f["code"], f["severity"], f["message"], f["advice"],
                            f.get("evidence") or {}, f.get("epoch"))
                    for f in data.get("findings", [])]
        return cls(findings, dict(data.get("measurements") or {}))

    def to_markdown(self) -> str:
        """A Markdown table of the findings (or a line saying there are none)."""
        if not self.findings:
            return "No findings: nothing the doctor measures looks wrong.\n"
        lines = ["| severity | code | what was measured | advice |", "|---|---|---|---|"]
        for f in self.findings:
            cells = [f.severity, f"`{f.code}`", f.message, f.advice]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        if not self.findings:
            return "Diagnosis: no findings."
        return "\n".join(["Diagnosis:"] + [f"  {f}" for f in self.findings])

    def __repr__(self) -> str:
        return f"Diagnosis(findings={self.codes})"
