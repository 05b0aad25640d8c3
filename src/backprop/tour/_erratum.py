"""One erratum: where the chapter is wrong, what happens when its code runs, what we do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Erratum:
    """A measured mistake in the chapter.

    Attributes
    ----------
    key : str
        Stable identifier (used by the tests and in ``measurements.json``).
    title, where, wrong, measured, library : str
        Plain-language write-up: the mistake, its place in the chapter, what goes wrong
        (with the measured numbers filled in) and what the library does instead.
    values : dict
        The raw measurements, JSON-safe.
    """

    key: str
    title: str
    where: str
    wrong: str
    measured: str
    library: str
    values: dict[str, Any] = field(default_factory=dict)
