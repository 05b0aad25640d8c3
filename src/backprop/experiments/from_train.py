"""The experiment file of a ``backprop train`` command: its options as TOML sections.

``backprop train`` writes it into its run folder as ``experiment.toml``; ``backprop run`` on
that file trains the same weights (same library version), because both go through the same
steps (see ``pipeline``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .runs import EXPERIMENT_FILE
from .spec import Experiment


def train_sections(args: Any, output_activation: str | None = None,
                   loss: str | None = None) -> dict[str, Any]:
    """The sections for a ``backprop train`` namespace (resolved output and loss when known,
    ``auto`` otherwise)."""
    import backprop as bp

    def opt(name: str, default: Any = None) -> Any:
        return getattr(args, name, default)

    data: dict[str, Any] = {"source": args.data}
    for key in ("target", "n_samples", "noise"):
        if opt(key) is not None:
            data[key] = opt(key)
    for key in ("features", "drop"):  # comma-separated on the command line
        if opt(key):
            data[key] = [c.strip() for c in opt(key).split(",") if c.strip()]
    if opt("task"):
        data["task"] = opt("task")
    data.update(seed=args.seed, test_size=args.test_size, val_size=args.val_size,
                scale=args.scale, impute=opt("impute") or "none")
    return {
        "experiment": {"name": Path(args.out).name, "description": "written by backprop train",
                       "backprop_version": bp.__version__},
        "data": data,
        "model": {"hidden": list(args.hidden), "activation": args.activation,
                  "output_activation": output_activation or opt("output_activation")
                  or "auto", "init": opt("init") or "auto", "dropout": args.dropout,
                  "seed": args.seed, "dtype": args.dtype},
        "training": {"loss": loss or opt("loss") or "auto",
                     "optimizer": {"name": args.optimizer, "lr": args.lr},
                     "epochs": args.epochs, "batch_size": args.batch_size, "l2": args.l2,
                     "early_stopping": {"patience": args.early_stopping}},
        "evaluation": {"figures": not opt("no_plots", False)},
    }


def write_train_experiment(args: Any, out: str | Path, output_activation: str | None = None,
                           loss: str | None = None) -> str:
    """Write ``<out>/experiment.toml`` for a ``backprop train`` run; returns its name."""
    exp = Experiment(train_sections(args, output_activation, loss), name="backprop train")
    exp.write(Path(out) / EXPERIMENT_FILE,
              "backprop experiment: what 'backprop train' ran "
              f"(backprop {exp.config['experiment']['backprop_version']})\n"
              "Repeat it with: backprop run experiment.toml --out DIR")
    return EXPERIMENT_FILE
