"""Flat parameter storage: a network's parameters as views into one array, its gradients into
a second, both halves of one buffer ``[values | gradients]``.

- An optimiser sees one ``Param`` spanning the whole model, so an update is a dozen NumPy calls
  whatever the depth (the main gain on the digits workload, W2).
- Each epoch's per-layer norms of weights and gradients come from one copy of the buffer,
  reduced for many epochs at once (``norms.py``).
- Layer by layer, a Dense layer's W (n_in, n_out) and b (n_out,) are the rows of one block
  [W; b] of shape (n_in + 1, n_out). Given its input with a column of ones appended
  (``with_ones_column``), the first layer computes x·W + b in one product, and ∂L/∂W with
  ∂L/∂b in one product (``Dense.forward_with_ones``): W1, the chapter's moons, saves its
  first layer's bias add and bias sum, about a tenth of an epoch.

The layers still see ordinary (n_in, n_out) and (n_out,) arrays; nothing falls back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class FlatParameters:
    """Lay out the parameters of ``dense_layers`` in one flat buffer and relink the layers.

    Each layer's ``W`` and ``b`` (``Param`` objects) get ``value`` and ``grad`` views into
    ``values`` and ``grads``, starting from the values the layers hold.

    Attributes
    ----------
    buffer : ndarray of shape (2 · n_parameters,)
        ``[values | gradients]``.
    values, grads : ndarray of shape (n_parameters,)
        The two halves: W⁽¹⁾, b⁽¹⁾, W⁽²⁾, b⁽²⁾, ... flattened row by row.
    segments : list of (start, stop, is_weight)
        Where each W and b lies in ``values``.
    blocks : list of (ndarray, ndarray) or None
        Per layer, the [W; b] block of shape (n_in + 1, n_out) and its gradient (None for a
        layer without bias).
    """

    def __init__(self, dense_layers: Sequence[Any], dtype: np.dtype) -> None:
        total = sum(p.value.size for layer in dense_layers for p in layer.params())
        self.buffer = np.zeros(2 * total, dtype=dtype)
        self.values = self.buffer[:total]
        self.grads = self.buffer[total:]
        self.segments: list[tuple[int, int, bool]] = []
        self.blocks: list[tuple[np.ndarray, np.ndarray] | None] = []
        offset = 0
        for layer in dense_layers:
            offset = self._link(layer, offset)

    def _link(self, layer: Any, offset: int) -> int:
        rows = layer.n_in + (1 if layer.b is not None else 0)
        size = rows * layer.n_out
        block = self.values[offset : offset + size].reshape(rows, layer.n_out)
        grad_block = self.grads[offset : offset + size].reshape(rows, layer.n_out)
        block[: layer.n_in] = layer.W.value
        layer.W.value, layer.W.grad = block[: layer.n_in], grad_block[: layer.n_in]
        n_weights = layer.W.value.size
        self.segments.append((offset, offset + n_weights, True))
        if layer.b is not None:
            block[layer.n_in] = layer.b.value
            layer.b.value, layer.b.grad = block[layer.n_in], grad_block[layer.n_in]
            self.segments.append((offset + n_weights, offset + size, False))
        self.blocks.append((block, grad_block) if layer.b is not None else None)
        return offset + size


def with_ones_column(X: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """X (n, n_features) copied into a fresh (n, n_features + 1) array ending in ones.

    Training builds it once per fit (or gathers each shuffled batch into one), so the first
    layer's bias costs nothing in its products. Hidden layers keep z = a·W + b: writing their
    activations into such a buffer would make every elementwise operation strided, which costs
    more than the bias add it saves.
    """
    out = np.empty((X.shape[0], X.shape[1] + 1), dtype=dtype)
    out[:, :-1] = X
    out[:, -1] = 1
    return out
