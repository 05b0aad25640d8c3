"""Data for the workflow tests: the bundled wine and diabetes sets written to files as a user
would have them, hand-made messy tables, and the command line run as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes, load_wine


def wine_frame() -> pd.DataFrame:
    bunch = load_wine(as_frame=True)
    return bunch.frame.rename(columns={"target": "cultivar"})


def diabetes_frame() -> pd.DataFrame:
    # the raw measurements (age in years, ...), not scikit-learn's pre-scaled copy
    bunch = load_diabetes(as_frame=True, scaled=False)
    return bunch.frame.rename(columns={"target": "progression"})


def write(frame: pd.DataFrame, path: Path, sep: str = ",") -> Path:
    frame.to_csv(path, index=False, sep=sep)
    return path


def messy_frame(n: int = 160, seed: int = 0) -> pd.DataFrame:
    """Shop items: an ID column, a text category, a boolean, gaps ("NA", empty, "NaN"), and a
    price that depends on all of them."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], n)
    organic = rng.choice([True, False], n)
    size = rng.uniform(1, 5, n).round(2)
    weight = rng.uniform(0.1, 2.0, n).round(3)
    price = (2 + 1.5 * size + 3 * (colour == "red") + 2 * organic + weight
             + rng.normal(0, 0.3, n)).round(2)
    frame = pd.DataFrame({"item_id": np.arange(1000, 1000 + n), "colour": colour,
                          "organic": organic, "size": size, "weight": weight, "price": price})
    frame = frame.astype({"size": object, "colour": object, "weight": object})
    frame.loc[[3, 40, 77], "size"] = "NA"
    frame.loc[[5, 90], "colour"] = ""
    frame.loc[[11], "weight"] = "NaN"
    return frame


def ratings_frame(n: int = 240, seed: int = 1) -> pd.DataFrame:
    """Ratings 1–5 (whole numbers) that grow with two measurements."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (n, 2))
    rating = np.clip(np.round(1 + 4 * (0.6 * X[:, 0] + 0.4 * X[:, 1])
                              + rng.normal(0, 0.3, n)), 1, 5).astype(int)
    return pd.DataFrame({"sweetness": X[:, 0].round(3), "aroma": X[:, 1].round(3),
                         "rating": rating})


def cli(*args: object, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m backprop ...`` in a subprocess, as a user runs it (PYTHONPATH inherited)."""
    return subprocess.run([sys.executable, "-m", "backprop", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "100"})


def flat(text: str) -> str:
    """Console output with its line wrapping undone (for matching phrases)."""
    return " ".join(text.split())
