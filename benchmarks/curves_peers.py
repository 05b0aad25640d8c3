"""One epoch of the same training, four ways, for the curves (curves.py).

``runner(library, sizes, batch)`` returns a function of the data that trains one more epoch
of a persistent model each time it is called: shuffled batches of ``batch`` rows, plain SGD
(lr 0.01) on binary cross-entropy with a sigmoid output (logits for PyTorch and JAX).
Each library gathers its batches as its users usually do: backprop's ``fit``, scikit-learn's
``fit`` (one epoch with ``warm_start``), PyTorch indexing a batch with a slice of
``randperm``, JAX a jitted step that gathers the batch from device arrays.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

LR = 0.01


@dataclass
class Data:
    X: np.ndarray  #: (rows, features) float32
    y: np.ndarray  #: (rows,) 0/1


def data(rows: int, features: int, seed: int = 0) -> Data:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, features), dtype=np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return Data(X, y)


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """Every library on ``count`` threads while inside (0: their defaults): BLAS (NumPy's,
    SciPy's, scikit-learn's OpenMP) through threadpoolctl, PyTorch's intra-op threads, and
    XLA's Eigen pool (set before JAX is first imported)."""
    if not count:
        yield
        return
    import threadpoolctl
    import torch

    flags = os.environ.get("XLA_FLAGS")
    if flags is None:  # read when JAX starts its CPU backend, here if it has not yet
        os.environ["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=false "
                                   f"intra_op_parallelism_threads={count}")
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        with threadpoolctl.threadpool_limits(count):
            yield
    finally:
        torch.set_num_threads(before)
        if flags is None:
            del os.environ["XLA_FLAGS"]


def runner(library: str, sizes: list[int], batch: int) -> Callable[[Data], None]:
    return {"backprop": _backprop, "sklearn": _sklearn, "torch": _torch,
            "jax": _jax}[library](sizes, batch)


def _backprop(sizes, batch):
    import backprop as bp

    model = bp.MLP(sizes, activation="relu", output_activation="sigmoid", seed=0)
    opt = bp.SGD(lr=LR)

    def epoch(d: Data) -> None:
        model.fit(d.X, d.y, loss="binary_crossentropy", optimizer=opt, epochs=1,
                  batch_size=batch, metrics=[])
    return epoch


def _sklearn(sizes, batch):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu", solver="sgd",
                        alpha=0.0, batch_size=batch, learning_rate_init=LR, max_iter=1,
                        momentum=0.0, nesterovs_momentum=False, warm_start=True, tol=0.0,
                        n_iter_no_change=10**9, random_state=0)

    def epoch(d: Data) -> None:
        clf.fit(d.X, d.y)
    return epoch


def _torch(sizes, batch):
    import torch

    torch.manual_seed(0)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    cache = {}

    def epoch(d: Data) -> None:
        if cache.get("key") is not d:  # the tensors share the arrays' memory
            cache.update(key=d, X=torch.from_numpy(d.X),
                         y=torch.from_numpy(d.y.astype(np.float32)).reshape(-1, 1))
        X, y = cache["X"], cache["y"]
        order = torch.randperm(X.shape[0])
        for s in range(0, X.shape[0], batch):
            idx = order[s:s + batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(X[idx]), y[idx]).backward()
            opt.step()
    return epoch


def _jax(sizes, batch):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
    rng = np.random.default_rng(0)
    params = [(jnp.asarray(rng.standard_normal((i, o), dtype=np.float32) * np.sqrt(2 / i)),
               jnp.zeros(o, jnp.float32)) for i, o in zip(sizes, sizes[1:])]

    def loss(params, x, y):
        for W, b in params[:-1]:
            x = jax.nn.relu(x @ W + b)
        W, b = params[-1]
        z = x @ W + b
        return jnp.mean(jax.nn.softplus(z) - z * y)

    grad = jax.grad(loss)

    @jax.jit
    def step(params, X, y, idx):
        g = grad(params, X[idx], y[idx])
        return jax.tree.map(lambda p, d: p - LR * d, params, g)

    state = {"params": params}
    cache = {}
    order_rng = np.random.default_rng(1)

    def epoch(d: Data) -> None:
        if cache.get("key") is not d:
            cache.update(key=d, X=jnp.asarray(d.X),
                         y=jnp.asarray(d.y.astype(np.float32)).reshape(-1, 1))
        X, y = cache["X"], cache["y"]
        n = X.shape[0]
        order = order_rng.permutation(n).astype(np.int32)
        p = state["params"]
        for s in range(0, n, batch):
            p = step(p, X, y, order[s:s + batch])
        state["params"] = jax.block_until_ready(p)
    return epoch
