"""The plain-data codec: exact round trips through JSON, exact types only."""

from __future__ import annotations

import json
import math

import pytest

from rewardgym.sandbox._guest import MAX_DEPTH, NotPlainData, decode, encode, loads


def _wire(value: object) -> object:
    """What the other side of the channel gets: encode, serialise, parse, decode."""
    return decode(loads(json.dumps(encode(value), separators=(",", ":"))))


def _same(a: object, b: object) -> bool:
    """Equality that also tells -0.0 from 0.0, nan from nan, and 1 from 1.0 or True."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    if type(a) is complex:
        return _same(a.real, b.real) and _same(a.imag, b.imag)
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


VALUES = [
    0, -1, 10**40, -(10**40), True, False, None, "", "héllo\n\x00\ud800", b"", b"\x00\xff" * 3,
    0.0, -0.0, 1.5, 1e300, 5e-324, math.inf, -math.inf, 1e16,
    complex(1, -0.0), complex(math.inf, math.nan),
    [], (), set(), frozenset(), {},
    [1, 2.0, "3", None, True], (1, (2, (3, ()))), [[1, 2], [3, 4]], [[1, 2], (3, 4)],
    [[0.5, -0.0], [math.inf]], [["a"], [], [1]], [[[1]]],
    {1, "a", (1, 2), frozenset({3})}, frozenset({-0.5, b"x"}),
    {"a": 1, 2: [3], (4, 5): {"b": b"c"}, None: frozenset({1}), 1.5: {1, 2}},
    [b"x", 1j, (1,)],
]  # fmt: skip


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:40] for v in VALUES])
def test_round_trip_is_exact(value):
    back = _wire(value)
    if type(value) in (set, frozenset):
        assert type(back) is type(value) and back == value
    else:
        assert _same(back, value), (value, back)


def test_nan_round_trips():
    (back,) = _wire([math.nan])
    assert type(back) is float and math.isnan(back)
    assert math.isnan(_wire(math.nan))


@pytest.mark.parametrize(
    "value",
    [list(range(100_000)), [i / 7 for i in range(50_000)] + [math.inf, -0.0, math.nan],
     [str(i) for i in range(50_000)], [[i, i + 1] for i in range(50_000)], tuple(range(1000)),
     set(range(1000)), frozenset(map(str, range(100))), {str(i): i for i in range(1000)}],
    ids=["ints", "floats", "strs", "pairs", "tuple", "set", "frozenset", "dict"],
)  # fmt: skip
def test_large_homogeneous_containers_round_trip(value):
    back = _wire(value)
    assert type(back) is type(value)
    if type(value) is list and type(value[-1]) is float:
        assert _same(back[:-1], value[:-1]) and math.isnan(back[-1])
    else:
        assert back == value


def test_bool_and_int_and_float_stay_distinct():
    back = _wire([1, True, 1.0, [1, True, 1.0]])
    assert [type(x) for x in back[:3]] == [int, bool, float]
    assert [type(x) for x in back[3]] == [int, bool, float]


class IntSub(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class StrSub(str):
    pass


class FloatSub(float):
    pass


class ListSub(list):
    def __iter__(self):
        return iter([1, 2, 3])


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


REFUSED = {
    "int subclass": IntSub(1),
    "int subclass in a big list": [*range(1000), IntSub(5)],
    "str subclass in a list": ["a", StrSub("b")],
    "float subclass in a pair": [[1.0, FloatSub(2.0)]],
    "list subclass": ListSub([1]),
    "list subclass in a list": [[1], ListSub([2])],
    "__eq__ object": AlwaysEqual(),
    "__eq__ object in a tuple": (1, AlwaysEqual()),
    "__eq__ object as a dict value": {"k": AlwaysEqual()},
    "__eq__ object in a set": {AlwaysEqual()},
    "bytearray": bytearray(b"x"),
    "function": len,
    "module": math,
    "range": range(3),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_non_plain_data_is_refused(name):
    with pytest.raises(NotPlainData):
        encode(REFUSED[name])


def test_deep_nesting_is_refused_not_crashing():
    deep: list = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(NotPlainData):
        encode(deep)
    looped: list = [1]
    looped.append(looped)
    with pytest.raises(NotPlainData):
        encode(looped)


@pytest.mark.parametrize(
    "payload",
    [{"x": 1}, {"t": 1}, {"d": [[1], []]}, {"d": [[[1]], [2]]}, {"S": [[1]]}, {"b": "!!"},
     {"c": [1, 2]}, {"c": [1.0]}, {"a": 1, "b": 2}, {"F": "abc"}],
)  # fmt: skip
def test_malformed_payloads_raise_not_plain_data(payload):
    with pytest.raises(NotPlainData):
        decode(payload)


def test_decode_refuses_foreign_objects():
    # decode only ever sees JSON output; anything else is refused rather than passed through
    with pytest.raises(NotPlainData):
        decode(AlwaysEqual())
    with pytest.raises(NotPlainData):
        decode([1, AlwaysEqual()])
