"""The README's sweep section runs as written, on the example files that ship in examples/."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from backprop.cli import main
from backprop.experiments.store import Store

ROOT = Path(__file__).resolve().parents[1]


def _section_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Experiments and sweeps", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                commands.append(shlex.split(line))
    return commands


def test_the_section_has_run_sweep_resume_dask_and_predict_commands():
    commands = [" ".join(c) for c in _section_commands()]
    assert all(c.startswith("backprop ") for c in commands)
    for needed in ("backprop run examples/moons.toml", "--resume", "--dask-local",
                   "backprop predict --model runs/wine-sweep/best"):
        assert any(needed in c for c in commands), needed


def test_the_readme_sweep_commands_run_as_written(tmp_path, monkeypatch, capsys):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for argv in _section_commands():
        assert main(argv[1:]) == 0, " ".join(argv)
        if "--resume" in argv:  # everything was finished: nothing ran again
            assert "12 trials (12 ok); 0 ran now" in " ".join(capsys.readouterr().out.split())
    with Store("runs/moons-sweep/sweep.db") as store:
        assert store.count_finished() == 12
    assert len(Path("runs/wine.csv").read_text().splitlines()) == 179
    for folder in ("runs/moons", "runs/moons-sweep/best", "runs/wine-sweep/best",
                   "runs/wine-best"):
        assert (Path(folder) / "model.safetensors").is_file(), folder
        assert (Path(folder) / "experiment.toml").is_file(), folder
    assert Path("runs/moons-sweep/parallel_coordinates.png").stat().st_size > 0


@pytest.mark.parametrize("name", ["moons.toml", "moons_sweep.toml", "wine_sweep.toml"])
def test_every_example_file_is_a_valid_experiment(name):
    from backprop.experiments import Experiment

    exp = Experiment.from_file(ROOT / "examples" / name)
    assert ("sweep" in exp.config) == name.endswith("_sweep.toml")
