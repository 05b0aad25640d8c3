"""The playground's data: TensorFlow Playground's 2-D sets, input features, CSV uploads.

The built-in sets live on the plane [−6, 6]² as in TensorFlow Playground (points within
[−5, 5]), with its noise scale (0–50 %) and its train/test split. Classification labels are
class indices (binary: 1 is the blue class, 0 the orange one); regression targets lie about
in [−1, 1]. A CSV upload becomes the same kind of :class:`PlaneData`: two of its columns span
the plane, every other feature column is held at its training mean there.

Everything here is NumPy (moons come from :func:`backprop.datasets.moons`), so a snippet
exported by the page reproduces the data with ``backprop.playground.data`` alone.

>>> data = make_data("xor", n_samples=200, noise=10, train_percent=50, seed=1)
>>> data.X_train.shape, data.task
((100, 2), 'binary')
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import FEATURES, MULTICLASS_SETS, REGRESSION_SETS

#: half-width of the plane drawn for the built-in sets
DOMAIN = 6.0
#: uploads above these sizes are refused with a message saying so
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 20_000
MAX_CSV_COLUMNS = 100
MAX_CSV_CLASSES = 10


@dataclass(eq=False)
class PlaneData:
    """Training and test rows, and how they map onto the drawn plane.

    Attributes
    ----------
    X_train, X_test : ndarray of shape (n, d), float64
        Raw rows: the plane's (x₁, x₂) for built-in sets, all feature columns for a CSV.
    y_train, y_test : ndarray of shape (n,)
        Class indices (int64) or regression targets (float64).
    task : {"binary", "multiclass", "regression"}
    n_classes : int
        1 for regression.
    domain : (x_low, x_high, y_low, y_high)
        The plane drawn, in the units of the two plotted columns.
    plot_columns : (int, int)
        Columns of X drawn as the plane's x and y.
    column_names : list of str
    fill : ndarray of shape (d,)
        Values of the columns that are not drawn (their training means).
    classes : list
        Original class labels (class index k is ``classes[k]``); empty for regression.
    scaler : backprop.datasets.Scaler or None
        A CSV's input standardisation, fitted on the training rows (None: built-in set,
        whose inputs are :func:`features` of the plane point).
    target_offset, target_scale : float
        A CSV regression target is stored standardised: raw = offset + scale · y.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    n_classes: int
    domain: tuple[float, float, float, float]
    plot_columns: tuple[int, int] = (0, 1)
    column_names: tuple[str, ...] = ("x1", "x2")
    fill: np.ndarray | None = None
    classes: tuple[Any, ...] = ()
    scaler: Any = None
    target_offset: float = 0.0
    target_scale: float = 1.0

    def inputs(self, X: np.ndarray, feature_names: Any) -> np.ndarray:
        """The network's inputs for raw rows ``X``: the chosen :func:`features` of a
        built-in set's points, or a CSV's standardised columns (all of them)."""
        if self.scaler is not None:
            return self.scaler.transform(X)
        return features(X, feature_names)

    def plane_points(self, X: np.ndarray) -> np.ndarray:
        """(n, 2) coordinates of rows ``X`` on the plane."""
        return X[:, list(self.plot_columns)]

    def grid(self, resolution: int) -> np.ndarray:
        """Rows for a resolution × resolution grid over the plane, (resolution², d).

        Row r·resolution + c is the centre of cell (r, c), with row 0 at the top (largest
        y), as a canvas draws it. Columns not drawn hold ``fill``.
        """
        x_lo, x_hi, y_lo, y_hi = self.domain
        step_x = (x_hi - x_lo) / resolution
        step_y = (y_hi - y_lo) / resolution
        xs = x_lo + step_x * (np.arange(resolution) + 0.5)
        ys = y_hi - step_y * (np.arange(resolution) + 0.5)
        gx, gy = np.meshgrid(xs, ys)
        d = self.X_train.shape[1]
        fill = np.zeros(d) if self.fill is None else self.fill
        rows = np.tile(fill, (resolution * resolution, 1))
        rows[:, self.plot_columns[0]] = gx.ravel()
        rows[:, self.plot_columns[1]] = gy.ravel()
        return rows


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


# -- CSV uploads -----------------------------------------------------------------------------
def csv_columns(text: str) -> list[str]:
    """The header of CSV ``text``, checked against the size limits (a clear ``ValueError``)."""
    check_csv_size(text)
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    import csv

    header = [cell.strip() for cell in next(csv.reader([first]), [])]
    if len([c for c in header if c]) < 3:
        raise ValueError("the CSV needs a header row naming at least three columns (two to "
                         f"draw and a target); got {header or 'an empty first line'}")
    if len(header) > MAX_CSV_COLUMNS:
        raise ValueError(f"the CSV has {len(header)} columns; the playground takes at most "
                         f"{MAX_CSV_COLUMNS}")
    return header


def csv_guess(text: str, header: list[str]) -> tuple[str, str, str, str]:
    """A first choice for an upload: (target, x column, y column, problem).

    The target is the last column; the plane spans the first two others. The problem is
    classification when the target holds words, or at most :data:`MAX_CSV_CLASSES` distinct
    whole numbers; regression otherwise. The page can change each choice.
    """
    import csv

    target = header[-1]
    x_column, y_column = header[0], header[1]
    values = set()
    for row in csv.reader(text.lstrip("\ufeff").splitlines()[1:]):
        if len(row) == len(header) and row[-1].strip():
            values.add(row[-1].strip())
        if len(values) > MAX_CSV_CLASSES:
            break
    try:
        numbers = [float(v) for v in values]
    except ValueError:
        return target, x_column, y_column, "classification"
    whole = all(np.isfinite(v) and float(v).is_integer() for v in numbers)
    few = len(values) <= MAX_CSV_CLASSES
    return target, x_column, y_column, "classification" if whole and few else "regression"


def check_csv_size(text: Any) -> None:
    if not isinstance(text, str):
        raise ValueError(f"the CSV must arrive as text; got {type(text).__name__}")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_CSV_BYTES:
        raise ValueError(f"the CSV is {size / 2**20:.1f} MB; the playground takes files up to "
                         f"{MAX_CSV_BYTES // 2**20} MB and {MAX_CSV_ROWS:,} rows")
    rows = text.count("\n")
    if rows > MAX_CSV_ROWS + 1:
        raise ValueError(f"the CSV has about {rows:,} rows; the playground takes at most "
                         f"{MAX_CSV_ROWS:,}")


def csv_data(text: str, target: str, x_column: str, y_column: str, task: str,
             train_percent: float = 50, seed: int = 0, name: str = "upload.csv") -> PlaneData:
    """A CSV's rows as :class:`PlaneData`, read by :func:`backprop.datasets.from_csv`.

    Parameters
    ----------
    text : str
        The file's contents (header row first).
    target : str
        The column to predict; every other column is a network input.
    x_column, y_column : str
        The two feature columns that span the drawn plane.
    task : {"classification", "regression"}
    train_percent, seed :
        As for :func:`make_data`: a seeded shuffle, then the first share trains.
    """
    from ..datasets import Scaler, from_csv

    header = csv_columns(text)
    for label, column in (("target", target), ("x column", x_column),
                          ("y column", y_column)):
        if column not in header:
            raise ValueError(f"the {label} {column!r} is not a column of the CSV; columns: "
                             f"{', '.join(header)}")
    if len({target, x_column, y_column}) < 3:
        raise ValueError("the target and the two drawn columns must be three different "
                         f"columns; got target={target!r}, x={x_column!r}, y={y_column!r}")
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:60] or "upload.csv"
    with tempfile.TemporaryDirectory(prefix="playground-") as folder:
        path = os.path.join(folder, safe if safe.endswith(".csv") else safe + ".csv")
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        try:
            ds = from_csv(path, target, task=task)
        except (ValueError, TypeError) as exc:
            raise ValueError(str(exc).replace(path, safe)) from None
    if ds.task != "regression" and ds.n_classes > MAX_CSV_CLASSES:
        raise ValueError(f"the target {target!r} has {ds.n_classes} classes; the playground "
                         f"colours at most {MAX_CSV_CLASSES} (choose task regression for "
                         "numbers)")
    names = list(ds.feature_names)
    if x_column not in names or y_column not in names:
        raise ValueError(f"the drawn columns must be feature columns; got {x_column!r} and "
                         f"{y_column!r}")
    n = ds.n_samples
    if n < 4:
        raise ValueError(f"the CSV needs at least 4 data rows; got {n}")
    order = np.random.default_rng(seed).permutation(n)
    cut = max(1, min(n - 1, int(round(n * float(train_percent) / 100.0))))
    train, test = order[:cut], order[cut:]
    X = ds.X
    plot = (names.index(x_column), names.index(y_column))
    domain = []
    for column in plot:
        lo, hi = float(X[:, column].min()), float(X[:, column].max())
        pad = 0.1 * (hi - lo) if hi > lo else 1.0
        domain += [lo - pad, hi + pad]
    y = ds.y
    offset, scale = 0.0, 1.0
    if ds.task == "regression":
        # Standardised so that one learning rate suits any unit of the target.
        offset, scale = float(y[train].mean()), float(y[train].std()) or 1.0
        y = (y.astype(np.float64) - offset) / scale
    return PlaneData(X[train], y[train], X[test], y[test], ds.task,
                     1 if ds.task == "regression" else ds.n_classes, tuple(domain), plot,
                     tuple(names), X[train].mean(axis=0), tuple(ds.classes or ()),
                     Scaler("standard").fit(X[train]), offset, scale)
