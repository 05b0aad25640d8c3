"""Data: the chapter's toy 2-D sets, scikit-learn's bundled sets, CSV files, splits, scaling.

Every loader returns a :class:`Dataset`: ``X`` (n, d) float64, ``y`` class indices 0..K−1
(int64) for classification or float64 values for regression, and the original class labels
in ``classes``. Generators take a ``seed`` (int or ``np.random.Generator``); the same seed
gives the same data. scikit-learn is imported only inside the loaders that use it, and the
:class:`Scaler` needs NumPy alone, so a saved model loads without scikit-learn.

>>> from backprop import datasets
>>> ds = datasets.load("moons", n_samples=200, noise=0.2, seed=0)
>>> ds.X.shape, ds.task
((200, 2), 'binary')
"""

from __future__ import annotations

from .loaders import (
    NAMES,
    TASKS,
    Dataset,
    breast_cancer,
    circles,
    classification,
    diabetes,
    digits,
    from_csv,
    gaussian,
    iris,
    load,
    moons,
    spiral,
    wine,
    xor,
)
from .prep import Scaler, Split, split

__all__ = ["NAMES", "TASKS", "Dataset", "Scaler", "Split", "load", "split", "from_csv", "xor",
           "moons", "circles", "spiral", "gaussian", "classification", "iris", "wine",
           "breast_cancer", "digits", "diabetes"]
