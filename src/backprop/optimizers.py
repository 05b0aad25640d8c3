"""Optimisers: SGD (momentum, Nesterov), Adam, AdamW, RMSprop, Adagrad.

Each follows PyTorch's ``torch.optim`` update rule exactly (tests compare 50 steps to 1e-10),
so results transfer between the two. ``step(params)`` updates every ``Param`` in place from
its ``grad``; state (moments, step counts) is kept per ``Param`` object. A network hands the
optimiser a single ``Param`` spanning all of its parameters, so one update is a dozen NumPy
calls whatever the depth.

``clipnorm`` rescales all gradients together when their global L2 norm exceeds it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._registry import Registry
from .layers import Param
from .validation import check_in_range, check_nonnegative, check_positive


class Optimizer:
    """Base class. Subclasses implement ``_update(param, state)``."""

    name = "optimizer"
    #: names of state arrays that earlier versions saved and ``load_state_arrays`` converts
    legacy_state_arrays: tuple[str, ...] = ()
    #: the subclass's own settings, as get_config() reports them
    config_keys: tuple[str, ...] = ()

    def __init__(self, lr: float, weight_decay: float = 0.0, clipnorm: float | None = None):
        self.lr = check_positive("learning rate", lr)
        self.weight_decay = check_nonnegative("weight_decay", weight_decay)
        self.clipnorm = None if clipnorm is None else check_positive("clipnorm", clipnorm)
        self._state: dict[int, dict[str, Any]] = {}
        self.iterations = 0

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = float(check_positive("learning rate", value))

    def step(self, params: Sequence[Param]) -> None:
        """Apply one update to every parameter from its gradient."""
        if self.clipnorm is not None:
            clip_by_global_norm(params, self.clipnorm)
        self.iterations += 1
        for p in params:
            self._update(p, self.state_of(p))

    def state_of(self, p: Param) -> dict[str, Any]:
        """The state kept for ``p`` (the live dict), created on its first use."""
        state = self._state.get(id(p))
        if state is None:
            state = self._state[id(p)] = self.init_state(p)
        return state

    def init_state(self, p: Param) -> dict[str, Any]:
        """A fresh state for ``p``: its step count and the arrays the rule keeps."""
        return {"step": 0}

    def _gradient(self, p: Param) -> np.ndarray:
        """∂L/∂θ, plus λθ with coupled weight decay (then a new array: ``p.grad`` stays)."""
        if self.weight_decay:
            return p.grad + self.weight_decay * p.value
        return p.grad

    def _update(self, p: Param, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget all moments and step counts."""
        self._state.clear()
        self.iterations = 0

    # -- state for checkpoints ------------------------------------------------------------
    def state_arrays(self, p: Param) -> dict[str, Any]:
        """The state kept for ``p`` (arrays and the step count), or {} before the first step.

        Keys starting with "_" (scratch space) are not state and are left out.
        """
        state = self._state.get(id(p), {})
        return {key: value for key, value in state.items() if not key.startswith("_")}

    def load_state_arrays(self, p: Param, state: dict[str, Any]) -> None:
        fresh = self.init_state(p)
        for key, value in state.items():
            if isinstance(fresh.get(key), np.ndarray):
                fresh[key][...] = value
            else:
                fresh[key] = value
        self._state[id(p)] = fresh

    def get_config(self) -> dict[str, Any]:
        """JSON-safe settings: the name, lr, weight_decay, clipnorm (when set) and the
        subclass's ``config_keys``."""
        config = {"name": self.name, "lr": self.lr, "weight_decay": self.weight_decay}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        config.update({key: getattr(self, key) for key in self.config_keys})
        return config

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({inner})"


OPTIMIZERS: Registry[Optimizer] = Registry("optimizer", Optimizer)


def get(spec: Any, **kwargs: Any) -> Optimizer:
    """Resolve an optimiser by name (``"adam"``), config dict or instance."""
    return OPTIMIZERS.get(spec, **kwargs)


def global_norm(params: Sequence[Param]) -> float:
    """√(Σ‖g‖²) over the gradients of ``params``."""
    return math.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in params))


def clip_by_global_norm(params: Sequence[Param], max_norm: float) -> float:
    """Rescale all gradients by max_norm/‖g‖ when ‖g‖ > max_norm; returns the norm before."""
    norm = global_norm(params)
    if norm > max_norm:
        scale = max_norm / norm
        for p in params:
            p.grad *= scale
    return norm


def _step_scaled(p: Param, g: np.ndarray, accumulated: np.ndarray, lr: float,
                 epsilon: float) -> None:
    """θ ← θ − η·g/(√s + ε), the step of RMSprop and Adagrad, with one temporary."""
    denom = np.sqrt(accumulated)
    denom += epsilon
    np.divide(g, denom, out=denom)
    denom *= lr
    p.value -= denom


@OPTIMIZERS.register("sgd")
class SGD(Optimizer):
    """Stochastic gradient descent: θ ← θ − η·g, with optional momentum and Nesterov.

    With momentum μ: v ← μv + g (v = g on the first step), and the step uses v (or g + μv
    for Nesterov), exactly as ``torch.optim.SGD`` with dampening 0. ``weight_decay`` adds
    λθ to the gradient (coupled L2).

    Examples
    --------
    >>> opt = SGD(lr=0.1, momentum=0.9, nesterov=True)
    """

    name = "sgd"
    config_keys = ("momentum", "nesterov")

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, clipnorm: float | None = None) -> None:
        super().__init__(lr, weight_decay, clipnorm)
        self.momentum = check_in_range("momentum", momentum, 0.0, 1.0, closed_low=True)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def init_state(self, p):
        return {"step": 0, "velocity": np.zeros_like(p.value)} if self.momentum else {"step": 0}

    def _update(self, p, state):
        state["step"] += 1
        if not (self.momentum or self.weight_decay):  # plain gradient descent
            p.value -= self._lr * p.grad
            return
        g = self._gradient(p)
        if self.momentum:
            v = state["velocity"]
            if state["step"] == 1:
                v[...] = g
            else:
                v *= self.momentum
                v += g
            g = g + self.momentum * v if self.nesterov else v
        p.value -= self._lr * g


@OPTIMIZERS.register("adam")
class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, as ``torch.optim.Adam``.

    m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
    θ ← θ − η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).  ``weight_decay`` is coupled L2 (g += λθ).

    The moments are kept without their (1−β) factors, as the sums m̃ = m/(1−β₁) and
    ṽ = v/(1−β₂) ("m_sum" and "v_sum" in ``state_arrays`` and checkpoints): the factors then
    move into two scalars of the step, which saves two of the twelve passes over the
    parameters that the update otherwise makes.
    """

    name = "adam"
    config_keys = ("beta_1", "beta_2", "epsilon")
    decoupled = False
    legacy_state_arrays = ("m", "v")

    def __init__(self, lr: float = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, weight_decay: float = 0.0,
                 clipnorm: float | None = None) -> None:
        super().__init__(lr, weight_decay, clipnorm)
        self.beta_1 = check_in_range("beta_1", beta_1, 0.0, 1.0, closed_low=True)
        self.beta_2 = check_in_range("beta_2", beta_2, 0.0, 1.0, closed_low=True)
        self.epsilon = check_positive("epsilon", epsilon)

    def init_state(self, p):
        return {"step": 0, "m_sum": np.zeros_like(p.value), "v_sum": np.zeros_like(p.value)}

    def moments(self, p: Param) -> tuple[np.ndarray, np.ndarray]:
        """Adam's m and v for ``p`` as the paper (and torch) define them (copies)."""
        state = self._state.get(id(p)) or self.init_state(p)
        return (1 - self.beta_1) * state["m_sum"], (1 - self.beta_2) * state["v_sum"]

    def _update(self, p, state):
        g = p.grad
        if self.weight_decay:
            if self.decoupled:
                p.value *= 1 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p.value
        state["step"] += 1
        t = state["step"]
        m_sum, v_sum = state["m_sum"], state["v_sum"]
        scratch = state.get("_scratch")
        if scratch is None:  # every pass below writes into m̃, ṽ or this: no temporaries
            scratch = state["_scratch"] = np.empty_like(m_sum)
        beta_1, beta_2 = self.beta_1, self.beta_2
        m_sum *= beta_1  # m̃ ← β₁m̃ + g
        m_sum += g
        np.multiply(g, g, out=scratch)  # ṽ ← β₂ṽ + g²
        v_sum *= beta_2
        v_sum += scratch
        # With m = (1−β₁)m̃, v = (1−β₂)ṽ and c = √(1−β₂ᵗ)/√(1−β₂), the step above is
        # θ ← θ − η(1−β₁)/(1−β₁ᵗ)·c · m̃/(√ṽ + εc).
        c = math.sqrt((1 - beta_2**t) / (1 - beta_2))
        np.sqrt(v_sum, out=scratch)
        scratch += self.epsilon * c
        np.divide(m_sum, scratch, out=scratch)
        scratch *= self.lr * (1 - beta_1) / (1 - beta_1**t) * c
        p.value -= scratch

    def load_state_arrays(self, p: Param, state: dict[str, Any]) -> None:
        state = dict(state)
        # m and v as torch keeps them: what checkpoints held before the sums were kept
        if "m" in state:
            state["m_sum"] = np.asarray(state.pop("m")) / (1 - self.beta_1)
        if "v" in state:
            state["v_sum"] = np.asarray(state.pop("v")) / (1 - self.beta_2)
        super().load_state_arrays(p, state)


@OPTIMIZERS.register("adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): θ ← θ(1 − ηλ) first."""

    name = "adamw"
    decoupled = True

    def __init__(self, lr: float = 1e-3, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, weight_decay: float = 0.01,
                 clipnorm: float | None = None) -> None:
        super().__init__(lr, beta_1, beta_2, epsilon, weight_decay, clipnorm)


@OPTIMIZERS.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop``: v ← αv + (1−α)g², θ ← θ − η·g/(√v + ε).

    With momentum μ the step goes through a buffer b ← μb + g/(√v + ε).
    """

    name = "rmsprop"
    config_keys = ("alpha", "epsilon", "momentum")

    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, epsilon: float = 1e-8,
                 momentum: float = 0.0, weight_decay: float = 0.0,
                 clipnorm: float | None = None) -> None:
        super().__init__(lr, weight_decay, clipnorm)
        self.alpha = check_in_range("alpha", alpha, 0.0, 1.0, closed_low=True)
        self.epsilon = check_positive("epsilon", epsilon)
        self.momentum = check_in_range("momentum", momentum, 0.0, 1.0, closed_low=True)

    def init_state(self, p):
        state = {"step": 0, "square_avg": np.zeros_like(p.value)}
        if self.momentum:
            state["buffer"] = np.zeros_like(p.value)
        return state

    def _update(self, p, state):
        g = self._gradient(p)
        state["step"] += 1
        sq = state["square_avg"]
        sq *= self.alpha
        sq += (1 - self.alpha) * np.square(g)
        if self.momentum:
            buf = state["buffer"]
            buf *= self.momentum
            buf += g / (np.sqrt(sq) + self.epsilon)
            p.value -= self.lr * buf
        else:
            _step_scaled(p, g, sq, self.lr, self.epsilon)


@OPTIMIZERS.register("adagrad")
class Adagrad(Optimizer):
    """Adagrad as ``torch.optim.Adagrad``: s ← s + g², θ ← θ − η·g/(√s + ε)."""

    name = "adagrad"
    config_keys = ("epsilon", "initial_accumulator_value")

    def __init__(self, lr: float = 1e-2, epsilon: float = 1e-10,
                 initial_accumulator_value: float = 0.0, weight_decay: float = 0.0,
                 clipnorm: float | None = None) -> None:
        super().__init__(lr, weight_decay, clipnorm)
        self.epsilon = check_positive("epsilon", epsilon)
        self.initial_accumulator_value = check_nonnegative(
            "initial_accumulator_value", initial_accumulator_value)

    def init_state(self, p):
        return {"step": 0, "sum": np.full_like(p.value, self.initial_accumulator_value)}

    def _update(self, p, state):
        g = self._gradient(p)
        state["step"] += 1
        s = state["sum"]
        s += np.square(g)
        _step_scaled(p, g, s, self.lr, self.epsilon)
