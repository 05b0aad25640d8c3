"""Every Python block of the README runs as written (issue 11, row 11): each block on its own,
in a fresh namespace and an empty working directory, as a reader pastes it."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"),
                    flags=re.MULTILINE | re.DOTALL)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("number", range(len(BLOCKS)), ids=lambda n: f"block{n + 1}")
def test_readme_python_block_runs_as_written(number, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = compile(BLOCKS[number], f"README.md python block {number + 1}", "exec")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a block that warns is a poor example
        exec(code, {"__name__": "__readme__"})
