"""Weight initialisers: ``f(shape, rng, dtype) -> ndarray`` with shape (n_in, n_out).

fan_in = n_in and fan_out = n_out for a Dense weight. Biases always start at zero.

=================  =======================================  ==========================
name               distribution                             variance
=================  =======================================  ==========================
xavier_uniform     U(−√(6/(fan_in+fan_out)), +…)            2/(fan_in+fan_out)
xavier_normal      N(0, 2/(fan_in+fan_out))                 2/(fan_in+fan_out)
he_normal          N(0, 2/fan_in)                           2/fan_in
he_uniform         U(−√(6/fan_in), +√(6/fan_in))            2/fan_in
lecun_normal       N(0, 1/fan_in)                           1/fan_in
lecun_uniform      U(−√(3/fan_in), +√(3/fan_in))            1/fan_in
small_normal       N(0, 0.01²)  (standard deviation 0.01)   1e-4
zeros              0                                        0
=================  =======================================  ==========================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._registry import Registry

Initializer = Callable[[tuple[int, ...], np.random.Generator, Any], np.ndarray]


class _InitializerType:
    """Marker base so the registry can accept user callables wrapped in ``CustomInitializer``."""


INITIALIZERS: Registry[Initializer] = Registry("initializer", _InitializerType)


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"initialisers expect a 2-D (n_in, n_out) shape; got {shape}")
    return shape[0], shape[1]


def _normal(std: float) -> Initializer:
    def init(shape, rng, dtype=np.float32):
        return (rng.standard_normal(shape) * std).astype(dtype, copy=False)

    return init


def _uniform(limit: float) -> Initializer:
    def init(shape, rng, dtype=np.float32):
        return rng.uniform(-limit, limit, size=shape).astype(dtype, copy=False)

    return init


def xavier_uniform(shape, rng, dtype=np.float32):
    """Glorot & Bengio 2010: keeps the variance of activations and gradients for tanh nets."""
    fan_in, fan_out = _fans(shape)
    return _uniform(math.sqrt(6.0 / (fan_in + fan_out)))(shape, rng, dtype)


def xavier_normal(shape, rng, dtype=np.float32):
    fan_in, fan_out = _fans(shape)
    return _normal(math.sqrt(2.0 / (fan_in + fan_out)))(shape, rng, dtype)


def he_normal(shape, rng, dtype=np.float32):
    """He et al. 2015: variance 2/fan_in compensates relu zeroing half of its inputs."""
    fan_in, _ = _fans(shape)
    return _normal(math.sqrt(2.0 / fan_in))(shape, rng, dtype)


def he_uniform(shape, rng, dtype=np.float32):
    fan_in, _ = _fans(shape)
    return _uniform(math.sqrt(6.0 / fan_in))(shape, rng, dtype)


def lecun_normal(shape, rng, dtype=np.float32):
    """LeCun 1998: variance 1/fan_in (the companion of selu)."""
    fan_in, _ = _fans(shape)
    return _normal(math.sqrt(1.0 / fan_in))(shape, rng, dtype)


def lecun_uniform(shape, rng, dtype=np.float32):
    fan_in, _ = _fans(shape)
    return _uniform(math.sqrt(3.0 / fan_in))(shape, rng, dtype)


def small_normal(shape, rng, dtype=np.float32):
    """N(0, σ²) with σ = 0.01: fine for tiny nets, vanishing signals in deep ones."""
    _fans(shape)
    return _normal(0.01)(shape, rng, dtype)


def zeros(shape, rng, dtype=np.float32):
    """All zeros: every unit of a layer stays identical (no symmetry breaking)."""
    _fans(shape)
    return np.zeros(shape, dtype=dtype)


#: variance of each initialiser as a function of (fan_in, fan_out); used by tests and the tour
VARIANCE: dict[str, Callable[[int, int], float]] = {
    "xavier_uniform": lambda i, o: 2.0 / (i + o),
    "xavier_normal": lambda i, o: 2.0 / (i + o),
    "he_normal": lambda i, o: 2.0 / i,
    "he_uniform": lambda i, o: 2.0 / i,
    "lecun_normal": lambda i, o: 1.0 / i,
    "lecun_uniform": lambda i, o: 1.0 / i,
    "small_normal": lambda i, o: 1e-4,
    "zeros": lambda i, o: 0.0,
}

_ALIASES = {
    "xavier_uniform": ("glorot_uniform", "xavier"),
    "xavier_normal": ("glorot_normal",),
    "he_normal": ("kaiming_normal", "he"),
    "he_uniform": ("kaiming_uniform",),
    "lecun_normal": ("lecun",),
    "lecun_uniform": (),
    "small_normal": ("small", "random_small"),
    "zeros": ("zero",),
}

_FUNCTIONS = {
    "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
    "he_normal": he_normal, "he_uniform": he_uniform,
    "lecun_normal": lecun_normal, "lecun_uniform": lecun_uniform,
    "small_normal": small_normal, "zeros": zeros,
}


def _returning(function: Initializer) -> Callable[[], Initializer]:
    return lambda: function


for _name, _function in _FUNCTIONS.items():
    INITIALIZERS.register(_name, *_ALIASES[_name])(_returning(_function))

#: activations for which He initialisation is the default
RELU_FAMILY = frozenset({"relu", "leaky_relu", "elu"})


def default_for(activation_name: str) -> str:
    """He normal for the relu family, LeCun normal for selu, Xavier uniform for the rest."""
    if activation_name in RELU_FAMILY:
        return "he_normal"
    if activation_name == "selu":
        return "lecun_normal"
    return "xavier_uniform"


def get(spec: Any) -> Initializer:
    """Resolve an initialiser: a registered name or any callable ``f(shape, rng, dtype)``."""
    if callable(spec) and not isinstance(spec, (str, dict)):
        return spec
    return INITIALIZERS.get(spec)


def name_of(spec: Any) -> str | None:
    """Registry name of ``spec`` (canonical), or None for a user callable."""
    if isinstance(spec, str):
        return INITIALIZERS.canonical(spec)
    for name in INITIALIZERS.names():
        if INITIALIZERS.get(name) is spec:
            return name
    return None
