"""Loaders: the toy 2-D generators, scikit-learn's bundled sets and CSV files, each
returning a :class:`Dataset`."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..validation import as_rng, check_positive
from .columns import (
    BOOLEAN,
    CATEGORICAL,
    as_booleans,
    column_kind,
    gap_summary,
    missing_values_error,
)
from .prep import Scaler, Split, sklearn_module, sklearn_seed, split
from .tables import is_table_path, read_table

__all__ = ["NAMES", "Dataset", "Scaler", "Split", "load", "split", "from_csv", "xor", "moons",
           "circles", "spiral", "gaussian", "classification", "iris", "wine", "breast_cancer",
           "digits", "diabetes"]

NAMES = ["xor", "moons", "circles", "spiral", "gaussian", "classification",
         "iris", "wine", "breast_cancer", "digits", "diabetes"]
TASKS = ("binary", "multiclass", "regression")


@dataclass(eq=False)
class Dataset:
    """Features, targets and what they mean.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,)
        Class indices 0..K−1 (int64) for classification, float64 values for regression.
    name : str
    task : {"binary", "multiclass", "regression"}
    feature_names : list of str
    classes : list or None
        ``classes[k]`` is the original label of class index k (JSON-safe: str, int or float);
        None for regression.
    """

    X: np.ndarray
    y: np.ndarray
    name: str
    task: str
    feature_names: list[str] = field(default_factory=list)
    classes: list[Any] | None = None

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int | None:
        """Number of classes, or None for regression."""
        return None if self.classes is None else len(self.classes)

    def __repr__(self) -> str:
        extra = "" if self.classes is None else f", classes={len(self.classes)}"
        return (f"Dataset({self.name!r}, task={self.task!r}, X={self.X.shape}, "
                f"y={self.y.shape}{extra})")


def _classification(name: str, X: Any, y: Any, classes: list[Any] | None = None,
                    feature_names: list[str] | None = None) -> Dataset:
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if classes is None:
        classes = list(range(int(y.max()) + 1))
    names = feature_names or [f"x{i + 1}" for i in range(X.shape[1])]
    task = "binary" if len(classes) == 2 else "multiclass"
    return Dataset(X, y, name, task, [str(n) for n in names], classes)


def _check_noise(noise: Any) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.number)) \
            or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a non-negative number; got noise={noise!r}")
    return float(noise)


# -- toy 2-D sets ---------------------------------------------------------------------------
def xor(n_samples: int = 4, noise: float = 0.0, seed: Any = None) -> Dataset:
    """The XOR problem: label 1 where exactly one coordinate is 1.

    With the defaults these are the four corners of the unit square, in the order
    (0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0. More samples repeat the corners in that order,
    each jittered by Gaussian noise of standard deviation ``noise``.

    Returns
    -------
    Dataset
        X of shape (n_samples, 2), y of shape (n_samples,).
    """
    n_samples = check_positive("n_samples", n_samples, integer=True)
    noise = _check_noise(noise)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    rows = np.arange(n_samples) % 4
    X = corners[rows]
    if noise:
        X = X + noise * as_rng(seed).standard_normal(X.shape)
    return _classification("xor", X, labels[rows], [0, 1])


def moons(n_samples: int = 1000, noise: float = 0.2, seed: Any = None) -> Dataset:
    """Two interleaving half-circles (scikit-learn's ``make_moons``)."""
    n_samples = check_positive("n_samples", n_samples, integer=True)
    X, y = sklearn_module().make_moons(n_samples=n_samples, noise=_check_noise(noise),
                                          random_state=sklearn_seed(seed))
    return _classification("moons", X, y, [0, 1])


def circles(n_samples: int = 1000, noise: float = 0.1, factor: float = 0.5,
            seed: Any = None) -> Dataset:
    """A small circle (class 1) inside a large one (class 0), ``make_circles``.

    ``factor`` in (0, 1) is the ratio of the inner radius to the outer one.
    """
    n_samples = check_positive("n_samples", n_samples, integer=True)
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < 1:
        raise ValueError(f"factor must be a number in (0, 1); got factor={factor!r}")
    X, y = sklearn_module().make_circles(n_samples=n_samples, noise=_check_noise(noise),
                                            factor=factor, random_state=sklearn_seed(seed))
    return _classification("circles", X, y, [0, 1])


def spiral(n_samples: int = 600, n_classes: int = 3, noise: float = 0.2,
           seed: Any = None) -> Dataset:
    """``n_classes`` interleaved spiral arms, one class per arm (no linear boundary exists).

    Point i of arm k sits at radius r = t and angle θ = 2πk/K + 4t + noise·ε, with t evenly
    spaced in [0.05, 1] and ε ~ N(0, 1); the noise (in radians) matters less near the centre.
    Arms get ``n_samples // n_classes`` points, the first ``n_samples % n_classes`` one more.
    """
    n_samples = check_positive("n_samples", n_samples, integer=True)
    n_classes = _check_n_classes(n_classes)
    if n_samples < n_classes:
        raise ValueError(f"spiral needs at least one sample per class; got n_samples="
                         f"{n_samples} for n_classes={n_classes}")
    noise = _check_noise(noise)
    rng = as_rng(seed)
    counts = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    X, y = [], []
    for k, m in enumerate(counts):
        t = np.linspace(0.05, 1.0, m)
        theta = 2 * np.pi * k / n_classes + 4.0 * t + noise * rng.standard_normal(m)
        X.append(np.column_stack([t * np.cos(theta), t * np.sin(theta)]))
        y.append(np.full(m, k))
    return _classification("spiral", np.concatenate(X), np.concatenate(y))


def gaussian(n_samples: int = 600, n_classes: int = 3, n_features: int = 2,
             seed: Any = None, cluster_std: float = 1.0) -> Dataset:
    """Isotropic Gaussian blobs, one per class (scikit-learn's ``make_blobs``)."""
    n_samples = check_positive("n_samples", n_samples, integer=True)
    n_features = check_positive("n_features", n_features, integer=True)
    n_classes = _check_n_classes(n_classes)
    check_positive("cluster_std", cluster_std)
    X, y = sklearn_module().make_blobs(n_samples=n_samples, centers=n_classes,
                                          n_features=n_features, cluster_std=cluster_std,
                                          random_state=sklearn_seed(seed))
    return _classification("gaussian", X, y, list(range(n_classes)))


def classification(n_samples: int = 1000, n_features: int = 20, n_classes: int = 2,
                   seed: Any = None) -> Dataset:
    """A random n-class problem (scikit-learn's ``make_classification``).

    The number of informative features is the smallest that fits two clusters per class
    (at least 2), up to ``n_features``; up to two more are linear mixtures of those.
    """
    n_samples = check_positive("n_samples", n_samples, integer=True)
    n_features = check_positive("n_features", n_features, integer=True)
    n_classes = _check_n_classes(n_classes)
    informative = min(n_features, max(2, math.ceil(math.log2(2 * n_classes))))
    clusters = 2 if 2 * n_classes <= 2**informative else 1
    if n_classes > 2**informative:
        need = math.ceil(math.log2(n_classes))
        raise ValueError(f"n_classes={n_classes} needs at least {need} features; "
                         f"got n_features={n_features}")
    X, y = sklearn_module().make_classification(
        n_samples=n_samples, n_features=n_features, n_informative=informative,
        n_redundant=min(2, n_features - informative), n_classes=n_classes,
        n_clusters_per_class=clusters, random_state=sklearn_seed(seed))
    return _classification("classification", X, y, list(range(n_classes)))


def _check_n_classes(n_classes: Any) -> int:
    n_classes = check_positive("n_classes", n_classes, integer=True)
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2; got n_classes={n_classes}")
    return int(n_classes)


# -- scikit-learn's bundled sets ------------------------------------------------------------
def _bundled(name: str) -> Dataset:
    bunch = getattr(sklearn_module(), f"load_{name}")()
    names = [str(n) for n in bunch.feature_names]
    if name == "diabetes":
        return Dataset(np.ascontiguousarray(bunch.data, dtype=np.float64),
                       np.asarray(bunch.target, dtype=np.float64), name, "regression", names)
    classes = [c.item() if isinstance(c, np.generic) else c for c in bunch.target_names]
    return _classification(name, bunch.data, bunch.target, classes, names)


def iris() -> Dataset:
    """Fisher's iris: 150 flowers, 4 measurements (cm), 3 species."""
    return _bundled("iris")


def wine() -> Dataset:
    """178 wines, 13 chemical measurements, 3 cultivars."""
    return _bundled("wine")


def breast_cancer() -> Dataset:
    """Wisconsin diagnostic breast cancer: 569 samples, 30 features, malignant/benign."""
    return _bundled("breast_cancer")


def digits() -> Dataset:
    """1797 handwritten digits as 8×8 images of grey levels 0–16 (64 features), 10 classes."""
    return _bundled("digits")


def diabetes() -> Dataset:
    """442 patients, 10 (already centred and scaled) features; target: disease progression."""
    return _bundled("diabetes")


# -- CSV files ------------------------------------------------------------------------------
def from_csv(path: str | Path, target: str, task: str | None = None,
             max_classes: int = 20) -> Dataset:
    """Load a delimiter-separated file of numeric features; ``target`` names the column to
    predict.

    The file is read by :func:`read_table` (sniffed delimiter, ``NA``/empty cells as
    missing, ID-like columns left out with a warning); boolean columns become 0/1. Text
    features and missing values need a :class:`Preprocessor` (one-hot encoding,
    imputation), which this function does not apply: use :func:`read_table` and a
    ``Preprocessor`` attached to the model, or ``backprop train``.

    Parameters
    ----------
    path : str or Path
    target : str
        Name of the target column; every other column is a feature and must be numeric.
    task : {"binary", "multiclass", "classification", "regression"}, optional
        By default a non-numeric target is a class label, a numeric target whose values are
        all whole numbers with at most ``max_classes`` distinct values is a class label too,
        and any other numeric target is a regression target.
    max_classes : int, default 20

    Returns
    -------
    Dataset
        Class labels are encoded 0..K−1 in sorted order; ``classes`` keeps the originals.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        Unknown target column (the message lists the columns), a text feature column,
        missing values (every column holding them is named), a ragged row, or an empty file.
    """
    table = read_table(path, target, task=task, max_classes=max_classes)
    columns = []
    for name in table.feature_names:
        values = table.X[name]
        kind = column_kind(values)
        if kind == CATEGORICAL:
            row = int(np.flatnonzero(values.notna().to_numpy())[0])
            raise ValueError(
                f"feature column {name!r} in {path} is not numeric (line {table.lines[row]}: "
                f"{values.iloc[row]!r}); one-hot encode it with a datasets.Preprocessor "
                "(read_table, then model.preprocessor), as backprop train does")
        columns.append(as_booleans(values, name) if kind == BOOLEAN
                       else values.to_numpy(dtype=np.float64))
    X = np.column_stack(columns)
    gaps = np.isnan(X)
    if gaps.any():
        found = gap_summary(gaps, table.feature_names, table.lines)
        raise missing_values_error(found, f" in {Path(path).name}")
    if np.isinf(X).any():
        row, col = np.argwhere(np.isinf(X))[0]
        raise ValueError(f"feature column {table.feature_names[col]!r} in {path} has the "
                         f"non-finite value {float(X[row, col])!r} on line {table.lines[row]}")
    if table.task == "regression":
        return Dataset(X, table.y, table.name, "regression", table.feature_names)
    return _classification(table.name, X, table.y, table.classes, table.feature_names)


# -- one entry point ------------------------------------------------------------------------
_LOADERS = {
    "xor": xor, "moons": moons, "circles": circles, "spiral": spiral, "gaussian": gaussian,
    "classification": classification, "iris": iris, "wine": wine,
    "breast_cancer": breast_cancer, "digits": digits, "diabetes": diabetes,
}


def load(name: str | Path, target: str | None = None, **kwargs: Any) -> Dataset:
    """Load a data set by name, or a CSV file by path.

    Parameters
    ----------
    name : str or Path
        One of :data:`NAMES`, or a path to a table (``.csv``, ``.tsv``, ``.tab``, ``.txt``
        or any existing file; the delimiter is sniffed).
    target : str, optional
        The target column of a CSV file (required for CSV, refused otherwise).
    **kwargs
        Options of the named loader (``n_samples``, ``noise``, ``seed``, ...). Options set to
        None take the loader's default, and ``seed`` is accepted by every name (fixed sets
        such as iris have no randomness to seed), so a command line can pass its options
        through unchanged.

    Examples
    --------
    >>> load("spiral", n_samples=300, seed=1).y.shape
    (300,)
    """
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    text = str(name)
    if is_table_path(name):
        if target is None:
            raise ValueError(f"loading {text} needs target=<column name> (the column to "
                             "predict)")
        return _call(from_csv, text, kwargs, text, target)
    if not isinstance(name, str):
        raise TypeError(f"data set must be a name or a CSV path; got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    if key not in _LOADERS:
        raise ValueError(f"unknown data set {name!r}; choose one of: {', '.join(NAMES)}, "
                         "or a path to a .csv or .tsv file")
    if target is not None:
        raise ValueError(f"target= applies to CSV files only; data set {key!r} has its own "
                         f"target (got target={target!r})")
    return _call(_LOADERS[key], key, kwargs)


def _call(loader: Any, label: str, kwargs: dict[str, Any], *args: Any) -> Dataset:
    """Call ``loader`` with the options it takes; a fixed set silently takes no seed."""
    accepted = [p for p in inspect.signature(loader).parameters][len(args):]
    if "seed" not in accepted:
        kwargs.pop("seed", None)
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(f"data set {label!r} has no option {', '.join(unknown)}; "
                        f"its options: {', '.join(accepted) or 'none'}")
    return loader(*args, **kwargs)
