"""The chapter tour, run once through the command line: report, figures, measured numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from backprop.cli import main
from backprop.tour import errata
from backprop.tour.report import Report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tour_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("chapter4")
    assert main(["tour", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def measured(tour_out) -> dict:
    return json.loads((tour_out / "measurements.json").read_text(encoding="utf-8"))


def _figures_in_markdown(text: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)


def test_report_files_exist_and_follow_the_chapter(tour_out):
    md = (tour_out / "report.md").read_text(encoding="utf-8")
    html = (tour_out / "report.html").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert headings == ["4.1 Multi-layer perceptrons", "4.2 Forward propagation",
                        "4.3 Backpropagation", "4.4 Activation functions",
                        "4.5 Building neural networks", "Errata"]
    assert html.startswith("<!DOCTYPE html>") and "<h2>Errata</h2>" in html
    assert "{" not in re.sub(r"`[^`]*`", "", md)  # no unfilled format placeholders


def test_every_figure_is_a_png_drawn_from_data(tour_out):
    from PIL import Image

    md = (tour_out / "report.md").read_text(encoding="utf-8")
    html = (tour_out / "report.html").read_text(encoding="utf-8")
    figures = _figures_in_markdown(md)
    expected = {"xor_linear.png", "architecture.png", "activations.png",
                "vanishing_gradients.png", "gradient_flow_sigmoid.png", "initialization.png",
                "xor_history.png", "xor_boundary.png", "moons_chapter_history.png",
                "moons_chapter_boundary.png", "moons_better_history.png",
                "moons_better_boundary.png"}
    assert expected <= set(figures)
    assert sorted(re.findall(r'<img src="([^"]+)"', html)) == sorted(figures)
    for name in figures:
        path = tour_out / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE, name
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L"), dtype=float)
        assert min(pixels.shape) > 200, name
        # a figure with content has many grey levels, not a blank canvas
        assert np.unique(pixels).size > 20 and pixels.std() > 5, name


def test_xor_linear_model_fails_and_mlp_solves_it(measured):
    m = measured["4.1"]
    assert m["linear_accuracy"] <= 0.75
    assert m["best_line_accuracy"] == 0.75
    xor = m["xor"]
    assert xor["seeds"] == 20
    assert 1 <= xor["solved"] <= 20
    assert measured["4.5"]["xor"]["probabilities"][0] < 0.5 < measured["4.5"]["xor"][
        "probabilities"][1]


def test_forward_and_backprop_are_verified(measured):
    assert measured["4.2"]["max_diff_by_hand"] < 1e-12
    assert measured["4.2"]["max_diff_chapter_layout"] < 1e-12
    assert measured["4.3"]["by_hand_max_diff"] < 1e-12
    assert measured["4.3"]["gradcheck_worst"] < 1e-6
    assert len(measured["4.3"]["gradcheck_matrix"]) >= 10


def test_activations_and_vanishing_gradients(measured):
    rows = {r["name"]: r for r in measured["4.4"]["activations"]}
    assert rows["sigmoid"]["max_slope"] == pytest.approx(0.25, abs=1e-4)
    assert all(r["derivative_error"] < 1e-6 for r in rows.values())
    assert measured["4.4"]["tanh_identity_error"] < 1e-12
    deep = measured["4.4"]["deep"]
    assert deep["sigmoid"]["ratio_first_to_last"] < 1e-3
    assert deep["relu"]["ratio_first_to_last"] > 0.05
    assert deep["relu"]["final_loss"] < deep["sigmoid"]["final_loss"]


def test_initialisation_small_weights_vanish(measured):
    std = measured["4.5"]["initialisation"]["activation_std"]
    assert std["tanh"]["small_normal"][9] < 1e-6
    assert std["tanh"]["xavier_uniform"][9] > 0.1
    assert std["relu"]["he_normal"][9] > 0.3


def test_moons_chapter_settings_and_better_configuration(measured):
    moons = measured["4.5"]["moons"]
    assert moons["chapter"]["epochs"] == 1000
    assert moons["better"]["test_accuracy"] >= 0.96
    assert moons["better"]["test_accuracy"] > moons["chapter"]["test_accuracy"] + 0.05


def test_results_errata_are_pinned(measured):
    # E12: the chapter's single XOR run hides failures; a wider layer fixes most of them.
    xor = measured["errata"]["xor_seeds"]
    assert xor["solved"] < xor["seeds"]
    assert xor["wide_solved"] > xor["solved"]
    assert len(xor["dead_units"]) == xor["seeds"] - xor["solved"]
    # E13: the chapter's moons settings do no better than logistic regression.
    moons = measured["errata"]["moons_underfit"]
    assert moons["chapter"]["test_accuracy"] <= moons["linear"]["test_accuracy"]


def test_errata_section_lists_every_erratum(tour_out, measured):
    md = (tour_out / "report.md").read_text(encoding="utf-8")
    errata_part = md.split("## Errata", 1)[1]
    for key in errata.ORDER:
        assert f"### {errata.number(key)}. " in errata_part
        assert key in measured["errata"]
    assert errata_part.count("**What happens (measured):**") == len(errata.ORDER)


def test_report_renders_markdown_and_html():
    r = Report("T <1>")
    r.heading(2, "Part `a<b>`")
    r.paragraph("Use `x < y` and **bold** & more.")
    r.table(["name", "value"], [["a|b", "1.5%"]])
    r.figure("f.png", "Caption")
    r.code("print(1 < 2)")
    md = r.markdown()
    assert "## Part `a<b>`" in md and "| a\\|b | 1.5% |" in md and "![Caption](f.png)" in md
    html = r.html()
    assert "<code>a&lt;b&gt;</code>" in html
    assert "<code>x &lt; y</code>" in html and "<strong>bold</strong> &amp; more" in html
    assert '<td class="num">1.5%</td>' in html and '<img src="f.png"' in html
    assert r.figures == ["f.png"]
    with pytest.raises(ValueError, match="cells"):
        r.table(["a", "b"], [["only one"]])


def test_the_doctor_reads_the_chapters_failing_experiments(tour_out, measured):
    deep = measured["4.4"]["doctor"]
    assert "vanishing_gradients" in [f["code"] for f in deep["sigmoid"]]
    assert not [f for f in deep["relu"] if f["severity"] == "warning"]
    xor = measured["4.1"]["doctor"]
    # every failed seed with dead hidden units gets a dead_units finding
    dead = dict(zip(xor["failed"], measured["4.1"]["xor"]["dead_units"]))
    assert [s for s, n in dead.items() if n] == [s for s in xor["failed"]
                                                if "dead_units" in xor["findings"][str(s)]]
    step = measured["4.3"]["explain_step"]
    assert step["max_check"] < 1e-12 and step["step"]["sizes"] == [2, 4, 1]
    md = (tour_out / step["markdown"]).read_text(encoding="utf-8")
    assert "δ⁽¹⁾" in md and "W⁽²⁾ new" in md
    assert "One training step of the XOR network" in (tour_out / "report.md").read_text(
        encoding="utf-8")
