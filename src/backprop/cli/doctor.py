"""``backprop doctor`` (diagnose a saved run) and ``backprop explain`` (one training step in the
chapter's notation), and the findings table ``backprop train`` prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from . import data
from .findings import print_findings


def run_history(model_dir: str) -> dict[str, Any] | None:
    """A run folder's history.json (with stopped_early from config.json), or None."""
    folder = Path(model_dir)
    path = folder / "history.json"
    if not folder.is_dir() or not path.is_file():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    config_path = folder / "config.json"
    if config_path.is_file():
        training = json.loads(config_path.read_text(encoding="utf-8")).get("training", {})
        record["stopped_early"] = bool(training.get("stopped_early", False))
    return record


def doctor(args: Any) -> int:
    import backprop as bp

    from .train import network_data

    model = data.load_model(args.model)
    # the data as the network saw it: encoded and scaled by the model's own preprocessor
    X, y, task = network_data(args, model)
    config = model.training_config or {}
    loss = config.get("training", {}).get("loss") or ("mse" if task == "regression" else None)
    if loss is None:
        raise ValueError(f"the model at {args.model} records no loss; retrain it with "
                         "'backprop train'")
    diagnosis = bp.diagnose(model, X, y, history=run_history(args.model), loss=loss)
    print_findings(data.console(), diagnosis, f"Doctor: {args.model} on {args.data}")
    if args.output:
        data.write_json(Path(args.output), diagnosis.to_dict())
    return 0


# -- explain -------------------------------------------------------------------------------
def _explain_inputs(args: Any) -> tuple[Any, np.ndarray, np.ndarray, str]:
    """(model, X, y, loss) for ``backprop explain``: a saved model with its data, or a fresh
    network built from the options."""
    import backprop as bp

    if args.model:
        from .train import network_data

        model = data.load_model(args.model)
        X, y, _ = network_data(args, model)
        config = model.training_config or {}
        loss = args.loss or config.get("training", {}).get("loss")
    else:
        from .. import datasets

        ds = data.load_table(args.data, args.target, n_samples=args.n_samples,
                             noise=args.noise, seed=args.seed)
        X = datasets.Preprocessor(args.scale).fit(ds.X).transform(ds.X)
        n_outputs, out_act, loss = data.task_settings(
            ds.task, ds.n_classes, args.output_activation, args.loss)
        model = bp.MLP([X.shape[1], *args.hidden, n_outputs], activation=args.activation,
                       output_activation=out_act, seed=args.seed, dtype="float64")
        y = ds.y
    rows = np.arange(min(args.samples, len(X)))
    return model, X[rows], np.asarray(y)[rows], loss


def explain(args: Any) -> int:
    import backprop as bp

    model, X, y, loss = _explain_inputs(args)
    optimizer = bp.optimizers.get(args.optimizer, lr=args.lr)
    step = bp.explain_step(model, X, y, loss=loss, optimizer=optimizer)
    print_step(data.console(), step, args.max_rows, args.max_cols)
    if args.markdown:
        Path(args.markdown).write_text(step.to_markdown(args.max_rows, args.max_cols),
                                       encoding="utf-8")
    if args.json:
        data.write_json(Path(args.json), step.to_dict())
    return 0


def print_step(console: Any, step: Any, max_rows: int = 6, max_cols: int = 6) -> None:
    """The step as rich tables: one per quantity, grouped under forward, loss, backward and
    update rules."""
    from rich import box
    from rich.markup import escape
    from rich.rule import Rule
    from rich.table import Table

    console.print(f"[bold]{escape(step.heading())}[/bold]")
    console.print("Batch-first: row i is sample i; z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾, W⁽ˡ⁾ of shape "
                  "(n_in, n_out) (the chapter's transpose). ∂L/∂W, ∂L/∂b from the engine; "
                  f"a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾ agrees to {step.max_check:.1e}.")
    titles = {"forward": "forward pass", "backward": "backward pass", "update": "update",
              "loss": f"loss: {step.loss} = {step.loss_value:.6g}"}
    section = None
    for t in step.tables(max_rows, max_cols):
        if t["section"] != section:
            section = t["section"]
            console.print(Rule(titles[section]))
        shape = " × ".join(map(str, t["shape"]))
        formula = f" = {t['formula']}" if t["formula"] else ""
        console.print(f"[bold]{escape(t['symbol'])}[/bold]{escape(formula)}  [dim]({shape})[/dim]")
        table = Table(box=box.SIMPLE_HEAD, padding=(0, 1))
        for k, name in enumerate(t["header"]):
            table.add_column(name, justify="right", style="dim" if k == 0 else None)
        for row in t["rows"]:
            table.add_row(*row)
        console.print(table)
