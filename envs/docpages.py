"""Keep ``docs/envs/<family>.md`` true: each env class docstring *is* its doc page.

A family page holds, for each env class, a block::

    <!-- docstring: rewardgym.envs.dungeon.tasks:StaircaseEnv -->
    ...the class docstring, rendered as Markdown...
    <!-- /docstring -->

:func:`sync_page` rewrites those blocks from the classes (run
``python -m rewardgym.envs.docpages docs/envs/*.md`` after editing a docstring), and the test
suite checks that every registered env's docstring appears in its family's page.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
import re
import sys

__all__ = ["render_docstring", "sync_page"]

_BLOCK = re.compile(
    r"(<!-- docstring: (?P<target>[\w.]+:\w+) -->\n)(?P<body>.*?)(<!-- /docstring -->)", re.S
)


def _load(target: str) -> type:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def render_docstring(cls: type) -> str:
    """The class docstring as Markdown: its first line in bold, each section under a heading.

    Sections written NumPy-style (a title line, then an indented body) become ``####``
    headings; docstrings already written in Markdown (``## Title``) keep their text.
    """
    doc = inspect.getdoc(cls) or ""
    lines = doc.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        is_title = line and not line.startswith((" ", "#")) and nxt.startswith("    ")
        if is_title and (i == 0 or not lines[i - 1].strip()):
            out.append(f"#### {line.strip()}\n")
        elif line.startswith("## "):
            out.append("#" + line)
        else:
            out.append(line[4:] if line.startswith("    ") else line)
    return "\n".join(out).strip() + "\n"


def sync_page(path: str | pathlib.Path) -> bool:
    """Rewrite every docstring block of the page at ``path``; True if the file changed."""
    path = pathlib.Path(path)
    text = path.read_text()
    new = _BLOCK.sub(lambda m: m[1] + render_docstring(_load(m["target"])) + m[4], text)
    if new != text:
        path.write_text(new)
    return new != text


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(("updated " if sync_page(arg) else "up to date ") + arg)
