"""Progress in an 80-column terminal (issue 11, row 15): epoch k/n, elapsed and remaining
time and the loss always show; the extra metrics drop out first."""

from __future__ import annotations

import io
import re
import time

import pytest
from rich.console import Console

import backprop as bp
from backprop import datasets

LOGS = {"loss": 0.41234, "val_loss": 0.45116, "accuracy": 0.81231, "val_accuracy": 0.79342}


def _bar(done, total, logs, seconds=37.0):
    bar = bp.ProgressBar()
    bar._total, bar._done, bar._logs = total, done, logs
    bar._start = time.monotonic() - seconds  # as if training began that long ago
    return bar


def _text(bar, width):
    return "".join(piece for piece, _ in bar.line(width))


@pytest.mark.parametrize("width", [80, 60, 48, 40])
def test_the_essentials_always_fit(width):
    bar = _bar(37, 200, LOGS)  # 1 s an epoch: 163 epochs, 2:43, left
    text = _text(bar, width)
    assert len(text) <= width
    assert "epoch 37/200" in text and "0:37 < 2:43" in text and "loss 0.4123" in text


def test_extra_metrics_drop_out_first_then_the_bar():
    bar = _bar(37, 200, LOGS)
    wide, eighty, narrow = _text(bar, 140), _text(bar, 80), _text(bar, 44)
    assert all(k in wide for k in ("val_loss", "accuracy 0.8123", "val_accuracy", "━"))
    assert "val_loss 0.4512" in eighty and "val_accuracy" not in eighty and "━" in eighty
    assert "val_loss" not in narrow and "━" not in narrow and "loss 0.4123" in narrow


def test_a_fit_draws_the_final_line_in_an_80_column_console():
    buffer = io.StringIO()
    console = Console(width=80, file=buffer, force_terminal=False, color_system=None)
    ds = datasets.moons(n_samples=200, seed=0)
    model = bp.MLP([2, 8, 1], output_activation="sigmoid", seed=0)
    model.fit(ds.X, ds.y, loss="binary_crossentropy", optimizer="adam", epochs=25,
              validation_split=0.2, callbacks=[bp.ProgressBar(console=console)])
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1 and len(lines[0]) <= 80
    assert re.search(r"epoch 25/25 ━+ {2}\d+:\d\d < 0:00 {2}loss \d\.\d+ {2}val_loss", lines[0])
