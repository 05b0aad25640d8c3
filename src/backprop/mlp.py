"""The ``MLP`` builder: a ``Sequential`` of Dense (and Dropout) layers from a list of widths."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import activations as _activations
from .layers import Dense, Dropout, Layer
from .network import Sequential
from .validation import check_in_range


class MLP(Sequential):
    """A multi-layer perceptron from a list of layer widths.

    Parameters
    ----------
    layer_sizes : list of int
        ``[n_features, hidden_1, ..., n_outputs]``, at least two sizes, each ≥ 1.
    activation : str, Activation or list, default "relu"
        Hidden-layer activation, or one per hidden layer.
    output_activation : str or Activation, default "identity"
        "sigmoid" for binary (or multi-label) classification, "softmax" for classes.
    init : str or callable, optional
        Weight initialiser for every layer; default follows each layer's activation.
    dropout : float or list of float, default 0.0
        Dropout rate after each hidden layer (0 adds no layer).
    seed : int or numpy Generator, optional
    dtype : {"float32", "float64"}, default "float32"

    Examples
    --------
    >>> import backprop as bp
    >>> model = bp.MLP([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    >>> [w.shape for w in model.weights]
    [(2, 4), (4, 1)]
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: Any = "relu",
        output_activation: Any = "identity",
        init: Any = None,
        dropout: float | Sequence[float] = 0.0,
        seed: Any = None,
        dtype: Any = "float32",
    ) -> None:
        sizes = _check_layer_sizes(layer_sizes)
        n_hidden = len(sizes) - 2
        hidden_acts = _per_hidden("activation", activation, n_hidden)
        rates = _per_hidden("dropout", dropout, n_hidden)
        for rate in rates:
            check_in_range("dropout rate", rate, 0.0, 1.0, closed_low=True)
        layers: list[Layer] = []
        for i in range(n_hidden):
            layers.append(Dense(sizes[i], sizes[i + 1], activation=hidden_acts[i], init=init))
            if rates[i] > 0:
                layers.append(Dropout(rates[i]))
        layers.append(Dense(sizes[-2], sizes[-1], activation=output_activation, init=init))
        self._mlp_config = {
            "layer_sizes": sizes,
            "activation": [_activations.get(a).get_config() for a in hidden_acts]
            if isinstance(activation, (list, tuple))
            else _activations.get(activation).get_config(),
            "output_activation": _activations.get(output_activation).get_config(),
            "init": layers[0].init_name if init is not None else None,
            "dropout": list(rates) if isinstance(dropout, (list, tuple)) else float(dropout),
        }
        super().__init__(layers, seed=seed, dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"class": "MLP", **self._mlp_config, "seed": self.seed, "dtype": self.dtype.name}


def _check_layer_sizes(layer_sizes: Any) -> list[int]:
    if isinstance(layer_sizes, (str, bytes)) or not hasattr(layer_sizes, "__len__"):
        raise TypeError(f"layer_sizes must be a list of integers; got {layer_sizes!r}")
    sizes = list(layer_sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"layer_sizes needs at least two sizes (inputs and outputs); got {sizes}"
        )
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"layer sizes must be integers; got {sizes}")
        if s < 1:
            raise ValueError(f"layer sizes must be at least 1; got {sizes}")
    return [int(s) for s in sizes]


def _per_hidden(name: str, value: Any, n_hidden: int) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) != n_hidden:
            raise ValueError(
                f"{name} list must have one entry per hidden layer ({n_hidden}); "
                f"got {len(value)}"
            )
        return list(value)
    return [value] * n_hidden
