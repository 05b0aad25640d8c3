"""The Python side of the compiled path: what it accepts, and one call per run of epochs.

``refusal`` says why a ``fit`` cannot run in the kernels, if it cannot (they take a plain
stack of ``Dense`` layers with registered activations, a registered loss and optimiser,
float32 or float64). ``CompiledTrainer`` lays the model, optimiser state and buffers out as
the kernels read them and runs epochs, leaving weights, gradients and optimiser state
exactly where the NumPy path would (``opt.iterations`` and the step count included), so
either path can continue the other's work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# _fast sits below the engine and imports none of it: the engine's classes are recognised by
# their qualified names, and exact types only (a subclass may change the mathematics).
_A, _L, _O = "backprop.activations.", "backprop.losses.", "backprop.optimizers."
#: activation class → kernel code (elementwise.py); GELU's tanh form is code 10
ACTIVATION_CODES = {_A + name: code for code, name in enumerate(
    ["Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "SELU", "Softplus", "Swish",
     "GELU"])} | {_A + "Softmax": 11}
LOSS_CODES = {_L + name: code for code, name in enumerate(
    ["MeanSquaredError", "MeanAbsoluteError", "Huber", "BinaryCrossEntropy",
     "CategoricalCrossEntropy"])}
#: optimiser class → (kernel code, names of its state arrays in the kernel's slots s1, s2)
OPTIMIZERS = {_O + "SGD": (0, "velocity", None), _O + "Adam": (1, "m_sum", "v_sum"),
              _O + "AdamW": (1, "m_sum", "v_sum"), _O + "RMSprop": (2, "square_avg", "buffer"),
              _O + "Adagrad": (3, "sum", None)}
MODELS = ("backprop.network.Sequential", "backprop.mlp.MLP")
DENSE = "backprop.layers.Dense"
#: a layer's products go through BLAS (np.dot inside the kernel) from this many
#: multiply-adds per batch: below it a call costs more than the loops (measured, see the
#: notes in __init__.py)
BLAS_MIN_MACS = 1024


def qualified_name(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def refusal(model: Any, loss: Any, opt: Any) -> str | None:
    """Why this model, loss and optimiser cannot run compiled, or None when they can."""
    if qualified_name(model) not in MODELS:
        return f"the model is a {type(model).__name__}"
    for layer in model.layers:
        if qualified_name(layer) != DENSE:
            return f"it has a {type(layer).__name__} layer"
        if qualified_name(layer.activation) not in ACTIVATION_CODES:
            return f"activation {layer.activation.name!r} has no kernel"
    if model.dtype not in (np.float32, np.float64):
        return f"dtype {model.dtype} has no kernel"
    if qualified_name(loss) not in LOSS_CODES:
        return f"loss {getattr(loss, 'name', loss)!r} has no kernel"
    output = model.dense_layers[-1].activation.name
    if loss.name == "categorical_crossentropy" and output != "softmax":
        return f"categorical_crossentropy with a {output} output has no kernel"
    if qualified_name(opt) not in OPTIMIZERS:
        return f"optimiser {type(opt).__name__} has no kernel"
    return None


class CompiledTrainer:
    """Epochs of one ``fit`` in the kernels.

    Parameters
    ----------
    kernels : module
        ``kernels.py``, imported (numba present); ``kernels.elementwise`` its codes.
    model, loss, opt
        Accepted by :func:`refusal`.
    data : backprop._fast.loop.TrainingData
        X (and its training ``rows``), T and the sample weights.
    batch_size : int
        Rows per batch (n_samples for a full batch).
    shuffle : bool
        Draw a new row order every epoch (mini-batches only): ``order(n)``, or
        ``model.rng.permutation(n)`` when ``order`` is None, as the NumPy path does.
    l2 : float
    track_accuracy, multiclass : bool
    order : callable, optional
    """

    def __init__(self, kernels, model, loss, opt, data, batch_size, shuffle, l2,
                 track_accuracy, multiclass, order=None):
        k = self.k = kernels
        e = k.elementwise
        self.model, self.opt = model, opt
        dtype = model.dtype
        X, T, sample_weight = data.X, data.T, data.sample_weight
        n, n_features = T.shape[0], X.shape[1]
        self.n = n
        bs = min(batch_size, n)
        full = bs >= n
        self.shuffle = shuffle and not full
        self.order = order
        self.X = np.ascontiguousarray(X, dtype=dtype)  # no copy: fit gives X in its dtype
        self.T = np.ascontiguousarray(T, dtype=dtype)
        indirect = data.rows is not None
        self.rows = (np.ascontiguousarray(data.rows, dtype=np.int64) if indirect
                     else np.empty(0, dtype=np.int64))
        weighted = sample_weight is not None
        self.sw = (np.ascontiguousarray(sample_weight, dtype=dtype).reshape(-1) if weighted
                   else np.empty(0, dtype=dtype))
        # A full batch is the same every epoch: laid out feature-major once, here.
        empty = np.empty(0, dtype=dtype)
        training_X = self.X[self.rows] if indirect and full else self.X
        self.XT = np.ascontiguousarray(training_X.T).reshape(-1) if full else empty
        self.TT = np.ascontiguousarray(self.T.T).reshape(-1) if full else empty
        self.xb = np.empty(0 if full else n_features * bs, dtype=dtype)
        self.tb = np.empty(0 if full else self.T.shape[1] * bs, dtype=dtype)
        self.wb = np.empty(bs if weighted and not full else 0, dtype=dtype)
        self.flat = model.flat_param
        dense = model.dense_layers
        layers = np.zeros((len(dense), k.LAYER_COLUMNS), dtype=np.int64)
        alphas = np.zeros(len(dense), dtype=np.float64)
        offset = ws_size = 0
        for i, layer in enumerate(dense):
            code = ACTIVATION_CODES[qualified_name(layer.activation)]
            if code == e.GELU and layer.activation.approximate == "tanh":
                code = e.GELU_TANH
            alphas[i] = getattr(layer.activation, "alpha", 0.0)
            layers[i, k.OFFSET] = offset
            layers[i, k.N_IN], layers[i, k.N_OUT] = layer.n_in, layer.n_out
            layers[i, k.HAS_BIAS] = layer.b is not None
            layers[i, k.ACT] = code
            block = bs * layer.n_out
            layers[i, k.WS_Z], layers[i, k.WS_A], layers[i, k.WS_D] = (
                ws_size, ws_size + block, ws_size + 2 * block)
            ws_size += 3 * block
            layers[i, k.USE_BLAS] = bs * layer.n_in * layer.n_out >= BLAS_MIN_MACS
            offset += (layer.n_in + (layer.b is not None)) * layer.n_out
        if offset != self.flat.value.size:
            raise RuntimeError("compiled path: the parameter layout is not the one expected")
        self.layers, self.alphas = layers, alphas
        self.ws = np.zeros(ws_size, dtype=dtype)

        cfg = self.cfg = np.zeros(k.CFG_SIZE, dtype=np.int64)
        cfg[k.C_LOSS] = LOSS_CODES[qualified_name(loss)]
        cfg[k.C_FUSED] = loss.fuses_with == dense[-1].activation.name
        cfg[k.C_OPT], *self.state_keys = OPTIMIZERS[qualified_name(opt)]
        cfg[k.C_BATCH] = bs
        cfg[k.C_ACCURACY] = track_accuracy
        cfg[k.C_MULTICLASS] = multiclass
        cfg[k.C_WEIGHTED] = weighted
        cfg[k.C_SHUFFLE] = self.shuffle
        cfg[k.C_ROWS] = n
        cfg[k.C_INDIRECT] = indirect
        cfg[k.C_NESTEROV] = bool(getattr(opt, "nesterov", False))
        cfg[k.C_DECOUPLED] = bool(getattr(opt, "decoupled", False))
        cfg[k.C_CLIP] = opt.clipnorm is not None
        hyp = self.hyp = np.zeros(k.HYP_SIZE, dtype=np.float64)
        hyp[k.H_MOMENTUM] = getattr(opt, "momentum", 0.0)
        hyp[k.H_DECAY] = opt.weight_decay
        hyp[k.H_BETA1] = getattr(opt, "beta_1", 0.0)
        hyp[k.H_BETA2] = getattr(opt, "beta_2", 0.0)
        hyp[k.H_EPS] = getattr(opt, "epsilon", 0.0)
        hyp[k.H_RHO] = getattr(opt, "alpha", 0.0)
        hyp[k.H_CLIPNORM] = opt.clipnorm or 0.0
        hyp[k.H_L2] = l2
        hyp[k.H_DELTA] = getattr(loss, "delta", 1.0)
        hyp[k.H_PROB_EPS] = float(np.finfo(dtype).eps)
        self.status = np.zeros(3, dtype=np.int64)

    def run(self, epochs: int, snapshots: np.ndarray, first_row: int,
            last_value_sq: float) -> tuple[np.ndarray, int, int]:
        """Train ``epochs`` epochs, writing snapshot rows ``first_row ...``.

        Returns ``(out, done, reason)``: ``out[e]`` = (mean loss, correct, Σθ²) for each
        epoch e < done (and for e = done when ``reason`` is WEIGHTS_DIVERGED); ``reason``
        is the kernels' OK, LOSS_NOT_FINITE or WEIGHTS_DIVERGED.
        """
        k, opt, model = self.k, self.opt, self.model
        state = opt.state_of(self.flat)
        s1_key, s2_key = self.state_keys
        empty = np.empty(0, dtype=model.dtype)
        s1 = state.get(s1_key, empty) if s1_key else empty
        s2 = state.get(s2_key, empty) if s2_key else empty
        n = self.n
        draw = model.rng.permutation if self.order is None else self.order
        orders = (np.stack([np.asarray(draw(n), dtype=np.int64) for _ in range(epochs)])
                  if self.shuffle else np.empty((0, 0), dtype=np.int64))
        cfg, hyp = self.cfg, self.hyp
        cfg[k.C_EPOCHS] = epochs
        cfg[k.C_SNAP_ROW] = first_row
        cfg[k.C_STEP] = state["step"]
        hyp[k.H_LR] = opt.lr
        hyp[k.H_LAST_SQ] = last_value_sq
        out = np.zeros((epochs, 3), dtype=np.float64)
        status = self.status
        k.run_epochs(self.XT, self.TT, self.sw, self.X, self.T, self.rows, orders,
                     self.flat.value, self.flat.grad, s1, s2, self.layers, self.alphas, self.ws,
                     self.xb, self.tb, self.wb, cfg, hyp, out, snapshots, status)
        steps = int(status[k.S_STEP]) - state["step"]
        state["step"] += steps
        opt.iterations += steps
        return out, int(status[k.S_DONE]), int(status[k.S_REASON])
