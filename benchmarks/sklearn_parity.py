"""backprop.sklearn against sklearn.neural_network at the same settings (issue 4 parity table).

5-fold cross-validation (scikit-learn's default folds: stratified for the classifiers, no
shuffling) of ``StandardScaler → MLP`` on iris, breast_cancer and digits (accuracy) and
diabetes (R²), with identical hyper-parameters for both libraries. Prints a Markdown table:
the CV mean averaged over several random_state values (one value is one draw of initial
weights and batch orders), the worst single-seed difference, and the time of the 5 fits.

Usage: python benchmarks/sklearn_parity.py [--seeds 0,1,2] [--per-seed]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale

from backprop.sklearn import MLPClassifier, MLPRegressor

#: the settings both libraries get (the parity test in tests/test_sklearn.py uses these)
SETTINGS = {
    "iris": dict(hidden_layer_sizes=(32,), learning_rate_init=1e-2, alpha=1e-4, max_iter=200),
    "breast_cancer": dict(hidden_layer_sizes=(32,), learning_rate_init=1e-3, alpha=1e-4,
                          max_iter=100),
    "digits": dict(hidden_layer_sizes=(64,), learning_rate_init=1e-3, alpha=1e-4,
                   max_iter=60),
    "diabetes": dict(hidden_layer_sizes=(64,), learning_rate_init=1e-3, alpha=1e-4,
                     max_iter=200),
}
COMMON = dict(activation="relu", solver="adam", batch_size="auto")


def load(name: str):
    """(X, y, is_classification) for one of the parity data sets; regression y standardised."""
    if name == "diabetes":
        X, y = datasets.load_diabetes(return_X_y=True)
        return X, scale(y), False
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return X, y, True


def cv_scores(name: str, library: str, random_state: int = 0, **overrides):
    """Fold scores and seconds for one library ("backprop" or "sklearn") on one data set."""
    X, y, classification = load(name)
    params = {**COMMON, **SETTINGS[name], "random_state": random_state, **overrides}
    if classification:
        est = (MLPClassifier if library == "backprop" else SkClassifier)(**params)
    else:
        est = (MLPRegressor if library == "backprop" else SkRegressor)(**params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(make_pipeline(StandardScaler(), est), X, y, cv=5)
    return scores, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated random_state values")
    parser.add_argument("--per-seed", action="store_true", help="one row per random_state too")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"5-fold CV mean of StandardScaler → MLP, averaged over random_state {args.seeds}\n")
    print("| data set | metric | settings (adam, alpha 1e-4, batch auto) | scikit-learn | "
          "backprop | difference | worst seed | time sklearn / backprop |")
    print("|---|---|---|---|---|---|---|---|")
    for name, s in SETTINGS.items():
        metric = "R²" if name == "diabetes" else "accuracy"
        settings = (f"{s['hidden_layer_sizes']}, lr {s['learning_rate_init']:g}, "
                    f"{s['max_iter']} epochs")
        rows = []
        for seed in seeds:
            sk, sk_time = cv_scores(name, "sklearn", seed)
            bp, bp_time = cv_scores(name, "backprop", seed)
            rows.append((sk.mean(), bp.mean(), sk_time, bp_time))
            if args.per_seed:
                print(f"| {name} | {metric} | {settings}, seed {seed} | {sk.mean():.4f} | "
                      f"{bp.mean():.4f} | {bp.mean() - sk.mean():+.4f} | | "
                      f"{sk_time:.2f} s / {bp_time:.2f} s |")
        sk_mean, bp_mean, sk_time, bp_time = np.mean(rows, axis=0)
        worst = min(r[1] - r[0] for r in rows)
        print(f"| {name} | {metric} | {settings} | {sk_mean:.4f} | {bp_mean:.4f} | "
              f"{bp_mean - sk_mean:+.4f} | {worst:+.4f} | {sk_time:.2f} s / {bp_time:.2f} s |")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
