"""``explain_step``: one training step written out in the chapter's notation, as numbers.

For each layer l = 1..L the forward pass z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = g(z⁽ˡ⁾); then from
the output back δ⁽ᴸ⁾ = ∂L/∂z⁽ᴸ⁾ and δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾W⁽ˡ⁺¹⁾ᵀ) ⊙ g'(z⁽ˡ⁾), the gradients
∂L/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾ and ∂L/∂b⁽ˡ⁾ = Σₙ δ⁽ˡ⁾, and the weights after the optimiser's step.

z, a and δ are computed here with the engine's own activation and loss objects; ∂L/∂W and
∂L/∂b are the engine's (``model.loss_and_gradients``), and each layer records how far they are
from a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾ (``check``); the new weights come from the optimiser's ``step``. Batch-first,
as everywhere in the library: row i is sample i and W⁽ˡ⁾ has shape (n_in, n_out), the
transpose of the chapter's.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import optimizers as _optimizers
from ..layers import Dense, Param
from ..validation import check_X
from .findings import json_safe, sup
from .measure import forward, product, product_t, resolve_loss


@dataclass
class LayerStep:
    """The numbers of one Dense layer l in one training step (all copies).

    Attributes
    ----------
    index : int
        l, from 1 (first hidden layer) to L (output layer).
    activation : str
    a_prev : ndarray of shape (n, n_in)
        a⁽ˡ⁻¹⁾, the layer's input (X for l = 1).
    W, b : ndarray of shape (n_in, n_out) and (n_out,)
        Before the step (b None without bias).
    z, a, delta : ndarray of shape (n, n_out)
        z⁽ˡ⁾, a⁽ˡ⁾ and δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾.
    dW, db : ndarray
        ∂L/∂W⁽ˡ⁾ and ∂L/∂b⁽ˡ⁾ from ``model.loss_and_gradients``.
    W_new, b_new : ndarray
        After the optimiser's step.
    check : float
        max |a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾ − ∂L/∂W⁽ˡ⁾| (and |Σδ⁽ˡ⁾ − ∂L/∂b⁽ˡ⁾|): this module's chain rule
        against the engine's backpropagation.
    """

    index: int
    activation: str
    a_prev: np.ndarray
    W: np.ndarray
    b: np.ndarray | None
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray
    dW: np.ndarray
    db: np.ndarray | None
    W_new: np.ndarray
    b_new: np.ndarray | None
    check: float


@dataclass
class StepExplanation:
    """One training step of a small network, layer by layer (see :func:`explain_step`).

    Attributes
    ----------
    X : ndarray of shape (n, n_features)
    T : ndarray of shape (n, n_outputs)
        The targets as the loss reads them (one-hot rows for class labels).
    loss, loss_value : str, float
    output_delta : str
        How δ⁽ᴸ⁾ was formed: the fused rule or the general chain rule.
    optimizer : dict
        The optimiser's configuration.
    layers : list of LayerStep
    """

    X: np.ndarray
    T: np.ndarray
    loss: str
    loss_value: float
    output_delta: str
    optimizer: dict[str, Any]
    layers: list[LayerStep] = field(default_factory=list)
    #: ∂L/∂a⁽ᴸ⁾, shown when the loss is not fused with the output activation (else None)
    output_gradient: np.ndarray | None = None

    @property
    def sizes(self) -> list[int]:
        return [self.X.shape[1]] + [step.W.shape[1] for step in self.layers]

    @property
    def max_check(self) -> float:
        return max(step.check for step in self.layers)

    def _update_rule(self, name: str) -> str:
        if self.optimizer.get("name") == "sgd" and not self.optimizer.get("momentum") \
                and not self.optimizer.get("weight_decay"):
            return f"{name} − η·∂L/∂{name}, η = {self.optimizer['lr']:g}"
        return f"{self.optimizer.get('name', 'optimizer')} step from ∂L/∂{name}"

    def quantities(self) -> list[tuple[str, str, str, np.ndarray]]:
        """Every quantity in the order of the step: (section, symbol, formula, array)."""
        L = len(self.layers)
        out = [("forward", f"a{sup(0)}", "X", self.X)]
        for s in self.layers:
            l = s.index
            out += [("forward", f"W{sup(l)}", "", s.W)]
            if s.b is not None:
                out.append(("forward", f"b{sup(l)}", "", s.b))
            out += [("forward", f"z{sup(l)}", f"a{sup(l - 1)}W{sup(l)}"
                     + (f" + b{sup(l)}" if s.b is not None else ""), s.z),
                    ("forward", f"a{sup(l)}", f"{s.activation}(z{sup(l)})", s.a)]
        out.append(("loss", "y", "the targets", self.T))
        if self.output_gradient is not None:
            out.append(("loss", f"∂L/∂a{sup(L)}", f"the gradient of {self.loss}",
                        self.output_gradient))
        for s in reversed(self.layers):
            l = s.index
            rule = self.output_delta if l == L else \
                f"(δ{sup(l + 1)}W{sup(l + 1)}ᵀ) ⊙ {s.activation}'(z{sup(l)})"
            out += [("backward", f"δ{sup(l)}", rule, s.delta),
                    ("backward", f"∂L/∂W{sup(l)}", f"a{sup(l - 1)}ᵀδ{sup(l)}", s.dW)]
            if s.db is not None:
                out.append(("backward", f"∂L/∂b{sup(l)}", f"Σₙ δ{sup(l)}", s.db))
        for s in self.layers:
            l = s.index
            out.append(("update", f"W{sup(l)} new", self._update_rule(f"W{sup(l)}"), s.W_new))
            if s.b_new is not None:
                out.append(("update", f"b{sup(l)} new", self._update_rule(f"b{sup(l)}"),
                            s.b_new))
        return out

    def tables(self, max_rows: int | None = 6, max_cols: int | None = 6
               ) -> list[dict[str, Any]]:
        """Each quantity as a small table of formatted numbers, truncated to ``max_rows`` ×
        ``max_cols`` with its full shape: dicts with section, symbol, formula, shape, header,
        rows (what the Markdown, the terminal and the tour print)."""
        tables = []
        for section, symbol, formula, array in self.quantities():
            header, rows = matrix_table(array, max_rows, max_cols)
            tables.append({"section": section, "symbol": symbol, "formula": formula,
                           "shape": list(np.shape(array)), "header": header, "rows": rows})
        return tables

    def to_dict(self, max_rows: int | None = None, max_cols: int | None = None
                ) -> dict[str, Any]:
        """JSON-safe numbers; each array as {"shape", "values", "truncated"}."""

        def arr(a):
            return None if a is None else array_dict(a, max_rows, max_cols)

        return json_safe({
            "notation": "batch-first: row i is sample i; z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾ with W⁽ˡ⁾ "
                        "of shape (n_in, n_out), the transpose of the chapter's",
            "sizes": self.sizes, "loss": self.loss, "loss_value": self.loss_value,
            "output_delta": self.output_delta, "optimizer": self.optimizer,
            "X": arr(self.X), "y": arr(self.T), "max_check": self.max_check,
            "output_gradient": arr(self.output_gradient),
            "layers": [{"l": s.index, "activation": s.activation, "W": arr(s.W), "b": arr(s.b),
                        "z": arr(s.z), "a": arr(s.a), "delta": arr(s.delta), "dW": arr(s.dW),
                        "db": arr(s.db), "W_new": arr(s.W_new), "b_new": arr(s.b_new),
                        "check": s.check} for s in self.layers]})

    def heading(self) -> str:
        acts = " → ".join(s.activation for s in self.layers)
        opt = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in self.optimizer.items() if k in ("lr", "momentum"))
        return (f"One training step of {self.sizes} ({acts}), loss {self.loss}, "
                f"{self.optimizer.get('name', 'optimizer')}({opt}), n = {self.X.shape[0]} rows")

    def to_markdown(self, max_rows: int | None = 6, max_cols: int | None = 6) -> str:
        """The step as Markdown: one small table per quantity, under Forward, Loss, Backward
        and Update headings."""
        lines = [f"## {self.heading()}", "",
                 "Batch-first, as in the library: row i of every matrix is sample i, and "
                 "z⁽ˡ⁾ = a⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾ with W⁽ˡ⁾ of shape (n_in, n_out), the transpose of "
                 "the chapter's W⁽ˡ⁾. ∂L/∂W and ∂L/∂b come from the engine's "
                 f"backpropagation; they equal a⁽ˡ⁻¹⁾ᵀδ⁽ˡ⁾ and Σₙ δ⁽ˡ⁾ to "
                 f"{self.max_check:.1e}."]
        L = len(self.layers)
        titles = {"forward": "Forward pass",
                  "loss": f"Loss: L = {self.loss}(a{sup(L)}, y) = {self.loss_value:.6g}",
                  "backward": "Backward pass", "update": "Update"}
        section = None
        for t in self.tables(max_rows, max_cols):
            if t["section"] != section:
                section = t["section"]
                lines += ["", f"### {titles[section]}"]
            shape = " × ".join(map(str, t["shape"]))
            formula = f" = {t['formula']}" if t["formula"] else ""
            lines += ["", f"**{t['symbol']}**{formula}  ({shape})", "",
                      "| " + " | ".join(t["header"]) + " |",
                      "|" + "|".join("---:" for _ in t["header"]) + "|"]
            lines += ["| " + " | ".join(row) + " |" for row in t["rows"]]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_markdown()


# -- formatting ----------------------------------------------------------------------------
def _number(x: float) -> str:
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.4f}"
    return f"{x:.3e}"


def _kept(n: int, limit: int | None) -> tuple[list[int], bool]:
    """Indices shown out of n: all, or the first limit − 1 and the last."""
    if limit is None or n <= limit:
        return list(range(n)), False
    return list(range(max(1, limit - 1))) + [n - 1], True


def matrix_table(array: np.ndarray, max_rows: int | None, max_cols: int | None
                 ) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of formatted numbers; a vector is one row. Cut rows and columns are
    marked ⋮ and …; the header names the columns (1-based) and the first cell each row."""
    a = np.atleast_2d(np.asarray(array, dtype=np.float64))
    vector = np.ndim(array) == 1
    rows, cut_rows = _kept(a.shape[0], max_rows)
    cols, cut_cols = _kept(a.shape[1], max_cols)
    header = [""] + [str(j + 1) for j in cols]
    if cut_cols:
        header.insert(len(header) - 1, "…")
    body = []
    for pos, i in enumerate(rows):
        if cut_rows and pos == len(rows) - 1:
            body.append(["⋮"] + ["⋮"] * (len(header) - 1))
        cells = [_number(a[i, j]) for j in cols]
        if cut_cols:
            cells.insert(len(cells) - 1, "…")
        body.append(["" if vector else str(i + 1)] + cells)
    return header, body


def array_dict(array: np.ndarray, max_rows: int | None, max_cols: int | None
               ) -> dict[str, Any]:
    """{"shape", "values", "truncated"}: the first max_rows × max_cols values, as lists."""
    a = np.asarray(array)
    shown = a[:max_rows] if max_rows is not None else a
    if a.ndim == 2 and max_cols is not None:
        shown = shown[:, :max_cols]
    elif a.ndim == 1 and max_cols is not None:
        shown = a[:max_cols]
    return {"shape": list(a.shape), "values": shown.tolist(),
            "truncated": shown.shape != a.shape}


# -- the step ------------------------------------------------------------------------------
def backpropagate(model: Any, X: np.ndarray, T: np.ndarray, loss_fn: Any) -> tuple:
    """The chapter's forward and backward pass over the Dense layers, in plain NumPy with the
    engine's activation and loss objects, touching nothing in the model (Dropout, whose
    masks would draw from the model's random stream, is left out: inference mode).

    Returns
    -------
    (inputs, zs, outs, deltas, output_rule, output_gradient)
        Per layer a⁽ˡ⁻¹⁾, z⁽ˡ⁾, a⁽ˡ⁾ and δ⁽ˡ⁾; how δ⁽ᴸ⁾ was formed; ∂L/∂a⁽ᴸ⁾ when the loss
        is not fused with the output activation (else None). ∂L/∂W⁽ˡ⁾ = inputs[l]ᵀ·deltas[l].
    """
    dense, weights = model.dense_layers, model.weights
    inputs, zs, outs = forward(model, X)
    last, top = dense[-1].activation, sup(len(dense))
    output_gradient = None
    if loss_fn.fuses_with == last.name:
        delta = loss_fn.fused_gradient(outs[-1], T)
        output_rule = f"(a{top} − y)/N, the fused {last.name} + {loss_fn.name} gradient"
    else:
        output_gradient = loss_fn.gradient(outs[-1], T)
        delta = last.backward(output_gradient.copy(), zs[-1], outs[-1])
        output_rule = f"∂L/∂a{top} ⊙ {last.name}'(z{top})"
    deltas = [None] * len(dense)
    for k in range(len(dense) - 1, -1, -1):
        deltas[k] = delta
        if k:
            back = product(delta, weights[k].T.astype(delta.dtype, copy=False))
            delta = dense[k - 1].activation.backward(back, zs[k - 1], outs[k - 1])
    return inputs, zs, outs, deltas, output_rule, output_gradient


def gradient_norms(model: Any, X: np.ndarray, T: np.ndarray, loss_fn: Any) -> np.ndarray:
    """‖∂L/∂W⁽ˡ⁾‖ of every Dense layer on (X, T), without side effects on the model."""
    with np.errstate(over="ignore", invalid="ignore"):
        inputs, _, _, deltas, _, _ = backpropagate(model, X, T, loss_fn)
        return np.array([np.linalg.norm(product_t(a, d)) for a, d in zip(inputs, deltas)])


def explain_step(model: Any, X: Any, y: Any, loss: Any = None, optimizer: Any = None
                 ) -> StepExplanation:
    """Take one training step of ``model`` on (X, y) on paper: every z, a, δ and gradient,
    and the weights the optimiser's step would give. The model itself is not changed.

    Parameters
    ----------
    model : Sequential or MLP
        Dense layers only (a Dropout layer would make the step random).
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    loss : str or Loss, optional
        Default: the loss of the model's last ``fit``.
    optimizer : str or Optimizer, optional
        Default ``SGD(lr=0.1)``. A copy takes the step from a fresh state (Adam's first
        step, say); the optimiser passed in is not touched.

    Returns
    -------
    StepExplanation
        ``.layers[l - 1]`` holds z⁽ˡ⁾, a⁽ˡ⁾, δ⁽ˡ⁾, ∂L/∂W⁽ˡ⁾, ∂L/∂b⁽ˡ⁾ and the new W⁽ˡ⁾, b⁽ˡ⁾;
        ``.to_markdown()``, ``.to_dict()`` and ``.tables()`` present them.

    Examples
    --------
    >>> import backprop as bp
    >>> model = bp.MLP([2, 4, 1], activation="relu", output_activation="sigmoid", seed=0,
    ...                dtype="float64")
    >>> step = bp.explain_step(model, [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0],
    ...                        loss="mse", optimizer=bp.SGD(lr=0.1))
    >>> step.layers[0].z.shape, step.max_check < 1e-12
    ((4, 4), True)
    """
    loss_fn = resolve_loss(model, loss)
    extra = [layer for layer in model.layers if not isinstance(layer, Dense)]
    if extra:
        raise ValueError(f"explain_step shows networks of Dense layers only; this model also "
                         f"has {extra[0]!r}: build it without dropout to explain a step")
    opt = copy.deepcopy(_optimizers.get(optimizer if optimizer is not None
                                        else _optimizers.SGD(lr=0.1)))
    opt.reset()
    dtype = model.dtype
    X = check_X(X, model.n_features, dtype)
    T = loss_fn.prepare_targets(y, model.n_outputs, dtype)
    if X.shape[0] != T.shape[0]:
        raise ValueError(f"X and y have different numbers of rows: X has {X.shape[0]}, "
                         f"y has {T.shape[0]}")
    inputs, zs, outs, deltas, output_rule, output_gradient = backpropagate(model, X, T,
                                                                           loss_fn)
    dense, weights, biases = model.dense_layers, model.weights, model.biases
    value, grads = model.loss_and_gradients(X, T, loss=loss_fn)
    params = []
    for k, (W, b) in enumerate(zip(weights, biases)):
        dW, db = grads[k]
        params.append(Param(f"dense_{k + 1}.W", W.copy(), dW.copy()))
        if b is not None:
            params.append(Param(f"dense_{k + 1}.b", b.copy(), db.copy()))
    opt.step(params)
    new = iter(params)

    steps = []
    for k, (layer, W, b) in enumerate(zip(dense, weights, biases)):
        dW, db = grads[k]
        check = float(np.max(np.abs(product_t(inputs[k], deltas[k]) - dW)))
        if b is not None:
            check = max(check, float(np.max(np.abs(deltas[k].sum(axis=0) - db))))
        W_new = next(new).value
        b_new = next(new).value if b is not None else None
        steps.append(LayerStep(k + 1, layer.activation.name, inputs[k].copy(), W.copy(),
                               None if b is None else b.copy(), zs[k], outs[k], deltas[k],
                               dW, db, W_new, b_new, check))
    return StepExplanation(X.copy(), T.copy(), loss_fn.name, float(value), output_rule,
                           opt.get_config(), steps, output_gradient)
