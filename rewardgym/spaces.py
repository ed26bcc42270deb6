"""Space helpers shared by the environment families.

Gymnasium's :class:`~gymnasium.spaces.Text` only accepts characters from a fixed charset and at
least one character. Agent output is free text: newlines, unicode and the empty string are all
legitimate (and malformed output is the env's business to score, not the space's to reject).

:class:`PrintableText` admits every printable Unicode character, and its character index (what
Gymnasium's ``flatten`` and the shared memory of ``AsyncVectorEnv`` store, one int32 per
character) is the code point itself, so any string the envs emit ('➞', 'é', CJK, emoji)
survives ``flatten``/``unflatten`` and subprocess vector envs unchanged.

Gymnasium 1.2's ``AsyncVectorEnv`` reads a shared-memory ``Text`` observation once, when the
vector env is built, and hands back that snapshot after every ``reset``/``step`` (a ``Box``
comes back as a live view of the buffer; a tuple of strings cannot). For
:class:`PrintableText` we register a reader that returns a live view instead, so async vector
envs return the strings the workers wrote (``copy=True``, the default, turns the view into a
tuple of ``str``).
"""

from __future__ import annotations

import string
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.spaces.utils import flatten, unflatten
from gymnasium.vector.utils import read_from_shared_memory

__all__ = ["PrintableText", "text"]

# ASCII letters, digits, punctuation, space, tab and newline (not \x0b/\x0c: not printable).
_SAMPLE_CHARSET = string.ascii_letters + string.digits + string.punctuation + " \t\n"
_ALLOWED_CONTROL = frozenset("\n\r\t")
#: One past the largest code point: the padding value of a flattened string.
_N_CODE_POINTS = sys.maxunicode + 1


def _admitted(ch: str) -> bool:
    return ch.isprintable() or ch in _ALLOWED_CONTROL


class _CodePoints:
    """``character_list`` of :class:`PrintableText`: index ``i`` is ``chr(i)``."""

    def __len__(self) -> int:
        return _N_CODE_POINTS

    def __getitem__(self, index: int) -> str:
        return chr(int(index))

    def __iter__(self) -> Iterator[str]:
        return (chr(i) for i in range(_N_CODE_POINTS))

    def __repr__(self) -> str:
        return "<every code point>"


class _PrintableSet:
    """``character_set`` of :class:`PrintableText`: membership is "printable or \\n\\r\\t"; its
    length is the number of code points, the padding value Gymnasium's flatten uses."""

    def __contains__(self, ch: object) -> bool:
        return isinstance(ch, str) and len(ch) == 1 and _admitted(ch)

    def __len__(self) -> int:
        return _N_CODE_POINTS

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _PrintableSet)

    def __hash__(self) -> int:
        return hash(_PrintableSet)

    def __repr__(self) -> str:
        return "<printable unicode, \\n, \\r, \\t>"


_CHARACTERS = _CodePoints()
_CHARACTER_SET = _PrintableSet()


class PrintableText(spaces.Text):
    """A text space holding any printable string up to ``max_length`` characters.

    ``contains`` accepts every ``str`` whose characters are printable (``str.isprintable``) or
    newline, carriage return or tab, including the empty string. ``character_index(ch)`` is
    ``ord(ch)`` (so flattening and async vector envs carry any Unicode text), and
    ``character_list[i]`` is ``chr(i)``. ``sample`` draws ASCII text; a ``mask`` or
    ``probability`` is ``(length, weights)`` with the weights over :attr:`sample_characters`.
    """

    def __init__(self, max_length: int, *, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(max_length, min_length=0, charset=_SAMPLE_CHARSET, seed=seed)

    @property
    def character_set(self) -> Any:  # type: ignore[override]
        return _CHARACTER_SET

    @property
    def character_list(self) -> Any:  # type: ignore[override]
        return _CHARACTERS

    def character_index(self, char: str) -> np.int32:
        return np.int32(ord(char))

    @property
    def sample_characters(self) -> str:
        """The characters :meth:`sample` draws from (ASCII)."""
        return _SAMPLE_CHARSET

    def sample(
        self,
        mask: tuple[int | None, np.ndarray | None] | None = None,
        probability: tuple[int | None, np.ndarray | None] | None = None,
    ) -> str:
        if mask is not None and probability is not None:
            raise ValueError("pass at most one of mask and probability")
        length, weights = mask or probability or (None, None)
        if length is None:
            length = int(self.np_random.integers(self.min_length, self.max_length + 1))
        if not 0 <= length <= self.max_length:
            raise ValueError(f"sample length {length} is outside 0..{self.max_length}")
        chars = np.array(list(_SAMPLE_CHARSET))
        p = None
        if weights is not None:
            p = np.asarray(weights, dtype=float)
            if p.shape != (len(chars),) or (p < 0).any():
                raise ValueError(
                    f"the sample weights must be {len(chars)} non-negative numbers, one per "
                    "character of sample_characters"
                )
            if p.sum() == 0:
                return ""
            p = p / p.sum()
        return "".join(self.np_random.choice(chars, size=length, p=p))

    def contains(self, x: Any) -> bool:
        if not isinstance(x, str) or len(x) > self.max_length:
            return False
        return all(_admitted(ch) for ch in x)

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


# -- Gymnasium integration: fast flattening and a live shared-memory view ---------------------


@flatten.register(PrintableText)
def _flatten_printable(space: PrintableText, x: str) -> np.ndarray:
    if len(x) > space.max_length:
        raise ValueError(f"a string of {len(x)} characters does not fit {space!r}")
    out = np.full(space.max_length, _N_CODE_POINTS, dtype=np.int32)
    out[: len(x)] = np.frombuffer(x.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return out


def _decode(codes: np.ndarray) -> str:
    codes = np.asarray(codes)
    codes = codes[(codes >= 0) & (codes < _N_CODE_POINTS)].astype("<u4")
    return codes.tobytes().decode("utf-32-le", "surrogatepass")


@unflatten.register(PrintableText)
def _unflatten_printable(space: PrintableText, x: np.ndarray) -> str:
    return _decode(x)


class SharedTexts(Sequence[str]):
    """The strings of ``n`` envs in an ``AsyncVectorEnv`` shared buffer, decoded when read.

    ``deepcopy`` (what ``AsyncVectorEnv`` does with ``copy=True``) gives a tuple of ``str``.
    """

    def __init__(self, space: PrintableText, shared_memory: Any, n: int) -> None:
        self._rows = np.frombuffer(shared_memory.get_obj(), dtype=np.int32).reshape(
            n, space.max_length
        )

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return tuple(_decode(row) for row in self._rows[index])
        return _decode(self._rows[index])

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SharedTexts({tuple(self)!r})"


@read_from_shared_memory.register(PrintableText)
def _read_printable(space: PrintableText, shared_memory: Any, n: int = 1) -> SharedTexts:
    return SharedTexts(space, shared_memory, n)
