"""Code extraction from agent replies: fences, bare code, and replies holding no code."""

from __future__ import annotations

import pytest

from rewardgym.envs.code import extract_code


def test_python_fence_is_extracted():
    got = extract_code("Here you go:\n```python\ndef f(x):\n    return x\n```\nDone.", "f")
    assert got.code == "def f(x):\n    return x\n" and got.fenced and got.syntax_error is None


def test_last_block_defining_the_entry_point_wins():
    reply = "```python\ndef f():\n    return 1\n```\n```python\nprint(f())\n```"
    assert extract_code(reply, "f").code == "def f():\n    return 1\n"
    assert extract_code(reply, None).code == "print(f())\n"
    two = "```py\ndef f():\n    return 1\n```\n```\ndef f():\n    return 2\n```"
    assert "return 2" in extract_code(two, "f").code


def test_other_languages_are_ignored_and_unclosed_fence_counts():
    assert extract_code("```bash\nls\n```", "f").code is None
    got = extract_code("```python\ndef f():\n    return 3", "f")
    assert got.code == "def f():\n    return 3" and got.fenced


def test_bare_code_is_accepted():
    got = extract_code("def f(x):\n    return x * 2\n", "f")
    assert got.code == "def f(x):\n    return x * 2\n" and not got.fenced


@pytest.mark.parametrize("reply", ["", "\n\n", "```", "I cannot solve this.", "}{ ]][["])
def test_replies_without_code(reply):
    assert extract_code(reply, "f").code is None


def test_syntax_errors_are_reported_not_raised():
    got = extract_code("```python\ndef broken(:\n```", "broken")
    assert got.code is not None and got.syntax_error.startswith("SyntaxError")
    for hostile in ("x = '\x00'", "(" * 10_000):  # null bytes, absurd nesting
        got = extract_code(hostile, "f")
        assert got.code is None and got.syntax_error
