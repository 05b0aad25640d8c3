"""The speed room: every trick that makes training fast, behind the engine's plain contracts.

The engine (layers, network, optimizers, training) reads like the textbook and calls in here;
this package imports nothing of the engine (``tests/test_architecture.py`` holds it to that),
so each trick can be read, measured and switched off on its own. Gains are the measurements
that came with each trick (``make bench`` workloads W1 to W4, see the README) or, where none
was recorded, interleaved runs of the same workload with the trick switched off.

Flat parameter storage (``storage``)
    Every W and b is a view into one array, every gradient into a second: the optimiser
    updates one Param spanning the model, a dozen NumPy calls whatever its depth. Gain: W2
    (Adam on digits) runs 1.2× slower with a Param per W and b. Fallback: none needed; the
    layers see their own (n_in, n_out) and (n_out,) arrays, and ``model.parameters()`` gives
    a Param per W and b.
The first layer's bias inside its products (``storage``, ``Dense.forward_with_ones``)
    The training data gets a column of ones once per fit, so z = [x 1]·[W; b] is one product
    and [∂L/∂W; ∂L/∂b] = [x 1]ᵀδ another: no bias add, no bias sum on narrow arrays. Gain: the
    first layer's forward and backward on W1's 800×2 → 10 take 20 µs instead of 40 µs, 10–15%
    of a W1 epoch. Fallback: a first layer without bias (or a Dropout first) reads plain X.
Shuffled batches gathered into reused buffers (``loop``)
    Each batch's rows are copied into the same buffer (with its ones column up to 2¹⁴
    numbers a batch: NumPy's ``take`` fills the strided columns of [x 1] only through a copy
    in and out, which costs W3's 128 × 784 batches more than the bias add: NumPy path
    0.678 → 0.639 s without it), where the first product finds them in cache. Gain: W3
    0.61 → 0.52 s. Fallback: unshuffled mini-batches are slices of X, with no copy.
A full batch is one step per epoch (``loop``)
    No batch loop; one reduction checks the weights for NaN and explosion; norms are kept as
    raw sums until training ends. Gain: W4 24.2 → 22.5 µs a step. Fallback: with batch hooks
    the batch loop runs.
The fused plain-SGD step (``fused_step``, ``blas``)
    W ← W − η·xᵀδ inside the product that computes the gradient, one BLAS gemm with β = 1 on
    every BLAS thread, instead of a single-threaded pass over a gradient the other thread
    wrote. Gain: W3 0.60 → 0.47 s. Fallback: blocks under 8192 parameters, or no usable
    BLAS, get the gradient written and subtracted (bit for bit ``SGD.step``); other update
    rules, L2, batch hooks and every epoch's last batch use the optimiser's step.
Norm snapshots (``norms``)
    One copy of [values | gradients] an epoch, many epochs reduced at once; the latest row is
    also the divergence fallback, and before the first epoch ends the row it will fill holds
    the starting weights (no copy of their own). Fallback: a large model gets fewer rows (down
    to one), with the same norms.
NumPy without its dispatcher (``numpy_direct``)
    ``dot``, ``vdot`` and ``copyto`` skip the ``__array_function__`` dispatcher (0.1 µs a
    call); with the snapshots and fewer Python calls in the step, W4 16.4 → 14.0 µs. Column
    sums as the BLAS product 1ᵀδ: 2 µs instead of 11 µs on an 800×10 δ. Fallback: a NumPy
    without ``_implementation`` gets the ordinary functions.
Only hooks that do something are called (``loop``)
    A callback that leaves a hook empty costs nothing on each step or epoch.
The compiled path (``compiled``; numba, the ``fast`` extra)
    Forward, loss, backward and the update of every batch of an epoch, or of many epochs,
    in one Numba call: no Python between layers or steps (README, Performance). Gain, in one
    ``make bench`` run: W4 49.6 → 7.1 µs a step, W1 0.093 → 0.059 ms an epoch, W2 0.44 →
    0.19 s. Agrees with the NumPy path to 1e-5 (float32) and 1e-12 (float64) over 100 steps.
    Its loops index ``start + r`` over a unit's values, which LLVM vectorises (numba keeps a
    wrap-around test on ``range(j·m, …)`` and an atomic reference count on a view), and a
    weight gradient of more than 1200 entries takes δ copied by rows, which OpenBLAS
    multiplies on its small-matrix kernels: W2 a further 0.152 → 0.130 s, W1 0.070 → 0.051 ms
    an epoch (``benchmarks/ab.py --compiled always``, 30 rounds, medians); W4 within the
    noise (80 rounds: medians 1.07, minimums 0.99 after/before).
    Fallback: the NumPy path, for anything the kernels do not take (Dropout, custom layers,
    activations, losses or optimisers, sparse X, batch hooks), without numba, and for fits
    ``BACKPROP_COMPILED=auto`` judges too short to repay loading numba or networks too large
    to gain.
ReLU's passes compiled on the NumPy path (``compiled/relu_passes``; numba)
    For networks too large for the compiled path: ``z += b`` and ``max(z, 0)`` as one loop,
    ``dy · (a > 0)`` as another, without NumPy's boolean temporary; bit for bit NumPy's
    numbers. Gain: W3 3–6% (interleaved runs, medians and pairs). Fallback: NumPy's passes,
    with ``BACKPROP_COMPILED=never``, without numba, for a fit under 2 s in a process that
    has not run them before, and for arrays the loops do not take.
Batches gathered by index (``loop``)
    ``validation_split`` picks rows by index and never copies X; mini-batches in order of an X
    over 64 MB are gathered rather than sliced from a copy with a ones column; validation
    runs in parts of 8192 rows, fewer for wide layers (``part_rows``: at most 2²¹ numbers in a
    part's widest matrix: 6000 rows through a 2048-wide float64 layer held 98 MB in one pass,
    17 MB in parts of 1024). A 2.2 GB float32 memmap trains with 107 MB of allocations.
    Fallback: a small X in order is sliced from one copy, as before.

Elsewhere, because they are the arithmetic of a primitive rather than plumbing: Adam keeps its
moments as sums, without temporaries (optimizers.py; W2 0.249 → 0.206 s); the fused
sigmoid/softmax cross-entropy pairs (losses.py); a one-call sigmoid through tanh
(activations.py).
"""
