"""Sweeps: the space, the plan, the store, failures, resume, local processes and Optuna."""

from __future__ import annotations

import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import experiments_helpers as helpers
import numpy as np
import pytest
from experiments_helpers import (
    MOONS_SWEEP,
    FailAtRate,
    InterruptAfter,
    KillOnce,
    write,
)
from experiments_helpers import runs as _runs

import backprop as bp
from backprop.cli import main
from backprop.experiments import ExperimentError, SweepStoreError, sweep
from backprop.experiments.backends import Processes
from backprop.experiments.space import dimension, dimensions, plan
from backprop.experiments.store import Store

HERE = Path(__file__).parent

tiny = pytest.fixture(scope="module")(helpers.tiny)  # the tiny sweep's file
serial = pytest.fixture(scope="module")(helpers.serial)  # its serial run


def _where(path):
    return "test"


# -- the space ------------------------------------------------------------------------------
def test_grid_values_of_each_kind():
    assert dimension(_where, "a", [1, 2]).grid() == [1, 2]
    assert dimension(_where, "a", {"uniform": [0, 1], "num": 3}).grid() == [0.0, 0.5, 1.0]
    assert dimension(_where, "a", {"loguniform": [1e-3, 1e-1], "num": 3}).grid() == \
        pytest.approx([1e-3, 1e-2, 1e-1])
    assert dimension(_where, "a", {"int": [16, 64], "step": 16}).grid() == [16, 32, 48, 64]
    assert dimension(_where, "a", {"int": [1, 100], "num": 3, "log": True}).grid() == [1, 10, 100]


def test_random_draws_stay_in_range_and_repeat_with_the_seed():
    dims = [dimension(_where, "lr", {"loguniform": [1e-4, 1e-1]}),
            dimension(_where, "width", {"int": [4, 64], "log": True}),
            dimension(_where, "drop", {"uniform": [0.0, 0.5]}),
            dimension(_where, "act", {"choice": ["relu", "tanh"]})]
    sweep_cfg = {"method": "random", "trials": 200, "repeats": 1, "seed": 4}
    trials = plan(dims, sweep_cfg, base_seed=0)
    lrs = np.array([t.params["lr"] for t in trials])
    widths = np.array([t.params["width"] for t in trials])
    assert lrs.min() >= 1e-4 and lrs.max() <= 1e-1
    assert np.mean(lrs < 1e-2) == pytest.approx(2 / 3, abs=0.1)  # uniform in log space
    assert widths.min() >= 4 and widths.max() <= 64 and widths.dtype.kind == "i"
    assert {t.params["act"] for t in trials} == {"relu", "tanh"}
    assert [t.params for t in plan(dims, sweep_cfg, 0)] == [t.params for t in trials]


def test_a_random_draw_of_a_configuration_already_drawn_is_left_out():
    dims = [dimension(_where, "a", [1, 2, 3])]
    trials = plan(dims, {"method": "random", "trials": 20, "repeats": 1, "seed": 0}, 0)
    assert sorted(t.params["a"] for t in trials) == [1, 2, 3]


def test_repeats_share_a_configuration_and_step_the_model_seed():
    sweep_cfg = {"method": "grid", "repeats": 3, "seed": 0, "space": {"a": [1, 2]}}
    trials = plan(dimensions(sweep_cfg, _where), sweep_cfg, base_seed=10)
    assert [(t.number, t.params["a"], t.params["model.seed"]) for t in trials] == [
        (0, 1, 10), (1, 1, 11), (2, 1, 12), (3, 2, 10), (4, 2, 11), (5, 2, 12)]
    assert len({t.config for t in trials}) == 2 and len({t.key for t in trials}) == 6


def test_a_swept_value_that_the_key_refuses_names_the_sweep_line(tmp_path):
    text = MOONS_SWEEP.replace('"model.hidden" = [[4], [6, 6]]', '"model.hidden" = [[4], [0]]')
    with pytest.raises(ExperimentError, match=r"tiny.toml line 23: model.hidden must be"):
        sweep(write(tmp_path / "tiny.toml", text), tmp_path / "out", backend="serial")
    text = MOONS_SWEEP.replace('"model.hidden"', '"model.hiden"')
    with pytest.raises(ExperimentError, match=r"line 23: unknown key model.hiden"):
        sweep(write(tmp_path / "tiny.toml", text), tmp_path / "out", backend="serial")
    text = MOONS_SWEEP.replace('metric = "val_accuracy"', 'metric = "val_r2"')
    with pytest.raises(ExperimentError, match=r"line 19: sweep.metric 'val_r2' does not apply"):
        sweep(write(tmp_path / "tiny.toml", text), tmp_path / "out", backend="serial")


# -- a serial sweep and its store ----------------------------------------------------------
def test_serial_sweep_ranks_configurations_over_their_seeds(serial):
    assert len(serial.trials) == 8 and {t["status"] for t in serial.trials} == {"ok"}
    assert len(serial.configs) == 4 and all(c.n == 2 for c in serial.configs)
    means = [c.mean for c in serial.configs]
    assert means == sorted(means, reverse=True)  # val_accuracy: higher first
    best = serial.configs[0]
    seeds = [t["metrics"]["val_accuracy"] for t in serial.trials if t["number"] in best.trials]
    assert best.mean == pytest.approx(np.mean(seeds))
    assert best.std == pytest.approx(np.std(seeds, ddof=1))
    assert serial.data_sent == 0  # serial: the data never leave this process


def test_the_store_holds_every_column_of_every_trial(serial):
    with sqlite3.connect(serial.out / "sweep.db") as db:
        rows = db.execute("select params, status, metrics, duration, worker, history, weights "
                          "from trials").fetchall()
    assert len(rows) == 8
    for params, status, metrics, duration, worker, history, weights in rows:
        assert "model.seed" in params and status == "ok" and "val_accuracy" in metrics
        assert duration > 0 and ":" in worker and '"val_loss"' in history and weights


def test_the_best_model_is_saved_ready_for_predict_and_its_file_trains_it_again(serial,
                                                                                 tmp_path):
    best = serial.out / "best"
    model = bp.load(best / "model.safetensors")
    assert main(["predict", "--model", str(best), "--data", "moons", "--n-samples", "10",
                 "--output", str(tmp_path / "p.csv")]) == 0
    again = bp.experiments.run(best / "experiment.toml")
    assert again.model.get_flat_weights().tobytes() == model.get_flat_weights().tobytes()
    for name in ("trials.csv", "summary.json", "metric_vs_settings.png",
                 "parallel_coordinates.png"):
        assert (serial.out / name).stat().st_size > 0, name


def test_local_processes_give_the_same_trials_bit_for_bit_and_get_the_data_once(serial, tiny,
                                                                                tmp_path):
    result = sweep(tiny, tmp_path / "out", workers=2, progress=False)
    assert _runs(result) == _runs(serial)
    assert 1 <= result.data_sent <= 2  # once per worker, not once per trial (8)


def test_a_killed_worker_process_gets_its_trials_run_again(serial, tiny, tmp_path):
    backend = Processes(2)
    result = sweep(tiny, tmp_path / "out", backend=backend, progress=False,
                   callbacks=[KillOnce(tmp_path / "killed")])
    assert (tmp_path / "killed").exists() and backend.restarts == 1
    assert _runs(result) == _runs(serial)


def test_diverged_and_failing_trials_are_recorded_and_the_sweep_goes_on(tmp_path):
    text = MOONS_SWEEP.replace('"training.optimizer.lr" = [0.01, 0.05]',
                               '"training.optimizer.lr" = [0.01, 0.02, 1e6]').replace(
        "[training]", '[training]\noptimizer = {name = "sgd"}')
    result = sweep(write(tmp_path / "s.toml", text), tmp_path / "out", backend="serial",
                   progress=False, callbacks=[FailAtRate(0.02)])
    status = {}
    for t in result.trials:
        status.setdefault(t["params"]["training.optimizer.lr"], set()).add(t["status"])
    assert status == {0.01: {"ok"}, 0.02: {"failed"}, 1e6: {"diverged"}}
    errors = {t["status"]: t["error"] for t in result.trials}
    assert "fails on purpose" in errors["failed"] and "RuntimeError" in errors["failed"]
    assert "diverged" in errors["diverged"].lower() or "finite" in errors["diverged"]
    assert result.best is not None and result.best.params["training.optimizer.lr"] == 0.01
    assert [c.status for c in result.configs[2:]] in (["failed", "failed", "diverged",
                                                       "diverged"],
                                                      ["diverged", "diverged", "failed",
                                                       "failed"])


def test_an_interrupted_sweep_resumes_where_it_stopped(serial, tiny, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep(tiny, out, backend="serial", progress=False, callbacks=[InterruptAfter(3)])
    with Store(out / "sweep.db") as store:
        assert store.count_finished() == 3
    with pytest.raises(SweepStoreError, match="pass --resume"):
        sweep(tiny, out, backend="serial", progress=False)
    result = sweep(tiny, out, backend="serial", progress=False, resume=True)
    assert result.ran == 5
    assert _runs(result) == _runs(serial)


def test_a_client_killed_mid_sweep_loses_nothing_and_resume_completes_it(serial, tiny,
                                                                         tmp_path):
    out, flag = tmp_path / "out", tmp_path / "flag"
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
            "from experiments_helpers import KillOnce\n"
            "from backprop.experiments import sweep\n"
            f"sweep({str(tiny)!r}, {str(out)!r}, backend='serial', progress=False, "
            f"callbacks=[KillOnce({str(flag)!r}, after=5)])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == -9, done.stderr
    with Store(out / "sweep.db") as store:
        before = {t["key"]: t for t in store.trials() if t["status"] == "ok"}
    assert len(before) == 5
    assert main(["sweep", str(tiny), "--out", str(out), "--serial", "--resume",
                 "--quiet", "--no-plots"]) == 0
    assert _runs(out) == _runs(serial)
    with Store(out / "sweep.db") as store:
        for trial in store.trials():
            if trial["key"] in before:  # recorded before the kill, untouched since
                assert trial["duration"] == before[trial["key"]]["duration"]


def test_a_changed_file_is_not_resumed_into_the_old_sweep(serial, tmp_path):
    changed = write(tmp_path / "tiny.toml", MOONS_SWEEP.replace("epochs = 6", "epochs = 7"))
    with pytest.raises(SweepStoreError, match="different sweep"):
        sweep(changed, serial.out, backend="serial", progress=False, resume=True)


# -- Optuna ----------------------------------------------------------------------------------
OPTUNA = """\
[data]
source = "moons"
n_samples = 160
[model]
hidden = [6]
[training]
epochs = 15
batch_size = 32
[sweep]
method = "optuna"
trials = 9
seed = 1
prune_warmup = 2
[sweep.space]
"training.optimizer.lr" = {loguniform = [1e-5, 1e-1]}
"model.hidden" = [[4], [6, 6]]
"""


def test_optuna_prunes_on_the_validation_loss_and_resumes_its_study(tmp_path):
    path = write(tmp_path / "opt.toml", OPTUNA)
    with pytest.raises(KeyboardInterrupt):
        sweep(path, tmp_path / "out", backend="serial", progress=False,
              callbacks=[InterruptAfter(4)])
    result = sweep(path, tmp_path / "out", backend="serial", progress=False, resume=True)
    assert result.ran == 5 and len(result.trials) == 9
    statuses = [t["status"] for t in result.trials]
    assert "pruned" in statuses and statuses.count("ok") >= 5
    for t in result.trials:
        if t["status"] == "pruned":
            assert 2 < t["epochs"] < 15 and len(t["history"]["val_loss"]) == t["epochs"]
    import optuna

    from backprop.experiments.optuna_search import STUDY
    from backprop.experiments.optuna_store import journal

    study = optuna.load_study(study_name=STUDY, storage=journal(tmp_path / "out" /
                                                                "optuna.journal"))
    states = [t.state.name for t in study.trials]
    assert states.count("COMPLETE") + states.count("PRUNED") == 9
    assert math.isclose(study.best_value, result.best.mean)
