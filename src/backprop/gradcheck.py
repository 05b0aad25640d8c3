"""Numerical gradient check: backpropagation against central finite differences.

For every parameter θᵢ the loss is evaluated at θᵢ ± h and θᵢ ± 2h and the derivative
estimated with the fourth-order central stencil

    ∂L/∂θᵢ ≈ (−L(θᵢ+2h) + 8L(θᵢ+h) − 8L(θᵢ−h) + L(θᵢ−2h)) / 12h,

whose truncation error (∝ h⁴) is negligible next to rounding. The check runs in float64 on a
copy of the model, with dropout off so the loss is a deterministic function of the weights.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import losses as _losses
from .network import Sequential
from .validation import check_nonnegative, check_same_rows, check_X


class GradcheckResult(dict):
    """Maps each parameter name (``dense_1.W``, ...) to its relative error.

    The relative error of a parameter tensor is

        max|g_bp − g_fd| / max(max|g_bp|, max|g_fd|, 10⁻² · G)

    with G the largest gradient entry of the whole model: the worst disagreement measured
    against the size of that tensor's gradient, so tensors whose entries are small (deep
    sigmoid layers) are judged on nearly the same footing as the rest, while a tensor whose
    true gradient is exactly zero is measured against the model's scale instead of against
    the finite differences' rounding noise.
    """

    @property
    def max_error(self) -> float:
        return max(self.values()) if self else 0.0

    def passed(self, tolerance: float = 1e-6) -> bool:
        return self.max_error < tolerance

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}: {v:.2e}" for k, v in self.items())
        return f"GradcheckResult({rows})"


def gradcheck(
    model: Any, X: Any, y: Any, loss: Any = "mse", l2: float = 0.0, eps: float | None = None
) -> GradcheckResult:
    """Compare backpropagated gradients with finite differences, per parameter.

    Parameters
    ----------
    model : Sequential or MLP
        Left unchanged: the check runs on a float64 copy.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    loss : str or Loss
    l2 : float
        Include the penalty λ·Σ‖W‖².
    eps : float, optional
        Finite-difference step. By default 1e-6 when a kink (relu, mae, ...) could be
        crossed, else 1e-4.

    Returns
    -------
    GradcheckResult
        ``{"dense_1.W": 3.1e-10, "dense_1.b": ..., ...}``.

    Notes
    -----
    Where a pre-activation sits exactly on a kink (relu at 0 — for instance zero biases
    behind a layer whose units are all off for some sample), backprop uses the subgradient
    (0 for relu, as PyTorch) while a central difference averages the two one-sided slopes;
    the check then reports a large error for a correct gradient. Nudge the biases off zero
    (or the inputs) before checking such a network.

    Examples
    --------
    >>> import backprop as bp, numpy as np
    >>> model = bp.MLP([2, 3, 1], activation="tanh", seed=0)
    >>> bp.gradcheck(model, np.ones((4, 2)), np.zeros(4)).passed(1e-6)
    True
    """
    loss_fn = _losses.get(loss)
    l2 = check_nonnegative("l2", l2)
    if model.output_activation.name == "softmax" and model.n_outputs == 1:
        # Both gradients are (numerically) zero, so every relative error reads about 1.
        warnings.warn(f"{_losses.SINGLE_SOFTMAX}: the relative errors compare rounding noise "
                      "with 0; give the output layer two or more softmax units, or use one "
                      "sigmoid unit", RuntimeWarning, stacklevel=2)
    probe = _float64_copy(model)
    X = check_X(X, probe.n_features, probe.dtype)
    T = loss_fn.prepare_targets(y, probe.n_outputs, probe.dtype)
    check_same_rows(X, T)
    if eps is None:
        smooth = loss_fn.smooth and all(
            layer.activation.smooth for layer in probe.dense_layers
        )
        eps = 1e-4 if smooth else 1e-6

    def total_loss() -> float:
        a = probe.forward(X, training=False)
        value = probe.loss_value(a, T, loss_fn)
        return value + l2 * probe.l2_penalty() if l2 else value

    a = probe.forward(X, training=False)
    probe.backward_from_output(a, T, loss_fn)
    if l2:
        probe.add_l2_gradient(l2)

    measured = []
    for param in probe.parameters():
        analytic = param.grad.copy()
        numeric = np.empty_like(analytic)
        values = param.value.reshape(-1)
        flat_numeric = numeric.reshape(-1)
        for i in range(values.size):
            original = values[i]
            samples = []
            for step in (2 * eps, eps, -eps, -2 * eps):
                values[i] = original + step
                samples.append(total_loss())
            values[i] = original
            flat_numeric[i] = (-samples[0] + 8 * samples[1] - 8 * samples[2] + samples[3]) / (
                12 * eps
            )
        scale = max(np.abs(analytic).max(), np.abs(numeric).max())
        measured.append((param.name, float(np.abs(analytic - numeric).max()), float(scale)))
    model_scale = max(scale for _, _, scale in measured)
    result = GradcheckResult()
    for name, error, scale in measured:
        denominator = max(scale, 1e-2 * model_scale)
        result[name] = error / denominator if denominator > 1e-300 else error
    return result


def _float64_copy(model: Any) -> Any:
    clone = Sequential.from_config({**model.get_config(), "dtype": "float64"})
    clone.set_flat_parameters(model.get_flat_parameters().astype(np.float64))
    return clone
