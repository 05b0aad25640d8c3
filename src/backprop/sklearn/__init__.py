"""scikit-learn estimators backed by the backprop engine: ``MLPClassifier`` and ``MLPRegressor``.

Drop-in replacements for ``sklearn.neural_network``'s classes of the same names: the same
parameters, fitted attributes and error types, the same starting weights and batches for a
given ``random_state``, sparse input, ``loss="poisson"``; scikit-learn's own MLP test module
passes on them (tests/test_sklearn_upstream.py). Usable in ``Pipeline``, ``cross_val_score``
and ``GridSearchCV``, plus what scikit-learn's frozen MLP lacks: any registered activation
(``leaky_relu``, ``gelu``, ...), dropout, weight initialisers, robust regression losses,
``class_weight``, a per-epoch validation-loss curve, early stopping on the validation loss,
and float32 training. The estimators' Notes list every deliberate difference.

>>> from backprop.sklearn import MLPClassifier
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=50, random_state=0)
"""

from __future__ import annotations

from .estimators import InvalidParameterError, MLPClassifier, MLPRegressor
from .training import TrainingDivergedError

__all__ = ["MLPClassifier", "MLPRegressor", "InvalidParameterError", "TrainingDivergedError"]
