"""JAX as a peer, written the two ways a performance-minded user writes it.

- ``run_jax_step``: one jitted train step per batch, called from a Python loop (the batch
  gathered inside the jitted step from an index array, parameters donated to the step).
- ``run_jax_scan``: the whole run compiled into one XLA program with ``lax.scan`` over the
  epochs and, inside, over the batches (the shuffled orders drawn beforehand, outside the
  timer, and passed in as one array).

Both do exactly the updates of the other runners: the same network (ReLU hidden layers, a
sigmoid or softmax output fused into its cross-entropy), plain SGD or Adam as in
``torch.optim``, the same batches per epoch including a short last one. Compilation is done
before the timer (``jit(...).lower(...).compile()``) and reported on its own by
``compile_seconds``.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np

#: seconds spent compiling, per (runner, workload) key, filled as executables are built
COMPILE_SECONDS: dict[tuple, float] = {}


def _jax():
    import jax

    jax.config.update("jax_platforms", "cpu")
    return jax


def _init(sizes, seed):
    """He-normal weights (ReLU) and zero biases, float32, from NumPy's generator."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((i, o), dtype=np.float32) * np.float32(np.sqrt(2.0 / i)),
             np.zeros(o, dtype=np.float32)) for i, o in zip(sizes, sizes[1:])]


def _functions(sizes: tuple, optimizer: str, lr: float):
    """(loss, update, init_state) as pure functions of JAX arrays."""
    import jax
    import jax.numpy as jnp

    binary = sizes[-1] == 1

    def logits(params, x):
        for W, b in params[:-1]:
            x = jax.nn.relu(x @ W + b)
        W, b = params[-1]
        return x @ W + b

    def loss(params, x, y):
        z = logits(params, x)
        if binary:  # mean of softplus(z) − z·y: BCE on the logits
            return jnp.mean(jax.nn.softplus(z) - z * y)
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z), y[:, None], axis=1))

    grad = jax.grad(loss)
    b1, b2, eps = 0.9, 0.999, 1e-8

    def update(params, state, x, y):
        g = grad(params, x, y)
        if optimizer == "sgd":
            return jax.tree.map(lambda p, d: p - lr * d, params, g), state
        t, m, v = state
        t = t + 1
        m = jax.tree.map(lambda m_, d: b1 * m_ + (1 - b1) * d, m, g)
        v = jax.tree.map(lambda v_, d: b2 * v_ + (1 - b2) * d * d, v, g)
        step = lr / (1 - b1**t)
        root = jnp.sqrt(1 - b2**t)
        params = jax.tree.map(lambda p, m_, v_: p - step * m_ / (jnp.sqrt(v_) / root + eps),
                              params, m, v)
        return params, (t, m, v)

    def init_state(params):
        if optimizer == "sgd":
            return ()
        zeros = jax.tree.map(jnp.zeros_like, params)
        return (jnp.float32(0.0), zeros, jax.tree.map(jnp.zeros_like, params))

    return logits, update, init_state


def _labels(spec, y):
    return (y.astype(np.float32).reshape(-1, 1) if spec.sizes[-1] == 1
            else y.astype(np.int32))


def _orders(n: int, epochs: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(n) for _ in range(epochs)]).astype(np.int32)


@cache
def _step_program(sizes, optimizer, lr, n, n_features, binary, batch):
    """The jitted step for batches of ``batch`` rows gathered from X (n, n_features)."""
    jax = _jax()
    import jax.numpy as jnp

    _, update, init_state = _functions(sizes, optimizer, lr)

    def step(params, state, X, y, idx):
        return update(params, state, X[idx], y[idx])

    params = jax.tree.map(jnp.asarray, _init(list(sizes), 0))
    X = jnp.zeros((n, n_features), jnp.float32)
    y = jnp.zeros((n, 1), jnp.float32) if binary else jnp.zeros(n, jnp.int32)
    start = time.perf_counter()
    program = jax.jit(step, donate_argnums=(0, 1)).lower(
        params, init_state(params), X, y, jnp.zeros(batch, jnp.int32)).compile()
    return program, time.perf_counter() - start


def run_jax_step(spec, data, seed: int = 0) -> tuple[float, float]:
    """One jitted step per batch from a Python loop; returns (seconds, test accuracy)."""
    jax = _jax()
    import jax.numpy as jnp

    n, d = data.X_train.shape
    bs = spec.batch_size or n
    sizes = tuple(spec.sizes)
    binary = sizes[-1] == 1
    X = jnp.asarray(data.X_train, jnp.float32)
    y = jnp.asarray(_labels(spec, data.y_train))
    lengths = sorted({min(bs, n - s) for s in range(0, n, bs)})
    programs = {}
    for m in lengths:
        programs[m], seconds = _step_program(sizes, spec.optimizer, spec.lr, n, d, binary, m)
        COMPILE_SECONDS.setdefault(("jax step", spec.name, m), seconds)
    _, _, init_state = _functions(sizes, spec.optimizer, spec.lr)
    params = jax.tree.map(jnp.asarray, _init(spec.sizes, seed))
    state = init_state(params)
    full = spec.batch_size is None or bs >= n
    orders = None if full else _orders(n, spec.epochs, seed)
    all_rows = jnp.arange(n, dtype=jnp.int32)
    # batch index arrays put on the device once: the loop then passes device arrays only
    if full:
        batches = [[all_rows]] * spec.epochs
    else:
        batches = [[jnp.asarray(order[s:s + bs]) for s in range(0, n, bs)] for order in orders]
    jax.block_until_ready(batches)
    start = time.perf_counter()
    for epoch_batches in batches:
        for idx in epoch_batches:
            params, state = programs[idx.shape[0]](params, state, X, y, idx)
    jax.block_until_ready(params)
    elapsed = time.perf_counter() - start
    return elapsed, _accuracy(sizes, params, data)


@cache
def _scan_program(sizes, optimizer, lr, n, n_features, binary, batch, epochs):
    """The whole run as one program: scan over epochs, and inside over full batches."""
    jax = _jax()
    import jax.numpy as jnp
    from jax import lax

    _, update, init_state = _functions(sizes, optimizer, lr)
    full = batch >= n
    n_full, rest = divmod(n, batch)

    def run(params, state, X, y, orders):
        if full:
            def epoch(carry, _):
                return update(*carry, X, y), None
            carry, _ = lax.scan(epoch, (params, state), None, length=epochs)
            return carry

        def one_batch(carry, idx):
            return update(*carry, X[idx], y[idx]), None

        def epoch(carry, order):
            carry, _ = lax.scan(one_batch, carry, order[: n_full * batch].reshape(n_full, batch))
            if rest:
                idx = order[n_full * batch:]
                carry = update(*carry, X[idx], y[idx])
            return carry, None

        carry, _ = lax.scan(epoch, (params, state), orders)
        return carry

    params = jax.tree.map(jnp.asarray, _init(list(sizes), 0))
    X = jnp.zeros((n, n_features), jnp.float32)
    y = jnp.zeros((n, 1), jnp.float32) if binary else jnp.zeros(n, jnp.int32)
    orders = jnp.zeros((0 if full else epochs, n), jnp.int32)
    start = time.perf_counter()
    program = jax.jit(run).lower(params, init_state(params), X, y, orders).compile()
    return program, time.perf_counter() - start


def run_jax_scan(spec, data, seed: int = 0) -> tuple[float, float]:
    """The whole run compiled with ``lax.scan``; returns (seconds, test accuracy)."""
    jax = _jax()
    import jax.numpy as jnp

    n, d = data.X_train.shape
    bs = min(spec.batch_size or n, n)
    sizes = tuple(spec.sizes)
    binary = sizes[-1] == 1
    program, seconds = _scan_program(sizes, spec.optimizer, spec.lr, n, d, binary, bs,
                                     spec.epochs)
    COMPILE_SECONDS.setdefault(("jax scan", spec.name), seconds)
    X = jnp.asarray(data.X_train, jnp.float32)
    y = jnp.asarray(_labels(spec, data.y_train))
    orders = (np.zeros((0, n), np.int32) if bs >= n else _orders(n, spec.epochs, seed))
    orders = jnp.asarray(orders)
    _, _, init_state = _functions(sizes, spec.optimizer, spec.lr)
    params = jax.tree.map(jnp.asarray, _init(spec.sizes, seed))
    state = init_state(params)
    jax.block_until_ready((X, y, orders, params, state))
    start = time.perf_counter()
    params, state = program(params, state, X, y, orders)
    jax.block_until_ready(params)
    elapsed = time.perf_counter() - start
    return elapsed, _accuracy(sizes, params, data)


def compile_seconds(runner: str, spec_name: str) -> float:
    """Total compile time recorded for one runner on one workload (0.0 if none yet)."""
    return sum(s for key, s in COMPILE_SECONDS.items() if key[:2] == (runner, spec_name))


def _accuracy(sizes, params, data) -> float:
    import jax.numpy as jnp

    logits, _, _ = _functions(sizes, "sgd", 0.0)
    out = np.asarray(logits(params, jnp.asarray(data.X_test, jnp.float32)))
    pred = (out[:, 0] > 0).astype(int) if sizes[-1] == 1 else out.argmax(axis=1)
    return float(np.mean(pred == data.y_test))
