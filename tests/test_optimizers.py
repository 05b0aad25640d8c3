"""Optimisers against torch.optim, gradient clipping, and learning-rate schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import backprop as bp
from backprop.optimizers import OPTIMIZERS

SHAPES = [(5, 3), (3,)]
STEPS = 50

# (ours, torch class name, torch keyword arguments)
VARIANTS = {
    "sgd": (lambda: bp.SGD(lr=0.05), "SGD", dict(lr=0.05)),
    "sgd_momentum": (lambda: bp.SGD(lr=0.05, momentum=0.9), "SGD",
                     dict(lr=0.05, momentum=0.9)),
    "sgd_nesterov": (lambda: bp.SGD(lr=0.05, momentum=0.9, nesterov=True), "SGD",
                     dict(lr=0.05, momentum=0.9, nesterov=True)),
    "sgd_weight_decay": (lambda: bp.SGD(lr=0.05, momentum=0.5, weight_decay=0.1), "SGD",
                         dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    "adam": (lambda: bp.Adam(lr=0.01), "Adam", dict(lr=0.01)),
    "adam_betas": (lambda: bp.Adam(lr=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-6), "Adam",
                   dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
    "adam_weight_decay": (lambda: bp.Adam(lr=0.01, weight_decay=0.1), "Adam",
                          dict(lr=0.01, weight_decay=0.1)),
    "adamw": (lambda: bp.AdamW(lr=0.01, weight_decay=0.1), "AdamW",
              dict(lr=0.01, weight_decay=0.1)),
    "adamw_default_decay": (lambda: bp.AdamW(lr=0.01), "AdamW", dict(lr=0.01)),
    "rmsprop": (lambda: bp.RMSprop(lr=0.01), "RMSprop", dict(lr=0.01)),
    "rmsprop_momentum": (lambda: bp.RMSprop(lr=0.01, alpha=0.9, momentum=0.8), "RMSprop",
                         dict(lr=0.01, alpha=0.9, momentum=0.8)),
    "rmsprop_weight_decay": (lambda: bp.RMSprop(lr=0.01, weight_decay=0.05), "RMSprop",
                             dict(lr=0.01, weight_decay=0.05)),
    "adagrad": (lambda: bp.Adagrad(lr=0.1), "Adagrad", dict(lr=0.1)),
    "adagrad_options": (lambda: bp.Adagrad(lr=0.1, initial_accumulator_value=0.1,
                                           weight_decay=0.05), "Adagrad",
                        dict(lr=0.1, initial_accumulator_value=0.1, weight_decay=0.05)),
}


def _run_both(torch, make_ours, torch_name, torch_kwargs, clipnorm=None, scale=1.0):
    """50 steps of each library on the same gradient sequence; returns both parameter sets.

    The gradient at step t is noiseₜ + ½θ (θ each library's own current value): a fixed
    random sequence plus a pull towards zero, so the updates feed back into the gradients.
    """
    gen = np.random.default_rng(0)
    start = [gen.normal(size=s) for s in SHAPES]
    noise = [[scale * gen.normal(size=s) for s in SHAPES] for _ in range(STEPS)]

    ours = [bp.Param(f"p{i}", v.copy()) for i, v in enumerate(start)]
    opt = make_ours()
    theirs = [torch.tensor(v.copy(), requires_grad=True) for v in start]
    t_opt = getattr(torch.optim, torch_name)(theirs, **torch_kwargs)
    for step_noise in noise:
        for p, g in zip(ours, step_noise):
            p.grad[...] = g + 0.5 * p.value
        opt.step(ours)
        for t, g in zip(theirs, step_noise):
            t.grad = torch.from_numpy(g) + 0.5 * t.detach()
        if clipnorm is not None:
            torch.nn.utils.clip_grad_norm_(theirs, clipnorm)
        t_opt.step()
    return [p.value for p in ours], [t.detach().numpy() for t in theirs]


@pytest.mark.parametrize("variant", VARIANTS)
def test_fifty_steps_match_torch(torch, variant):
    make_ours, torch_name, torch_kwargs = VARIANTS[variant]
    ours, theirs = _run_both(torch, make_ours, torch_name, torch_kwargs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert make_ours().iterations == 0


def test_adam_moments_are_torchs(torch):
    """Adam keeps m/(1−β₁) and v/(1−β₂) to save passes; ``moments`` gives torch's m and v."""
    gen = np.random.default_rng(1)
    start = gen.normal(size=(4, 3))
    ours, opt = bp.Param("p", start.copy()), bp.Adam(lr=0.01, beta_1=0.8, beta_2=0.99)
    theirs = torch.tensor(start.copy(), requires_grad=True)
    t_opt = torch.optim.Adam([theirs], lr=0.01, betas=(0.8, 0.99))
    for _ in range(20):
        g = gen.normal(size=start.shape)
        ours.grad[...] = g
        opt.step([ours])
        theirs.grad = torch.from_numpy(g.copy())
        t_opt.step()
    m, v = opt.moments(ours)
    np.testing.assert_allclose(m, t_opt.state[theirs]["exp_avg"].numpy(), rtol=1e-12)
    np.testing.assert_allclose(v, t_opt.state[theirs]["exp_avg_sq"].numpy(), rtol=1e-12)
    assert "_scratch" not in opt.state_arrays(ours)


def test_every_registered_optimiser_is_compared_with_torch():
    compared = {make().name for make, _, _ in VARIANTS.values()}
    assert compared == set(OPTIMIZERS.names())


def test_whole_model_parameter_gives_the_same_update_as_separate_parameters(rng):
    # fit hands the optimiser one Param spanning the model; layer by layer must be the same.
    model_a = bp.MLP([3, 4, 2], seed=0, dtype="float64")
    model_b = bp.MLP([3, 4, 2], seed=0, dtype="float64")
    opt_a, opt_b = bp.Adam(lr=0.01), bp.Adam(lr=0.01)
    for _ in range(5):
        grads = rng.normal(size=model_a.count_params())
        model_a.flat_param.grad[...] = grads
        model_b.flat_param.grad[...] = grads
        opt_a.step([model_a.flat_param])
        opt_b.step(model_b.parameters())
    np.testing.assert_allclose(model_a.get_flat_weights(), model_b.get_flat_weights(),
                               rtol=0, atol=1e-15)


# -- gradient clipping ----------------------------------------------------------------------


def test_clipnorm_rescales_the_global_norm(rng):
    grads = [rng.normal(size=s) * 10 for s in SHAPES]
    norm = math.sqrt(sum(float(np.sum(g**2)) for g in grads))
    assert norm > 1.0
    params = [bp.Param(f"p{i}", np.zeros(g.shape), g.copy()) for i, g in enumerate(grads)]
    bp.SGD(lr=1.0, clipnorm=1.0).step(params)
    step = [-p.value for p in params]  # lr = 1: the update is the clipped gradient
    assert math.sqrt(sum(float(np.sum(s**2)) for s in step)) == pytest.approx(1.0, rel=1e-12)
    for s, g in zip(step, grads):  # same direction, every tensor scaled alike
        np.testing.assert_allclose(s, g / norm, rtol=1e-12)
    # A gradient already inside the ball is left alone.
    small = [bp.Param(f"q{i}", np.zeros(g.shape), g / (2 * norm)) for i, g in enumerate(grads)]
    bp.SGD(lr=1.0, clipnorm=1.0).step(small)
    for p, g in zip(small, grads):
        np.testing.assert_allclose(-p.value, g / (2 * norm), rtol=1e-15)


@pytest.mark.parametrize("variant", ["sgd_momentum", "adam", "rmsprop"])
def test_clipnorm_matches_torch_clip_grad_norm(torch, variant):
    make_ours, torch_name, torch_kwargs = VARIANTS[variant]

    def make_clipped():
        opt = make_ours()
        opt.clipnorm = 0.5
        return opt

    # Gradients of norm ≈ 30, so every step is clipped. torch divides by (norm + 1e-6)
    # where we divide by the norm: a relative difference of ~3e-8 per step.
    ours, theirs = _run_both(torch, make_clipped, torch_name, torch_kwargs, clipnorm=0.5,
                             scale=10.0)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


# -- learning-rate schedules ----------------------------------------------------------------


def _fit_lrs(callback, epochs=12, lr=0.1, extra=()):
    X = np.linspace(-1, 1, 10).reshape(-1, 1)
    model = bp.MLP([1, 2, 1], activation="tanh", seed=0, dtype="float64")
    history = model.fit(X, X[:, 0], loss="mse", optimizer=bp.SGD(lr=lr), epochs=epochs,
                        callbacks=[*extra, callback])
    return history.history["lr"]


def _torch_lrs(torch, make_scheduler, epochs=12, lr=0.1):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(opt)
    rates = []
    for _ in range(epochs):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return rates


def test_step_decay(torch):
    # η = 0.1 · 0.5^⌊epoch/3⌋
    rates = _fit_lrs(bp.StepDecay(step_size=3, gamma=0.5))
    assert rates == pytest.approx([0.1 * 0.5 ** (e // 3) for e in range(12)], rel=1e-15)
    expected = _torch_lrs(torch, lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.5))
    assert rates == pytest.approx(expected, rel=1e-14)


def test_exponential_decay(torch):
    rates = _fit_lrs(bp.ExponentialDecay(gamma=0.8))
    assert rates == pytest.approx([0.1 * 0.8**e for e in range(12)], rel=1e-14)
    expected = _torch_lrs(torch, lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.8))
    assert rates == pytest.approx(expected, rel=1e-12)


def test_cosine_decay(torch):
    rates = _fit_lrs(bp.CosineDecay(total_epochs=8, min_lr=0.01))
    formula = [0.01 + 0.5 * 0.09 * (1 + math.cos(math.pi * min(e, 8) / 8)) for e in range(12)]
    assert rates == pytest.approx(formula, rel=1e-14)
    assert rates[8:] == [0.01] * 4  # flat at the minimum after the last epoch
    expected = _torch_lrs(torch, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=8, eta_min=0.01), epochs=9)
    assert rates[:9] == pytest.approx(expected, rel=1e-12)


class _Inject(bp.Callback):
    """Puts a chosen monitored value into the logs of each epoch."""

    def __init__(self, values):
        self.values = values

    def on_epoch_begin(self, epoch, logs):
        logs["score"] = self.values[epoch]


def test_reduce_lr_on_plateau(torch):
    scores = [5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 2.0, 2.0]
    plateau = bp.ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, min_delta=0.05)
    rates = _fit_lrs(plateau, extra=[_Inject(scores)])
    # Epochs 2-4 do not improve on 4.0: the third of them exceeds patience 2, so epoch 5 runs
    # at half the rate. Epochs 6-8 do not improve on 3.0 (by min_delta): halved again for
    # epoch 9. Epochs 10-11 are two bad epochs only: no change.
    assert rates == [0.1] * 5 + [0.05] * 4 + [0.025] * 3

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, factor=0.5, patience=2, threshold=0.05, threshold_mode="abs")
    expected = []
    for score in scores:
        expected.append(opt.param_groups[0]["lr"])
        scheduler.step(score)
    assert rates == pytest.approx(expected, rel=1e-15)


def test_reduce_lr_on_plateau_respects_min_lr():
    plateau = bp.ReduceLROnPlateau(monitor="score", factor=0.1, patience=0, min_lr=0.002)
    rates = _fit_lrs(plateau, epochs=5, extra=[_Inject([1.0] * 5)])
    # Every epoch after the first is a bad one: 0.1 → 0.01 → 0.001, floored at 0.002.
    assert rates == pytest.approx([0.1, 0.1, 0.01, 0.002, 0.002], rel=1e-14)


def test_schedule_reads_the_starting_rate_once():
    # η₀ comes from the optimiser when training starts; a second fit continues the schedule
    # from the same η₀ rather than compounding on the decayed rate.
    schedule = bp.ExponentialDecay(gamma=0.5)
    X = np.zeros((4, 1))
    model = bp.MLP([1, 1], seed=0)
    opt = bp.SGD(lr=0.2)
    model.fit(X, X[:, 0], optimizer=opt, epochs=3, callbacks=[schedule])
    history = model.fit(X, X[:, 0], optimizer=opt, epochs=5, initial_epoch=3,
                        callbacks=[schedule])
    assert history.history["lr"] == pytest.approx([0.2 * 0.5**3, 0.2 * 0.5**4], rel=1e-15)


@pytest.mark.parametrize("name", OPTIMIZERS.all_names())
def test_registry_contract(name):
    opt = bp.optimizers.get(name)
    assert isinstance(opt, bp.Optimizer) and opt.name == OPTIMIZERS.canonical(name)
    assert bp.optimizers.get(opt) is opt
    clone = bp.optimizers.get(opt.get_config())
    assert type(clone) is type(opt) and clone.get_config() == opt.get_config()


def test_unknown_optimiser_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'; choose one of: ") as info:
        bp.optimizers.get("lbfgs")
    assert all(name in str(info.value) for name in OPTIMIZERS.all_names())
