"""Training runs built to have one problem each, and healthy runs built to have none.

Shared by tests/test_doctor_problems.py, tests/test_doctor_healthy.py and
benchmarks/doctor_table.py (which prints the tables of the doctor's notes). Every run is small:
all of them together train in a few seconds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

import backprop as bp
from backprop import datasets


@dataclass
class Outcome:
    """A finished run: the post-hoc diagnosis and the Doctor callback's."""

    diagnosis: bp.Diagnosis
    doctor: bp.Diagnosis
    epochs: int


def _scaled(X: np.ndarray) -> np.ndarray:
    return datasets.Scaler().fit(X).transform(X)


def _moons(n: int = 400, noise: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    ds = datasets.moons(n, noise, seed=seed)
    return _scaled(ds.X), ds.y


def train(model: Any, X: np.ndarray, y: np.ndarray, **fit: Any) -> Outcome:
    """Fit with a Doctor attached (a divergence is caught) and diagnose the result."""
    doctor = bp.Doctor(X, y)
    fit["callbacks"] = [doctor, *fit.get("callbacks", [])]
    try:
        with warnings.catch_warnings():
            # fit's own one-line verdict on runs that learn nothing; the doctor says more
            warnings.simplefilter("ignore", bp.PoorFitWarning)
            history = model.fit(X, y, **fit)
    except bp.TrainingDiverged as exc:
        history = exc
    diagnosis = bp.diagnose(model, X, y, history=history, loss=fit["loss"])
    epochs = len(history.history.epoch if isinstance(history, bp.TrainingDiverged)
                 else history.epoch)
    return Outcome(diagnosis, doctor.diagnosis, epochs)


# -- runs with a problem --------------------------------------------------------------------
def vanishing() -> Outcome:
    X, y = _moons(200)
    model = bp.MLP([2] + [32] * 8 + [1], activation="sigmoid", output_activation="sigmoid",
                   seed=0)
    return train(model, X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.1), epochs=30)


def exploding() -> Outcome:
    X, y = _moons()
    model = bp.MLP([2] + [64] * 5 + [1], activation="relu", output_activation="sigmoid", seed=0)
    for W in model.weights:
        W *= 3.0  # three times He's scale, at every layer
    return train(model, X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=0.01),
                 epochs=20, batch_size=32)


def dead() -> Outcome:
    X, y = _moons()
    model = bp.MLP([2, 16, 16, 1], activation="relu", output_activation="sigmoid", seed=0)
    for b in model.biases[:-1]:
        b[...] = -5.0
    return train(model, X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01),
                 epochs=30, batch_size=32)


def unscaled() -> Outcome:
    ds = datasets.breast_cancer()
    X = _scaled(ds.X) * 100.0
    model = bp.MLP([30, 32, 16, 1], activation="tanh", output_activation="sigmoid", seed=0)
    return train(model, X, ds.y, loss="binary_crossentropy", optimizer=bp.Adam(lr=1e-3),
                 epochs=30, batch_size=32)


def lr_high() -> Outcome:
    X, y = _moons()
    model = bp.MLP([2, 16, 16, 1], activation="relu", output_activation="sigmoid", seed=0)
    return train(model, X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=5.0), epochs=40,
                 batch_size=32)


def lr_high_diverging() -> Outcome:
    X, y = _moons()
    model = bp.MLP([2, 64, 64, 1], activation="relu", output_activation="sigmoid", seed=0)
    return train(model, X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=5.0), epochs=40,
                 batch_size=32)


def lr_low() -> Outcome:
    X, y = _moons()
    model = bp.MLP([2, 16, 16, 1], activation="relu", output_activation="sigmoid", seed=0)
    return train(model, X, y, loss="binary_crossentropy", optimizer=bp.SGD(lr=1e-6), epochs=40,
                 batch_size=32)


def overfitting() -> Outcome:
    X, y = _moons(60, noise=0.35)
    model = bp.MLP([2, 128, 128, 1], activation="relu", output_activation="sigmoid", seed=0)
    return train(model, X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01),
                 epochs=200, validation_split=0.3)


def imbalance() -> Outcome:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 5))
    y = (rng.random(1000) < 0.05).astype(int)
    X[y == 1, 0] += 1.0  # the rare class overlaps the common one
    model = bp.MLP([5, 16, 1], activation="relu", output_activation="sigmoid", seed=0)
    return train(model, X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=0.01),
                 epochs=40, batch_size=32)


def mismatch() -> Outcome:
    ds = datasets.diabetes()
    model = bp.MLP([10, 16, 1], activation="relu", output_activation="sigmoid", seed=0)
    return train(model, _scaled(ds.X), ds.y, loss="mse", optimizer=bp.Adam(lr=0.01),
                 epochs=20, batch_size=32)


def baseline() -> Outcome:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 4))
    y = rng.integers(0, 2, 2000)  # labels that have nothing to do with the inputs
    model = bp.MLP([4, 8, 1], activation="relu", output_activation="sigmoid", seed=0)
    return train(model, X, y, loss="binary_crossentropy", optimizer=bp.Adam(lr=1e-3),
                 epochs=10, batch_size=64)


#: code → (run, what the run does wrong)
PROBLEMS = {
    "vanishing_gradients": (vanishing, "9-layer sigmoid network [2, 32×8, 1], SGD 0.1, "
                                       "200 moons rows"),
    "exploding_gradients": (exploding, "ReLU [2, 64×5, 1] with weights at 3× He scale, SGD "
                                       "0.01"),
    "dead_units": (dead, "ReLU [2, 16, 16, 1] with hidden biases at −5, Adam 0.01"),
    "unscaled_inputs": (unscaled, "breast_cancer standardised then ×100, tanh [30, 32, 16, "
                                  "1], Adam 1e-3"),
    "saturated_units": (unscaled, "the same run (inputs ×100, tanh)"),
    "learning_rate_too_high": (lr_high, "ReLU [2, 16, 16, 1], SGD lr 5, batches of 32"),
    "learning_rate_too_low": (lr_low, "ReLU [2, 16, 16, 1], SGD lr 1e-6"),
    "overfitting": (overfitting, "ReLU [2, 128, 128, 1] on 60 noisy moons rows (30% "
                                 "validation), Adam 0.01, 200 full-batch epochs"),
    "class_imbalance": (imbalance, "95/5 labels, the rare class overlapping, ReLU [5, 16, 1]"),
    "loss_output_mismatch": (mismatch, "diabetes regression (targets 25–346) with a sigmoid "
                                       "output and mse"),
    "no_better_than_baseline": (baseline, "labels independent of the inputs, ReLU [4, 8, 1]"),
}


# -- healthy runs ---------------------------------------------------------------------------
@dataclass
class Healthy:
    name: str
    data: Any
    sizes: list[int]
    activation: str
    output: str
    loss: str
    optimizer: Any
    epochs: int
    batch_size: int | None
    regression: bool = False

    def run(self) -> Outcome:
        ds = self.data()
        part = datasets.split(ds.X, ds.y, test_size=0.2, seed=0, stratify=not self.regression)
        X = datasets.Scaler().fit(part.X_train).transform(part.X_train)
        y = part.y_train
        if self.regression:
            y = (y - y.mean()) / y.std()
        model = bp.MLP(self.sizes, activation=self.activation, output_activation=self.output,
                       seed=0)
        return train(model, X, y, loss=self.loss, optimizer=self.optimizer(),
                     epochs=self.epochs, batch_size=self.batch_size, validation_split=0.2,
                     callbacks=[bp.EarlyStopping(patience=20)])

    def describe(self) -> str:
        opt = self.optimizer()
        batches = "full batch" if self.batch_size is None else f"batches of {self.batch_size}"
        momentum = f" momentum {opt.momentum:g}" if getattr(opt, "momentum", 0) else ""
        return (f"{self.sizes} {self.activation}/{self.output}, {self.loss}, "
                f"{type(opt).__name__} {opt.lr:g}{momentum}, {batches}, ≤{self.epochs} "
                "epochs, early stopping (patience 20)")


HEALTHY = [
    Healthy("moons", lambda: datasets.moons(1000, 0.2, seed=0), [2, 16, 16, 1], "relu",
            "sigmoid", "binary_crossentropy", lambda: bp.Adam(lr=0.01), 200, 32),
    Healthy("circles", lambda: datasets.circles(1000, 0.1, seed=0), [2, 16, 16, 1], "relu",
            "sigmoid", "binary_crossentropy", lambda: bp.Adam(lr=0.01), 200, 32),
    Healthy("spiral", lambda: datasets.spiral(600, 3, seed=0), [2, 64, 64, 3], "relu",
            "softmax", "categorical_crossentropy", lambda: bp.Adam(lr=0.01), 300, 32),
    Healthy("iris", datasets.iris, [4, 16, 3], "relu", "softmax", "categorical_crossentropy",
            lambda: bp.Adam(lr=0.01), 200, 16),
    Healthy("wine", datasets.wine, [13, 32, 3], "relu", "softmax", "categorical_crossentropy",
            lambda: bp.Adam(lr=0.01), 100, 16),
    Healthy("breast_cancer", datasets.breast_cancer, [30, 32, 16, 1], "relu", "sigmoid",
            "binary_crossentropy", lambda: bp.Adam(lr=1e-3), 100, 32),
    Healthy("digits", datasets.digits, [64, 128, 64, 10], "relu", "softmax",
            "categorical_crossentropy", lambda: bp.Adam(lr=1e-3), 30, 32),
    Healthy("diabetes", datasets.diabetes, [10, 32, 16, 1], "relu", "identity", "mse",
            lambda: bp.Adam(lr=1e-3), 200, 32, regression=True),
    Healthy("moons (tanh, SGD)", lambda: datasets.moons(1000, 0.2, seed=0), [2, 16, 16, 1],
            "tanh", "sigmoid", "binary_crossentropy",
            lambda: bp.SGD(lr=0.5, momentum=0.9), 300, None),
    Healthy("circles (SGD)", lambda: datasets.circles(1000, 0.1, seed=0), [2, 32, 1], "relu",
            "sigmoid", "binary_crossentropy", lambda: bp.SGD(lr=0.1, momentum=0.9), 200, 32),
]
