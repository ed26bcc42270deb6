"""Pull the program out of an agent's reply: markdown code fences or bare code.

Rules (documented in the env's doc page):

1. If the reply holds fenced blocks (```` ```python ````, ```` ```py ````, ```` ```python3 ````
   or a bare ```` ``` ````), the program is the **last** such block that defines the entry
   point, or the last block if none does. Blocks tagged with another language are ignored.
   A final fence left unclosed (a truncated reply) counts as a block up to the end.
2. Otherwise the whole reply is the program, if it is non-empty Python.
3. Anything else (an empty reply, prose, only fences of other languages) holds no code.

Nothing here executes the text: parsing only.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

__all__ = ["Extraction", "extract_code"]

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([A-Za-z0-9_+.-]*)[^\n]*$", re.MULTILINE)
_PYTHON_TAGS = frozenset({"", "python", "py", "python3", "py3"})


@dataclass(frozen=True)
class Extraction:
    """What :func:`extract_code` found.

    Attributes:
        code: the program text, or None when the reply holds no code.
        fenced: whether it came from a fenced block.
        syntax_error: the parse error of ``code`` (None if it parses or there is no code).
    """

    code: str | None
    fenced: bool
    syntax_error: str | None = None


def _blocks(text: str) -> list[tuple[str, str]]:
    """The fenced blocks of ``text`` as ``(language tag, body)``, in order."""
    blocks: list[tuple[str, str]] = []
    fences = list(_FENCE.finditer(text))
    i = 0
    while i < len(fences):
        opening = fences[i]
        marker, tag = opening.group(1), opening.group(2).lower()
        closing = None
        for j in range(i + 1, len(fences)):
            candidate = fences[j]
            same_kind = candidate.group(1)[0] == marker[0]
            if same_kind and len(candidate.group(1)) >= len(marker) and not candidate.group(2):
                closing = j
                break
        start = opening.end() + 1
        if closing is None:
            blocks.append((tag, text[start:]))
            break
        blocks.append((tag, text[start : fences[closing].start()]))
        i = closing + 1
    return blocks


def _syntax_error(code: str) -> str | None:
    try:
        ast.parse(code)
    except SyntaxError as exc:
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        return f"{type(exc).__name__}: {exc}"
    return None


def _defines(code: str, entry_point: str) -> bool:
    return re.search(rf"^\s*(async\s+)?def\s+{re.escape(entry_point)}\s*\(", code, re.M) is not None


def extract_code(text: str, entry_point: str | None = None) -> Extraction:
    """Extract the program from ``text`` (see the module docstring for the rules)."""
    blocks = [body for tag, body in _blocks(text) if tag in _PYTHON_TAGS and body.strip()]
    if blocks:
        chosen = blocks[-1]
        if entry_point is not None:
            defining = [b for b in blocks if _defines(b, entry_point)]
            if defining:
                chosen = defining[-1]
        return Extraction(code=chosen, fenced=True, syntax_error=_syntax_error(chosen))
    if _FENCE.search(text) or not text.strip():
        return Extraction(code=None, fenced=False)
    error = _syntax_error(text)
    if error is not None:
        return Extraction(code=None, fenced=False, syntax_error=error)
    return Extraction(code=text, fenced=False)
