"""``backprop train``, ``evaluate`` and ``predict``: the practitioner's commands."""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import data


def _console():
    from rich.console import Console

    return Console()


def train(args: Any) -> int:
    from rich.markup import escape

    import backprop as bp
    from backprop import datasets

    console = _console()
    ds = data.load_dataset(args.data, args.target, args.n_samples, args.noise, args.seed)
    task = ds.task
    n_targets = 1 if ds.y.ndim == 1 else ds.y.shape[1]
    n_outputs, output_activation, loss = data.task_settings(
        task, ds.n_classes, n_targets, args.output_activation, args.loss)
    pairing = bp.losses.pairing_problem(loss, output_activation, n_outputs)
    if pairing is not None:
        raise ValueError(pairing.message("cli"))
    if args.early_stopping and not args.val_size:
        raise ValueError("--early-stopping watches the validation loss: give --val-size > 0")
    part = datasets.split(ds.X, ds.y, test_size=args.test_size, val_size=args.val_size,
                          stratify=task != "regression", seed=args.seed)
    scaler = datasets.Scaler(args.scale).fit(part.X_train)
    X = {"train": scaler.transform(part.X_train)}
    y = {"train": part.y_train}
    for name, (Xp, yp) in (("validation", (part.X_val, part.y_val)),
                           ("test", (part.X_test, part.y_test))):
        if Xp is not None:
            X[name], y[name] = scaler.transform(Xp), yp
    scaling = data.target_scaling(part.y_train) if task == "regression" else None

    def fit_target(values):
        return data.scale_target(values, scaling) if scaling else values

    sizes = [ds.n_features, *args.hidden, n_outputs]
    model = bp.MLP(sizes, activation=args.activation,
                   output_activation=output_activation, init=args.init, dropout=args.dropout,
                   seed=args.seed, dtype=args.dtype)
    optimizer = bp.optimizers.get(args.optimizer, lr=args.lr)
    callbacks = [bp.EarlyStopping(patience=args.early_stopping)] if args.early_stopping else []
    console.print(f"[bold]{escape(ds.name)}[/bold]: {ds.n_samples} samples, "
                  f"{ds.n_features} features, {task}; network {sizes}, "
                  f"{output_activation} output, {loss}, {args.optimizer} lr={args.lr:g}")
    start = time.perf_counter()
    history = model.fit(
        X["train"], fit_target(y["train"]), loss=loss, optimizer=optimizer, epochs=args.epochs,
        batch_size=args.batch_size or None, l2=args.l2, callbacks=callbacks,
        validation_data=(X["validation"], fit_target(y["validation"]))
        if "validation" in X else None,
        verbose=not args.quiet)
    seconds = time.perf_counter() - start
    results = {name: data.metrics(model, X[name], y[name], task, loss, scaling) for name in X}
    data.print_metrics(console, f"{escape(ds.name)}: {len(history.epoch)} epochs in {seconds:.1f} s"
                       + (" (stopped early)" if history.stopped_early else ""), results)
    # The training doctor (issue 13): findings on the training rows and the recorded run.
    from .findings import print_findings

    diagnosis = bp.diagnose(model, X["train"], fit_target(y["train"]), history=history,
                            loss=loss)
    print_findings(console, diagnosis, "Doctor")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = {
        "command": "train",
        "arguments": {k: v for k, v in vars(args).items() if k != "func"},
        "data": {"source": args.data, "name": ds.name, "target": args.target, "task": task,
                 "n_samples": ds.n_samples, "n_features": ds.n_features,
                 "feature_names": list(ds.feature_names), "classes": ds.classes},
        "split": {"train": len(X["train"]), "validation": len(X.get("validation", ())),
                  "test": len(X.get("test", ())), "test_size": args.test_size,
                  "val_size": args.val_size, "stratified": task != "regression",
                  "seed": args.seed},
        "model": model.get_config(),
        "n_parameters": model.count_params(),
        "training": {"loss": loss, "optimizer": optimizer.get_config(),
                     "epochs_requested": args.epochs, "epochs_run": len(history.epoch),
                     "stopped_early": bool(history.stopped_early),
                     "batch_size": args.batch_size or None, "l2": args.l2,
                     "dropout": args.dropout, "seconds": seconds},
        "scaler": scaler.get_config(),
        "target_scaling": scaling,
        "metrics": results,
        "backprop_version": bp.__version__,
    }
    config = data.json_safe(config)
    bp.save(model, out / data.MODEL_FILE, scaler=scaler, classes=ds.classes,
            training_config=config)
    _write_history(history, out)
    data.write_json(out / "diagnosis.json", diagnosis.to_dict())
    written = [data.MODEL_FILE, "history.csv", "history.json", "config.json", "diagnosis.json"]
    # What this command ran, as a file that 'backprop run' repeats bit for bit.
    from ..experiments.from_train import write_train_experiment

    written.append(write_train_experiment(args, out, output_activation, loss))
    if not args.no_plots:
        written += _figures(model, history, X, y, task, out, diagnosis)
    config["files"] = written
    data.write_json(out / "config.json", config)
    console.print(f"wrote {', '.join(written)} to {out}")
    return 0


def _write_history(history: Any, out: Path) -> None:
    record = history.history
    keys = list(record)
    data.write_json(out / "history.json", {"epoch": list(history.epoch), **record})
    with open(out / "history.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *keys])
        for i, epoch in enumerate(history.epoch):
            writer.writerow([epoch + 1, *(repr(record[k][i]) if i < len(record[k]) else ""
                                          for k in keys)])


def _figures(model, history, X, y, task, out: Path, diagnosis=None) -> list[str]:
    from .. import plots
    from ..plots.common import pyplot

    made = []

    def keep(fig, name):
        pyplot().close(fig)
        made.append(name)

    keep(plots.plot_architecture(model, path=out / "architecture.png"), "architecture.png")
    keep(plots.plot_history(history, path=out / "history.png"), "history.png")
    keep(plots.plot_gradient_flow(history, path=out / "gradient_flow.png", diagnosis=diagnosis),
         "gradient_flow.png")
    if task != "regression" and model.n_features == 2:
        keep(plots.plot_decision_boundary(model, X["train"], y["train"], X.get("test"),
                                          y.get("test"), path=out / "boundary.png"),
             "boundary.png")
    return made


def _prepared(args: Any, model: Any) -> tuple[Any, np.ndarray, dict[str, Any]]:
    """Load ``--data`` for a saved model: (Dataset, scaled X, training config)."""
    config = model.training_config or {}
    source = config.get("data", {})
    target = args.target if args.target is not None else (
        source.get("target") if data.is_csv(args.data) else None)
    ds = data.load_dataset(args.data, target, args.n_samples, args.noise, args.seed)
    names = source.get("feature_names")
    X = ds.X
    if data.is_csv(args.data) and names and list(ds.feature_names) != names:
        if sorted(ds.feature_names) != sorted(names):
            raise ValueError(f"the data {args.data} has feature columns "
                             f"{', '.join(ds.feature_names)}; the model was trained on "
                             f"{', '.join(names)}")
        X = X[:, [list(ds.feature_names).index(n) for n in names]]
    data.check_features(X, model, args.data)
    return ds, (model.scaler.transform(X) if model.scaler is not None else X), config


def evaluate(args: Any) -> int:
    model = data.load_model(args.model)
    ds, X, config = _prepared(args, model)
    training = config.get("training", {})
    task = config.get("data", {}).get("task") or ("regression" if model.classes_ is None
                                                  else "binary")
    if task == "regression":
        if ds.classes is not None:
            raise ValueError(f"the data {args.data} has class labels but the model is a "
                             "regressor")
        y = ds.y
    else:
        y = data.encode_labels(ds, model.classes_ or list(range(model.n_outputs)), args.data)
    loss = training.get("loss") or ("mse" if task == "regression" else None)
    result = data.metrics(model, X, y, task, loss, config.get("target_scaling"))
    data.print_metrics(_console(), f"{args.model} on {args.data}", {"data": result})
    if args.output:
        data.write_json(Path(args.output), {"model": args.model, "data": args.data,
                                            "metrics": result})
    return 0


def predict(args: Any) -> int:
    model = data.load_model(args.model)
    config = model.training_config or {}
    names = config.get("data", {}).get("feature_names")
    if data.is_csv(args.data):
        if names is None:
            raise ValueError("the model file records no feature names, so the CSV columns "
                             "cannot be matched; retrain it with 'backprop train'")
        X = data.read_feature_csv(args.data, names)
    else:
        X = data.load_dataset(args.data, None, args.n_samples, args.noise, args.seed).X
    data.check_features(X, model, args.data)
    X = model.scaler.transform(X) if model.scaler is not None else X
    out = model.predict(X)
    header, rows = prediction_table(model, out, config.get("target_scaling"))
    path = Path(args.output)
    if path.parent and not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the directory {path.parent} does not "
                                "exist")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    _console().print(f"wrote {len(rows)} predictions to {path}")
    return 0


def prediction_table(model: Any, out: np.ndarray, scaling: dict | None
                     ) -> tuple[list[str], list[list[str]]]:
    """CSV header and rows: the predicted class (original label) and one probability per
    class, or the predicted value(s) for regression."""
    classes = model.classes_
    if classes is None:
        values = data.unscale_target(out, scaling)
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
