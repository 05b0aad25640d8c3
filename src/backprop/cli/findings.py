"""The doctor's findings as a rich table: printed by ``backprop train`` and ``backprop doctor``."""

from __future__ import annotations

from typing import Any

_STYLE = {"warning": "bold yellow", "info": "cyan"}


def print_findings(console: Any, diagnosis: Any, title: str = "Doctor",
                   warned: bool = False) -> None:
    """The findings as a rich table (or one line when there are none). ``warned``: warnings
    about the held-out rows were printed just before, which the doctor (judging the
    training rows and the run) does not contradict."""
    from rich.markup import escape
    from rich.table import Table

    if not diagnosis.findings:
        what = ("no findings in the training itself (gradients, activations, the loss on the "
                "training rows); the warnings above are about the held-out rows" if warned
                else "no findings, nothing looks wrong")
        console.print(f"[bold]{escape(title)}[/bold]: {what}.")
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
