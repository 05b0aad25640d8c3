"""Data: the chapter's toy 2-D sets, scikit-learn's bundled sets, CSV files, splits, scaling.

Every loader returns a :class:`Dataset`: ``X`` (n, d) float64, ``y`` class indices 0..K−1
(int64) for classification or float64 values for regression, and the original class labels
in ``classes``. Generators take a ``seed`` (int or ``np.random.Generator``); the same seed
gives the same data. scikit-learn is imported only inside the loaders that use it.

Tables (CSV, TSV, ...) as they come: :func:`read_table` gives a :class:`Table` of raw feature
columns, and a :class:`Preprocessor` fitted on its training rows, attached to a model as
``model.preprocessor``, encodes and scales them inside ``fit``, ``predict`` and the model file.

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
from .preprocessor import Preprocessor, UnseenCategoryWarning
from .tables import Table, read_table

__all__ = ["NAMES", "TASKS", "Dataset", "Scaler", "Split", "load", "split", "from_csv", "xor",
           "moons", "circles", "spiral", "gaussian", "classification", "iris", "wine",
           "breast_cancer", "digits", "diabetes", "Preprocessor", "UnseenCategoryWarning",
           "Table", "read_table"]
