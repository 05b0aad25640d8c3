"""Data and helpers shared by the scikit-learn estimator tests."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler


def standardised_iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def regression_data(n=120, outputs=1, seed=0):
    gen = np.random.default_rng(seed)
    X = gen.normal(size=(n, 4))
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * k * X[:, 3]
                         for k in range(outputs)])
    return X, (Y[:, 0] if outputs == 1 else Y)


def quiet_fit(est, X, y, **kwargs):
    """Fit while ignoring ConvergenceWarning (short max_iter on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)
