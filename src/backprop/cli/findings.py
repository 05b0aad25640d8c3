"""The doctor's findings as a rich table: printed by ``backprop train`` and ``backprop doctor``."""

from __future__ import annotations

from typing import Any

_STYLE = {"warning": "bold yellow", "info": "cyan"}


def print_findings(console: Any, diagnosis: Any, title: str = "Doctor") -> None:
    """The findings as a rich table (or one line when there are none)."""
    from rich.markup import escape
    from rich.table import Table

    if not diagnosis.findings:
        console.print(f"[bold]{escape(title)}[/bold]: no findings, nothing looks wrong.")
        return
    table = Table(title=title, show_lines=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("what was measured", ratio=3)
    table.add_column("advice", ratio=2)
    for f in diagnosis.findings:
        table.add_row(f"[{_STYLE[f.severity]}]{f.severity}[/]", f.code, escape(f.message),
                      escape(f.advice))
    console.print(table)
