"""A report built from structured blocks and written as Markdown and as HTML.

Both files come from the same blocks (headings, paragraphs, lists, tables, figures, code), so
no Markdown parser is needed. Inline text may use `code` and **bold**, nothing else.

>>> r = Report("Demo")
>>> r.paragraph("Loss is `0.1`.")
>>> r.markdown().splitlines()[-1]
'Loss is `0.1`.'
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

_NUM = ' class="num"'
_INLINE = re.compile(r"(`[^`]+`|\*\*[^*]+\*\*)")

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
h1, h2, h3 { line-height: 1.2; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
code { background: #f3f3f3; padding: 0 .2rem; border-radius: 3px; }
pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: .92rem; }
"""


def _inline_html(text: str) -> str:
    parts = []
    for piece in _INLINE.split(text):
        if piece.startswith("`") and piece.endswith("`") and len(piece) > 1:
            parts.append(f"<code>{html.escape(piece[1:-1])}</code>")
        elif piece.startswith("**") and piece.endswith("**") and len(piece) > 3:
            parts.append(f"<strong>{html.escape(piece[2:-2])}</strong>")
        else:
            parts.append(html.escape(piece))
    return "".join(parts)


def _cell_markdown(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _is_number(value: Any) -> bool:
    return bool(re.fullmatch(r"[−+-]?[\d.,]+(e[−+-]?\d+)?\s*%?", str(value).strip()))


class Report:
    """An ordered list of blocks; :meth:`write` renders them to ``report.md`` and ``.html``.

    Parameters
    ----------
    title : str
        The document's level-1 heading and HTML title.
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.blocks: list[tuple[str, Any]] = []

    # -- building ---------------------------------------------------------------------------
    def heading(self, level: int, text: str) -> None:
        """A heading of level 2 (a chapter section) to 4."""
        if level not in (2, 3, 4):
            raise ValueError(f"heading level must be 2, 3 or 4; got {level}")
        self.blocks.append(("heading", (level, text)))

    def paragraph(self, text: str) -> None:
        self.blocks.append(("paragraph", text))

    def bullets(self, items: list[str]) -> None:
        self.blocks.append(("bullets", list(items)))

    def table(self, header: list[str], rows: list[list[Any]]) -> None:
        """A table; every row must have as many cells as the header."""
        for row in rows:
            if len(row) != len(header):
                raise ValueError(f"table row has {len(row)} cells, header has {len(header)}")
        self.blocks.append(("table", (list(header), [list(r) for r in rows])))

    def figure(self, filename: str, caption: str) -> None:
        """An image file lying beside the report, referenced by its relative name."""
        self.blocks.append(("figure", (filename, caption)))

    def code(self, text: str) -> None:
        self.blocks.append(("code", text.rstrip("\n")))

    @property
    def figures(self) -> list[str]:
        """File names of every figure referenced, in order."""
        return [value[0] for kind, value in self.blocks if kind == "figure"]

    # -- rendering --------------------------------------------------------------------------
    def markdown(self) -> str:
        out = [f"# {self.title}"]
        for kind, value in self.blocks:
            out.append("")
            if kind == "heading":
                level, text = value
                out.append(f"{'#' * level} {text}")
            elif kind == "paragraph":
                out.append(value)
            elif kind == "bullets":
                out.extend(f"- {item}" for item in value)
            elif kind == "table":
                header, rows = value
                out.append("| " + " | ".join(_cell_markdown(h) for h in header) + " |")
                out.append("|" + "|".join("---" for _ in header) + "|")
                out.extend("| " + " | ".join(_cell_markdown(c) for c in row) + " |"
                           for row in rows)
            elif kind == "figure":
                filename, caption = value
                out.append(f"![{caption}]({filename})")
                out.append("")
                out.append(f"*{caption}*")
            elif kind == "code":
                out.extend(["```", value, "```"])
        return "\n".join(out) + "\n"

    def html(self) -> str:
        body = [f"<h1>{_inline_html(self.title)}</h1>"]
        for kind, value in self.blocks:
            if kind == "heading":
                level, text = value
                body.append(f"<h{level}>{_inline_html(text)}</h{level}>")
            elif kind == "paragraph":
                body.append(f"<p>{_inline_html(value)}</p>")
            elif kind == "bullets":
                items = "".join(f"<li>{_inline_html(item)}</li>" for item in value)
                body.append(f"<ul>{items}</ul>")
            elif kind == "table":
                header, rows = value
                head = "".join(f"<th>{_inline_html(str(h))}</th>" for h in header)
                lines = []
                for row in rows:
                    cells = "".join(
                        f"<td{_NUM if _is_number(c) else ''}>{_inline_html(str(c))}</td>"
                        for c in row)
                    lines.append(f"<tr>{cells}</tr>")
                body.append(f"<table><thead><tr>{head}</tr></thead>"
                            f"<tbody>{''.join(lines)}</tbody></table>")
            elif kind == "figure":
                filename, caption = value
                body.append(f'<figure><img src="{html.escape(filename)}" '
                            f'alt="{html.escape(caption)}"><figcaption>'
                            f"{_inline_html(caption)}</figcaption></figure>")
            elif kind == "code":
                body.append(f"<pre><code>{html.escape(value)}</code></pre>")
        return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                f"<title>{html.escape(self.title)}</title>\n<style>{_STYLE}</style>\n"
                "</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")

    def write(self, out_dir: str | Path, stem: str = "report") -> tuple[Path, Path]:
        """Write ``<stem>.md`` and ``<stem>.html`` into ``out_dir``; returns both paths."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        md_path, html_path = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
        md_path.write_text(self.markdown(), encoding="utf-8")
        html_path.write_text(self.html(), encoding="utf-8")
        return md_path, html_path
