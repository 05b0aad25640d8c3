"""Numba kernels: whole epochs of a Dense stack — forward, loss, backward and the optimiser's
update for every batch — in one compiled call, with no Python between layers or steps.

The mathematics is the engine's, operation for operation (``activations.py``, ``losses.py``,
``optimizers.py``, ``_fast/loop.py``); ``tests/test_compiled.py`` holds the two equal. Only
the order of the terms in each sum differs, so float32 agrees to about 1e-6 and float64 to
about 1e-14 after a hundred steps.

Layout shared with ``runner.py``:

- ``values``/``grads``: the model's flat parameter and gradient vectors; layer l's block is
  W (n_in, n_out) then b (n_out,), from ``layers[l, OFFSET]``.
- ``layers``: int64 (n_layers, 9), one row per Dense layer (the columns below).
- ``ws``: one workspace holding each layer's z, a and δ for a batch, feature-major
  (n_out, batch) and flat, so the loops run along the batch (see elementwise.py).
- ``cfg`` (int64) and ``hyp`` (float64): the settings, indexed by the constants below.

Every function is compiled with ``cache=True``: the first use on a machine compiles
(seconds; ``make bench`` reports it), later processes load the machine code from disk.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import elementwise  # noqa: F401 (runner reads the codes through kernels)
from .elementwise import (
    act_backward,
    act_forward,
    correct_count,
    loss_value_and_gradient,
    sum_of_squares,
    update,
)

#: the first 16 hex digits of elementwise.py's SHA-256. Numba's disk cache checks only the
#: file of the function it caches: the kernels below, which compile elementwise.py's code
#: into themselves, would load stale machine code after a change there. Updating this line
#: (tests/test_compiled.py checks it) changes this file and so recompiles them.
ELEMENTWISE_SHA256 = "20b00cdf6c549a19"

# columns of `layers`
OFFSET, N_IN, N_OUT, HAS_BIAS, ACT, WS_Z, WS_A, WS_D, USE_BLAS = range(9)
LAYER_COLUMNS = 9
# entries of `cfg`
(C_LOSS, C_FUSED, C_OPT, C_BATCH, C_ACCURACY, C_MULTICLASS, C_WEIGHTED, C_SHUFFLE, C_EPOCHS,
 C_SNAP_ROW, C_NESTEROV, C_DECOUPLED, C_STEP, C_CLIP, C_ROWS, C_INDIRECT) = range(16)
CFG_SIZE = 16
# entries of `hyp`
(H_LR, H_MOMENTUM, H_DECAY, H_BETA1, H_BETA2, H_EPS, H_RHO, H_CLIPNORM, H_L2, H_DELTA,
 H_LAST_SQ, H_PROB_EPS) = range(12)
HYP_SIZE = 12
# entries of `status`: epochs completed, why it stopped, the optimiser's step count
S_DONE, S_REASON, S_STEP = 0, 1, 2
OK, LOSS_NOT_FINITE, WEIGHTS_DIVERGED = 0, 1, 2


# -- matrix products, feature-major: BLAS (np.dot) for larger blocks, loops for tiny ones --
# Flat blocks throughout: x (n_in, m), z and δ (n_out, m) feature-major, W (n_in, n_out) row
# by row, as 1-D arrays; the loops index them, and only a BLAS call reshapes (a reshape
# costs a call into numba's runtime, several per layer and step: on the XOR network, W4,
# that was half of the step). Loops over a unit's m values index ``start + r`` with r
# from ``range(m)`` (elementwise.py says why).

@njit(cache=True, error_model="numpy")
def affine(W, b, has_bias, use_blas, x, z, n_in, n_out, m, x_by_rows=False):
    """zᵀ = Wᵀ·xᵀ + b. ``x_by_rows``: x is (m, n_in) row by row (a gathered batch, for
    BLAS only), the transpose BLAS reads as well."""
    if use_blas:
        if x_by_rows:
            np.dot(W.reshape((n_in, n_out)).T, x.reshape((m, n_in)).T, z.reshape((n_out, m)))
        else:
            np.dot(W.reshape((n_in, n_out)).T, x.reshape((n_in, m)), z.reshape((n_out, m)))
        if has_bias:
            for j in range(n_out):
                zj_at, b_j = j * m, b[j]
                for r in range(m):
                    z[zj_at + r] += b_j
        return
    for j in range(n_out):
        zj_at = j * m
        b_j = b[j] if has_bias else 0.0
        for r in range(m):
            z[zj_at + r] = b_j
        for k in range(n_in):
            w, xk_at = W[k * n_out + j], k * m
            for r in range(m):
                z[zj_at + r] += w * x[xk_at + r]


#: OpenBLAS (SkylakeX) keeps a product that sums along both operands' contiguous axis, as
#: xᵀ·(δᵀ)ᵀ does, on its small-matrix kernels up to this many outputs; above, the general
#: kernel packs both operands first and takes twice the time (W2's second layer, 128 × 64:
#: 8.3 µs a product against 4.1 µs for δ copied by rows and multiplied as it lies, the copy
#: included). Below, the copy costs more than it saves (W1, 10 × 10 over 800 rows: 20%).
SMALL_GEMM_OUTPUTS = 1200


@njit(cache=True, error_model="numpy", fastmath={"reassoc", "nsz", "contract"})
def weight_gradients(x, d, has_bias, use_blas, gW, gb, n_in, n_out, m, x_by_rows, scratch):
    """∂L/∂W = xᵀδ (n_in, n_out) and ∂L/∂b = Σₙ δ, from xᵀ (n_in, m) (or x row by row, see
    ``affine``) and δᵀ (n_out, m). ``scratch``: room for n_out·m numbers (δ by rows)."""
    if use_blas:
        if x_by_rows:
            np.dot(x.reshape((m, n_in)).T, d.reshape((n_out, m)).T,
                   gW.reshape((n_in, n_out)))
        elif n_in * n_out <= SMALL_GEMM_OUTPUTS:
            np.dot(x.reshape((n_in, m)), d.reshape((n_out, m)).T, gW.reshape((n_in, n_out)))
        else:
            # xᵀ (n_in, m) times δ (m, n_out) as a C array, not as δᵀ's transposed view
            for j in range(n_out):
                dj_at = j * m
                for r in range(m):
                    scratch[r * n_out + j] = d[dj_at + r]
            np.dot(x.reshape((n_in, m)), scratch[:m * n_out].reshape((m, n_out)),
                   gW.reshape((n_in, n_out)))
    else:
        for k in range(n_in):
            xk_at = k * m
            for j in range(n_out):
                dj_at = j * m
                total = 0.0
                for r in range(m):
                    total += x[xk_at + r] * d[dj_at + r]
                gW[k * n_out + j] = total
    if has_bias:
        for j in range(n_out):
            dj_at = j * m
            total = 0.0
            for r in range(m):
                total += d[dj_at + r]
            gb[j] = total


@njit(cache=True, error_model="numpy")
def input_gradient(W, d, use_blas, dx, n_in, n_out, m):
    """(∂L/∂x)ᵀ = W·δᵀ: W (n_in, n_out), δᵀ (n_out, m), into dxᵀ (n_in, m)."""
    if use_blas:
        np.dot(W.reshape((n_in, n_out)), d.reshape((n_out, m)), dx.reshape((n_in, m)))
        return
    for k in range(n_in):
        dxk_at = k * m
        for r in range(m):
            dx[dxk_at + r] = 0.0
        for j in range(n_out):
            w, dj_at = W[k * n_out + j], j * m
            for r in range(m):
                dx[dxk_at + r] += w * d[dj_at + r]


# -- one step --------------------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def _block(ws, start, n, m):
    return ws[start:start + n * m]


@njit(cache=True, error_model="numpy")
def _params(flat, layers, l):
    off, n_in, n_out = layers[l, OFFSET], layers[l, N_IN], layers[l, N_OUT]
    return (flat[off:off + n_in * n_out],
            flat[off + n_in * n_out:off + (n_in + 1) * n_out])


@njit(cache=True, error_model="numpy")
def train_step(x, t, w, m, values, grads, layers, alphas, ws, cfg, hyp, x_by_rows):
    """Forward, loss and backward on one batch of m rows (feature-major, flat: x (d, m),
    t (k, m); with ``x_by_rows`` x is (m, d) row by row, for a first layer through BLAS):
    writes every gradient; returns (data loss + L2 term, correct predictions)."""
    n_layers = layers.shape[0]
    inp = x
    for l in range(n_layers):
        n_in, n = layers[l, N_IN], layers[l, N_OUT]
        z = _block(ws, layers[l, WS_Z], n, m)
        a = _block(ws, layers[l, WS_A], n, m)
        W, b = _params(values, layers, l)
        affine(W, b, layers[l, HAS_BIAS], layers[l, USE_BLAS], inp, z, n_in, n, m,
               x_by_rows and l == 0)
        act_forward(layers[l, ACT], alphas[l], z, a, n, m)
        inp = a
    last = n_layers - 1
    k = layers[last, N_OUT]
    z = _block(ws, layers[last, WS_Z], k, m)
    a = _block(ws, layers[last, WS_A], k, m)
    d = _block(ws, layers[last, WS_D], k, m)
    loss = loss_value_and_gradient(cfg[C_LOSS], cfg[C_FUSED], hyp[H_DELTA], hyp[H_PROB_EPS],
                                   a, z, t, w, cfg[C_WEIGHTED], d, k, m)
    correct = correct_count(a, t, cfg[C_MULTICLASS], k, m) if cfg[C_ACCURACY] else 0
    for l in range(last, -1, -1):
        n_in, n = layers[l, N_IN], layers[l, N_OUT]
        z = _block(ws, layers[l, WS_Z], n, m)
        a = _block(ws, layers[l, WS_A], n, m)
        d = _block(ws, layers[l, WS_D], n, m)
        if l < last or not cfg[C_FUSED]:
            act_backward(layers[l, ACT], alphas[l], d, z, a, n, m)
        inp = x if l == 0 else _block(ws, layers[l - 1, WS_A], n_in, m)
        W, _ = _params(values, layers, l)
        gW, gb = _params(grads, layers, l)
        use_blas = layers[l, USE_BLAS]
        # z is not read again this step once act_backward has used it: the product's
        # scratch
        weight_gradients(inp, d, layers[l, HAS_BIAS], use_blas, gW, gb, n_in, n, m,
                         x_by_rows and l == 0, z)
        if l > 0:
            input_gradient(W, d, use_blas, _block(ws, layers[l - 1, WS_D], n_in, m), n_in,
                           n, m)
    l2 = hyp[H_L2]
    if l2:  # λΣ‖W‖² on the weights (not the biases), and 2λW on their gradients
        penalty = 0.0
        for l in range(n_layers):
            W, _ = _params(values, layers, l)
            gW, _ = _params(grads, layers, l)
            penalty += sum_of_squares(W)
            for i in range(W.size):
                gW[i] += (2 * l2) * W[i]
        loss += l2 * penalty
    return loss, correct


@njit(cache=True, error_model="numpy")
def clip_gradients(g, max_norm):
    """g ← g·max_norm/‖g‖ when ‖g‖ > max_norm (optimizers.clip_by_global_norm)."""
    norm = math.sqrt(sum_of_squares(g))
    if norm > max_norm:
        factor = max_norm / norm
        for i in range(g.size):
            g[i] *= factor


# -- whole epochs -----------------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def run_epochs(XT, TT, sw, X, T, rows, orders, values, grads, s1, s2, layers, alphas, ws, xb,
               tb, wb, cfg, hyp, out, snapshots, status):
    """``cfg[C_EPOCHS]`` epochs of training, as ``_Loop._run`` does them.

    The training set is ``cfg[C_ROWS]`` rows: T's (and ``sw``'s, when weighted), and X's, or
    with ``cfg[C_INDIRECT]`` the rows ``rows`` of X (validation_split picks them by index).
    Full batch: ``XT``/``TT`` hold those rows feature-major (flat). Mini-batches: each
    batch's rows are gathered, feature-major, into the flat ``xb``/``tb``/``wb``, in the
    order of ``orders[e]`` when shuffling. Per epoch, ``out[e]`` gets (mean loss, correct
    predictions, Σθ²) and snapshot row ``cfg[C_SNAP_ROW] + e`` gets [values | gradients of
    the epoch's last batch]. A non-finite loss, or a thousandfold jump of ‖θ‖² against
    ``hyp[H_LAST_SQ]``, stops the run (``status[S_REASON]``) with the weights as they are,
    for the caller to restore from the last good snapshot.
    """
    n = cfg[C_ROWS]
    d = X.shape[1]
    k = T.shape[1]
    bs = cfg[C_BATCH]
    full = bs >= n
    n_values = values.size
    step = cfg[C_STEP]
    last_sq = hyp[H_LAST_SQ]
    weighted = cfg[C_WEIGHTED]
    # A first layer through BLAS reads a gathered batch row by row: each row one contiguous
    # copy, where the feature-major gather writes d scattered values per row.
    by_rows = not full and layers[0, USE_BLAS] != 0
    status[S_REASON] = OK
    for e in range(cfg[C_EPOCHS]):
        total_loss = 0.0
        correct = 0
        for start in range(0, n, bs):
            m = min(bs, n - start)
            if full:
                x, t, w = XT, TT, sw
            else:
                x, t, w = xb[:d * m], tb[:k * m], wb[:m] if weighted else wb
                for i in range(m):
                    sample = orders[e, start + i] if cfg[C_SHUFFLE] else start + i
                    x_row = rows[sample] if cfg[C_INDIRECT] else sample
                    if by_rows:
                        xi_at = i * d
                        for c in range(d):  # (a loop: 4× a slice assignment's speed)
                            x[xi_at + c] = X[x_row, c]
                    else:
                        for c in range(d):
                            x[c * m + i] = X[x_row, c]
                    for c in range(k):
                        t[c * m + i] = T[sample, c]
                    if weighted:
                        w[i] = sw[sample]
            loss, batch_correct = train_step(x, t, w, m, values, grads, layers, alphas, ws,
                                             cfg, hyp, by_rows)
            if not math.isfinite(loss):
                status[S_DONE] = e
                status[S_REASON] = LOSS_NOT_FINITE
                status[S_STEP] = step
                return
            if cfg[C_CLIP]:
                clip_gradients(grads, hyp[H_CLIPNORM])
            step += 1
            update(cfg[C_OPT], hyp[H_LR], hyp[H_DECAY], hyp[H_MOMENTUM], cfg[C_NESTEROV],
                   hyp[H_BETA1], hyp[H_BETA2], hyp[H_EPS], hyp[H_RHO], cfg[C_DECOUPLED],
                   values, grads, s1, s2, step)
            total_loss += loss * m
            correct += batch_correct
        value_sq = sum_of_squares(values)
        out[e, 0] = total_loss / n
        out[e, 1] = correct
        out[e, 2] = value_sq
        status[S_STEP] = step
        if not value_sq <= 1e6 * max(last_sq, 1.0):  # False for NaN too
            status[S_DONE] = e
            status[S_REASON] = WEIGHTS_DIVERGED
            return
        last_sq = value_sq
        snapshot = snapshots[cfg[C_SNAP_ROW] + e]
        snapshot[:n_values] = values
        snapshot[n_values:] = grads
        status[S_DONE] = e + 1
