"""Experiments that reproduce, and sweeps that run on a laptop or unchanged on a Dask cluster.

An experiment file (TOML) holds everything a run depends on::

    [data]                       # a named set, or a CSV file with its target
    source = "moons"
    n_samples = 1000
    [model]
    hidden = [16, 16]
    [training]
    epochs = 200
    optimizer = {name = "adam", lr = 0.01}
    early_stopping = 20
    [sweep]                      # optional: what `backprop sweep` varies
    method = "random"
    trials = 16
    repeats = 3
    metric = "val_accuracy"
    [sweep.space]
    "training.optimizer.lr" = {loguniform = [1e-4, 1e-1]}
    "model.hidden" = [[8], [16, 16]]

- :func:`run` trains it (``backprop run exp.toml --out runs/x``); the same file and library
  version give bit-identical weights, and ``backprop train`` writes the file of what it ran.
- :func:`sweep` (also ``bp.sweep``; ``backprop sweep exp.toml``) runs the ``[sweep]``: grid,
  random or Optuna's TPE with pruning; in this process, in local worker processes (default) or
  on a Dask cluster; every trial recorded in ``sweep.db`` as it finishes, ``resume`` to go on.

Unknown keys and bad values raise :class:`ExperimentError` naming the key and the file line.
Everything here is edge code: the engine never imports it; joblib, Dask and Optuna are imported
only by the backend or method that needs them.
"""

from __future__ import annotations

from .runs import RunResult, run
from .spec import Experiment, ExperimentError, load
from .store import SweepStoreError
from .sweep import SweepResult, sweep

__all__ = ["Experiment", "ExperimentError", "RunResult", "SweepResult", "SweepStoreError",
           "load", "run", "sweep"]
