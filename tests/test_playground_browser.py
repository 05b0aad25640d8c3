"""The playground end to end: the CLI's server, Debian's headless chromium driven by Playwright.

Each test opens its own page (its own session) on one server. Screenshots land in each test's
temporary folder. Without chromium the tests skip, except under CI (CI=true), where they fail:
.ci/run installs chromium, so CI always runs them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from playground_helpers import CHROMIUM_ARGS, chromium_or_skip, labelled_csv

import backprop as bp
from backprop.playground.csv_upload import csv_data
from backprop.playground.data import make_data

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60_000  # ms: generous, the machine is shared


def wait_for(page, expression: str, timeout: float = TIMEOUT / 1000) -> None:
    """Poll ``expression`` in the page until it is true. (Playwright's wait_for_function
    evaluates a string with eval, which the page's Content-Security-Policy forbids; the
    tests keep that policy on.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} s: {expression}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def server():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "backprop", "playground", "--no-browser"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, line
        yield match.group(0)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    executable = chromium_or_skip()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.server = server
    yield page
    context.close()
    assert errors == [], errors  # no JavaScript error and no policy violation on any page


def open_link(page, fragment: str) -> dict:
    """Go to the playground with ``fragment`` as its hash and wait for its first frame (the
    same page again only changes the hash: the page then reconfigures its session)."""
    before = page.evaluate("window.playground && window.playground.state ? "
                           "window.playground.state.generation : 0") if page.url != "about:blank" \
        else 0
    page.goto(page.server + fragment)
    wait_for(page, f"window.playground && window.playground.state && "
                   f"window.playground.state.generation > {before} && window.playground.header "
                   "&& window.playground.header.generation === window.playground.state.generation"
                   " && window.playground.canvasesPainted")
    return page.evaluate("window.playground.state")


def header(page) -> dict:
    return page.evaluate("(({arrays, ...rest}) => rest)(window.playground.header)")


def wait_epoch(page, epoch: int) -> dict:
    wait_for(page, f"window.playground.header.epoch >= {epoch}")
    return header(page)


def pause(page) -> dict:
    """Pause and wait until the page shows the final frame of the paused network."""
    page.click("#play")
    wait_for(page, "window.playground.state && !window.playground.state.playing && "
                           "!window.playground.header.playing && window.playground.header.epoch"
                           " === window.playground.state.epoch")
    return header(page)


def colours(page, canvas_id: str) -> int:
    """Distinct colours sampled on a canvas: a blank canvas has one."""
    return page.evaluate("""(id) => {
        const c = document.getElementById(id);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 13) seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]);
        return seen.size;
    }""", canvas_id)


def test_a_link_reproduces_its_configuration_and_the_network_learns(page, tmp_path):
    link = "#data=circle&noise=10&hidden=6,4&act=tanh,relu&lr=0.03&batch=10&seed=3&test=1"
    state = open_link(page, link)
    config = state["config"]
    assert config["dataset"] == "circle" and config["hidden"] == [6, 4]
    assert config["activations"] == ["tanh", "relu"] and config["show_test"] is True
    assert page.input_value("#lr") == "0.03" and page.input_value("#noise") == "10"
    assert page.is_checked("#show-test")
    assert page.eval_on_selector_all(".layer-control select", "s => s.map(x => x.value)") \
        == ["tanh", "relu"]
    assert "hidden=6,4" in page.evaluate("location.hash")
    start = header(page)
    page.click("#play")
    now = wait_epoch(page, 50)
    assert now["train_loss"] < start["train_loss"] and now["test_loss"] < start["test_loss"]
    assert page.inner_text("#train-loss") != "\u2013"
    for canvas in ("output", "network", "loss-chart", "grad-chart"):
        assert colours(page, canvas) > 5, canvas
    page.screenshot(path=str(tmp_path / "circle-training.png"), full_page=True)
    pause(page)


def test_the_learning_rate_changes_live_without_a_reset(page, tmp_path):
    open_link(page, "#data=xor&hidden=8,8&lr=0.03&batch=10")
    page.click("#play")
    before = wait_epoch(page, 10)
    page.select_option("#lr", "0.1")
    wait_for(page, "window.playground.header.lr === 0.1")
    after = header(page)
    assert after["generation"] == before["generation"] and after["epoch"] >= before["epoch"]
    assert "lr=0.1" in page.evaluate("location.hash")
    wait_epoch(page, after["epoch"] + 20)  # and training goes on
    pause(page)


def hover_and_edit(page, point, tooltip: str, value: str, applied: str) -> None:
    """Hover ``point`` (x, y on the canvas): the tooltip names it; click, type ``value``,
    Enter; then wait until the JavaScript ``applied`` holds."""
    page.mouse.move(point["x"], point["y"])
    assert tooltip in page.inner_text("#tooltip")
    page.mouse.click(point["x"], point["y"])
    page.fill("#tooltip-input", value)
    page.press("#tooltip-input", "Enter")
    wait_for(page, applied)


def test_hover_reads_and_click_edits_a_bias_and_a_weight(page, tmp_path):
    open_link(page, "#data=xor&hidden=8,8&lr=0.03")
    layout = page.evaluate("window.playground.layout()")
    bias = next(b for b in layout["biases"] if b["l"] == 2 and b["j"] == 3)
    hover_and_edit(page, bias, "Bias b\u207D2\u207E[4]", "0.625",
                   "window.playground.param(2, 'b', 0, 3) === 0.625")
    link = next(k for k in layout["links"] if k["l"] == 3 and k["i"] == 2)
    hover_and_edit(page, link, "Weight W\u207D3\u207E[3,1]", "-2.5",
                   "window.playground.param(3, 'W', 2, 0) === -2.5")
    page.screenshot(path=str(tmp_path / "edited.png"), full_page=True)
    assert header(page)["epoch"] == 0  # an edit does not reset


def test_a_csv_upload_trains_and_bad_files_get_a_message(page, tmp_path):
    open_link(page, "#hidden=8&act=tanh&opt=adam&lr=0.03")
    good = tmp_path / "shapes.csv"
    good.write_text(labelled_csv(n=150, classes=3, extra=1))
    page.set_input_files("#csv-file", str(good))
    wait_for(page, "window.playground.state.config.dataset === 'csv'")
    state = page.evaluate("window.playground.state")
    assert state["task"] == "multiclass" and state["inputs"] == ["a", "b", "c0"]
    assert page.input_value("#csv-target") == "kind" and page.is_visible("#csv-panel")
    page.select_option("#csv-y", "c0")
    wait_for(page, "window.playground.state.config.y_column === 'c0'")
    page.select_option("#csv-y", "b")
    wait_for(page, "window.playground.state.config.y_column === 'b'")
    page.click("#play")
    wait_epoch(page, 20)
    assert colours(page, "output") > 5
    page.screenshot(path=str(tmp_path / "csv-training.png"), full_page=True)
    pause(page)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,c,kind\n1,2,3,x\n4,5,6,7,8\n")
    page.set_input_files("#csv-file", str(ragged))
    wait_for(page, "document.querySelector('#messages').innerText.includes('fields')")
    huge = tmp_path / "huge.csv"
    huge.write_text("a,b,c\n" + "1.5,2.5,0\n" * 600_000)  # 6 MB: refused before upload
    page.set_input_files("#csv-file", str(huge))
    wait_for(page, "document.querySelector('#messages').innerText"
                           ".includes('Nothing was uploaded')")
    assert "5 MB" in page.inner_text("#messages")
    page.screenshot(path=str(tmp_path / "csv-errors.png"), full_page=True)
    # the session is intact: the same CSV network trains on
    assert page.evaluate("window.playground.state.config.dataset") == "csv"
    before = page.evaluate("window.playground.state.epoch")
    page.click("#step")
    wait_for(page, f"window.playground.state.epoch === {before + 1} && "
                   f"window.playground.header.epoch === {before + 1}")
    export_and_compare(page, tmp_path, csv=good)


def test_export_downloads_a_model_that_bp_load_reads_with_the_page_s_predictions(page, tmp_path):
    open_link(page, "#data=spiral&classes=3&hidden=12,8&act=relu,tanh&opt=adam&lr=0.01"
                    "&dropout=0.1&noise=10")
    page.click("#play")
    wait_epoch(page, 30)
    export_and_compare(page, tmp_path)
    page.screenshot(path=str(tmp_path / "spiral-export.png"), full_page=True)


def export_and_compare(page, tmp_path, csv=None):
    if page.evaluate("window.playground.header.playing"):
        pause(page)
    shown = page.evaluate("[window.playground.output, window.playground.state]")
    output, state = np.array(shown[0], dtype=np.float32), shown[1]
    with page.expect_download() as download:
        page.click("#export")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    page.wait_for_selector("#export-dialog[open]")
    snippet = page.input_value("#snippet")
    assert "bp.MLP(" in snippet and "model.fit(" in snippet
    page.click("#close-export")
    model = bp.load(path)
    c = state["config"]
    if csv is None:
        data = make_data(c["dataset"], c["n_samples"], c["noise"], c["train_percent"],
                         c["classes"], c["data_seed"])
        rows = data.inputs(data.grid(100), c["features"])
    else:  # the model carries the upload's preprocessing: raw rows go in
        data = csv_data(csv.read_text(), c["target"], c["x_column"], c["y_column"],
                        c["problem"], c["train_percent"], c["data_seed"])
        rows = data.grid(100)
    predicted = model.predict(rows).T.reshape(-1)
    np.testing.assert_allclose(predicted, output, atol=1e-6)


def test_the_doctor_speaks_and_explain_shows_the_step(page, tmp_path):
    open_link(page, "#data=xor&hidden=4&loss=mse&lr=0.03")
    page.click("#step")
    wait_for(page, "document.querySelector('#findings').innerText.includes('loss output "
                   "mismatch')")
    page.click("#explain")
    page.wait_for_selector("#explain-dialog[open]")
    assert page.locator("#explain-text table").count() > 10
    assert "∂L/∂W⁽¹⁾" in page.inner_text("#explain-text")
    page.screenshot(path=str(tmp_path / "explain.png"), full_page=True)
    page.click("#close-explain")
    page.screenshot(path=str(tmp_path / "doctor.png"), full_page=True)


def test_regression_and_a_deep_wide_network_draw(page, tmp_path):
    open_link(page, "#data=reg-gauss&hidden=8,6&act=tanh,tanh&lr=0.03&batch=10&discretize=1")
    page.click("#play")
    wait_epoch(page, 40)
    assert colours(page, "output") > 3
    page.screenshot(path=str(tmp_path / "regression.png"), full_page=True)
    pause(page)
    eight = ",".join(["32"] * 8)
    open_link(page, f"#data=xor&hidden={eight}&act=relu&opt=adam&lr=0.003&features=x1,x2,x1x2")
    page.click("#play")
    wait_epoch(page, 3)
    assert colours(page, "network") > 20
    page.screenshot(path=str(tmp_path / "eight-layers.png"), full_page=True)
    pause(page)
