"""The dependency rule (docs/ARCHITECTURE.md), enforced.

- The import contracts in pyproject.toml (``[tool.importlinter]``): the edge above the engine
  above ``_fast``, every module in one of those rooms, no private engine module imported by the
  edge, no import cycles. import-linter reads every import statement, those inside functions
  included. The contracts are also checked against copies of the package with a forbidden
  import added, so a contract that stopped seeing anything would fail here.
- An AST scan for what import-linter cannot see: the edge reaching into private names of
  engine objects (``layer._rng``, ``opt._init_state``, ``getattr(model, "_callbacks")``).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import backprop

REPO = Path(__file__).resolve().parent.parent
PACKAGE = Path(backprop.__file__).resolve().parent
CONFIG = REPO / "pyproject.toml"
EDGE = ("io", "datasets", "plots", "sklearn", "cli", "tour", "playground", "experiments")


def test_the_package_under_test_is_this_checkout():
    assert PACKAGE == REPO / "src" / "backprop"


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` with this repository's contracts on the ``backprop`` under ``src``."""
    command = [sys.executable, "-c",
               "from importlinter.cli import lint_imports_command; lint_imports_command()",
               "--config", str(CONFIG), "--no-cache"]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(src), "PATH": ""})


def test_import_contracts_are_kept(tmp_path):
    result = _lint(PACKAGE.parent, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _lint_copy(tmp_path: Path, edit: dict[str, str]) -> subprocess.CompletedProcess:
    """The contracts on a copy of the package with ``edit`` (path → text) applied."""
    copy = tmp_path / "src" / "backprop"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in edit.items():
        target = copy / name
        target.write_text(target.read_text() + text if target.exists() else text)
    return _lint(tmp_path / "src", tmp_path)


# Each edit breaks the rule in one way; the contract named must catch it.
VIOLATIONS = {
    "engine imports the edge inside a function": (
        {"training.py": "\n\ndef _resume(model, path):\n    from .io import restore_checkpoint\n"
                        "\n    return restore_checkpoint(model, path)\n"},
        "Rooms: the edge above the engine above _fast"),
    "_fast imports the engine": (
        {"_fast/storage.py": "\n\ndef _param():\n    from ..layers import Param\n\n"
                             "    return Param\n"},
        "Rooms: the edge above the engine above _fast"),
    "a module outside every room": (
        {"newroom.py": "VALUE = 1\n"},
        "Rooms: the edge above the engine above _fast"),
    "the edge imports a private engine module": (
        {"plots/common.py": "\n\ndef _dot():\n    from .._fast.numpy_direct import dot\n\n"
                            "    return dot\n"},
        "The edge uses public engine names only"),
    "an import cycle inside the engine": (
        {"network.py": "\n\ndef _mlp():\n    from .mlp import MLP\n\n    return MLP\n"},
        "No import cycles"),
    "an import cycle inside the edge": (
        {"datasets/prep.py": "\n\ndef _save():\n    from ..io import save\n\n    return save\n"},
        "No import cycles"),
}


def test_the_unchanged_copy_keeps_every_contract(tmp_path):
    result = _lint_copy(tmp_path, {})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("edit, contract", VIOLATIONS.values(), ids=list(VIOLATIONS))
def test_the_contracts_catch_a_forbidden_import(tmp_path, edit, contract):
    result = _lint_copy(tmp_path, edit)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout + result.stderr


# -- private names ---------------------------------------------------------------------------
def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_self(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _defined_private_names(tree: ast.AST) -> set[str]:
    """Private functions, classes and variables a module defines, and the private attributes
    it sets on its own objects (``self._x = ...``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and _is_self(node.value):
            names.add(node.attr)
    return {name for name in names if _private(name)}


def _module_name(path: Path, root: Path) -> list[str]:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def private_engine_names_used(root: Path, edge_sources: dict[str, dict[Path, str]]) -> list[str]:
    """Places in the edge that use a private name of the engine under ``root``.

    ``edge_sources`` maps each edge package to its files' text. A private name counts when
    the engine defines it and the edge package itself does not: ``obj._name`` (obj not
    self/cls), ``getattr(obj, "_name")`` and the like, ``from ..engine_module import _name``.
    """
    engine_files = [p for p in root.rglob("*.py") if p.relative_to(root).parts[0] not in EDGE]
    engine_modules = {".".join(_module_name(p, root)) for p in engine_files}
    engine_private = set().union(*(_defined_private_names(ast.parse(p.read_text()))
                                   for p in engine_files))
    found = []
    for files in edge_sources.values():
        trees = {path: ast.parse(text) for path, text in files.items()}
        own = set().union(set(), *(_defined_private_names(t) for t in trees.values()))
        foreign = engine_private - own
        for path, tree in trees.items():
            package = _module_name(path, root)[: None if path.name == "__init__.py" else -1]
            for node in ast.walk(tree):
                where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
                if isinstance(node, ast.Attribute) and node.attr in foreign \
                        and not _is_self(node.value):
                    found.append(f"{where} {ast.unparse(node)}")
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                        and node.func.id in ("getattr", "setattr", "hasattr", "delattr") \
                        and len(node.args) > 1 and isinstance(node.args[1], ast.Constant) \
                        and node.args[1].value in foreign:
                    found.append(f"{where} {ast.unparse(node)}")
                elif isinstance(node, ast.ImportFrom) and node.level:
                    base = package[: len(package) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                    found += [f"{where} from {module} import {alias.name}"
                              for alias in node.names
                              if module in engine_modules and _private(alias.name)
                              and f"{module}.{alias.name}" not in engine_modules]
    return found


def _edge_sources(root: Path) -> dict[str, dict[Path, str]]:
    return {package: {path: path.read_text() for path in (root / package).rglob("*.py")}
            for package in EDGE if (root / package).is_dir()}


def test_the_edge_uses_public_engine_names_only():
    assert private_engine_names_used(PACKAGE, _edge_sources(PACKAGE)) == []


@pytest.mark.parametrize("code", [
    "def f(model):\n    model.pack_parameters()\n    return model.storage._link\n",
    "def f(opt, p):\n    return opt._update(p, {})\n",
    "def f(layer):\n    layer._fused_step = None\n",
    "def f(model):\n    return getattr(model, '_named_params', None)\n",
    "from ..layers import _activations\n",
])
def test_the_private_name_scan_sees_each_kind_of_use(code):
    sources = _edge_sources(PACKAGE)
    sources["io"][PACKAGE / "io" / "extra.py"] = code
    assert len(private_engine_names_used(PACKAGE, sources)) == 1
