"""`make bench` and the other benchmark scripts keep working, on tiny sizes.

Speed itself is never asserted here (no timed assertions in unit tests); `make bench`
reports it against the issues' targets.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import compiled_sizes  # noqa: E402
import curves  # noqa: E402
import memmap_scale  # noqa: E402
import peer_jax  # noqa: E402
import run  # noqa: E402
import workloads as wl  # noqa: E402

pytest.importorskip("torch")
pytest.importorskip("jax")


@pytest.mark.parametrize("optimizer, batch_size", [("sgd", None), ("adam", 2)])
def test_every_runner_trains_the_same_tiny_network(optimizer, batch_size):
    spec = wl.Spec("tiny", [2, 4, 1], optimizer, 0.1, 5, batch_size)
    data = wl.xor()
    runners = run.runners("W4" if batch_size is None else "W2", spec, data)
    expected = {"backprop", "backprop NumPy", "jax step", "jax scan", "sklearn f64",
                "sklearn f32", "torch"}
    if batch_size is None:  # scikit-learn's default differs from its fair setting
        expected.add("sklearn f64 default")
    assert set(runners) == expected
    for name, runner in runners.items():
        seconds, accuracy = runner()
        assert seconds > 0, name
        assert 0.0 <= accuracy <= 1.0, name
    assert peer_jax.compile_seconds("jax scan", "tiny") > 0


def test_jax_does_the_same_updates_as_torch():
    # Same initial weights in both, one SGD step on a full batch: the same new weights.
    import jax.numpy as jnp
    import torch

    spec = wl.Spec("one step", [3, 5, 2], "sgd", 0.5, 1, None)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.integers(0, 2, 8)
    params = peer_jax._init(spec.sizes, 0)
    _, update, init_state = peer_jax._functions(tuple(spec.sizes), "sgd", spec.lr)
    new, _ = update([tuple(map(jnp.asarray, p)) for p in params], (), jnp.asarray(X),
                    jnp.asarray(y.astype(np.int32)))
    layers = [torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2)]
    with torch.no_grad():
        for layer, (W, b) in zip(layers[::2], params):
            layer.weight.copy_(torch.from_numpy(W.T.copy()))
            layer.bias.copy_(torch.from_numpy(b))
    model = torch.nn.Sequential(*layers)
    loss = torch.nn.CrossEntropyLoss()(model(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    for layer, (W, b) in zip(layers[::2], new):
        expected_W = layer.weight.detach().numpy().T - 0.5 * layer.weight.grad.numpy().T
        expected_b = layer.bias.detach().numpy() - 0.5 * layer.bias.grad.numpy()
        np.testing.assert_allclose(np.asarray(W), expected_W, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(b), expected_b, rtol=1e-5, atol=1e-6)


def test_scikit_learn_shuffles_only_where_it_changes_the_updates():
    full = wl.Spec("full", [2, 4, 1], "sgd", 0.1, 3, None)
    mini = wl.Spec("mini", [2, 4, 1], "sgd", 0.1, 3, 2)
    assert wl.is_full_batch(full, wl.xor()) and not wl.is_full_batch(mini, wl.xor())


def test_measure_interleaves_the_libraries_and_summarises_each():
    calls = []

    def runner(name, seconds):
        def run_once():
            calls.append(name)
            return seconds, 1.0
        return run_once

    results = run.measure({"a": runner("a", 2.0), "b": runner("b", 1.0)}, repeats=3, pause=0)
    assert calls == ["a", "b"] + ["a", "b"] * 3  # a warm-up each, then turns
    assert results["a"] == {"median": 2.0, "min": 2.0, "max": 2.0, "accuracy": 1.0}
    assert results["b"]["median"] == 1.0


def test_the_report_gives_ratios_against_the_targets(capsys):
    spec, data = run.SPECS["W4"], wl.xor()
    results = {name: {"median": m, "min": m, "max": m, "accuracy": 1.0}
               for name, m in (("backprop", 1.0), ("jax step", 4.0), ("sklearn f64", 2.0),
                               ("torch", 10.0))}
    met, ratios = run.report("W4", spec, data, results)
    assert ratios == {"backprop": 1.0, "jax step": 4.0, "sklearn f64": 2.0, "torch": 10.0}
    assert not met  # 2.0 < 3.5 against scikit-learn
    out = capsys.readouterr().out
    assert "3.50x MISS" in out and "3.00x ok" in out
    run.markdown({"W4": (spec, data, ratios)}, {"W4": results})
    assert "| W4 one XOR step | 500.0 µs/step | 4.00× ✓ |" in capsys.readouterr().out


def test_the_roofline_is_timed_in_the_rounds_and_gives_w3_its_share(capsys, monkeypatch):
    spec, data = wl.Spec("W3 tiny", [8, 6, 3], "sgd", 0.01, 1, 16), wl.mnist_shape()
    data = wl.Data(data.X_train[:64, :8], data.y_train[:64] % 3, data.X_test[:8, :8],
                   data.y_test[:8] % 3)
    runners = run.runners("W3", spec, data)
    assert run.ROOFLINE in runners  # one more turn in every round of measure
    seconds, _ = runners[run.ROOFLINE]()
    assert seconds > 0
    monkeypatch.setattr(run.peer_jax, "compile_seconds", lambda name, spec_name: 0.0)
    results = {name: {"median": m, "min": m, "max": m, "accuracy": 0.5}
               for name, m in (("backprop", 2.0), ("jax step", 3.0), (run.ROOFLINE, 1.6))}
    met, ratios = run.report("W3", spec, data, results)
    assert ratios["roofline"] == pytest.approx(0.8) and ratios["jax step"] == 1.5
    out = capsys.readouterr().out
    assert "80% of the roofline (target 75%: ok)" in out
    assert not any(line.lstrip().startswith(run.ROOFLINE) for line in out.splitlines())


def test_matmul_roofline_times_the_products_of_one_epoch():
    X = np.random.default_rng(0).standard_normal((64, 8), dtype=np.float32)
    assert wl.matmul_roofline([8, 6, 3], X, 16) > 0


def test_the_curves_quick_run_writes_its_json_and_figure(tmp_path):
    # one sweep: each library and point measures its memory in a process of its own
    assert curves.main(["--quick", "--only", "depth", "--out", str(tmp_path)]) == 0
    points = json.loads((tmp_path / "curves.json").read_text())["points"]
    assert {p["library"] for p in points} == set(curves.LIBRARIES)
    assert {(p["sweep"], p["value"]) for p in points} == {("depth", 1), ("depth", 2)}
    assert all(p["seconds"] > 0 for p in points)
    assert all(p["peak_mb"] is None or p["peak_mb"] >= 0 for p in points)
    # JAX compiles a program per network: memory no other library spends
    jax_mb = [p["peak_mb"] for p in points if p["library"] == "jax"]
    assert None in jax_mb or min(jax_mb) > 0
    assert (tmp_path / "curves.png").stat().st_size > 10_000


def test_the_sizes_sweep_compares_both_paths(tmp_path):
    pytest.importorskip("numba")
    out = tmp_path / "sizes.json"
    assert compiled_sizes.main(["--repeats", "1", "--widths", "4", "--batches", "64",
                                "--json", str(out)]) == 0
    cells = json.loads(out.read_text())
    assert {(c["optimizer"], c["width"], c["batch"]) for c in cells} == {
        ("sgd", 4, 64), ("adam", 4, 64)}
    assert all(c["numpy_s"] > 0 and c["compiled_s"] > 0 for c in cells)


def test_the_memmap_measurement_runs_and_deletes_its_file(tmp_path):
    pytest.importorskip("numba")
    out = tmp_path / "memmap.json"
    assert memmap_scale.main(["--gb", "0.002", "--features", "16", "--dir", str(tmp_path),
                              "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [r["mode"] for r in result["runs"]] == ["never", "always"]
    assert not list(tmp_path.glob("*.f32"))
