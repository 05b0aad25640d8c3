"""Writing an experiment as TOML that reads like a hand-written file.

Python reads TOML with ``tomllib`` but has no writer. ``tomli_w`` writes correct TOML, but puts
every array on one line per item (``hidden = [\n    8,\n    8,\n]``), which makes a run's
experiment file hard to read at a glance; the values of an experiment are few in kind
(strings, numbers, booleans, arrays, tables), so this writer is short. Sections become
``[tables]``, a table inside a section a ``[section.sub]`` table, anything deeper an inline
``{table}``. Tests read every written file back with ``tomllib`` and compare.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def key(name: str) -> str:
    return name if _BARE.fullmatch(name) else _string(name)


def _string(text: str) -> str:
    # JSON's escapes (\" \\ \n \uXXXX ...) are TOML's too; JSON leaves DEL raw, TOML may not.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def value(obj: Any) -> str:
    """One TOML value on one line."""
    if isinstance(obj, bool):
        return "true" if obj else "false"
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, float):
        if math.isnan(obj):
            return "nan"
        if math.isinf(obj):
            return "inf" if obj > 0 else "-inf"
        return repr(obj)
    if isinstance(obj, str):
        return _string(obj)
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(value(v) for v in obj) + "]"
    if isinstance(obj, Mapping):
        return "{" + ", ".join(f"{key(k)} = {value(v)}" for k, v in obj.items()) + "}"
    raise TypeError(f"cannot write {type(obj).__name__} to TOML: {obj!r}")


def dumps(sections: Mapping[str, Mapping[str, Any]]) -> str:
    """TOML text for ``{section: {key: value or {sub-key: value}}}``."""
    blocks = []
    for name, table in sections.items():
        plain = [f"{key(k)} = {value(v)}" for k, v in table.items()
                 if not isinstance(v, Mapping)]
        blocks.append("\n".join([f"[{key(name)}]", *plain]))
        for sub, inner in table.items():
            if isinstance(inner, Mapping):
                lines = [f"{key(k)} = {value(v)}" for k, v in inner.items()]
                blocks.append("\n".join([f"[{key(name)}.{key(sub)}]", *lines]))
    return "\n\n".join(blocks) + "\n"
