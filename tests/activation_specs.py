"""Every registered activation, plus the options that change its function (shared by tests)."""

from __future__ import annotations

import backprop as bp

ACTIVATION_SPECS = [
    *bp.activations.ACTIVATIONS.names(),
    {"name": "leaky_relu", "alpha": 0.2},
    {"name": "elu", "alpha": 0.5},
    {"name": "gelu", "approximate": "tanh"},
]


def spec_id(spec):
    """A readable pytest id for an activation name or config."""
    return spec if isinstance(spec, str) else "-".join(str(v) for v in spec.values())
