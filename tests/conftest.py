"""Shared test set-up: hypothesis profile, PyTorch threads and small shared data sets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

# Timing on a shared 2-core machine varies: hypothesis must judge laws, not speed.
settings.register_profile("backprop", deadline=None)
settings.load_profile("backprop")


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the independent oracle, on one thread (the tensors here are tiny)."""
    import torch as _torch

    _torch.set_num_threads(1)
    return _torch


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


@pytest.fixture(scope="session")
def xor_data() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points (4, 2) and labels (4,)."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    return X, y


@pytest.fixture(scope="session")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian classes, 120 samples (X (120, 3) float64, y (120,) of 0/1)."""
    gen = np.random.default_rng(7)
    y = (np.arange(120) % 3 == 0).astype(np.int64)  # one third positives
    X = gen.normal(size=(120, 3)) + 1.5 * y[:, None]
    return X, y
