"""The argument parser and ``main``: each command's function is imported only when it runs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import data

EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, like every other error."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_ERROR, f"backprop: error: {message} (see '{self.prog} --help')\n")


def _name(registry):
    """An argument type resolving a registered name (any case, aliases allowed)."""

    def resolve(text: str) -> str:
        try:
            return registry.canonical(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    resolve.__name__ = registry.family
    return resolve


def _network_options(p: argparse.ArgumentParser, hidden: list[int], hidden_help: str,
                     output_help: str, loss_help: str) -> None:
    """--hidden, --activation, --output-activation and --loss, as train and explain take
    them (each with its own defaults)."""
    from .. import activations, losses

    p.add_argument("--hidden", type=data.hidden_sizes, default=hidden, help=hidden_help)
    p.add_argument("--activation", default="relu", type=_name(activations.ACTIVATIONS),
                   metavar="NAME", help="hidden activation (default relu)")
    p.add_argument("--output-activation", type=_name(activations.ACTIVATIONS), metavar="NAME",
                   help=output_help)
    p.add_argument("--loss", type=_name(losses.LOSSES), metavar="NAME", help=loss_help)


def _data_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    from ..datasets import NAMES

    parser.add_argument("--data", required=required,
                        help=f"a data set ({', '.join(NAMES)}) or a CSV/TSV file (the "
                             "delimiter is sniffed)")
    parser.add_argument("--target", help="the CSV column to predict")
    parser.add_argument("--n-samples", type=data.positive_int,
                        help="samples to generate (generated data sets only)")
    parser.add_argument("--noise", type=data.nonnegative_float,
                        help="noise level (generated data sets only)")
    parser.add_argument("--seed", type=data.nonnegative_int, default=42,
                        help="seed for data, split, initial weights and shuffling "
                             "(default 42)")


def _train_parser(sub) -> None:
    from .. import initializers, optimizers

    p = sub.add_parser("train", help="train a network and save it with its figures",
                       description="Train an MLP on a data set or CSV file; print train, "
                                   "validation and test metrics; save the model, history, "
                                   "configuration and figures into --out.")
    _data_options(p)
    _network_options(p, [10, 10], "hidden layer widths, comma-separated (default 10,10)",
                     "default: sigmoid (binary), softmax (classes), identity (regression)",
                     "default: binary_crossentropy, categorical_crossentropy or mse")
    p.add_argument("--init", type=_name(initializers.INITIALIZERS), metavar="NAME",
                   help="weight initialiser (default: He for ReLU-like, Xavier otherwise)")
    p.add_argument("--optimizer", default="adam", type=_name(optimizers.OPTIMIZERS),
                   metavar="NAME", help="default adam")
    p.add_argument("--lr", type=data.positive_float, default=0.01,
                   help="learning rate (default 0.01)")
    p.add_argument("--epochs", type=data.positive_int, default=200, help="default 200")
    p.add_argument("--batch-size", type=data.nonnegative_int, default=32,
                   help="mini-batch size; 0 for full-batch gradient descent (default 32)")
    p.add_argument("--l2", type=data.nonnegative_float, default=0.0,
                   help="L2 penalty λ·Σ‖W‖² (default 0)")
    p.add_argument("--dropout", type=data.fraction, default=0.0,
                   help="dropout rate after each hidden layer (default 0)")
    p.add_argument("--early-stopping", type=data.nonnegative_int, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a better validation loss and keep "
                        "the best epoch's weights (default 20; 0: off, keep the last epoch)")
    p.add_argument("--test-size", type=data.fraction, default=0.2, help="default 0.2")
    p.add_argument("--val-size", type=data.fraction, default=0.2, help="default 0.2")
    p.add_argument("--scale", default="standard", choices=["standard", "minmax", "none"],
                   help="scaling of numeric columns, fitted on the training rows (default "
                        "standard); regression targets are standardised too")
    p.add_argument("--impute", choices=["median", "most_frequent"],
                   help="fill missing cells (NA, NaN, empty) with the training rows' median "
                        "(categories: most frequent value); default: refuse them, naming "
                        "every column that has some")
    p.add_argument("--task", choices=["classification", "regression"],
                   help="how to read the CSV target (default: text and up to 20 whole "
                        "numbers are classes; --loss mse/mae/huber means regression)")
    p.add_argument("--features", metavar="COL,...",
                   help="the CSV columns to use as features (default: all but the target and "
                        "ID-like columns)")
    p.add_argument("--drop", metavar="COL,...", help="CSV columns to leave out")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--out", default="runs/model", help="output directory (default runs/model)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run("train", "train"))


def _model_parsers(sub) -> None:
    p = sub.add_parser("evaluate", help="metrics of a saved model on a data set or CSV file")
    p.add_argument("--model", required=True, help="directory written by 'backprop train'")
    _data_options(p)
    p.add_argument("--output", help="also write the metrics to this JSON file")
    p.set_defaults(func=_run("train", "evaluate"))

    p = sub.add_parser("predict", help="predicted class and probabilities for each row")
    p.add_argument("--model", required=True, help="directory written by 'backprop train'")
    _data_options(p)
    p.add_argument("--output", required=True, help="CSV file to write")
    p.set_defaults(func=_run("train", "predict"))

    p = sub.add_parser("export", help="export a saved model to ONNX or TorchScript")
    p.add_argument("--model", required=True, help="directory written by 'backprop train'")
    p.add_argument("--format", required=True, choices=["onnx", "torch"])
    p.add_argument("--output", help="file to write (default: model.onnx / model.pt beside "
                                    "the model)")
    p.set_defaults(func=_run("tools", "export"))


def _tool_parsers(sub) -> None:
    from .. import activations, losses

    p = sub.add_parser("plot", help="draw activations, an architecture, a history or a "
                                    "decision boundary")
    p.add_argument("kind", choices=["activations", "architecture", "history", "boundary"])
    p.add_argument("--model", help="directory written by 'backprop train'")
    p.add_argument("--layers", type=data.hidden_sizes,
                   help="layer widths for an untrained architecture, such as 2,4,3,1")
    p.add_argument("--names", help="activations to draw, comma-separated (default: all)")
    _data_options(p, required=False)
    p.add_argument("--output", help="PNG file to write")
    p.set_defaults(func=_run("tools", "plot"))

    p = sub.add_parser("gradcheck", help="backpropagation against finite differences, "
                                         "per parameter")
    p.add_argument("--hidden", type=data.hidden_sizes, default=[4, 3],
                   help="hidden layer widths (default 4,3)")
    p.add_argument("--inputs", type=data.positive_int, default=2, help="default 2")
    p.add_argument("--outputs", type=data.positive_int, default=1, help="default 1")
    p.add_argument("--activation", default="tanh", type=_name(activations.ACTIVATIONS),
                   metavar="NAME", help="hidden activation (default tanh)")
    p.add_argument("--output-activation", type=_name(activations.ACTIVATIONS), metavar="NAME",
                   help="default: follows the loss")
    p.add_argument("--loss", default="mse", type=_name(losses.LOSSES), metavar="NAME",
                   help="default mse")
    p.add_argument("--samples", type=data.positive_int, default=8, help="default 8")
    p.add_argument("--seed", type=data.nonnegative_int, default=0, help="default 0")
    p.add_argument("--tolerance", type=data.positive_float, default=1e-6,
                   help="largest relative error that passes (default 1e-6)")
    p.set_defaults(func=_run("tools", "gradcheck"))

    p = sub.add_parser("tour", help="re-run the whole chapter and write the report")
    p.add_argument("--out", default="out/chapter4", help="output directory "
                                                         "(default out/chapter4)")
    p.set_defaults(func=_run("tools", "tour"))

    p = sub.add_parser("playground", help="watch and steer a network learn in your browser",
                       description="Serve the playground on 127.0.0.1 (only this computer "
                                   "can reach it) and open it in the web browser; Ctrl-C "
                                   "stops it. Needs the playground extra.")
    p.add_argument("--port", type=data.nonnegative_int, default=None,
                   help="port to listen on (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.set_defaults(func=_run("playground", "playground"))


def _doctor_parsers(sub) -> None:
    from .. import optimizers

    p = sub.add_parser("doctor", help="diagnose a saved run: what went wrong in training",
                       description="Measure a model saved by 'backprop train' on a data set "
                                   "and its recorded history; print each finding with the "
                                   "numbers behind it and the fix.")
    p.add_argument("--model", required=True, help="directory written by 'backprop train'")
    _data_options(p)
    p.add_argument("--output", help="also write the diagnosis to this JSON file")
    p.set_defaults(func=_run("doctor", "doctor"))

    p = sub.add_parser("explain", help="one training step in the chapter's notation",
                       description="Print z, a, δ, ∂L/∂W, ∂L/∂b and the updated W of every "
                                   "layer for one step of a small network (default: the "
                                   "chapter's XOR network), as tables; optionally as "
                                   "Markdown and JSON.")
    p.add_argument("--model", help="a directory written by 'backprop train' (default: a "
                                   "fresh network from the options below)")
    p.add_argument("--data", default="xor", help="a data set or CSV file (default xor)")
    p.add_argument("--target", help="the CSV column to predict")
    p.add_argument("--n-samples", type=data.positive_int, help="samples to generate")
    p.add_argument("--noise", type=data.nonnegative_float, help="noise level")
    p.add_argument("--seed", type=data.nonnegative_int, default=0,
                   help="seed for the data and the initial weights (default 0)")
    p.add_argument("--samples", type=data.positive_int, default=4,
                   help="rows in the step's batch (default 4)")
    _network_options(p, [4], "hidden layer widths (default 4)", "default: follows the task",
                     "default: follows the task (or the saved model's)")
    p.add_argument("--scale", default="none", choices=["standard", "minmax", "none"],
                   help="input scaling for a fresh network (default none)")
    p.add_argument("--optimizer", default="sgd", type=_name(optimizers.OPTIMIZERS),
                   metavar="NAME", help="default sgd")
    p.add_argument("--lr", type=data.positive_float, default=0.1, help="default 0.1")
    p.add_argument("--max-rows", type=data.positive_int, default=6,
                   help="rows shown per matrix (default 6)")
    p.add_argument("--max-cols", type=data.positive_int, default=6,
                   help="columns shown per matrix (default 6)")
    p.add_argument("--markdown", help="also write the step as Markdown to this file")
    p.add_argument("--json", help="also write the step's numbers to this JSON file")
    p.set_defaults(func=_run("doctor", "explain"))


def _run(module: str, name: str):
    """The command function, imported only when that command runs."""

    def call(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(f".{module}", __package__), name)(args)

    call.__name__ = name
    return call


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = _Parser(prog="backprop", description="Multi-layer perceptrons made visible, "
                                                   "verified and fast.")
    parser.add_argument("--version", action="version", version=f"backprop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _train_parser(sub)
    _model_parsers(sub)
    _tool_parsers(sub)
    from .experiments import add_parsers

    add_parsers(sub, data.positive_int, _run)
    _doctor_parsers(sub)
    return parser


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.errno is not None and exc.filename:
        return f"file not found: {exc.filename}"
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 1 check failed, 2 error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("backprop: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, KeyError, ImportError, RuntimeError) as exc:
        # ModelFileError is a ValueError, TrainingDiverged a RuntimeError, a missing file an
        # OSError: the user's input is at fault, so one line says what and no traceback.
        if os.environ.get("BACKPROP_DEBUG"):
            raise
        print(f"backprop: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
