"""TorchScript modules that apply a ``backprop.datasets.Preprocessor`` around a network.

Imported only by :func:`backprop.io.export_torch` (it needs PyTorch). The arithmetic is the
preprocessor's, in float64 as ``predict`` does it, then cast to the network's dtype.
(No ``from __future__ import annotations`` here: TorchScript reads the annotations.)
"""


from typing import Any

import numpy as np
import torch
from torch import nn


class OneHot(nn.Module):
    """One categorical column (a list of str) → its one-hot block; "" is the fill category
    when the model was trained with imputation; an unseen value gives a row of zeros."""

    index: dict[str, int]

    def __init__(self, categories: list[str], fill: str | None) -> None:
        super().__init__()
        self.index = {c: i for i, c in enumerate(categories)}
        if fill is not None:
            self.index[""] = categories.index(fill)
        self.width = len(categories)

    def forward(self, values: list[str]) -> torch.Tensor:
        out = torch.zeros(len(values), self.width, dtype=torch.float64)
        for i, value in enumerate(values):
            j = self.index.get(value, -1)
            if j >= 0:
                out[i, j] = 1.0
        return out


class TabularPipeline(nn.Module):
    """``forward(X, categories)``: impute and scale ``X``, one-hot each categorical column,
    run the network, and undo the target scaling."""

    def __init__(self, network: Any, buffers: dict[str, np.ndarray], encoders: list[OneHot],
                 has_numeric: bool, target_scaling: bool, dtype: str) -> None:
        super().__init__()
        for key, value in buffers.items():
            self.register_buffer(key, torch.tensor(value, dtype=torch.float64))
        self.register_buffer("probe", torch.zeros(0, dtype=getattr(torch, dtype)))
        self.network = network
        self.encoders = nn.ModuleList(encoders)
        self.has_numeric = has_numeric
        self.target_scaling = target_scaling

    def forward(self, x: torch.Tensor, categories: list[list[str]]) -> torch.Tensor:
        blocks: list[torch.Tensor] = []
        if self.has_numeric:
            x = x.to(torch.float64)
            x = torch.where(torch.isnan(x), self.fill, x)
            blocks.append((x - self.offset) / self.scale)
        for j, encoder in enumerate(self.encoders):
            blocks.append(encoder(categories[j]))
        out = self.network(torch.cat(blocks, dim=1).to(self.probe.dtype))
        if self.target_scaling:
            out = out.to(torch.float64) * self.target_scale + self.target_offset
        return out


class NumericPipeline(nn.Module):
    """``forward(X)`` for a table without categorical columns."""

    def __init__(self, inner: TabularPipeline) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        none: list[list[str]] = []
        return self.inner(x, none)
