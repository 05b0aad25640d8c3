"""Activation functions: one object each, forward and derivative side by side.

Every activation implements

- ``forward(z, out=None) -> a``: the function, elementwise (softmax: row-wise). ``out`` may be
  ``z`` itself when the caller no longer needs ``z``.
- ``backward(dy, z, a) -> dz``: the chain rule ``dz = dy ⊙ g'(z)``. ``dy`` may be overwritten.
  Where the maths allows, the derivative is written through the cached output ``a``
  (sigmoid ``a(1−a)``, tanh ``1−a²``, relu ``[a>0]``), so ``z`` need not be kept:
  ``needs_input`` says whether it is.
- ``derivative(z)``: ``g'(z)`` elementwise, for plots and tests (softmax: the Jacobian's
  diagonal ``aᵢ(1−aᵢ)``).

All of them are written so that no overflow warning and no NaN appears for |z| up to 1e4 in
float32 and float64: sigmoid goes through tanh, exponentials only ever see non-positive
arguments, softmax subtracts the row maximum.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._registry import Registry

try:  # SciPy's ufuncs when available (it comes with scikit-learn); NumPy-only fallbacks below.
    from scipy.special import erf as _erf
    from scipy.special import expit as _expit
except ImportError:  # pragma: no cover - exercised only without SciPy
    _erf_scalar = np.frompyfunc(math.erf, 1, 1)
    _expit = None

    def _erf(x: np.ndarray) -> np.ndarray:
        return _erf_scalar(x).astype(x.dtype)


class Activation:
    """Base class. Subclasses set ``name`` and implement ``forward`` and ``backward``."""

    name = "activation"
    #: backward needs the pre-activation ``z`` (not only the output ``a``)
    needs_input = False
    #: continuously differentiable everywhere (gradcheck chooses its step from this)
    smooth = True
    #: applied row-wise rather than elementwise
    rowwise = False

    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray, z: np.ndarray | None, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """``g'(z)`` elementwise, shape of ``z``."""
        z = np.asarray(z)
        if self.rowwise:
            a = self.forward(z)
            return a * (1 - a)
        return self.backward(np.ones_like(z), z, self.forward(z))

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.forward(np.asarray(z))

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}

    def __repr__(self) -> str:
        options = {k: v for k, v in self.get_config().items() if k != "name"}
        inner = ", ".join(f"{k}={v!r}" for k, v in options.items())
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Activation) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.get_config().items())))


ACTIVATIONS: Registry[Activation] = Registry("activation", Activation)


def get(spec: Any) -> Activation:
    """Resolve an activation by name (``"relu"``), config dict or instance."""
    return ACTIVATIONS.get(spec)


def _sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    if _expit is not None:  # one stable ufunc call
        return _expit(z, out=out)
    # σ(z) = ½(1 + tanh(z/2)): stable for any z and cheaper than exp-based forms.
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


@ACTIVATIONS.register("identity", "linear")
class Identity(Activation):
    """g(z) = z, g'(z) = 1."""

    name = "identity"

    def forward(self, z, out=None):
        if out is None or out is z:
            return z
        np.copyto(out, z)
        return out

    def backward(self, dy, z, a):
        return dy


@ACTIVATIONS.register("sigmoid", "logistic")
class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^{−z}), σ'(z) = σ(z)(1 − σ(z))."""

    name = "sigmoid"

    def forward(self, z, out=None):
        if _expit is not None:  # one stable ufunc call (and one Python call fewer)
            return _expit(z, out=out)
        return _sigmoid(z, out)

    def backward(self, dy, z, a):
        slope = np.subtract(1, a)
        slope *= a
        dy *= slope
        return dy


@ACTIVATIONS.register("tanh")
class Tanh(Activation):
    """tanh(z), derivative 1 − tanh²(z)."""

    name = "tanh"

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def backward(self, dy, z, a):
        slope = np.square(a)
        np.subtract(1, slope, out=slope)
        dy *= slope
        return dy


@ACTIVATIONS.register("relu")
class ReLU(Activation):
    """max(0, z); derivative 1 for z > 0 and 0 otherwise (0 at the kink, as PyTorch)."""

    name = "relu"
    smooth = False

    def forward(self, z, out=None):
        return np.maximum(z, 0, out=out)

    def backward(self, dy, z, a):
        # a > 0 exactly where z > 0, so the output is enough.
        np.multiply(dy, a > 0, out=dy)
        return dy


@ACTIVATIONS.register("leaky_relu", "leakyrelu")
class LeakyReLU(Activation):
    """z for z > 0, αz otherwise (α ≥ 0, default 0.01)."""

    name = "leaky_relu"
    smooth = False

    def __init__(self, alpha: float = 0.01) -> None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0:
            raise ValueError(f"leaky_relu alpha must be a number ≥ 0; got alpha={alpha!r}")
        self.alpha = float(alpha)

    def forward(self, z, out=None):
        scaled = np.multiply(z, self.alpha)
        return np.where(z > 0, z, scaled) if out is None else _where_into(out, z > 0, z, scaled)

    def backward(self, dy, z, a):
        # For α > 0 the sign of a equals the sign of z; for α = 0 this is relu's rule.
        return np.where(a > 0, dy, np.multiply(dy, self.alpha))

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}


def _where_into(out: np.ndarray, cond: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # ``out`` is often ``x`` itself (a hidden layer overwriting z): write y only where the
    # condition fails, so x's kept entries are never overwritten before they are read.
    if out is not x:
        np.copyto(out, x)
    np.copyto(out, y, where=~cond)
    return out


@ACTIVATIONS.register("elu")
class ELU(Activation):
    """z for z > 0, α(e^z − 1) otherwise; derivative 1 or α e^z = a + α."""

    name = "elu"
    smooth = False  # continuous slope only for α = 1, and even then g'' jumps at 0

    def __init__(self, alpha: float = 1.0) -> None:
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
            raise ValueError(f"elu alpha must be a positive number; got alpha={alpha!r}")
        self.alpha = float(alpha)

    def forward(self, z, out=None):
        negative = np.minimum(z, 0)  # expm1 only ever sees z ≤ 0: no overflow
        np.expm1(negative, out=negative)
        negative *= self.alpha
        return np.where(z > 0, z, negative) if out is None else _where_into(out, z > 0, z, negative)

    def backward(self, dy, z, a):
        return np.where(a > 0, dy, dy * (a + self.alpha))

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha}


@ACTIVATIONS.register("selu")
class SELU(Activation):
    """λ·z for z > 0, λα(e^z − 1) otherwise, with the self-normalising λ, α of Klambauer 2017."""

    name = "selu"
    smooth = False
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    def forward(self, z, out=None):
        negative = np.minimum(z, 0)
        np.expm1(negative, out=negative)
        negative *= self.alpha
        a = np.where(z > 0, z, negative) if out is None else _where_into(out, z > 0, z, negative)
        a *= self.scale
        return a

    def backward(self, dy, z, a):
        return np.where(a > 0, dy * self.scale, dy * (a + self.scale * self.alpha))


@ACTIVATIONS.register("softplus")
class Softplus(Activation):
    """log(1 + e^z), written as max(z, 0) + log1p(e^{−|z|}); derivative σ(z)."""

    name = "softplus"
    needs_input = True

    def forward(self, z, out=None):
        tail = np.abs(z)
        np.negative(tail, out=tail)
        np.exp(tail, out=tail)
        np.log1p(tail, out=tail)
        out = np.maximum(z, 0, out=out)
        out += tail
        return out

    def backward(self, dy, z, a):
        dy *= _sigmoid(z)
        return dy


@ACTIVATIONS.register("swish", "silu")
class Swish(Activation):
    """z·σ(z); derivative σ(z)(1 + z(1 − σ(z)))."""

    name = "swish"
    needs_input = True

    def forward(self, z, out=None):
        s = _sigmoid(z)
        return np.multiply(z, s, out=out)

    def backward(self, dy, z, a):
        s = _sigmoid(z)
        slope = np.subtract(1, s)
        slope *= z
        slope += 1
        slope *= s
        dy *= slope
        return dy


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@ACTIVATIONS.register("gelu")
class GELU(Activation):
    """z·Φ(z) with Φ the standard normal CDF (exact, through erf), or the tanh approximation.

    Parameters
    ----------
    approximate : {"none", "tanh"}
        ``"none"`` (default) is exact; ``"tanh"`` is
        ½z(1 + tanh(√(2/π)(z + 0.044715 z³))), as in BERT/GPT-2 and PyTorch's
        ``approximate="tanh"``.
    """

    name = "gelu"
    needs_input = True

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu approximate must be 'none' or 'tanh'; got {approximate!r}")
        self.approximate = approximate

    def _tanh_inner(self, z):
        inner = np.square(z)
        inner *= 0.044715
        inner += 1
        inner *= z
        inner *= _SQRT_2_OVER_PI
        return np.tanh(inner, out=inner)

    def forward(self, z, out=None):
        if self.approximate == "tanh":
            t = self._tanh_inner(z)
        else:
            t = _erf(z * (1 / math.sqrt(2.0)))
        t += 1
        t *= 0.5
        return np.multiply(z, t, out=out)

    def backward(self, dy, z, a):
        if self.approximate == "tanh":
            t = self._tanh_inner(z)
            # d/dz [½z(1+t)] = ½(1+t) + ½z(1−t²)·√(2/π)(1 + 3·0.044715 z²)
            du = np.square(z)
            du *= 3 * 0.044715
            du += 1
            du *= _SQRT_2_OVER_PI
            sech2 = np.square(t)
            np.subtract(1, sech2, out=sech2)
            du *= sech2
            du *= z
            du *= 0.5
            t += 1
            t *= 0.5
            t += du
            dy *= t
            return dy
        cdf = _erf(z * (1 / math.sqrt(2.0)))
        cdf += 1
        cdf *= 0.5
        pdf = np.square(z)
        pdf *= -0.5
        np.exp(pdf, out=pdf)
        pdf *= _INV_SQRT_2PI
        pdf *= z
        pdf += cdf
        dy *= pdf
        return dy

    def get_config(self):
        return {"name": self.name, "approximate": self.approximate}


@ACTIVATIONS.register("softmax")
class Softmax(Activation):
    """Row-wise softmax(z)ᵢ = e^{zᵢ} / Σⱼ e^{zⱼ} (output layer).

    Its backward is the Jacobian-vector product ``a ⊙ (dy − Σ dy ⊙ a)``; paired with
    categorical cross-entropy the network skips it and uses the fused ``(p − y)/n``.
    """

    name = "softmax"
    rowwise = True

    def forward(self, z, out=None):
        out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def backward(self, dy, z, a):
        inner = np.einsum("ij,ij->i", dy, a)[:, None]
        dy -= inner
        dy *= a
        return dy
