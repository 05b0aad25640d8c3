"""Loss functions: ``value`` and ``gradient``, with fused, stable paths for the classic pairs.

Every loss works on the network output ``a`` of shape (n_samples, n_outputs) and a target
matrix ``T`` of the same shape, prepared once per fit by :meth:`Loss.prepare_targets`
(integer class labels become one-hot rows, a 1-D ``y`` becomes a column).

- ``value(a, T, z=None)``: the scalar loss. A fused loss given the logits ``z`` computes it
  from them (log-sum-exp / softplus forms), never from a saturated probability.
- ``gradient(a, T)``: ∂L/∂a, for the general chain rule through any output activation.
- ``fused_gradient(a, T)``: ∂L/∂z = (a − T)/N for sigmoid + binary cross-entropy and
  softmax + categorical cross-entropy, skipping the output activation's Jacobian.

Averaging follows the issue and PyTorch/Keras: mse, mae, huber, poisson and binary
cross-entropy are means over all elements (N = n·k); categorical cross-entropy is a mean over
samples (N = n).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ._fast.numpy_direct import vdot
from ._registry import Registry
from .validation import check_numeric_array


class Loss:
    """Base class for losses. ``fuses_with`` names the output activation with a fused path."""

    name = "loss"
    fuses_with: str | None = None
    #: a classification loss: accuracy is reported by default
    classification = False
    smooth = True

    # -- targets --------------------------------------------------------------------------
    def prepare_targets(self, y: Any, n_outputs: int, dtype: Any) -> np.ndarray:
        """Validate ``y`` and return the target matrix ``T`` (n_samples, n_outputs)."""
        T = _as_target_matrix(y, n_outputs, self.name)
        return np.ascontiguousarray(T, dtype=dtype)

    # -- maths ----------------------------------------------------------------------------
    def value(self, a: np.ndarray, T: np.ndarray, z: np.ndarray | None = None) -> float:
        raise NotImplementedError

    def gradient(self, a: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def elementwise(self, a: np.ndarray, T: np.ndarray, z: np.ndarray | None = None):
        """Per-element losses (n, k) (per-sample (n, 1) for categorical cross-entropy);
        ``value`` is their mean."""
        raise NotImplementedError

    def weighted_value(self, a, T, z, sample_weight: np.ndarray) -> float:
        """Mean of the per-element losses, each sample's row scaled by ``sample_weight``
        (n, 1)."""
        return float(np.mean(self.elementwise(a, T, z) * sample_weight))

    def fused_gradient(self, a: np.ndarray, T: np.ndarray) -> np.ndarray:
        """(a − T)/N, valid only when the output activation is ``fuses_with``."""
        grad = np.subtract(a, T)
        grad *= 1.0 / self._denominator(a)
        return grad

    def fused_value_and_gradient(
        self, a: np.ndarray, T: np.ndarray, z: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """``(value, ∂L/∂z)`` for the fused pair, sharing work between the two."""
        return self.value(a, T, z), self.fused_gradient(a, T)

    def _denominator(self, a: np.ndarray) -> int:
        return a.size

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


LOSSES: Registry[Loss] = Registry("loss", Loss)


def get(spec: Any) -> Loss:
    """Resolve a loss by name (``"mse"``), config dict or instance."""
    return LOSSES.get(spec)


def _as_target_matrix(y: Any, n_outputs: int, loss_name: str) -> np.ndarray:
    T = check_numeric_array("y", y)
    if T.ndim == 1:
        if n_outputs != 1:
            raise ValueError(
                f"y is 1-D but the model has {n_outputs} outputs; for {loss_name} pass y of "
                f"shape (n_samples, {n_outputs})"
            )
        return T.reshape(-1, 1)
    if T.ndim != 2 or T.shape[1] != n_outputs:
        raise ValueError(
            f"y must have shape (n_samples,) or (n_samples, {n_outputs}) to match the model's "
            f"{n_outputs} outputs; got shape {T.shape}"
        )
    return T


@LOSSES.register("mse", "mean_squared_error")
class MeanSquaredError(Loss):
    """L = ½ · mean((a − y)²) over all elements (the chapter's ½·(1/m)Σ for one output)."""

    name = "mse"

    def elementwise(self, a, T, z=None):
        return 0.5 * np.square(a - T)

    def value(self, a, T, z=None):
        diff = np.subtract(a, T)
        return 0.5 * float(vdot(diff, diff)) / diff.size

    def gradient(self, a, T):
        grad = np.subtract(a, T)
        grad *= 1.0 / grad.size
        return grad


@LOSSES.register("mae", "mean_absolute_error", "l1")
class MeanAbsoluteError(Loss):
    """L = mean|a − y| over all elements; subgradient 0 where a = y (as PyTorch)."""

    name = "mae"
    smooth = False

    def elementwise(self, a, T, z=None):
        return np.abs(a - T)

    def value(self, a, T, z=None):
        return float(np.abs(np.subtract(a, T)).mean())

    def gradient(self, a, T):
        grad = np.sign(np.subtract(a, T))
        grad *= 1.0 / grad.size
        return grad


@LOSSES.register("huber", "smooth_l1")
class Huber(Loss):
    """Elementwise ½r² for |r| ≤ δ and δ(|r| − ½δ) beyond, averaged over all elements."""

    name = "huber"
    smooth = False  # continuous slope, but the second derivative jumps at |r| = δ

    def __init__(self, delta: float = 1.0) -> None:
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0:
            raise ValueError(f"huber delta must be a positive number; got delta={delta!r}")
        self.delta = float(delta)

    def elementwise(self, a, T, z=None):
        r = np.abs(a - T)
        q = np.minimum(r, self.delta)
        return 0.5 * q * q + self.delta * (r - q)

    def value(self, a, T, z=None):
        r = np.abs(np.subtract(a, T))
        quadratic = np.minimum(r, self.delta)
        # ½q² + δ(|r| − q) equals ½r² inside the band and δ(|r| − ½δ) outside it.
        total = 0.5 * vdot(quadratic, quadratic) + self.delta * float((r - quadratic).sum())
        return float(total) / r.size

    def gradient(self, a, T):
        grad = np.subtract(a, T)
        np.clip(grad, -self.delta, self.delta, out=grad)
        grad *= 1.0 / grad.size
        return grad

    def get_config(self):
        return {"name": self.name, "delta": self.delta}


@LOSSES.register("poisson", "poisson_nll")
class Poisson(Loss):
    """Half the Poisson deviance with a log link: the network's output ``a`` is log μ.

    L = mean(e^a − y·a + y·log y − y) over all elements (y·log y = 0 at y = 0) and
    ∂L/∂a = (e^a − y)/N. L is 0 where e^a = y. Pair it with an identity output layer and
    read e^a as the predicted mean: a Poisson GLM's log link, scikit-learn's
    ``MLPRegressor(loss="poisson")``, PyTorch's ``PoissonNLLLoss(log_input=True)`` (which
    leaves out the constant y·log y − y). Targets are counts or rates: non-negative.
    """

    name = "poisson"

    def prepare_targets(self, y, n_outputs, dtype):
        T = _as_target_matrix(y, n_outputs, self.name)
        if np.any(T < 0):
            row = int(np.flatnonzero((T < 0).any(axis=1))[0])
            raise ValueError(
                "poisson needs non-negative targets (counts or rates); y contains "
                f"{np.asarray(T)[T < 0].min()!r} (first negative at row {row})"
            )
        return np.ascontiguousarray(T, dtype=dtype)

    @staticmethod
    def _constant(T: np.ndarray) -> np.ndarray:
        """y·log y − y, with 0·log 0 = 0: makes the loss 0 at a perfect prediction."""
        return T * np.log(np.where(T > 0, T, 1)) - T

    def elementwise(self, a, T, z=None):
        return np.exp(a) - T * a + self._constant(T)

    def value(self, a, T, z=None):
        total = float(np.add.reduce(np.exp(a), axis=None)) - float(vdot(T, a))
        return (total + float(np.add.reduce(self._constant(T), axis=None))) / a.size

    def gradient(self, a, T):
        grad = np.exp(a)
        grad -= T
        grad *= 1.0 / grad.size
        return grad


def _clip_probabilities(a: np.ndarray) -> np.ndarray:
    eps = np.finfo(a.dtype).eps
    return np.clip(a, eps, 1 - eps)


@LOSSES.register("binary_crossentropy", "bce", "binary_cross_entropy", "log_loss")
class BinaryCrossEntropy(Loss):
    """L = −mean(y log p + (1 − y) log(1 − p)) over all elements; labels must be 0 or 1.

    With a sigmoid output the value comes from the logits z as
    mean(max(z, 0) − z·y + log(1 + e^{−|z|})) and ∂L/∂z = (p − y)/N.
    """

    name = "binary_crossentropy"
    fuses_with = "sigmoid"
    classification = True

    def prepare_targets(self, y, n_outputs, dtype):
        T = _as_target_matrix(y, n_outputs, self.name)
        bad = (T != 0) & (T != 1)
        if bad.any():
            values = np.unique(np.asarray(T)[bad])[:5]
            raise ValueError(
                "binary_crossentropy needs labels 0 or 1; y contains "
                f"{', '.join(repr(v.item()) for v in values)}"
            )
        return np.ascontiguousarray(T, dtype=dtype)

    def elementwise(self, a, T, z=None):
        if z is not None:
            return np.maximum(z, 0) - z * T + np.log1p(np.exp(-np.abs(z)))
        p = _clip_probabilities(a)
        return -(T * np.log(p) + (1 - T) * np.log1p(-p))

    def value(self, a, T, z=None):
        if z is not None and z.size <= 64:
            # log(1 + e^z) in one call: np.logaddexp is slow per element but cheapest on the
            # handful of outputs of a tiny batch.
            return (float(np.add.reduce(np.logaddexp(0, z), axis=None))
                    - float(vdot(z, T))) / z.size
        if z is not None:
            loss = np.abs(z)
            np.negative(loss, out=loss)
            np.exp(loss, out=loss)
            np.log1p(loss, out=loss)
            loss += np.maximum(z, 0)
            # mean(softplus(z) − z·y), the sums taken directly (np.mean adds Python overhead)
            return (float(np.add.reduce(loss, axis=None)) - float(vdot(z, T))) / z.size
        p = _clip_probabilities(a)
        return -float(np.mean(T * np.log(p) + (1 - T) * np.log1p(-p)))

    def gradient(self, a, T):
        p = _clip_probabilities(a)
        grad = (p - T) / (p * (1 - p))
        grad *= 1.0 / grad.size
        return grad


@LOSSES.register("categorical_crossentropy", "cce", "cross_entropy", "categorical_cross_entropy")
class CategoricalCrossEntropy(Loss):
    """L = −(1/n) Σᵢ Σₖ yᵢₖ log pᵢₖ, a mean over samples.

    ``y`` may be integer class labels (n,) or one-hot / probability rows (n, K). With a
    softmax output the value is computed from the logits through log-sum-exp and
    ∂L/∂z = (p − y)/n.
    """

    name = "categorical_crossentropy"
    fuses_with = "softmax"
    classification = True

    def prepare_targets(self, y, n_outputs, dtype):
        labels = check_numeric_array("y", y)
        if n_outputs < 2:
            raise ValueError(
                "categorical_crossentropy needs at least 2 outputs (one per class); the model "
                f"has {n_outputs}: use binary_crossentropy with a sigmoid output instead"
            )
        if labels.ndim == 1:
            if labels.dtype.kind == "f" and np.any(labels != np.round(labels)):
                raise ValueError("class labels must be integers; y contains non-integer values")
            idx = labels.astype(np.int64)
            bad = (idx < 0) | (idx >= n_outputs)
            if bad.any():
                raise ValueError(
                    f"class label {idx[bad][0]} is outside 0..{n_outputs - 1} for a model "
                    f"with {n_outputs} outputs"
                )
            T = np.zeros((idx.size, n_outputs), dtype=dtype)
            T[np.arange(idx.size), idx] = 1
            return T
        T = _as_target_matrix(labels, n_outputs, self.name)
        if np.any(T < 0) or not np.allclose(T.sum(axis=1), 1.0, atol=1e-6):
            raise ValueError(
                "one-hot y for categorical_crossentropy must have non-negative rows that sum to 1"
            )
        return np.ascontiguousarray(T, dtype=dtype)

    def elementwise(self, a, T, z=None):
        if z is not None:
            shifted = z - z.max(axis=1, keepdims=True)
            shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            return -(T * shifted).sum(axis=1, keepdims=True)
        return -(T * np.log(_clip_probabilities(a))).sum(axis=1, keepdims=True)

    def value(self, a, T, z=None):
        n = a.shape[0]
        if z is not None:
            shifted = z - z.max(axis=1, keepdims=True)
            log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            shifted -= log_norm  # log-softmax
            return -float(vdot(T, shifted)) / n
        return -float(vdot(T, np.log(_clip_probabilities(a)))) / n

    def gradient(self, a, T):
        grad = -T / _clip_probabilities(a)
        grad *= 1.0 / a.shape[0]
        return grad

    def fused_value_and_gradient(self, a, T, z):
        # −Σ y log p straight from the softmax output: log p is as precise as p (no
        # cancellation); only an underflowed p = 0 needs the log-sum-exp path on the logits.
        value = -float(vdot(T, np.log(a))) / a.shape[0] if a.min() > 0 else math.inf
        if not math.isfinite(value):
            value = self.value(a, T, z)
        return value, self.fused_gradient(a, T)

    def _denominator(self, a):
        return a.shape[0]


def accuracy(a: np.ndarray, T: np.ndarray) -> float:
    """Fraction of correct predictions.

    One output or multi-label targets: threshold 0.5 on every output (elementwise, as Keras's
    binary accuracy). One-hot targets over several outputs: arg-max agreement.
    """
    multiclass = _is_multiclass(T)
    return correct_count(a, T, multiclass) / (a.shape[0] if multiclass else a.size)


def correct_count(a: np.ndarray, T: np.ndarray, multiclass: bool | None = None) -> int:
    """Number of correct predictions (see :func:`accuracy`); ``multiclass`` may be precomputed."""
    if multiclass is None:
        multiclass = _is_multiclass(T)
    if multiclass:
        return int(np.count_nonzero(a.argmax(axis=1) == T.argmax(axis=1)))
    return int(np.count_nonzero((a > 0.5) == (T > 0.5)))


def _is_multiclass(T: np.ndarray) -> bool:
    if T.shape[1] < 2:
        return False
    # One-hot rows sum to one; multi-label rows need not.
    return bool(np.all(np.abs(T.sum(axis=1) - 1) < 1e-6))


def is_classification_target(T: np.ndarray) -> bool:
    """True when every target is 0 or 1 (binary, multi-label or one-hot)."""
    return bool(np.all((T == 0) | (T == 1)))


# -- which output layer goes with which loss ---------------------------------------------------
#: output activations whose values are probabilities (sigmoid: each unit; softmax: each row)
PROBABILITY_OUTPUTS = frozenset({"sigmoid", "softmax"})
#: registered output activations whose values are not probabilities
NON_PROBABILITY_OUTPUTS = frozenset({"identity", "tanh", "relu", "leaky_relu", "elu", "selu",
                                     "softplus", "swish", "gelu"})
SINGLE_SOFTMAX = ("a softmax over a single output unit always outputs 1 whatever its input, so "
                  "every gradient is exactly 0 and the network cannot learn")


class Pairing(NamedTuple):
    """An impossible (loss, output layer) pair: what goes wrong and the pairing to use."""

    problem: str
    activation: str
    loss: str
    note: str

    def message(self, style: str = "python") -> str:
        """The advice, with Python keywords or (``style="cli"``) command-line options."""
        if style == "cli":
            use = f"--output-activation {self.activation} --loss {self.loss}"
        else:
            use = f"output_activation={self.activation!r} with loss={self.loss!r}"
        return f"{self.problem}; use {use} ({self.note})"


def pairing_problem(loss: Any, activation: Any, n_outputs: int) -> Pairing | None:
    """The reason ``loss`` cannot train an output layer of ``n_outputs`` units with
    ``activation``, or None when the pair can learn.

    A cross-entropy reads the output as probabilities: the binary one as independent
    probabilities in (0, 1) (sigmoid units), the categorical one as a distribution over the
    classes (a softmax row). ``loss.fuses_with`` names the output each loss expects. Refused:

    - a softmax over one unit (its output is the constant 1), whatever the loss;
    - a cross-entropy with an output that is not a probability (identity, ReLU, tanh, ...):
      the loss can fall towards −∞ or 0 while accuracy stays at chance;
    - categorical cross-entropy with sigmoid units: nothing makes the classes compete, so
      every unit is pushed to 1.

    Activations this table does not know (registered by a user) are let through.
    """
    loss = get(loss)
    name = getattr(activation, "name", activation)
    if name == "softmax" and n_outputs == 1:
        return Pairing(SINGLE_SOFTMAX, "sigmoid", "binary_crossentropy",
                       "one sigmoid unit for two classes, or a softmax with one unit per class "
                       "and categorical_crossentropy")
    if loss.fuses_with == "softmax":
        if name == "sigmoid":
            return Pairing(f"{loss.name} with sigmoid outputs pushes every unit towards 1 "
                           "(independent sigmoids do not compete for one class), so every "
                           "prediction ends near 1.0", "softmax", loss.name,
                           "one unit per class; for multi-label targets use sigmoid units with "
                           "binary_crossentropy")
        if name in NON_PROBABILITY_OUTPUTS:
            return Pairing(f"{loss.name} needs class probabilities, but {_a(name)} output "
                           "gives values that are not (the loss falls while accuracy stays "
                           "at chance)", "softmax", loss.name, "one unit per class")
    if loss.fuses_with == "sigmoid" and name in NON_PROBABILITY_OUTPUTS:
        return Pairing(f"{loss.name} needs probabilities in (0, 1), but {_a(name)} output "
                       "gives values outside that range", "sigmoid", loss.name,
                       "one unit per 0/1 label; for a numeric target keep the identity output "
                       "and use mse")
    return None


def _a(name: str) -> str:
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"


def check_pairing(loss: Any, activation: Any, n_outputs: int) -> None:
    """Raise ``ValueError`` naming the right pairing when :func:`pairing_problem` finds one."""
    problem = pairing_problem(loss, activation, n_outputs)
    if problem is not None:
        raise ValueError(problem.message())


def pairing_hint(loss: Any, activation: Any) -> str | None:
    """For a loss that reads probabilities and an output activation this module does not
    know: the usual pairing, as a hint when training diverges (else None)."""
    loss = get(loss)
    name = getattr(activation, "name", activation)
    if loss.fuses_with is None or name in PROBABILITY_OUTPUTS | NON_PROBABILITY_OUTPUTS:
        return None
    return (f"{loss.name} reads the outputs as probabilities, and the output activation "
            f"{name!r} is not known to produce them; the usual pairing is a "
            f"{loss.fuses_with} output with {loss.name}")
