"""The playground's data: TensorFlow Playground's 2-D sets, input features, CSV uploads.

The built-in sets live on the plane [−6, 6]² as in TensorFlow Playground (points within
[−5, 5]), with its noise scale (0–50 %) and its train/test split. Classification labels are
class indices (binary: 1 is the blue class, 0 the orange one); regression targets lie about
in [−1, 1]. A CSV upload becomes the same kind of :class:`PlaneData` (see csv_upload.py):
two of its columns span the plane, every other column is held fixed there.

Everything here is NumPy (moons come from :func:`backprop.datasets.moons`), so a snippet
exported by the page reproduces the data with ``backprop.playground.data`` alone.

>>> data = make_data("xor", n_samples=200, noise=10, train_percent=50, seed=1)
>>> data.X_train.shape, data.task
((100, 2), 'binary')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import FEATURES, MULTICLASS_SETS, REGRESSION_SETS

#: half-width of the plane drawn for the built-in sets
DOMAIN = 6.0


@dataclass(eq=False)
class PlaneData:
    """Training and test rows, and how they map onto the drawn plane.

    Attributes
    ----------
    X_train, X_test : ndarray of shape (n, 2), or DataFrame
        Raw rows: the plane's (x₁, x₂) for a built-in set; a CSV's feature columns as read.
    y_train, y_test : ndarray of shape (n,)
        Class indices (int64), or regression targets (float64; a CSV's standardised).
    task : {"binary", "multiclass", "regression"}
    n_classes : int
        1 for regression.
    domain : (x_low, x_high, y_low, y_high)
        The plane drawn, in the units of the two plotted columns.
    plot_columns : (int, int) or (str, str)
        The columns of X drawn as the plane's x and y.
    column_names : tuple of str
    fill : dict, optional
        A CSV's value for each column where the plane holds it fixed (training mean or
        most frequent category).
    classes : tuple
        Original class labels (class index k is ``classes[k]``); empty for regression.
    preprocessor : backprop.datasets.Preprocessor or None
        A CSV's raw rows → network inputs, fitted on the training rows (None: a built-in
        set, whose inputs are :func:`features` of the plane point).
    """

    X_train: Any
    y_train: np.ndarray
    X_test: Any
    y_test: np.ndarray
    task: str
    n_classes: int
    domain: tuple[float, float, float, float]
    plot_columns: tuple[Any, Any] = (0, 1)
    column_names: tuple[str, ...] = ("x1", "x2")
    fill: dict[str, Any] | None = None
    classes: tuple[Any, ...] = ()
    preprocessor: Any = None

    def inputs(self, X: Any, feature_names: Any) -> np.ndarray:
        """The network's inputs for raw rows ``X``: the chosen :func:`features` of a
        built-in set's points, or a CSV's preprocessed columns (all of them)."""
        if self.preprocessor is not None:
            return self.preprocessor.transform(X)
        return features(X, feature_names)

    @property
    def axes(self) -> list[str]:
        """Names of the plane's x and y."""
        return [c if isinstance(c, str) else self.column_names[c] for c in self.plot_columns]

    def plane_points(self, X: Any) -> np.ndarray:
        """(n, 2) coordinates of rows ``X`` on the plane (NaN where a CSV cell is empty)."""
        if self.preprocessor is not None:
            return np.asarray(X[list(self.plot_columns)], dtype=np.float64)
        return np.asarray(X)[:, list(self.plot_columns)]

    def grid(self, resolution: int) -> Any:
        """Rows for a resolution × resolution grid over the plane, resolution² of them.

        Row r·resolution + c is the centre of cell (r, c), with row 0 at the top (largest
        y), as a canvas draws it. A CSV's other columns hold ``fill``.
        """
        x_lo, x_hi, y_lo, y_hi = self.domain
        step_x = (x_hi - x_lo) / resolution
        step_y = (y_hi - y_lo) / resolution
        xs = x_lo + step_x * (np.arange(resolution) + 0.5)
        ys = y_hi - step_y * (np.arange(resolution) + 0.5)
        gx, gy = np.meshgrid(xs, ys)
        if self.preprocessor is None:
            return np.column_stack([gx.ravel(), gy.ravel()])
        import pandas as pd

        n = resolution * resolution
        columns = {name: np.repeat(np.array([self.fill[name]], dtype=object
                                            if isinstance(self.fill[name], str) else None), n)
                   for name in self.column_names}
        columns[self.plot_columns[0]] = gx.ravel()
        columns[self.plot_columns[1]] = gy.ravel()
        return pd.DataFrame(columns, columns=list(self.column_names))


# -- input features --------------------------------------------------------------------------
def features(X: Any, names: Any) -> np.ndarray:
    """The network's inputs from plane points: (n, 2) → (n, len(names)), float64.

    Names (TensorFlow Playground's): x1, x2, x1sq (x₁²), x2sq (x₂²), x1x2 (x₁x₂),
    sinx1 (sin x₁), sinx2 (sin x₂).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"features need plane points of shape (n, 2); got {X.shape}")
    x1, x2 = X[:, 0], X[:, 1]
    table = {"x1": x1, "x2": x2, "x1sq": x1 * x1, "x2sq": x2 * x2, "x1x2": x1 * x2,
             "sinx1": np.sin(x1), "sinx2": np.sin(x2)}
    names = list(names)
    unknown = [n for n in names if n not in table]
    if unknown or not names:
        raise ValueError(f"unknown feature(s) {unknown}; choose from: {', '.join(FEATURES)}")
    return np.column_stack([table[n] for n in names])


# -- the built-in sets -----------------------------------------------------------------------
def make_data(name: str, n_samples: int = 500, noise: float = 0, train_percent: float = 50,
              classes: int = 2, seed: int = 0) -> PlaneData:
    """Generate a built-in set and split it into training and test rows.

    Parameters
    ----------
    name : {"circle", "xor", "gauss", "spiral", "moons", "reg-plane", "reg-gauss"}
    n_samples : int
        Points in all (training and test).
    noise : float
        0–50, TensorFlow Playground's percent scale.
    train_percent : float
        Share of the points used for training (10–90).
    classes : int
        Number of classes of "gauss" and "spiral" (the other sets have two).
    seed : int
        The same seed gives the same points and split.
    """
    rng = np.random.default_rng(seed)
    n = int(n_samples)
    level = float(noise) / 100.0
    makers = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral,
              "moons": _moons, "reg-plane": _plane, "reg-gauss": _reg_gauss}
    if name not in makers:
        raise ValueError(f"unknown data set {name!r}; choose one of: {', '.join(makers)}")
    k = int(classes) if name in MULTICLASS_SETS else 2
    X, y = makers[name](n, level, rng, k)
    order = rng.permutation(n)
    cut = max(1, min(n - 1, int(round(n * float(train_percent) / 100.0))))
    train, test = order[:cut], order[cut:]
    regression = name in REGRESSION_SETS
    task = "regression" if regression else ("binary" if k == 2 else "multiclass")
    y = y.astype(np.float64 if regression else np.int64)
    return PlaneData(X[train], y[train], X[test], y[test], task, 1 if regression else k,
                     (-DOMAIN, DOMAIN, -DOMAIN, DOMAIN), classes=() if regression
                     else tuple(range(k)))


def _circle(n, level, rng, k):
    radius = 5.0
    half = n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, half),
                        rng.uniform(radius * 0.7, radius, n - half)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    shifted = X + rng.uniform(-radius, radius, X.shape) * level
    y = (np.hypot(shifted[:, 0], shifted[:, 1]) < radius * 0.5).astype(int)
    return X, y


def _xor(n, level, rng, k):
    X = rng.uniform(-5, 5, (n, 2))
    X += np.where(X > 0, 0.3, -0.3)  # keep points off the axes, as TensorFlow Playground
    shifted = X + rng.uniform(-5, 5, X.shape) * level
    return X, (shifted[:, 0] * shifted[:, 1] >= 0).astype(int)


def _gauss(n, level, rng, k):
    # k blobs on a circle; two classes sit at (2, 2) and (−2, −2) as in TensorFlow Playground.
    variance = 0.5 + 3.5 * (level / 0.5)
    y = np.arange(n) % k
    angle = np.pi / 4 + np.pi + 2 * np.pi * y / k
    centres = 2 * np.sqrt(2) * np.column_stack([np.cos(angle), np.sin(angle)])
    return centres + rng.normal(0, np.sqrt(variance), (n, 2)), y


def _spiral(n, level, rng, k):
    y = np.arange(n) % k
    i = np.arange(n) // k
    per_arm = np.maximum(np.bincount(y, minlength=k)[y], 1)
    r = i / per_arm * 5
    t = 1.75 * i / per_arm * 2 * np.pi + 2 * np.pi * y / k
    X = np.column_stack([r * np.sin(t), r * np.cos(t)])
    return X + rng.uniform(-1, 1, X.shape) * level, y


def _moons(n, level, rng, k):
    from ..datasets import moons

    ds = moons(n_samples=n, noise=level * 0.6, seed=int(rng.integers(2**31 - 1)))
    return (ds.X - [0.5, 0.25]) * 2.5, ds.y


def _plane(n, level, rng, k):
    X = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    shifted = X + rng.uniform(-DOMAIN, DOMAIN, X.shape) * level
    return X, (shifted[:, 0] + shifted[:, 1]) / 10.0


_REG_GAUSSES = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                         [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=float)


def _reg_gauss(n, level, rng, k):
    X = rng.uniform(-DOMAIN, DOMAIN, (n, 2))
    shifted = X + rng.uniform(-DOMAIN, DOMAIN, X.shape) * level
    dist = np.hypot(shifted[:, None, 0] - _REG_GAUSSES[:, 0],
                    shifted[:, None, 1] - _REG_GAUSSES[:, 1])
    values = _REG_GAUSSES[:, 2] * np.clip(1 - dist / 2, 0, 1)
    strongest = np.abs(values).argmax(axis=1)
    return X, values[np.arange(n), strongest]
