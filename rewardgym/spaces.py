"""Space helpers shared by the environment families.

Gymnasium's :class:`~gymnasium.spaces.Text` only accepts characters from a fixed charset and at
least one character. Agent output is free text: newlines, unicode and the empty string are all
legitimate (and malformed output is the env's business to score, not the space's to reject).
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium import spaces

__all__ = ["PrintableText", "text"]

# ASCII letters, digits, punctuation, space, tab and newline (not \x0b/\x0c: not printable).
_SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \t\n"
_ALLOWED_CONTROL = frozenset("\n\r\t")


class PrintableText(spaces.Text):
    """A text space holding any printable string up to ``max_length`` characters.

    ``contains`` accepts every ``str`` whose characters are printable (``str.isprintable``) or
    newline, carriage return or tab, including the empty string. ``sample`` draws ASCII text.
    """

    def __init__(self, max_length: int, *, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(max_length, min_length=0, charset=_SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        if not isinstance(x, str) or len(x) > self.max_length:
            return False
        return all(ch.isprintable() or ch in _ALLOWED_CONTROL for ch in x)

    def __repr__(self) -> str:
        return f"PrintableText(max_length={self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, PrintableText) and other.max_length == self.max_length


def text(max_length: int = 16_384) -> PrintableText:
    """The action/observation space for free text of at most ``max_length`` characters."""
    if max_length <= 0:
        from rewardgym.errors import ConfigError

        raise ConfigError(f"max_length must be positive, got {max_length}")
    return PrintableText(max_length)
