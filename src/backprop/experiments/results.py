"""The end of a sweep: the ranking, the best model in ``best/``, the files and figures.

The best model is rebuilt from the weights its trial recorded in the store (no training
again) and saved as a run folder: ``backprop predict --model <sweep>/best`` uses it, and
``backprop run <sweep>/best/experiment.toml`` trains the same weights again.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .figures import metric_vs_settings, parallel_coordinates
from .measure import write_json
from .pipeline import Prepared, build, carry, data_key, prepare
from .report import ConfigSummary, best_trial, show, summarize
from .runs import save_run
from .store import Store


@dataclass
class SweepResult:
    """What a sweep found, best configuration first.

    Attributes
    ----------
    configs : list of ConfigSummary
        Ranked: mean ± std of the metric over each configuration's seeds.
    trials : list of dict
        Every trial in the store (this session's and earlier ones').
    best_model : Path or None
        ``<out>/best``: the best trial's model, ``experiment.toml`` and metrics.
    """

    out: Path
    metric: str
    direction: str
    configs: list[ConfigSummary]
    trials: list[dict[str, Any]]
    best_model: Path | None
    backend: str
    seconds: float
    ran: int
    data_sent: int
    figures: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def best(self) -> ConfigSummary | None:
        return self.configs[0] if self.configs and self.configs[0].status == "ok" else None

    def table(self, top: int = 10) -> Any:
        from .report import table

        return table(self.configs, self.metric, top, f"{self.metric} ({self.direction}) of "
                     f"the best of {len(self.configs)} configurations")


class _RecordedHistory:
    """A trial's history as the run folder writer reads it (a ``History`` look-alike)."""

    def __init__(self, record: dict[str, list[float]], epochs: int, requested: int) -> None:
        self.history = record
        self.epoch = list(range(epochs))
        self.stopped_early = epochs < requested


def save_best(run: Any, store: Store, trial: dict[str, Any]) -> Path:
    """Rebuild the best trial's model from its stored weights; write ``<out>/best``."""
    exp = run.base.with_values(trial["params"], origin=run.origin)
    prepared: Prepared = run.data.get(data_key(exp)) or prepare(exp)
    model, kwargs = build(exp, prepared)
    model.set_flat_weights(store.weights(trial["key"]))
    model.optimizer = kwargs["optimizer"]
    carry(model, prepared)
    history = _RecordedHistory(trial["history"], trial["epochs"] or 0,
                               exp.config["training"]["epochs"])
    out = run.out / "best"
    save_run(out, exp, prepared, model, history, trial["metrics"], trial["duration"] or 0.0,
             what=f"the best trial (number {trial['number']}) of the sweep in {run.out}")
    return out


def write_trials_csv(path: Path, trials: list[dict[str, Any]], keys: list[str]) -> None:
    metrics = sorted({m for t in trials for m in t["metrics"]})
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "status", *keys, *metrics, "epochs", "duration", "worker",
                         "error", "warnings"])
        for t in trials:
            writer.writerow([t["number"], t["status"], *(show(t["params"].get(k)) for k in keys),
                             *(repr(t["metrics"].get(m, math.nan)) for m in metrics),
                             t["epochs"], t["duration"], t["worker"],
                             (t["error"] or "").split("\n", 1)[0], " | ".join(t["warnings"])])


def finish(run: Any, store: Store, start: float, figures: bool) -> Any:
    """Rank, save the best model, write ``trials.csv``, ``summary.json`` and the figures."""
    with run.phase("finish"):
        configs, best_model, drawn, trials = _finish(run, store, start, figures)
    return SweepResult(run.out, run.metric, run.direction, configs, trials, best_model,
                       run.backend.describe(), time.perf_counter() - start, run.ran,
                       Prepared.sent, drawn, dict(run.timings))


def _finish(run: Any, store: Store, start: float, figures: bool) -> tuple:
    trials = store.trials()
    keys = [d.key for d in run.dims]
    configs = summarize(trials, run.metric, run.direction, keys)
    best_model = None
    if configs and configs[0].status == "ok":
        best_model = save_best(run, store, best_trial(trials, configs[0], run.metric,
                                                      run.direction))
    write_trials_csv(run.out / "trials.csv", trials, keys)
    write_json(run.out / "summary.json", {
        "metric": run.metric, "direction": run.direction, "backend": run.backend.describe(),
        "trials": len(trials), "ran_now": run.ran, "seconds": time.perf_counter() - start,
        "timings": run.timings,
        "status": {s: sum(t["status"] == s for t in trials)
                   for s in sorted({t["status"] for t in trials})},
        "configurations": [{"rank": i + 1 if c.status == "ok" else None, "params": c.params,
                            "mean": c.mean, "std": c.std, "seeds": c.n, "status": c.status,
                            "trials": c.trials, "metrics": c.metrics}
                           for i, c in enumerate(configs)],
        "best_model": None if best_model is None else str(best_model)})
    drawn = []
    if figures:
        for path in (metric_vs_settings(trials, run.dims, run.metric,
                                        run.out / "metric_vs_settings.png"),
                     parallel_coordinates(trials, run.dims, run.metric, run.direction,
                                          run.out / "parallel_coordinates.png")):
            if path is not None:
                drawn.append(path.name)
    return configs, best_model, drawn, trials
