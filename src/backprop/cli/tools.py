"""``backprop plot``, ``gradcheck``, ``export`` and ``tour``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from . import data


def _save(fig: Any, path: Path) -> int:
    from ..plots.common import pyplot

    pyplot().close(fig)
    data.console().print(f"wrote {path}")
    return 0


def _output(args: Any, default: str) -> Path:
    path = Path(args.output or default)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the directory {path.parent} does not "
                                "exist")
    return path


def plot(args: Any) -> int:
    from .. import plots

    kind = args.kind
    if kind == "activations":
        names = [n for n in args.names.split(",") if n] if args.names else None
        path = _output(args, "activations.png")
        return _save(plots.plot_activations(names, path=path), path)
    if kind == "architecture":
        if (args.model is None) == (args.layers is None):
            raise ValueError("plot architecture needs either --model DIR or --layers such as "
                             "2,4,3,1")
        what = data.load_model(args.model) if args.model else args.layers
        if args.layers is not None and len(args.layers) < 2:
            raise ValueError("--layers needs at least an input and an output width, such as "
                             "2,1")
        path = _output(args, "architecture.png")
        return _save(plots.plot_architecture(what, path=path), path)
    if args.model is None:
        raise ValueError(f"plot {kind} needs --model DIR (a directory written by "
                         "'backprop train')")
    if kind == "history":
        source = Path(args.model) / "history.json"
        if not source.is_file():
            raise FileNotFoundError(f"no history at {source}: expected a directory written "
                                    "by 'backprop train'")
        record = json.loads(source.read_text(encoding="utf-8"))
        record.pop("epoch", None)
        saved = record.pop("saved_epoch", None)
        path = _output(args, str(Path(args.model) / "history.png"))
        return _save(plots.plot_history(record, path=path, saved_epoch=saved), path)
    # boundary
    if args.data is None:
        raise ValueError("plot boundary needs --data (a data set name or a CSV file)")
    from .train import rows_for

    model = data.load_model(args.model)
    X, labels, _ = rows_for(args, model, with_target=True)
    y = data.encode_labels(labels, model.classes_ or list(range(max(model.n_outputs, 2))),
                           args.data)
    names = getattr(model.preprocessor, "feature_names", None)
    if names is not None and hasattr(X, "columns"):
        X = X[[n for n in names if n in X.columns]]
    path = _output(args, str(Path(args.model) / "boundary.png"))
    return _save(plots.plot_decision_boundary(model, np.asarray(X, dtype=np.float64), y,
                                              path=path, class_names=model.classes_), path)


def gradcheck(args: Any) -> int:
    from rich.table import Table

    import backprop as bp

    rng = np.random.default_rng(args.seed)
    sizes = [args.inputs, *args.hidden, args.outputs]
    output = args.output_activation or ("softmax" if args.loss == "categorical_crossentropy"
                                        else "sigmoid" if args.loss == "binary_crossentropy"
                                        else "identity")
    model = bp.MLP(sizes, activation=args.activation, output_activation=output,
                   seed=args.seed, dtype="float64")
    for b in model.biases:
        # random biases keep every pre-activation off the ReLU kink, where a finite
        # difference would measure a one-sided slope
        b[...] = rng.normal(0.0, 0.1, b.shape)
    X = rng.standard_normal((args.samples, args.inputs))
    if args.loss == "categorical_crossentropy":
        y = rng.integers(0, args.outputs, args.samples)
    elif args.loss == "binary_crossentropy":
        y = rng.integers(0, 2, (args.samples, args.outputs))
    else:
        y = rng.standard_normal((args.samples, args.outputs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = bp.gradcheck(model, X, y, loss=args.loss)
    table = Table(title=f"gradient check: {sizes}, {args.activation} hidden, {output} output, "
                        f"{args.loss}, {args.samples} samples")
    for column, justify in (("parameter", "left"), ("shape", "left"),
                            ("relative error", "right"), ("status", "left")):
        table.add_column(column, justify=justify)
    for param, (name, error) in zip(model.parameters(), result.items()):
        ok = error < args.tolerance
        table.add_row(name, "×".join(map(str, param.value.shape)), f"{error:.2e}",
                      "[green]ok[/green]" if ok else "[red]FAIL[/red]")
    console = data.console()
    console.print(table)
    passed = result.passed(args.tolerance)
    console.print(f"largest relative error {result.max_error:.2e} "
                  f"({'below' if passed else 'ABOVE'} tolerance {args.tolerance:g})")
    for warning in caught:  # why a check cannot pass (a softmax over one unit)
        console.print(f"why: {warning.message}", markup=False)
    return 0 if passed else 1


def export(args: Any) -> int:
    from .. import io

    model = data.load_model(args.model)
    base = Path(args.model)
    base = base if base.is_dir() else base.parent
    suffix = {"onnx": "model.onnx", "torch": "model.pt"}[args.format]
    path = _output(args, str(base / suffix))
    written = (io.export_onnx if args.format == "onnx" else io.export_torch)(model, path)
    console = data.console()
    console.print(f"wrote {written}")
    pre = model.preprocessor
    if getattr(pre, "kind", None) == "tabular":
        numeric, categorical = pre.numeric_columns, pre.categorical_columns
        parts = [f"X = [{', '.join(numeric)}] as float32, NaN where missing"] if numeric else []
        if args.format == "onnx":
            parts += [f"{name} as string (batch, 1)" for name in categorical]
        elif categorical:
            parts.append(f"categories = one list of str per column: {', '.join(categorical)}")
        console.print(f"inputs, raw (the graph encodes and scales them): {'; '.join(parts)}",
                      markup=False)
    return 0


def tour(args: Any) -> int:
    from .. import tour as tour_module

    console = data.console()
    result = tour_module.run(args.out, log=lambda line: console.print(line, markup=False))
    console.print(f"wrote {result.report_md}, {result.report_html} and "
                  f"{len(result.figures)} figures in {result.seconds:.1f} s")
    return 0
