"""scikit-learn estimators backed by the backprop engine: ``MLPClassifier`` and ``MLPRegressor``.

Drop-in replacements for ``sklearn.neural_network``'s classes of the same names: the same
parameter names and fitted attributes, usable in ``Pipeline``, ``cross_val_score`` and
``GridSearchCV``, plus what scikit-learn's frozen MLP lacks: any registered activation
(``leaky_relu``, ``gelu``, ...), dropout, weight initialisers, robust regression losses,
``class_weight``, a per-epoch validation-loss curve, early stopping on validation loss, and
float32 training.

>>> from backprop.sklearn import MLPClassifier
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=50, random_state=0)
"""

from __future__ import annotations

from .estimators import InvalidParameterError, MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "InvalidParameterError"]
