"""The ``backprop`` command: train, evaluate and predict on CSV files, plots, checks, the tour.

::

    backprop train --data moons --hidden 10,10 --epochs 500 --early-stopping 20 --out runs/moons
    backprop evaluate --model runs/moons --data moons --seed 7
    backprop predict --model runs/moons --data points.csv --output preds.csv
    backprop plot activations|architecture|history|boundary ...
    backprop gradcheck --hidden 4,3 --activation tanh
    backprop export --model runs/moons --format onnx
    backprop tour --out out/chapter4

A thin shell over the public API. Every expected failure — a bad argument, a missing file,
an unknown column, a model that does not fit the data — prints one line
``backprop: error: ...`` on stderr and exits with status 2; set ``BACKPROP_DEBUG=1`` to see
the traceback instead.
"""

from __future__ import annotations

from .main import build_parser, main

__all__ = ["build_parser", "main"]
