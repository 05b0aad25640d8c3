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


#: variance of each initialiser as a function of (fan_in, fan_out); used by tests and the tour
VARIANCE: dict[str, Callable[[int, int], float]] = {}


def _register(name: str, aliases: tuple[str, ...], distribution: str,
              scale: Callable[[int, int], float], variance: Callable[[int, int], float],
              doc: str) -> Initializer:
    """Define, register and return one initialiser.

    ``distribution`` is "normal" (``scale`` is the standard deviation), "uniform" (``scale``
    is the limit L of U(−L, L)) or "zeros".
    """

    def init(shape, rng, dtype=np.float32):
        fan_in, fan_out = _fans(shape)
        if distribution == "zeros":
            return np.zeros(shape, dtype=dtype)
        s = scale(fan_in, fan_out)
        if distribution == "normal":
            return (rng.standard_normal(shape) * s).astype(dtype, copy=False)
        return rng.uniform(-s, s, size=shape).astype(dtype, copy=False)

    init.__name__ = init.__qualname__ = name
    init.__doc__ = doc
    VARIANCE[name] = variance
    INITIALIZERS.register(name, *aliases)(lambda: init)
    return init


# One row per initialiser: name, aliases, distribution, its scale, its variance.
xavier_uniform = _register(
    "xavier_uniform", ("glorot_uniform", "xavier"), "uniform",
    lambda i, o: math.sqrt(6.0 / (i + o)), lambda i, o: 2.0 / (i + o),
    "Glorot & Bengio 2010: keeps the variance of activations and gradients for tanh nets.")
xavier_normal = _register(
    "xavier_normal", ("glorot_normal",), "normal",
    lambda i, o: math.sqrt(2.0 / (i + o)), lambda i, o: 2.0 / (i + o),
    "Glorot & Bengio 2010, normal: N(0, 2/(fan_in + fan_out)).")
he_normal = _register(
    "he_normal", ("kaiming_normal", "he"), "normal",
    lambda i, o: math.sqrt(2.0 / i), lambda i, o: 2.0 / i,
    "He et al. 2015: variance 2/fan_in compensates relu zeroing half of its inputs.")
he_uniform = _register(
    "he_uniform", ("kaiming_uniform",), "uniform",
    lambda i, o: math.sqrt(6.0 / i), lambda i, o: 2.0 / i,
    "He et al. 2015, uniform: U(−√(6/fan_in), +√(6/fan_in)).")
lecun_normal = _register(
    "lecun_normal", ("lecun",), "normal",
    lambda i, o: math.sqrt(1.0 / i), lambda i, o: 1.0 / i,
    "LeCun 1998: variance 1/fan_in (the companion of selu).")
lecun_uniform = _register(
    "lecun_uniform", (), "uniform",
    lambda i, o: math.sqrt(3.0 / i), lambda i, o: 1.0 / i,
    "LeCun 1998, uniform: U(−√(3/fan_in), +√(3/fan_in)).")
small_normal = _register(
    "small_normal", ("small", "random_small"), "normal",
    lambda i, o: 0.01, lambda i, o: 1e-4,
    "N(0, σ²) with σ = 0.01: fine for tiny nets, vanishing signals in deep ones.")
zeros = _register(
    "zeros", ("zero",), "zeros",
    lambda i, o: 0.0, lambda i, o: 0.0,
    "All zeros: every unit of a layer stays identical (no symmetry breaking).")

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
