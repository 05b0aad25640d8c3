"""The benchmark workloads, each written for backprop, scikit-learn and PyTorch (JAX: peer_jax.py).

Every runner takes the prepared data and returns ``(seconds, final_accuracy)`` for exactly the
same number of parameter updates, so the accuracies printed beside the times prove equal work.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass

import numpy as np

import backprop as bp


@dataclass
class Data:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def chapter_moons() -> Data:
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_moons(n_samples=1000, noise=0.2, random_state=42)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=42)
    scaler = StandardScaler().fit(X_tr)
    return Data(scaler.transform(X_tr), y_tr, scaler.transform(X_te), y_te)


def digits() -> Data:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_tr)
    return Data(scaler.transform(X_tr), y_tr, scaler.transform(X_te), y_te)


def mnist_shape() -> Data:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60000, 784), dtype=np.float32)
    y = rng.integers(0, 10, 60000)
    return Data(X, y, X[:2000], y[:2000])


def xor() -> Data:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0])
    return Data(X, y, X, y)


@dataclass
class Spec:
    """One workload: network, optimiser and schedule shared by all three libraries."""

    name: str
    sizes: list[int]
    optimizer: str  # "sgd" or "adam"
    lr: float
    epochs: int
    batch_size: int | None  # None: full batch


def is_full_batch(spec: Spec, data: Data) -> bool:
    return spec.batch_size is None or spec.batch_size >= data.X_train.shape[0]


# -- backprop ------------------------------------------------------------------------------

def run_backprop(spec: Spec, data: Data, seed: int = 0, compiled: str = "auto"
                 ) -> tuple[float, float]:
    """``model.fit`` as a user calls it; ``compiled`` sets BACKPROP_COMPILED for the call
    ("auto": fit chooses, "never": the NumPy path)."""
    binary = spec.sizes[-1] == 1
    model = bp.MLP(spec.sizes, activation="relu",
                   output_activation="sigmoid" if binary else "softmax", seed=seed)
    opt = bp.SGD(lr=spec.lr) if spec.optimizer == "sgd" else bp.Adam(lr=spec.lr)
    loss = "binary_crossentropy" if binary else "categorical_crossentropy"
    before = os.environ.get("BACKPROP_COMPILED")
    os.environ["BACKPROP_COMPILED"] = compiled
    try:
        with warnings.catch_warnings():  # fit's PoorFitWarning judges four XOR rows harshly
            # (an older tree that ab.py compares against has no PoorFitWarning)
            warnings.simplefilter("ignore", getattr(bp, "PoorFitWarning", Warning))
            start = time.perf_counter()
            model.fit(data.X_train, data.y_train, loss=loss, optimizer=opt,
                      epochs=spec.epochs, batch_size=spec.batch_size, shuffle=True, metrics=[])
            elapsed = time.perf_counter() - start
    finally:
        if before is None:
            del os.environ["BACKPROP_COMPILED"]
        else:
            os.environ["BACKPROP_COMPILED"] = before
    accuracy = float(np.mean(model.predict_classes(data.X_test) == data.y_test))
    return elapsed, accuracy


# -- scikit-learn --------------------------------------------------------------------------

def run_sklearn(spec: Spec, data: Data, seed: int = 0, float32: bool = False,
                shuffle: bool | None = None):
    """``MLPClassifier.fit``. ``shuffle`` None is the fair setting: False when the batch is
    the whole training set (shuffling then changes no update but costs a copy of X every
    epoch), True otherwise; True is scikit-learn's default."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    n = data.X_train.shape[0]
    if shuffle is None:
        shuffle = not is_full_batch(spec, data)
    clf = MLPClassifier(
        hidden_layer_sizes=tuple(spec.sizes[1:-1]), activation="relu", solver=spec.optimizer,
        alpha=0.0, batch_size=spec.batch_size or n, learning_rate_init=spec.lr,
        max_iter=spec.epochs, shuffle=shuffle, random_state=seed, tol=0.0,
        n_iter_no_change=10**9, momentum=0.0, nesterovs_momentum=False,
    )
    X = data.X_train.astype(np.float32 if float32 else np.float64)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, data.y_train)
    elapsed = time.perf_counter() - start
    accuracy = float(np.mean(clf.predict(data.X_test.astype(X.dtype)) == data.y_test))
    return elapsed, accuracy


# -- PyTorch -------------------------------------------------------------------------------

def run_torch(spec: Spec, data: Data, seed: int = 0, threads: int | None = None,
              fused: bool = False):
    """A hand-written eager loop; ``threads`` sets torch's intra-op threads for the call,
    ``fused`` uses the optimiser's fused implementation."""
    import torch

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run_torch(torch, spec, data, seed, fused)
    finally:
        torch.set_num_threads(before)


def _run_torch(torch, spec: Spec, data: Data, seed: int, fused: bool):
    torch.manual_seed(seed)
    layers = []
    for n_in, n_out in zip(spec.sizes[:-1], spec.sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    binary = spec.sizes[-1] == 1
    X = torch.as_tensor(data.X_train, dtype=torch.float32)
    if binary:
        y = torch.as_tensor(data.y_train, dtype=torch.float32).reshape(-1, 1)
        loss_fn = torch.nn.BCEWithLogitsLoss()
    else:
        y = torch.as_tensor(data.y_train, dtype=torch.long)
        loss_fn = torch.nn.CrossEntropyLoss()
    opt_cls = torch.optim.SGD if spec.optimizer == "sgd" else torch.optim.Adam
    opt = opt_cls(model.parameters(), lr=spec.lr, **({"fused": True} if fused else {}))
    n = X.shape[0]
    bs = spec.batch_size or n
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(spec.epochs):
        if bs >= n:
            batches = [(X, y)]
        else:
            order = torch.randperm(n, generator=generator)
            Xs, ys = X[order], y[order]
            batches = [(Xs[i:i + bs], ys[i:i + bs]) for i in range(0, n, bs)]
        for xb, yb in batches:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
    elapsed = time.perf_counter() - start
    with torch.no_grad():
        out = model(torch.as_tensor(data.X_test, dtype=torch.float32))
        pred = (out[:, 0] > 0).long() if binary else out.argmax(dim=1)
    accuracy = float((pred.numpy() == data.y_test).mean())
    return elapsed, accuracy


# -- the matmul roofline ---------------------------------------------------------------------

def matmul_roofline(sizes: list[int], X: np.ndarray, batch_size: int) -> float:
    """Seconds NumPy's float32 matmul needs for exactly the products of one training epoch.

    Per batch of X: one forward product per layer (a⁽ˡ⁻¹⁾W⁽ˡ⁾), one weight-gradient product
    per layer (a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾) and one input-gradient product per layer but the first
    (δ⁽ˡ⁾W⁽ˡ⁾ᵀ). Nothing else: no bias, activation, loss, shuffling or update.
    """
    rng = np.random.default_rng(0)
    X = np.ascontiguousarray(X, dtype=np.float32)
    weights = [rng.standard_normal((i, o), dtype=np.float32) * np.float32(1 / np.sqrt(i))
               for i, o in zip(sizes, sizes[1:])]
    grads = [np.empty_like(w) for w in weights]
    start = time.perf_counter()
    for s in range(0, X.shape[0], batch_size):
        acts = [X[s:s + batch_size]]
        for w in weights:
            acts.append(np.dot(acts[-1], w))
        delta = acts[-1]
        for k in reversed(range(len(weights))):
            np.dot(acts[k].T, delta, out=grads[k])
            if k > 0:
                delta = np.dot(delta, weights[k].T)
    return time.perf_counter() - start
