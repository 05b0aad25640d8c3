"""Numba kernels for everything elementwise: activations, losses and optimiser updates.

Each is the engine's formula (``activations.py``, ``losses.py``, ``optimizers.py``) written
as a loop. Blocks are feature-major, (n_units, batch) flattened, element (j, r) at j·m + r:
the kernels keep a layer's z, a and δ transposed so that every inner loop runs along the
batch, where the data is contiguous and
long even when a layer is two units wide. Branches on the activation or optimiser sit
outside the loops, so each loop is a plain one the compiler can vectorise.

A loop over unit j's m values indexes ``at + r``, with ``at = j·m`` set before it and r
from ``range(m)``. Two other ways to write it cost time in every step. As
``range(j·m, (j+1)·m)``, the loop variable's sign is unknown to numba, which keeps its
negative-index wrap-around test on each access, and LLVM leaves the loop scalar (W2's bias
add and bias gradient: 10 µs a step against 2 µs). Through a view ``block[j·m:(j+1)·m]``,
each view takes and drops a reference with two atomic instructions, a few hundred a step.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# activation codes (runner.ACTIVATION_CODES maps the engine's classes onto these)
IDENTITY, SIGMOID, TANH, RELU, LEAKY_RELU, ELU, SELU = 0, 1, 2, 3, 4, 5, 6
SOFTPLUS, SWISH, GELU, GELU_TANH, SOFTMAX = 7, 8, 9, 10, 11
# loss codes
MSE, MAE, HUBER, BCE, CCE = 0, 1, 2, 3, 4
# optimiser codes
SGD, ADAM, RMSPROP, ADAGRAD = 0, 1, 2, 3

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
INV_SQRT_2 = 1 / math.sqrt(2.0)


@njit(cache=True, error_model="numpy", inline="always")
def sigmoid(x):
    # scipy.special.expit's form: no overflow on either side
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, error_model="numpy")
def act_forward(code, alpha, zf, af, n, m):
    """a = g(z) on a layer's (n units, m rows) block (softmax down each column)."""
    if code == SOFTMAX:
        for r in range(m):
            top = zf[r]
            for j in range(1, n):
                top = max(top, zf[j * m + r])
            total = 0.0
            for j in range(n):
                af[j * m + r] = math.exp(zf[j * m + r] - top)
                total += af[j * m + r]
            for j in range(n):
                af[j * m + r] = af[j * m + r] / total
        return
    size = n * m
    if code == IDENTITY:
        af[:size] = zf[:size]
    elif code == RELU:  # np.maximum(z, 0): NaN stays NaN
        for i in range(size):
            x = zf[i]
            af[i] = 0.0 if x < 0 else x
    elif code == SIGMOID:
        for i in range(size):
            af[i] = sigmoid(zf[i])
    elif code == TANH:
        for i in range(size):
            af[i] = math.tanh(zf[i])
    elif code == LEAKY_RELU:
        for i in range(size):
            x = zf[i]
            af[i] = x if x > 0 else x * alpha
    elif code == ELU:
        for i in range(size):
            x = zf[i]
            af[i] = x if x > 0 else alpha * math.expm1(x)
    elif code == SELU:
        for i in range(size):
            x = zf[i]
            af[i] = SELU_SCALE * (x if x > 0 else SELU_ALPHA * math.expm1(x))
    elif code == SOFTPLUS:
        for i in range(size):
            x = zf[i]
            af[i] = max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    elif code == SWISH:
        for i in range(size):
            af[i] = zf[i] * sigmoid(zf[i])
    elif code == GELU:
        for i in range(size):
            x = zf[i]
            af[i] = x * (0.5 * (math.erf(x * INV_SQRT_2) + 1.0))
    else:  # GELU_TANH: ½z(1 + tanh(√(2/π)(z + 0.044715 z³)))
        for i in range(size):
            x = zf[i]
            af[i] = x * (0.5 * (math.tanh((x * x * 0.044715 + 1.0) * x * SQRT_2_OVER_PI) + 1.0))


@njit(cache=True, error_model="numpy")
def act_backward(code, alpha, df, zf, af, n, m):
    """δ = dy ⊙ g'(z) in place on ``df`` (softmax: the Jacobian-vector product)."""
    if code == IDENTITY:
        return
    if code == SOFTMAX:
        for r in range(m):
            inner = 0.0
            for j in range(n):
                inner += df[j * m + r] * af[j * m + r]
            for j in range(n):
                df[j * m + r] = (df[j * m + r] - inner) * af[j * m + r]
        return
    size = n * m
    if code == RELU:  # a > 0 exactly where z > 0
        for i in range(size):
            if not af[i] > 0:
                df[i] = 0.0
    elif code == SIGMOID:
        for i in range(size):
            df[i] *= (1.0 - af[i]) * af[i]
    elif code == TANH:
        for i in range(size):
            df[i] *= 1.0 - af[i] * af[i]
    elif code == LEAKY_RELU:
        for i in range(size):
            if not af[i] > 0:
                df[i] *= alpha
    elif code == ELU:  # α e^z = a + α below zero
        for i in range(size):
            if not af[i] > 0:
                df[i] *= af[i] + alpha
    elif code == SELU:
        for i in range(size):
            df[i] *= SELU_SCALE if af[i] > 0 else af[i] + SELU_SCALE * SELU_ALPHA
    elif code == SOFTPLUS:
        for i in range(size):
            df[i] *= sigmoid(zf[i])
    elif code == SWISH:
        for i in range(size):
            x = zf[i]
            s = sigmoid(x)
            df[i] *= ((1.0 - s) * x + 1.0) * s
    elif code == GELU:
        for i in range(size):
            x = zf[i]
            cdf = 0.5 * (math.erf(x * INV_SQRT_2) + 1.0)
            df[i] *= math.exp(-0.5 * x * x) * INV_SQRT_2PI * x + cdf
    else:  # GELU_TANH
        for i in range(size):
            x = zf[i]
            t = math.tanh((x * x * 0.044715 + 1.0) * x * SQRT_2_OVER_PI)
            du = (x * x * (3 * 0.044715) + 1.0) * SQRT_2_OVER_PI * (1.0 - t * t) * x * 0.5
            df[i] *= (t + 1.0) * 0.5 + du


@njit(cache=True, error_model="numpy")
def _cross_entropy_from_logits(z, t, r, k, m):
    """−Σ y log-softmax(z) of row r, through log-sum-exp."""
    top = z[r]
    for j in range(1, k):
        top = max(top, z[j * m + r])
    norm = 0.0
    for j in range(k):
        norm += math.exp(z[j * m + r] - top)
    log_norm = math.log(norm) + top
    row = 0.0
    for j in range(k):
        row -= t[j * m + r] * (z[j * m + r] - log_norm)
    return row


@njit(cache=True, error_model="numpy")
def loss_value_and_gradient(code, fused, delta, prob_eps, a, z, t, w, weighted, d, k, m):
    """The batch's data loss (float64); ∂L/∂a (∂L/∂z when ``fused``) written into ``d``.

    Categorical cross-entropy comes only fused with its softmax; the others come either way
    (binary cross-entropy fused with a sigmoid, or reading a softmax's probabilities).
    Blocks are (k outputs, m rows). ``w`` holds the batch's sample weights (mean 1 over the
    training set) when ``weighted``: the loss is then Σ wᵢlᵢ / N and its gradient wᵢ∂lᵢ/N.
    """
    n_terms = m if code == CCE else m * k
    scale = 1.0 / n_terms
    total = 0.0
    if code == CCE:  # always with its softmax (runner.refusal)
        for r in range(m):
            # −Σ y log p from the softmax's p: one log a row for one-hot targets (y = 0
            # terms add nothing); through log-sum-exp on the logits where a p underflowed
            sample_loss = 0.0
            for j in range(k):
                i = j * m + r
                if t[i] != 0:
                    if not a[i] > 0:
                        sample_loss = _cross_entropy_from_logits(z, t, r, k, m)
                        break
                    sample_loss -= t[i] * math.log(a[i])
            total += sample_loss * w[r] if weighted else sample_loss
        for j in range(k):
            at = j * m
            for r in range(m):
                d[at + r] = (a[at + r] - t[at + r]) * scale * (w[r] if weighted else 1.0)
        return total * scale
    for j in range(k):
        at = j * m
        for r in range(m):
            i = at + r
            wr = w[r] if weighted else 1.0
            diff = a[i] - t[i]
            if code == MSE:
                value = 0.5 * diff * diff
                g = diff
            elif code == MAE:
                value = abs(diff)
                g = (diff > 0) - (diff < 0)
            elif code == HUBER:
                q = min(abs(diff), delta)
                value = 0.5 * q * q + delta * (abs(diff) - q)
                g = min(max(diff, -delta), delta)
            elif fused:  # BCE from the logits: softplus(z) − z·y
                x = z[i]
                value = max(x, 0.0) - x * t[i] + math.log1p(math.exp(-abs(x)))
                g = diff
            else:  # BCE from a probability
                p = min(max(a[i], prob_eps), 1.0 - prob_eps)
                value = -(t[i] * math.log(p) + (1 - t[i]) * math.log1p(-p))
                g = (p - t[i]) / (p * (1 - p))
            total += value * wr
            d[i] = g * scale * wr
    return total * scale


@njit(cache=True, error_model="numpy")
def correct_count(a, t, multiclass, k, m):
    """Arg-max agreement per sample (one-hot), else 0.5-threshold agreement per output."""
    correct = 0
    if multiclass:
        for r in range(m):
            best_a, best_t = 0, 0
            for j in range(1, k):
                if a[j * m + r] > a[best_a * m + r]:
                    best_a = j
                if t[j * m + r] > t[best_t * m + r]:
                    best_t = j
            correct += best_a == best_t
        return correct
    for i in range(k * m):
        correct += (a[i] > 0.5) == (t[i] > 0.5)
    return correct


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz", "contract"})
def sum_of_squares(v):
    total = 0.0
    for i in range(v.size):
        total += v[i] * v[i]
    return total


# contract, arcp, afn: fused multiply-adds and the quick reciprocal and square root (a ulp or
# two from the exact ones; 2× the speed of Adam's division and root in float64). Not nnan or
# ninf: a NaN must still come out as NaN, for the divergence check.
@njit(cache=True, error_model="numpy", fastmath={"contract", "arcp", "afn"})
def update(opt, lr, decay, momentum, nesterov, beta_1, beta_2, eps, rho, decoupled,
           v, g, s1, s2, step):
    """One optimiser step, torch.optim's rule, on the flat parameters ``v``.

    ``step`` counts this step (1 on the first); s1 and s2 are the optimiser's state arrays
    (SGD velocity; Adam's moment sums m̃, ṽ; RMSprop's average and buffer; Adagrad's sum).
    The settings are cast to the parameters' dtype first, as NumPy does with a Python
    number in ``p.value -= lr * g``: a float32 model then updates in float32 throughout,
    sixteen parameters to an AVX-512 instruction.
    """
    size = v.size
    real = v.dtype.type
    lr_, decay_, momentum_, eps_, rho_ = real(lr), real(decay), real(momentum), real(eps), \
        real(rho)
    if opt == SGD:
        if not (momentum or decay):
            for i in range(size):
                v[i] -= lr_ * g[i]
            return
        for i in range(size):
            gi = g[i] + decay_ * v[i]
            if momentum:
                s1[i] = gi if step == 1 else momentum_ * s1[i] + gi
                gi = gi + momentum_ * s1[i] if nesterov else s1[i]
            v[i] -= lr_ * gi
    elif opt == ADAM:
        # θ ← θ − η(1−β₁)/(1−β₁ᵗ)·c · m̃/(√ṽ + εc), c = √(1−β₂ᵗ)/√(1−β₂) (optimizers.Adam)
        c = math.sqrt((1 - beta_2**step) / (1 - beta_2))
        eps_c = real(eps * c)
        factor = real(lr * (1 - beta_1) / (1 - beta_1**step) * c)
        b1, b2 = real(beta_1), real(beta_2)
        if decay and decoupled:
            shrink = real(1 - lr * decay)
            for i in range(size):
                v[i] *= shrink
        coupled = real(0.0) if decoupled else decay_
        for i in range(size):
            gi = g[i] + coupled * v[i]
            m = b1 * s1[i] + gi
            s = b2 * s2[i] + gi * gi
            s1[i] = m
            s2[i] = s
            v[i] -= m / (np.sqrt(s) + eps_c) * factor
    elif opt == RMSPROP:
        keep = real(1 - rho)
        for i in range(size):
            gi = g[i] + decay_ * v[i]
            s = rho_ * s1[i] + keep * (gi * gi)
            s1[i] = s
            ratio = gi / (np.sqrt(s) + eps_)
            if momentum:
                s2[i] = momentum_ * s2[i] + ratio
                v[i] -= lr_ * s2[i]
            else:
                v[i] -= ratio * lr_
    else:  # ADAGRAD
        for i in range(size):
            gi = g[i] + decay_ * v[i]
            s = s1[i] + gi * gi
            s1[i] = s
            v[i] -= gi / (np.sqrt(s) + eps_) * lr_
