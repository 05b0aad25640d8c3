"""What the user sees of a sweep: the progress bar, the ranking, the table of the best.

A configuration's score is the mean of the sweep's metric over its repeats (seeds), shown with
their standard deviation (``ddof=1``; 0 for one seed). Configurations in which every repeat
finished ``ok`` are ranked; the rest (diverged, failed, pruned) follow, unranked.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class ConfigSummary:
    """One configuration: its values, its score over the repeats, its trials."""

    config: str
    params: dict[str, Any]
    mean: float
    std: float
    n: int
    status: str
    metrics: dict[str, tuple[float, float]] = field(default_factory=dict)
    trials: list[int] = field(default_factory=list)
    seconds: float = 0.0


def _better(direction: str):
    return (lambda a, b: a > b) if direction == "maximize" else (lambda a, b: a < b)


def summarize(trials: Sequence[dict[str, Any]], metric: str, direction: str,
              swept: Sequence[str]) -> list[ConfigSummary]:
    """Configurations ranked best first (see the module docstring)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for trial in trials:
        if trial["status"] != "pending":
            groups.setdefault(trial["config"], []).append(trial)
    out = []
    for key, group in groups.items():
        ok = [t for t in group if t["status"] == "ok"
              and math.isfinite(t["metrics"].get(metric, math.nan))]
        statuses = {t["status"] for t in group}
        status = "ok" if len(ok) == len(group) else next(
            s for s in ("pruned", "diverged", "failed", "ok") if s in statuses)
        values = np.array([t["metrics"][metric] for t in ok])
        names = sorted({m for t in ok for m in t["metrics"]})
        stats = {m: _mean_std([t["metrics"].get(m, math.nan) for t in ok]) for m in names}
        mean, std = _mean_std(values)
        out.append(ConfigSummary(key, {k: group[0]["params"][k] for k in swept
                                       if k in group[0]["params"]},
                                 mean, std, len(ok), status, stats,
                                 [t["number"] for t in group],
                                 float(np.mean([t["duration"] or 0.0 for t in group]))))
    sign = -1.0 if direction == "maximize" else 1.0
    return sorted(out, key=lambda c: (c.status != "ok", sign * c.mean if c.n else math.inf,
                                      c.trials[0]))


def _mean_std(values: Any) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return math.nan, math.nan
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def best_trial(trials: Sequence[dict[str, Any]], summary: ConfigSummary, metric: str,
               direction: str) -> dict[str, Any]:
    """The best of a configuration's repeats (the model the sweep saves)."""
    better = _better(direction)
    best = None
    for trial in trials:
        if trial["number"] in summary.trials and trial["status"] == "ok":
            if best is None or better(trial["metrics"][metric], best["metrics"][metric]):
                best = trial
    if best is None:
        raise ValueError(f"configuration {summary.config} has no trial that finished ok")
    return best


def show(value: Any, digits: int = 4) -> str:
    if isinstance(value, float):
        if value != 0 and not 1e-3 <= abs(value) < 1e4:
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def short_name(key: str, keys: Sequence[str]) -> str:
    """The shortest dotted suffix of ``key`` that no other key ends with ("lr")."""
    parts = key.split(".")
    for n in range(1, len(parts) + 1):
        tail = ".".join(parts[-n:])
        if not any(k != key and (k == tail or k.endswith("." + tail)) for k in keys):
            return tail
    return key


def table(summaries: Sequence[ConfigSummary], metric: str, top: int, title: str) -> Any:
    """A rich table of the ``top`` configurations (fits 80 columns for four settings)."""
    from rich import box
    from rich.table import Table

    keys = list(summaries[0].params) if summaries else []
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                  collapse_padding=True)
    table.add_column("#", justify="right", no_wrap=True)
    for key in keys:
        table.add_column(short_name(key, keys), no_wrap=True)
    table.add_column("mean ± std", justify="right", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for rank, s in enumerate(summaries[:top], start=1):
        score = f"{s.mean:.4f} ± {s.std:.4f}" if s.n else "—"
        table.add_row(str(rank) if s.status == "ok" else "–",
                      *(show(s.params.get(k), 3) for k in keys), score, str(s.n), s.status)
    return table


class Progress:
    """A rich progress bar: trials done, the best metric so far, elapsed and time left."""

    def __init__(self, total: int, done: int, metric: str, direction: str,
                 enabled: bool = True, console: Any = None, best: float = math.nan) -> None:
        self.metric, self.better = metric, _better(direction)
        self.best = best
        self.failed = 0
        self.start = time.perf_counter()
        self._bar = None
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("[bold]sweep"), BarColumn(),
                                     MofNCompleteColumn(), TextColumn("{task.fields[best]}"),
                                     TimeElapsedColumn(), TextColumn("left"),
                                     TimeRemainingColumn(), console=console)
            self._bar.start()
            self._task = self._bar.add_task("sweep", total=total, completed=done,
                                            best=self._best_text())

    def _best_text(self) -> str:
        best = "—" if math.isnan(self.best) else f"{self.best:.4f}"
        failed = f"  ({self.failed} not ok)" if self.failed else ""
        return f"best {self.metric} {best}{failed}"

    def advance(self, status: str, metrics: dict[str, float]) -> None:
        value = metrics.get(self.metric, math.nan)
        if status == "ok" and math.isfinite(value) and (math.isnan(self.best)
                                                        or self.better(value, self.best)):
            self.best = value
        if status != "ok":
            self.failed += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, best=self._best_text())

    def grow(self, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
