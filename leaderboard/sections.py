"""What the report's extra sections share: a titled table with a note, as HTML and Markdown.

Family boards (``gui_board``, ``search_board``, ``selection_board``, ``social_board``) compute
their own figures and hand the cells (plain strings) to :func:`html_table_section` and
:func:`md_table_section`, so every section looks alike, escapes alike and sorts alike (HTML
tables carry ``class="sortable"``, which the page's inline script makes clickable).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__ = ["html_table_section", "md_table_section"]


def _html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def html_table_section(
    section_id: str,
    title: str,
    note: str,
    tables: Sequence[tuple[Sequence[str], Iterable[Sequence[str]]]],
    *,
    after: Sequence[str] = (),
) -> str:
    """``<section id=...>`` with an ``<h2>``, the note, each ``(header, rows)`` table, and the
    ``after`` lines as a list (e.g. correlations)."""
    parts = [f'<section id="{html.escape(section_id)}"><h2>{html.escape(title)}</h2>']
    parts.append(f"<p>{html.escape(note)}</p>")
    parts += [_html_table(header, rows) for header, rows in tables]
    if after:
        parts.append("<ul>" + "".join(f"<li>{html.escape(a)}</li>" for a in after) + "</ul>")
    return "".join(parts) + "</section>"


def md_table_section(
    title: str,
    note: str,
    tables: Sequence[tuple[Sequence[str], Iterable[Sequence[str]]]],
    *,
    after: Sequence[str] = (),
) -> str:
    """The same section in Markdown: a ``## `` heading, the note, the tables, then ``after``."""
    lines = [f"## {title}", "", note]
    for header, rows in tables:
        lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    if after:
        lines += ["", *(f"- {a}" for a in after)]
    return "\n".join(lines) + "\n"
