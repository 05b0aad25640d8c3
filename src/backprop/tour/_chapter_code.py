"""The chapter's own computations, re-implemented faithfully so the tour can measure them.

Every function here reproduces what the chapter's code *does*, mistakes included, in the
chapter's column-major layout: ``W`` is (n_out, n_in), ``b`` is (n_out, 1), activations are
(n_units, m) with one column per example. Nothing here is used by the library; it exists only
so that :mod:`backprop.tour.errata` can run the faulty code and compare it with the library.

The code is written afresh (lists instead of string-keyed dicts) but keeps each arithmetic
step of the original: where the chapter divides, transposes or skips a term, so does this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


# -- activations, as the chapter's ``_activate`` ------------------------------------------------
def activate(z: np.ndarray, name: str, softmax_axis: int = 0) -> np.ndarray:
    """The chapter's activation dispatch: any name it does not know is silently the identity.

    ``softmax_axis`` is 1 in the section 4.2 class (the batch axis in its column-major
    layout) and 0 in the section 4.5 trainer.
    """
    if name == "relu":
        return np.maximum(0, z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-np.clip(z, -500, 500)))
    if name == "tanh":
        return np.tanh(z)
    if name == "softmax":
        e = np.exp(z - np.max(z, axis=softmax_axis, keepdims=True))
        return e / np.sum(e, axis=softmax_axis, keepdims=True)
    return z  # 'linear' and every unknown name (leaky_relu, elu, typos, ...)


def hidden_derivative(dA: np.ndarray, Z: np.ndarray, name: str) -> np.ndarray:
    """dZ = dA ⊙ g'(Z) for a hidden layer, with the chapter's fall-through to identity."""
    if name == "relu":
        return dA * (Z > 0)
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-np.clip(Z, -500, 500)))
        return dA * s * (1 - s)
    if name == "tanh":
        return dA * (1 - np.tanh(Z) ** 2)
    return dA


# -- initialisation ---------------------------------------------------------------------------
def init_section_42(layer_dims: list[int], rng: np.random.Generator) -> tuple[list, list]:
    """Section 4.2's initialisation, commented "Xavier/Glorot": N(0, 1)·√(2/n_in)."""
    weights = [rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
               for n_in, n_out in zip(layer_dims[:-1], layer_dims[1:])]
    biases = [np.zeros((n_out, 1)) for n_out in layer_dims[1:]]
    return weights, biases


def init_section_45(layer_dims: list[int], scheme: str,
                    rng: np.random.Generator) -> tuple[list, list]:
    """Section 4.5's ``initialization`` argument: 'xavier', 'he', anything else "small"."""
    weights, biases = [], []
    for n_in, n_out in zip(layer_dims[:-1], layer_dims[1:]):
        if scheme == "xavier":
            limit = np.sqrt(6.0 / (n_in + n_out))
            w = rng.uniform(-limit, limit, (n_out, n_in))
        elif scheme == "he":
            w = rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
        else:  # the text calls this N(0, 0.01); the code multiplies by 0.01
            w = rng.standard_normal((n_out, n_in)) * 0.01
        weights.append(w)
        biases.append(np.zeros((n_out, 1)))
    return weights, biases


# -- section 4.2: forward, and section 4.3: backward_propagation --------------------------------
@dataclass
class Cache:
    """What the chapter's forward keeps: ``A[0]`` is the input, ``A[l+1]`` and ``Z[l]`` the
    output and pre-activation of weight matrix l."""

    A: list = field(default_factory=list)
    Z: list = field(default_factory=list)


def forward(weights, biases, X, hidden, output, *, transpose_input_in_cache: bool,
            softmax_axis: int):
    """The chapter's forward pass. Returns (output (m, n_out), cache).

    Section 4.2 stores ``X`` itself as ``A[0]`` (``transpose_input_in_cache=False``) while
    every other entry is column-major; section 4.5 stores ``X.T``.
    """
    cache = Cache(A=[X.T if transpose_input_in_cache else X])
    A = X.T
    last = len(weights) - 1
    for i, (W, b) in enumerate(zip(weights, biases)):
        Z = W @ A + b
        A = activate(Z, output if i == last else hidden, softmax_axis)
        cache.A.append(A)
        cache.Z.append(Z)
    return A.T, cache


def backward_section_43(y, output, cache: Cache, weights, hidden, output_activation,
                        loss_type="mse"):
    """Section 4.3's ``backward_propagation``: returns [(dW, db), ...] in layer order.

    Kept as written: dA already carries 1/m and every dW, db is divided by m again; the
    first layer multiplies by ``cache.A[0].T``, which crashes (or silently mis-multiplies when
    m equals the number of features) when the cache holds X rather than X.T.
    """
    m = y.shape[0]
    if loss_type == "cross_entropy":
        dA = -y / (output + 1e-15) / m
    else:
        dA = (output - y) / m
    L = len(weights) - 1
    if output_activation == "sigmoid":
        dZ = dA * (output * (1 - output))
    else:  # softmax and linear both pass dA straight through
        dZ = dA
    grads = [None] * (L + 1)
    A_prev = cache.A[L]
    grads[L] = (dZ.T @ A_prev.T / m, np.sum(dZ.T, axis=1, keepdims=True) / m)
    dA_prev = weights[L].T @ dZ.T
    for l in range(L - 1, -1, -1):
        dZ = hidden_derivative(dA_prev, cache.Z[l], hidden)
        A_prev = cache.A[l]
        grads[l] = (dZ @ A_prev.T / m, np.sum(dZ, axis=1, keepdims=True) / m)
        if l > 0:
            dA_prev = weights[l].T @ dZ
    return grads


# -- section 4.5: MLPTrainer --------------------------------------------------------------------
class Trainer:
    """Section 4.5's ``MLPTrainer``: full-batch gradient descent, as written."""

    def __init__(self, layer_dims, activation="relu", output_activation="linear",
                 initialization="xavier", seed=0):
        self.activation = activation
        self.output_activation = output_activation
        rng = np.random.default_rng(seed)
        self.weights, self.biases = init_section_45(list(layer_dims), initialization, rng)
        self.printed: list[str] = []

    def forward(self, X):
        return forward(self.weights, self.biases, X, self.activation, self.output_activation,
                       transpose_input_in_cache=True, softmax_axis=0)

    @staticmethod
    def compute_loss(y_pred, y_true, loss_type="mse"):
        if loss_type == "cross_entropy":
            return -np.mean(np.sum(y_true * np.log(y_pred + 1e-15), axis=1))
        return np.mean((y_pred - y_true) ** 2) / 2  # mean over m·k entries, then ½

    def backward(self, y, output, cache: Cache, loss_type="mse"):
        m = y.shape[0]
        if loss_type == "cross_entropy":
            dA = -y / (output + 1e-15) / m
        else:
            dA = (output - y) / m
        L = len(self.weights) - 1
        if self.output_activation == "sigmoid":
            dZ = dA.T * (output.T * (1 - output.T))
        else:  # softmax: ∂L/∂ŷ used as ∂L/∂z
            dZ = dA.T
        grads = [None] * (L + 1)
        grads[L] = (dZ @ cache.A[L].T, np.sum(dZ, axis=1, keepdims=True))
        dA_prev = self.weights[L].T @ dZ
        for l in range(L - 1, -1, -1):
            dZ = hidden_derivative(dA_prev, cache.Z[l], self.activation)
            grads[l] = (dZ @ cache.A[l].T, np.sum(dZ, axis=1, keepdims=True))
            if l > 0:
                dA_prev = self.weights[l].T @ dZ
        return grads

    def update_parameters(self, grads, learning_rate):
        for i, (dW, db) in enumerate(grads):
            self.weights[i] -= learning_rate * dW
            self.biases[i] -= learning_rate * db

    def train(self, X, y, epochs=1000, learning_rate=0.01, loss_type="mse", verbose=True):
        history = []
        for epoch in range(epochs):
            output, cache = self.forward(X)
            loss = self.compute_loss(output, y, loss_type)
            history.append(loss)
            self.update_parameters(self.backward(y, output, cache, loss_type), learning_rate)
            # the chapter prints every epochs // 10 epochs: a modulo by zero below 10 epochs
            if verbose and (epoch + 1) % (epochs // 10) == 0:
                self.printed.append(f"Epoch {epoch + 1}/{epochs}, Loss: {loss:.6f}")
        return history

    def predict_proba(self, X):
        return self.forward(X)[0]


def chapter_layout(model) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A backprop model's weights in the chapter's layout: W (n_out, n_in), b (n_out, 1)."""
    weights = [np.array(W, dtype=np.float64).T.copy() for W in model.weights]
    biases = [np.array(b, dtype=np.float64).reshape(-1, 1) for b in model.biases]
    return weights, biases
