"""Report sections for the tests of ``REPORT_SECTIONS`` (importable by entry point)."""

from __future__ import annotations

from typing import Any


def count_section(rows: list[dict[str, Any]], source: str = "") -> str | None:
    """An HTML section that counts the episodes of each agent; None without rows."""
    if not rows:
        return None
    agents = sorted({r["agent"] for r in rows})
    items = "".join(f"<li>{a}: {sum(r['agent'] == a for r in rows)}</li>" for a in agents)
    return f'<section id="count-section"><h2>Episodes per agent</h2><ul>{items}</ul></section>'


def count_md(rows: list[dict[str, Any]], source: str = "") -> str | None:
    if not rows:
        return None
    return f"## Episode count\n\n{len(rows)} episodes\n"


def nothing(rows: list[dict[str, Any]], source: str = "") -> str | None:
    return None


def broken(rows: list[dict[str, Any]], source: str = "") -> str | None:
    raise RuntimeError("this section is broken")
