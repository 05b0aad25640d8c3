"""The chapter's algorithm in plain NumPy: forward, backward, an SGD and an Adam step.

Read this file first. The engine (layers.py, network.py, optimizers.py and the speed tricks in
_fast/) computes the same numbers faster; tests/test_reference.py holds it equal to this file
to 1e-10 after 50 training steps in float64. Both use the same ``Activation`` and ``Loss``
objects (activations.py, losses.py).

The chapter's notation, batch-first (a row per sample)::

    a⁽⁰⁾ = X                                   (n, n₀)
    z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾                   W⁽ˡ⁾ (nₗ₋₁, nₗ), b⁽ˡ⁾ (nₗ,), z⁽ˡ⁾ (n, nₗ)
    a⁽ˡ⁾ = g⁽ˡ⁾(z⁽ˡ⁾)
    δ⁽ᴸ⁾ = ∂L/∂a⁽ᴸ⁾ ⊙ g'(z⁽ᴸ⁾)                   (p − y)/N for the fused pairs
    δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ) ⊙ g'(z⁽ˡ⁾)
    ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾,   ∂L/∂b⁽ˡ⁾ = Σₙ δ⁽ˡ⁾

The chapter writes W⁽ˡ⁾ as (nₗ, nₗ₋₁) and z = W a + b, the transpose of this. Python lists
count from 0: ``Ws[0]`` is W⁽¹⁾ and ``As[0]`` is a⁽⁰⁾ = X, so layer k reads ``As[k]`` and
writes ``zs[k]`` and ``As[k + 1]``. Unlike the chapter's code, the mean's 1/N is taken once
(inside the loss's gradient), softmax with cross-entropy gives δ = (p − y)/n rather than
−y/ŷ, and each layer's ∂L/∂W uses that layer's own input.

Examples
--------
>>> import numpy as np
>>> import backprop as bp
>>> from backprop import reference
>>> model = bp.MLP([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=0,
...                dtype="float64")
>>> Ws, bs, gs = reference.from_model(model)
>>> X, y = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0], [0.0]])
>>> losses = reference.train(Ws, bs, gs, bp.losses.get("bce"), X, y,
...                          {"name": "sgd", "lr": 0.5}, epochs=20)
>>> len(losses), bool(losses[-1] < losses[0])
(20, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .activations import Activation
from .layers import Dense
from .losses import Loss


def from_model(model: Any) -> tuple[list[np.ndarray], list[np.ndarray], list[Activation]]:
    """Copies of an engine model's weights and biases, and its activation objects.

    Returns
    -------
    Ws : list of ndarray of shape (nₗ₋₁, nₗ)
    bs : list of ndarray of shape (nₗ,)
    activations : list of Activation, one per layer (the model's own objects)
    """
    dense_only = all(isinstance(layer, Dense) for layer in model.layers)
    if not dense_only or any(b is None for b in model.biases):
        raise ValueError(f"the reference follows the chapter: Dense layers with biases only; "
                         f"got {model.layers!r}; build it without dropout and use_bias=False")
    Ws = [W.copy() for W in model.weights]
    bs = [b.copy() for b in model.biases]
    return Ws, bs, [layer.activation for layer in model.layers]


def forward(Ws: list, bs: list, activations: list, X: np.ndarray) -> tuple[list, list]:
    """z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾ and a⁽ˡ⁾ = g⁽ˡ⁾(z⁽ˡ⁾), layer by layer, keeping both.

    Parameters
    ----------
    X : ndarray of shape (n, n₀)

    Returns
    -------
    zs : list of ndarray of shape (n, nₗ), one per layer
    As : list of ndarray of shape (n, nₗ), ``As[0] = X`` then one per layer
    """
    zs, As = [], [X]
    for W, b, g in zip(Ws, bs, activations):
        zs.append(As[-1] @ W + b)
        As.append(g.forward(zs[-1]))  # a new array (identity returns z itself; never modified)
    return zs, As


def _fused(loss: Loss, g: Activation) -> bool:
    # sigmoid + binary cross-entropy, softmax + categorical cross-entropy: ∂L/∂z = (p − y)/N
    return loss.fuses_with == g.name


def loss_value(loss: Loss, zs: list, As: list, activations: list, T: np.ndarray,
               Ws: list, l2: float = 0.0) -> float:
    """L(a⁽ᴸ⁾, y) + λ Σₗ ‖W⁽ˡ⁾‖² (biases excluded), from a forward pass's ``zs`` and ``As``.

    For a fused pair the loss is computed from the logits z⁽ᴸ⁾ (log-sum-exp, softplus), which
    stays finite where the probability a⁽ᴸ⁾ has rounded to 0 or 1.
    """
    z = zs[-1] if _fused(loss, activations[-1]) else None
    return loss.value(As[-1], T, z) + l2 * sum(float(np.sum(W * W)) for W in Ws)


def backward(Ws: list, zs: list, As: list, activations: list, loss: Loss, T: np.ndarray,
             l2: float = 0.0) -> tuple[list, list]:
    """∂L/∂W⁽ˡ⁾ and ∂L/∂b⁽ˡ⁾ for every layer, from the output back to the input.

    Parameters
    ----------
    T : ndarray of shape (n, n_L)
        Targets as ``loss.prepare_targets`` makes them (one-hot rows for class labels).
    l2 : float
        Adds ∂(λΣ‖W‖²)/∂W = 2λW to each weight gradient.

    Returns
    -------
    dWs : list of ndarray of shape (nₗ₋₁, nₗ)
    dbs : list of ndarray of shape (nₗ,)
    """
    # g.backward(dy, z, a) is dy ⊙ g'(z) (softmax: its Jacobian times dy); it may overwrite
    # dy, and every dy handed to it here is a fresh array.
    g_out = activations[-1]
    if _fused(loss, g_out):
        delta = loss.fused_gradient(As[-1], T)  # δ⁽ᴸ⁾ = (p − y)/N
    else:
        delta = g_out.backward(loss.gradient(As[-1], T), zs[-1], As[-1])  # ∂L/∂a ⊙ g'(z)
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for k in reversed(range(len(Ws))):
        dWs[k] = As[k].T @ delta + 2 * l2 * Ws[k]  # ∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾ (+ 2λW⁽ˡ⁾)
        dbs[k] = delta.sum(axis=0)  # ∂L/∂b⁽ˡ⁾ = Σₙ δ⁽ˡ⁾
        if k > 0:  # δ⁽ˡ⁻¹⁾ = (δ⁽ˡ⁾ W⁽ˡ⁾ᵀ) ⊙ g'(z⁽ˡ⁻¹⁾)
            delta = activations[k - 1].backward(delta @ Ws[k].T, zs[k - 1], As[k])
    return dWs, dbs


def sgd_step(params: list, grads: list, velocities: list, t: int, lr: float,
             momentum: float = 0.0, nesterov: bool = False) -> None:
    """θ ← θ − η·g in place; with momentum μ, torch's rule (dampening 0).

    v ← μv + g (v = g on step t = 1), then θ ← θ − η·v, or θ ← θ − η·(g + μv) for Nesterov.
    ``velocities`` holds one array per parameter (unused without momentum).
    """
    for theta, g, v in zip(params, grads, velocities):
        if momentum:
            v[...] = g if t == 1 else momentum * v + g
            g = g + momentum * v if nesterov else v
        theta -= lr * g


def adam_step(params: list, grads: list, m: list, v: list, t: int, lr: float,
              beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8) -> None:
    """Adam (Kingma & Ba 2015) as ``torch.optim.Adam``, in place; ``t`` counts from 1.

    m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ),
    θ ← θ − η·m̂/(√v̂ + ε).
    """
    for theta, g, m_k, v_k in zip(params, grads, m, v):
        m_k[...] = beta_1 * m_k + (1 - beta_1) * g
        v_k[...] = beta_2 * v_k + (1 - beta_2) * g * g
        m_hat = m_k / (1 - beta_1**t)  # early moments lean towards their zero start: undo it
        v_hat = v_k / (1 - beta_2**t)
        theta -= lr * m_hat / (np.sqrt(v_hat) + epsilon)


def train(Ws: list, bs: list, activations: list, loss: Loss, X: np.ndarray, T: np.ndarray,
          optimizer: dict, epochs: int, batch_size: int | None = None, l2: float = 0.0,
          orders: list | None = None) -> list[float]:
    """Mini-batch training, updating ``Ws`` and ``bs`` in place; returns the loss of each step.

    Parameters
    ----------
    X : ndarray of shape (n, n₀)
    T : ndarray of shape (n, n_L)
        Targets as ``loss.prepare_targets`` makes them.
    optimizer : dict
        ``{"name": "sgd", "lr": η, "momentum": μ, "nesterov": bool}`` or
        ``{"name": "adam", "lr": η, "beta_1": β₁, "beta_2": β₂, "epsilon": ε}`` (missing keys
        take torch's defaults); an engine optimiser's ``get_config()`` is such a dict.
    batch_size : int, optional
        None (or ≥ n) trains on the full batch, as the chapter does.
    orders : list of ndarray of shape (n,), optional
        The row order of each epoch (a permutation of range(n)); rows in order by default.

    Returns
    -------
    list of float
        The loss of each step's batch, before that step (``loss_value``).
    """
    opt = {"momentum": 0.0, "nesterov": False, "beta_1": 0.9, "beta_2": 0.999,
           "epsilon": 1e-8, "weight_decay": 0.0, **optimizer}
    if opt["name"] not in ("sgd", "adam") or opt["weight_decay"] or opt.get("clipnorm"):
        raise ValueError(f"the reference trains with sgd or adam, without weight_decay or "
                         f"clipnorm (use l2 for the chapter's penalty); got {optimizer}")
    params = [*Ws, *bs]  # the steps update these arrays in place
    m, v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    n = X.shape[0]
    size = n if batch_size is None else batch_size
    losses, t = [], 0
    for epoch in range(epochs):
        order = np.arange(n) if orders is None else orders[epoch]
        for start in range(0, n, size):
            rows = order[start : start + size]
            zs, As = forward(Ws, bs, activations, X[rows])
            losses.append(loss_value(loss, zs, As, activations, T[rows], Ws, l2))
            dWs, dbs = backward(Ws, zs, As, activations, loss, T[rows], l2)
            t += 1
            if opt["name"] == "sgd":  # m holds the velocities
                sgd_step(params, [*dWs, *dbs], m, t, opt["lr"], opt["momentum"],
                         opt["nesterov"])
            else:
                adam_step(params, [*dWs, *dbs], m, v, t, opt["lr"], opt["beta_1"],
                          opt["beta_2"], opt["epsilon"])
    return losses
