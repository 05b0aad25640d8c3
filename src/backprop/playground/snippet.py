"""The Python snippet that the export button hands out: the page's run, replayed with the
library, live changes (learning rate, L2, batch size, edited weights) at the epochs they
were made. Run as it is, it trains the same network from the same data, seed and settings
and saves it next to itself. The weights are the page's bit for bit when each stretch of
training takes the same path through ``fit`` (fit picks its compiled kernels for long fits
when numba is installed, its NumPy path otherwise); where the page stepped and the snippet
runs one long fit, the two paths agree to float32 rounding (measured: 1e-6 in the weights
after 5,500 epochs of XOR)."""

from __future__ import annotations

from typing import Any

from .config import Config

_OPTIMIZER = {"sgd": "bp.SGD(lr={lr!r})", "momentum": "bp.SGD(lr={lr!r}, momentum=0.9)",
              "adam": "bp.Adam(lr={lr!r})"}


def snippet(config: Config, sizes: list[int], output_activation: str, loss: str,
            one_hot: bool, start: dict[str, Any], epoch: int, timeline: list[dict[str, Any]],
            csv_name: str, model_file: str) -> str:
    """Python source that reproduces a playground run of ``epoch`` epochs.

    Parameters
    ----------
    config : Config
        The configuration at export time.
    sizes, output_activation, loss :
        The network's layer widths, output activation and the engine's loss name.
    one_hot : bool
        Several classes: ``fit`` gets one-hot rows.
    start : dict
        ``lr``, ``l2`` and ``batch_size`` at epoch 0 (live changes come from ``timeline``).
    epoch : int
        Epochs trained.
    timeline : list of dict
        ``{"epoch": e, "set": {...}}`` and ``{"epoch": e, "param": [layer, kind, i, j, v]}``
        in the order they happened.
    csv_name : str
        The uploaded file's name (read from the working directory).
    model_file : str
        Where the snippet saves the model it trained.
    """
    lines = ['"""A backprop playground run, replayed with the library."""',
             "import numpy as np", "", "import backprop as bp"]
    if config.dataset == "csv":
        lines += [
            "from backprop.playground.csv_upload import csv_data", "",
            f"with open({csv_name!r}, encoding='utf-8') as handle:  # the file you uploaded",
            f"    data = csv_data(handle.read(), target={config.target!r}, "
            f"x_column={config.x_column!r},",
            f"                    y_column={config.y_column!r}, task={config.problem!r},",
            f"                    train_percent={config.train_percent}, "
            f"seed={config.data_seed})",
        ]
    else:
        lines += [
            "from backprop.playground.data import make_data", "",
            f"data = make_data({config.dataset!r}, n_samples={config.n_samples}, "
            f"noise={config.noise}, train_percent={config.train_percent},",
            f"                 classes={config.classes}, seed={config.data_seed})",
        ]
    inputs = ("every column, through data.preprocessor" if config.dataset == "csv"
              else "the chosen features")
    y_train, y_test = "data.y_train", "data.y_test"
    if one_hot:
        y_train = f"np.eye({sizes[-1]})[data.y_train]"
        y_test = f"np.eye({sizes[-1]})[data.y_test]"
    lines += [
        f"features = {list(config.features)!r}  # the network's inputs: {inputs}",
        "X_train = data.inputs(data.X_train, features).astype(np.float32)",
        "X_test = data.inputs(data.X_test, features).astype(np.float32)",
        f"y_train, y_test = {y_train}, {y_test}",
        "",
        f"model = bp.MLP({sizes!r}, activation={list(config.activations)!r},",
        f"               output_activation={output_activation!r}, dropout={config.dropout!r}, "
        f"seed={config.seed})",
        f"optimizer = {_OPTIMIZER[config.optimizer].format(lr=start['lr'])}",
        f"options = dict(loss={loss!r}, optimizer=optimizer, batch_size={start['batch_size']}, "
        f"l2={start['l2']!r}, metrics=[])",
        "",
    ]
    done = 0
    for event in timeline:
        at = int(event["epoch"])
        if at > done:
            lines.append(f"model.fit(X_train, y_train, initial_epoch={done}, epochs={at}, "
                         "**options)")
        done = at
        if "set" in event:
            for key, value in event["set"].items():
                target = "optimizer.lr" if key == "lr" else f"options[{key!r}]"
                lines.append(f"{target} = {value!r}  # changed live at epoch {at}")
        else:
            layer, kind, i, j, value = event["param"]
            where = f"weights[{layer - 1}][{i}, {j}]" if kind == "W" \
                else f"biases[{layer - 1}][{j}]"
            lines.append(f"model.{where} = {value!r}  # edited at epoch {at}")
    if epoch > done:
        lines.append(f"model.fit(X_train, y_train, initial_epoch={done}, epochs={epoch}, "
                     "**options)")
    save = f"bp.save(model, {model_file!r}"
    save += (", preprocessor=data.preprocessor, classes=list(data.classes))"
             if config.dataset == "csv" else ")")
    lines += [
        "",
        f"print('train', model.evaluate(X_train, y_train, loss={loss!r}))",
        f"print('test ', model.evaluate(X_test, y_test, loss={loss!r}))",
        save,
        "",
    ]
    return "\n".join(lines)
