"""What every part of the experiments package shares: the error, where a key was set, names.

This module imports nothing else of the package, so any module may import it.
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable
from pathlib import Path

#: maps a key path such as ("training", "epochs") to where it was set: "exp.toml line 7"
Where = Callable[[tuple[str, ...]], str]


class ExperimentError(ValueError):
    """A bad experiment file or value; the message names the key and where it was set."""


def is_file_source(source: str) -> bool:
    """A CSV path rather than a data-set name (names have no suffix and no slash)."""
    return Path(source).suffix != "" or "/" in source or os.sep in source


def unknown_key(path: tuple[str, ...], known: list[str]) -> str:
    """The message for a key that is not in ``known``, with a close match when there is one."""
    guess = difflib.get_close_matches(path[-1], known, n=1)
    where = f"[{'.'.join(path[:-1])}]" if len(path) > 1 else "an experiment file"
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    return f"unknown key {'.'.join(path)}{hint}; the keys of {where} are: {', '.join(known)}"


def _parameters(factory: type) -> list[inspect.Parameter]:
    return [p for name, p in inspect.signature(factory.__init__).parameters.items()
            if name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD]


def settings_of(factory: type) -> list[str]:
    """The keyword settings a class takes (its ``__init__`` parameters)."""
    return [p.name for p in _parameters(factory)]


def required_settings(factory: type) -> list[str]:
    """The settings a class cannot do without (no default)."""
    return [p.name for p in _parameters(factory) if p.default is p.empty]


