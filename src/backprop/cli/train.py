"""``backprop train``, ``evaluate`` and ``predict``: the practitioner's commands.

``train`` goes step by step, each step a function that the next one reads from a
:class:`Run`: read the table (:func:`prepare`), fit the network (:func:`fit`), measure it
(:func:`measure`), diagnose it (:func:`diagnose`), tell the user (:func:`report`) and write
the run directory (:func:`save`). The model carries its preprocessor, so ``evaluate``,
``predict`` and the exported graphs take the rows as they come, as
``bp.load(run).predict(rows)`` does.
"""

from __future__ import annotations

import csv
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import data

#: the exit status of a run stopped with Ctrl-C (128 + SIGINT), after saving
EXIT_INTERRUPTED = 130


@dataclass(eq=False)
class Run:
    """Everything one ``backprop train`` builds, step by step."""

    args: Any
    table: Any
    task: str
    n_outputs: int
    output_activation: str
    loss: str
    rows: dict[str, np.ndarray]
    model: Any = None
    optimizer: Any = None
    stopper: Any = None
    history: Any = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    diagnosis: Any = None

    def X(self, split: str) -> Any:
        return self.table.X.iloc[self.rows[split]]

    def y(self, split: str) -> np.ndarray:
        return self.table.y[self.rows[split]]

    def targets(self, split: str) -> np.ndarray:
        """``y`` as the loss reads it (one-hot where needed)."""
        return data.training_targets(self.y(split), self.task, self.n_outputs, self.loss)

    def network_data(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The split as the network sees it: encoded inputs and (scaled) targets."""
        pre = self.model.preprocessor
        return self.model.inputs(self.X(split)), pre.transform_target(self.targets(split))

    @property
    def saved_epoch(self) -> int:
        """The 1-based epoch whose weights the model holds."""
        best = getattr(self.stopper, "best_epoch", None)
        return best + 1 if best is not None else len(self.history.epoch)


def train(args: Any) -> int:
    console = data.console()
    run = prepare(args, console)
    fit(run)
    measure(run)
    diagnose(run)
    report(run, console)
    save(run, console)
    return EXIT_INTERRUPTED if run.history.interrupted else 0


# -- the steps ------------------------------------------------------------------------------
def prepare(args: Any, console: Any) -> Run:
    """Read the data, choose the output layer and loss, split the rows, fit the
    preprocessor on the training rows and build the network that carries it."""
    import backprop as bp
    from backprop import datasets
    from backprop.datasets.columns import missing_summary, missing_values_error

    args.task = data.resolve_task(args)  # resolved in place, for experiment.toml
    table = data.load_table(args.data, args.target, n_samples=args.n_samples,
                            noise=args.noise, seed=args.seed, features=data.names(args.features),
                            drop=data.names(args.drop), task=args.task)
    for note in table.notes:
        console.print(f"note: {note}", markup=False)
    if args.impute is None:
        found = missing_summary(table.X, table.lines)
        if found:
            raise missing_values_error(found, f" in {args.data}")
    task = table.task
    if task != "regression" and args.task is None and data.is_csv(args.data):
        console.print(f"note: {table.target!r} is read as {table.n_classes} classes "
                      f"({', '.join(map(str, table.classes[:8]))}"
                      f"{', ...' if table.n_classes > 8 else ''}); to predict it as a number "
                      "use --task regression (or --loss mse)", markup=False)
    n_outputs, output_activation, loss = data.task_settings(
        task, table.n_classes, args.output_activation, args.loss)
    pairing = bp.losses.pairing_problem(loss, output_activation, n_outputs)
    if pairing is not None:
        raise ValueError(pairing.message("cli"))
    part = datasets.split(np.arange(table.n_samples).reshape(-1, 1), table.y,
                          test_size=args.test_size, val_size=args.val_size,
                          stratify=task != "regression", seed=args.seed)
    rows = {"train": part.X_train[:, 0].astype(np.int64)}
    for name, index in (("validation", part.X_val), ("test", part.X_test)):
        if index is not None:
            rows[name] = index[:, 0].astype(np.int64)
    run = Run(args, table, task, n_outputs, output_activation, loss, rows)
    regression = task == "regression"
    pre = datasets.Preprocessor(scale=args.scale, impute=args.impute,
                                target_scaling=regression, ignore=list(table.left_out))
    pre.fit(run.X("train"), run.y("train") if regression else None)
    run.model = bp.MLP([pre.n_features_out, *args.hidden, n_outputs],
                       activation=args.activation, output_activation=output_activation,
                       init=args.init, dropout=args.dropout, seed=args.seed, dtype=args.dtype)
    run.model.preprocessor = pre
    run.model.classes_ = table.classes
    run.optimizer = bp.optimizers.get(args.optimizer, lr=args.lr)
    # resolved in place: config.json and experiment.toml record what ran
    args.early_stopping = patience = _patience(args, console)
    if patience:
        run.stopper = bp.EarlyStopping(patience=patience, restore_best_weights=True)
    console.print(f"[bold]{_escape(table.name)}[/bold]: {table.n_samples} rows, "
                  f"{len(table.feature_names)} columns → {pre.n_features_out} inputs, {task}; "
                  f"network {[pre.n_features_out, *args.hidden, n_outputs]}, "
                  f"{output_activation} output, {loss}, {args.optimizer} lr={args.lr:g}")
    return run


def _patience(args: Any, console: Any) -> int:
    """Early stopping is on by default (patience 20), watching the validation loss."""
    if args.early_stopping is None:
        if not args.val_size:
            console.print("note: --val-size 0 leaves no validation rows, so early stopping is "
                          "off and the last epoch is saved", markup=False)
            return 0
        return 20
    if args.early_stopping and not args.val_size:
        raise ValueError("--early-stopping watches the validation loss: give --val-size > 0")
    return args.early_stopping


def fit(run: Run) -> None:
    """Train, collecting warnings (a fit no better than a constant, unseen categories) to
    report rather than print mid-progress."""
    args = run.args
    validation = ((run.X("validation"), run.targets("validation"))
                  if "validation" in run.rows else None)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run.history = run.model.fit(
            run.X("train"), run.targets("train"), loss=run.loss, optimizer=run.optimizer,
            epochs=args.epochs, batch_size=args.batch_size or None, l2=args.l2,
            callbacks=[run.stopper] if run.stopper else [], validation_data=validation,
            verbose=not args.quiet)
    run.seconds = time.perf_counter() - start
    run.warnings += [str(w.message) for w in caught]


def measure(run: Run) -> None:
    """Metrics on every split, and a warning for a held-out split that the trivial
    predictor (the training mean, or the most frequent training class) beats."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for split in run.rows:
            run.results[split] = data.metrics(run.model, run.X(split), run.y(split), run.task,
                                              run.targets(split))
    run.warnings += [str(w.message) for w in caught if str(w.message) not in run.warnings]
    train_y = run.y("train")
    for split in ("validation", "test"):
        result = run.results.get(split)
        if result is None:
            continue
        if run.task == "regression" and result["r2"] < 0:
            run.warnings.append(f"on the {split} rows the model does worse than predicting the "
                                f"training mean (R² = {result['r2']:.3g})")
        elif run.task != "regression":
            from ..training import chance_margin

            majority = np.bincount(train_y).argmax()
            share = float(np.mean(run.y(split) == majority))
            threshold = share + chance_margin(share, result["n"])
            if threshold < 1.0 and result["accuracy"] <= threshold:  # too few rows: no word
                run.warnings.append(
                    f"on the {split} rows the model is no more accurate "
                    f"({result['accuracy']:.1%}), within chance, than always answering the "
                    f"most frequent class, {run.table.classes[majority]!r} ({share:.1%})")


def diagnose(run: Run) -> None:
    """The training doctor (issue 13): findings on the training rows and the recorded run."""
    import backprop as bp

    X, T = run.network_data("train")
    run.diagnosis = bp.diagnose(run.model, X, T, history=run.history, loss=run.loss)


def report(run: Run, console: Any) -> None:
    """The metrics table, which epoch was saved, every warning, and the doctor's findings."""
    from .findings import print_findings

    history, args = run.history, run.args
    title = f"{_escape(run.table.name)}: {len(history.epoch)} epochs in {run.seconds:.1f} s"
    if history.stopped_early:
        title += " (stopped early)"
    pre = run.model.preprocessor
    data.print_metrics(console, title, run.results,
                       data.loss_caption(run.loss, run.task, pre.target_scaling))
    if history.interrupted:
        at = min(len(history.epoch) + 1, args.epochs)
        console.print(f"[bold red]interrupted at epoch {at} of {args.epochs}[/bold red]: "
                      "saving the model as it stands")
    if run.stopper is not None and run.stopper.best_epoch is not None:
        console.print(f"saved the weights of epoch {run.saved_epoch} (lowest val_loss "
                      f"{run.stopper.best:.4g}; early stopping with patience "
                      f"{run.stopper.patience})")
    else:
        console.print(f"saved the weights of the last epoch, {run.saved_epoch}")
    for message in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {_escape(message)}")
    print_findings(console, run.diagnosis, "Doctor", warned=bool(run.warnings))


def save(run: Run, console: Any) -> None:
    """The model file, history, configuration and figures, into ``--out``."""
    import backprop as bp

    args, table, model, history = run.args, run.table, run.model, run.history
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = data.json_safe({
        "command": "train",
        "arguments": {k: v for k, v in vars(args).items() if k != "func"},
        "data": {"source": args.data, "name": table.name, "target": table.target,
                 "task": run.task, "n_samples": table.n_samples,
                 "n_features": len(table.feature_names), "feature_names": table.feature_names,
                 "left_out": table.left_out, "classes": table.classes,
                 "delimiter": table.delimiter},
        "split": {"train": len(run.rows["train"]), "validation": len(run.rows.get(
                  "validation", ())), "test": len(run.rows.get("test", ())),
                  "test_size": args.test_size, "val_size": args.val_size,
                  "stratified": run.task != "regression", "seed": args.seed},
        "model": model.get_config(),
        "n_parameters": model.count_params(),
        "preprocessor": model.preprocessor.get_config(),
        "training": {"loss": run.loss, "optimizer": run.optimizer.get_config(),
                     "epochs_requested": args.epochs, "epochs_run": len(history.epoch),
                     "stopped_early": bool(history.stopped_early),
                     "interrupted": bool(history.interrupted),
                     "early_stopping": run.stopper.patience if run.stopper else 0,
                     "saved_epoch": run.saved_epoch,
                     "batch_size": args.batch_size or None, "l2": args.l2,
                     "dropout": args.dropout, "seconds": run.seconds},
        "metrics": run.results,
        "loss_note": data.loss_caption(run.loss, run.task, model.preprocessor.target_scaling),
        "warnings": run.warnings,
        "backprop_version": bp.__version__,
    })
    bp.save(model, out / data.MODEL_FILE, classes=table.classes, training_config=config)
    _write_history(history, out, run.saved_epoch)
    data.write_json(out / "diagnosis.json", run.diagnosis.to_dict())
    written = [data.MODEL_FILE, "history.csv", "history.json", "config.json", "diagnosis.json"]
    # What this command ran, as a file that 'backprop run' repeats bit for bit.
    from ..experiments.from_train import write_train_experiment

    written.append(write_train_experiment(args, out, run.output_activation, run.loss))
    if not args.no_plots:
        written += _figures(run, out)
    config["files"] = written
    data.write_json(out / "config.json", config)
    console.print(f"wrote {', '.join(written)} to {out}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _write_history(history: Any, out: Path, saved_epoch: int) -> None:
    record = history.history
    keys = list(record)
    data.write_json(out / "history.json", {"epoch": list(history.epoch),
                                           "saved_epoch": saved_epoch, **record})
    with open(out / "history.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *keys])
        for i, epoch in enumerate(history.epoch):
            writer.writerow([epoch + 1, *(repr(record[k][i]) if i < len(record[k]) else ""
                                          for k in keys)])


def _figures(run: Run, out: Path) -> list[str]:
    from .. import plots
    from ..plots.common import pyplot

    made = []
    model, history = run.model, run.history

    def keep(fig, name):
        pyplot().close(fig)
        made.append(name)

    keep(plots.plot_architecture(model, path=out / "architecture.png"), "architecture.png")
    keep(plots.plot_history(history, path=out / "history.png", saved_epoch=run.saved_epoch),
         "history.png")
    keep(plots.plot_gradient_flow(history, path=out / "gradient_flow.png",
                                  diagnosis=run.diagnosis), "gradient_flow.png")
    pre = model.preprocessor
    if run.task != "regression" and len(pre.feature_names) == 2 and not pre.categorical_columns:
        points = {split: run.X(split).to_numpy(dtype=np.float64) for split in run.rows}
        keep(plots.plot_decision_boundary(model, points["train"], run.y("train"),
                                          points.get("test"), run.y("test")
                                          if "test" in run.rows else None,
                                          path=out / "boundary.png",
                                          class_names=run.table.classes), "boundary.png")
    return made


# -- evaluate and predict -------------------------------------------------------------------
def rows_for(args: Any, model: Any, with_target: bool) -> tuple[Any, Any, str | None]:
    """``(raw rows, original labels or values, target column)`` of ``--data`` for a saved
    model: every column of a file (the model's preprocessor picks its own), or a bundled
    data set with its feature names."""
    config = model.training_config or {}
    if data.is_csv(args.data):
        if not Path(args.data).is_file():
            raise FileNotFoundError(f"data file not found: {args.data}")
        frame = data.read_rows(args.data)
        target = args.target or config.get("data", {}).get("target")
        if not with_target:
            return frame, None, target
        if target is None or target not in frame.columns:
            raise ValueError(f"the data {args.data} has no target column {target!r}; name it "
                             f"with --target (columns: {', '.join(map(str, frame.columns))})")
        values = frame[target]
        if values.isna().any():
            raise ValueError(f"the target column {target!r} of {args.data} has missing values")
        return frame.drop(columns=[target]), values.to_numpy(), target
    table = data.load_table(args.data, None, n_samples=args.n_samples, noise=args.noise,
                            seed=args.seed)
    labels = table.y if table.classes is None else np.array(table.classes, dtype=object)[table.y]
    return table.X, labels, None


def network_data(args: Any, model: Any) -> tuple[np.ndarray, np.ndarray, str]:
    """``--data`` as a saved model's network saw its training data: encoded inputs, targets
    as the loss reads them (class indices or one-hot, standardised values), and the task."""
    X, values, _ = rows_for(args, model, with_target=True)
    inputs = model.inputs(X)
    task = _task_of(model)
    if task == "regression":
        y = np.asarray(values, dtype=np.float64)
    else:
        y = data.encode_labels(values, model.classes_ or list(range(max(model.n_outputs, 2))),
                               args.data)
    loss = model.loss.name if model.loss is not None else None
    targets = data.training_targets(y, task, model.n_outputs, loss or "")
    pre = model.preprocessor
    return inputs, (targets if pre is None else pre.transform_target(targets)), task


def _task_of(model: Any) -> str:
    config = model.training_config or {}
    return config.get("data", {}).get("task") or (
        "regression" if model.classes_ is None else "binary")


def evaluate(args: Any) -> int:
    model = data.load_model(args.model)
    X, values, _ = rows_for(args, model, with_target=True)
    model.inputs(X)  # the columns first: the more basic mismatch
    task = _task_of(model)
    if task == "regression":
        y = np.asarray(values, dtype=np.float64)
    else:
        classes = model.classes_ or list(range(max(model.n_outputs, 2)))
        y = data.encode_labels(values, classes, args.data)
    loss = model.loss.name if model.loss is not None else (
        "mse" if task == "regression" else "binary_crossentropy")
    targets = data.training_targets(y, task, model.n_outputs, loss)
    result = data.metrics(model, X, y, task, targets)
    scaled = bool(getattr(model.preprocessor, "target_scaling", False))
    data.print_metrics(data.console(), f"{args.model} on {args.data}", {"data": result},
                       data.loss_caption(loss, task, scaled))
    if args.output:
        data.write_json(Path(args.output), {"model": args.model, "data": args.data,
                                            "loss": loss, "metrics": result})
    return 0


def predict(args: Any) -> int:
    model = data.load_model(args.model)
    X, _, target = rows_for(args, model, with_target=False)
    if target is not None and target in getattr(X, "columns", ()):
        X = X.drop(columns=[target])  # a file with answers may be predicted again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = model.predict(X)
    header, rows = prediction_table(model, out)
    path = Path(args.output)
    if path.parent and not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the directory {path.parent} does not "
                                "exist")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    console = data.console()
    for w in caught:
        console.print(f"[yellow]warning:[/yellow] {_escape(str(w.message))}")
    console.print(f"wrote {len(rows)} predictions to {path}")
    return 0


def prediction_table(model: Any, out: np.ndarray) -> tuple[list[str], list[list[str]]]:
    """CSV header and rows: the predicted class (original label) and one probability per
    class, or the predicted value(s) for regression (in the target's units)."""
    classes = model.classes_
    if classes is None:
        values = np.asarray(out, dtype=np.float64)
        header = ["prediction"] if values.shape[1] == 1 else [
            f"prediction_{k}" for k in range(values.shape[1])]
        return header, [[repr(float(v)) for v in row] for row in values]
    if out.shape[1] == 1:
        p1 = out[:, 0].astype(np.float64)
        proba = np.column_stack([1.0 - p1, p1])
        index = (p1 > 0.5).astype(np.int64)
    else:
        proba = out.astype(np.float64)
        index = proba.argmax(axis=1)
    header = ["prediction", *(f"p_{c}" for c in classes)]
    rows = [[str(classes[k]), *(repr(float(p)) for p in row)] for k, row in zip(index, proba)]
    return header, rows
