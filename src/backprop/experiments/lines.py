"""Where each key of a TOML file sits: the line numbers behind "exp.toml line 12: ...".

``tomllib`` parses values but keeps no positions, so this scanner reads the text once more and
records the line of every table header and every ``key =`` (dotted and quoted keys, keys inside
one-line inline tables). It only has to be right for files that ``tomllib`` already accepted,
and when it cannot place a key the error falls back to the nearest enclosing key it knows.
"""

from __future__ import annotations

import re

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"|\'[^\']*\''
_KEY = rf"(?:{_BARE}|{_QUOTED})(?:\s*\.\s*(?:{_BARE}|{_QUOTED}))*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_KEY})\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(rf"^\s*({_KEY})\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_KEY})\s*=")


def _parts(key: str) -> tuple[str, ...]:
    """``a."b.c".d`` → ("a", "b.c", "d")."""
    return tuple(p.strip()[1:-1] if p.strip()[:1] in "\"'" else p.strip()
                 for p in re.findall(rf"{_BARE}|{_QUOTED}", key))


def _strip_strings(text: str) -> str:
    """The line without string contents and comment, so brackets there do not count."""
    return re.sub(_QUOTED, '""', text).split("#", 1)[0]


class KeyLines:
    """Line numbers (1-based) of the keys of one TOML text.

    Examples
    --------
    >>> lines = KeyLines('[training]\\nepochs = 5\\noptimizer = {name = "adam", lr = 0.1}\\n')
    >>> lines.line_of(("training", "optimizer", "lr")), lines.line_of(("training", "nope"))
    (3, 1)
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        depth = 0  # open brackets of a multi-line array or inline table
        for number, raw in enumerate(text.splitlines(), start=1):
            code = _strip_strings(raw)
            if depth == 0:
                header = _HEADER.match(raw)
                if header:
                    table = _parts(header.group(1))
                    self._lines.setdefault(table, number)
                    continue
                assign = _ASSIGN.match(raw)
                if assign:
                    path = table + _parts(assign.group(1))
                    self._lines.setdefault(path, number)
                    value = raw[assign.end():]
                    for inner in _INLINE_KEY.finditer(value):
                        self._lines.setdefault(path + _parts(inner.group(1)), number)
            depth += code.count("[") + code.count("{") - code.count("]") - code.count("}")
            depth = max(depth, 0)

    def line_of(self, path: tuple[str, ...]) -> int | None:
        """The line of ``path``, or of its nearest enclosing key or table; None if unknown."""
        for end in range(len(path), 0, -1):
            if path[:end] in self._lines:
                return self._lines[path[:end]]
        return None
