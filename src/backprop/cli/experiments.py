"""``backprop run`` and ``backprop sweep``: an experiment file, trained once or swept.

::

    backprop run examples/moons.toml --out runs/moons
    backprop sweep examples/moons_sweep.toml                       # local processes
    backprop sweep examples/moons_sweep.toml --dask-local 2        # a Dask LocalCluster
    backprop sweep examples/moons_sweep.toml --scheduler tcp://HOST:8786 --resume
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import data


def add_parsers(sub: Any, positive_int: Any, run_command: Any) -> None:
    """Register ``run`` and ``sweep`` (called by ``cli.main.build_parser``)."""
    p = sub.add_parser("run", help="train the experiment of a TOML file",
                       description="Train the experiment described by a TOML file (data, model, "
                                   "training, evaluation) and write its run folder; the same "
                                   "file gives the same weights.")
    p.add_argument("experiment", help="the experiment file (.toml)")
    p.add_argument("--out", help="run folder (default runs/<experiment name>)")
    _set_option(p)
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_command("experiments", "run"))

    p = sub.add_parser("sweep", help="run the [sweep] of an experiment file",
                       description="Run every trial of the file's [sweep] section, record each "
                                   "in <out>/sweep.db as it finishes, rank the configurations "
                                   "and save the best model. Local worker processes by "
                                   "default; a Dask cluster with --scheduler or --dask-local.")
    p.add_argument("experiment", help="the experiment file with a [sweep] section (.toml)")
    p.add_argument("--out", help="sweep folder (default runs/<experiment name>-sweep)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--serial", action="store_true", help="run the trials in this process")
    where.add_argument("--workers", type=positive_int, metavar="N",
                       help="local worker processes (default: one per core)")
    where.add_argument("--dask-local", type=positive_int, metavar="N",
                       help="start a Dask LocalCluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the Dask cluster at ADDRESS (tcp://HOST:8786)")
    p.add_argument("--resume", action="store_true",
                   help="continue the sweep in --out, skipping its finished trials")
    p.add_argument("--top", type=positive_int, help="configurations in the table (default: "
                                                    "sweep.top)")
    _set_option(p)
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run_command("experiments", "sweep"))


def _set_option(parser: Any) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        type=_assignment,
                        help="override a key, such as --set training.epochs=50 or "
                             "--set 'model.hidden=[16, 16]' (TOML values; repeatable)")


def _assignment(text: str) -> tuple[str, Any]:
    """``key=value`` with the value read as TOML (a bare word is a string)."""
    from ..experiments.spec import tomllib

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE such as training.epochs=50; "
                                         f"got {text!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    return key.strip(), parsed


def _experiment(args: Any) -> Any:
    from ..experiments.spec import Experiment

    exp = Experiment.from_file(args.experiment)
    if args.set:
        exp = exp.with_values(dict(args.set), origin=lambda path: f"--set {'.'.join(path)}")
    return exp


def _metrics_table(metrics: dict[str, float], title: str) -> Any:
    from rich.table import Table

    splits = [s for s in ("train", "val", "test") if any(k.startswith(s + "_")
                                                          for k in metrics)]
    kinds = list(dict.fromkeys(k.split("_", 1)[1] for k in metrics))
    table = Table(title=title)
    table.add_column("split")
    for kind in kinds:
        table.add_column(kind, justify="right")
    for split in splits:
        cells = []
        for kind in kinds:
            value = metrics.get(f"{split}_{kind}")
            cells.append("" if value is None else f"{value:.2%}" if kind == "accuracy"
                         else f"{value:.4g}")
        table.add_row({"val": "validation"}.get(split, split), *cells)
    return table


def run(args: Any) -> int:
    from ..experiments.runs import run as run_experiment

    exp = _experiment(args)
    name = exp.config.get("experiment", {}).get("name") or exp.name
    out = Path(args.out or Path("runs") / name)
    console = data.console()
    if "sweep" in exp.config:
        console.print("[dim]the file's [sweep] section is not used by 'run' (see "
                      "'backprop sweep')[/dim]")
    result = run_experiment(exp, out, verbose=not args.quiet,
                            figures_too=False if args.no_plots else None)
    for note in result.notes:
        console.print(f"note: {note}", markup=False)
    console.print(_metrics_table(result.metrics, f"{name}: {len(result.history.epoch)} epochs "
                                 f"in {result.seconds:.1f} s"
                                 + (" (stopped early)" if result.history.stopped_early
                                    else "")))
    drew = not args.no_plots and exp.config["evaluation"]["figures"]
    console.print(f"wrote {out} (model.safetensors, experiment.toml, history"
                  + (", figures)" if drew else ")"))
    return 0


def sweep(args: Any) -> int:
    from ..experiments.sweep import sweep as run_sweep

    exp = _experiment(args)
    console = data.console()
    try:
        result = run_sweep(exp, args.out, backend="serial" if args.serial else "processes",
                           workers=args.workers, scheduler=args.scheduler,
                           dask_local=args.dask_local, resume=args.resume,
                           progress=not args.quiet, figures=not args.no_plots,
                           console=console)
    except KeyboardInterrupt:
        out = args.out or f"runs/{exp.config.get('experiment', {}).get('name') or exp.name}" \
                          "-sweep"
        print(f"backprop: interrupted; the finished trials are in {out}/sweep.db: continue "
              f"with 'backprop sweep {args.experiment} --out {out} --resume'", file=sys.stderr)
        return 130
    top = args.top or exp.config["sweep"]["top"]
    console.print(result.table(top))
    statuses = {t["status"] for t in result.trials}
    counts = ", ".join(f"{sum(t['status'] == s for t in result.trials)} {s}"
                       for s in sorted(statuses))
    console.print(f"{len(result.trials)} trials ({counts}); {result.ran} ran now on "
                  f"{result.backend} in {result.seconds:.1f} s")
    if result.best_model is not None:
        console.print(f"best model: {result.best_model} (backprop predict --model "
                      f"{result.best_model} ...; backprop run "
                      f"{result.best_model / 'experiment.toml'} trains it again)")
    console.print(f"wrote {result.out}: sweep.db, trials.csv, summary.json"
                  + "".join(f", {name}" for name in result.figures))
    return 0 if result.best_model is not None else 1
