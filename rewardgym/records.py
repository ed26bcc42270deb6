"""Episode and step records: what a rollout leaves behind, serialisable to JSON.

Group transforms (``rewardgym.shaping.transforms``) consume lists of :class:`EpisodeRecord`
sharing a ``task_id``; the leaderboard stores them in SQLite. Records hold plain data only
(numpy values are converted on the way in by :func:`to_jsonable`).
"""

from __future__ import annotations

import base64
import json
import math
import sys
from array import array
from collections.abc import Mapping, Sequence
from functools import lru_cache
from itertools import compress
from operator import itemgetter
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "EpisodeRecord",
    "StepColumns",
    "StepRecord",
    "component_sums",
    "float_dict_json",
    "to_jsonable",
]


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, sets and bytes into JSON-compatible values."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    return repr(value)


class StepRecord(BaseModel):
    """One transition: the action taken and the reward it earned, broken into components."""

    model_config = ConfigDict(extra="forbid")

    step: int
    action: Any = None
    reward: float
    reward_components: dict[str, float]
    reward_weights: dict[str, float]
    terminated: bool = False
    truncated: bool = False
    invalid_action: str | None = None
    #: Extra per-step data a transform needs (e.g. ``test_results``, ``matched``, ``logprob``).
    extras: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_step(
        cls,
        step: int,
        action: Any,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: Mapping[str, Any],
        extra_keys: tuple[str, ...] = (),
    ) -> StepRecord:
        """Build a record from the values one ``env.step`` returned."""
        return cls(
            step=step,
            action=to_jsonable(action),
            reward=float(reward),
            reward_components={k: float(v) for k, v in info["reward_components"].items()},
            reward_weights={k: float(v) for k, v in info["reward_weights"].items()},
            terminated=bool(terminated),
            truncated=bool(truncated),
            invalid_action=info.get("invalid_action"),
            extras={k: to_jsonable(info[k]) for k in extra_keys if k in info},
        )


class EpisodeRecord(BaseModel):
    """A whole episode of one agent on one task instance."""

    model_config = ConfigDict(extra="forbid")

    env_id: str
    task_id: str
    episode_id: str
    seed: int | None = None
    agent: str = ""
    steps: list[StepRecord] = Field(default_factory=list)
    cost: dict[str, float] = Field(default_factory=dict)
    success: bool | None = None
    wall_s: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def length(self) -> int:
        return len(self.steps)

    def component_sum(self, name: str) -> float:
        """Undiscounted sum of one reward component over the episode (0 if never reported)."""
        return math.fsum(s.reward_components.get(name, 0.0) for s in self.steps)

    @property
    def task_return(self) -> float:
        """The raw task return: the sum of the ``task`` component, what leaderboards score."""
        return self.component_sum("task")

    @property
    def total_reward(self) -> float:
        """Sum of the scalar (weighted, possibly shaped) rewards."""
        return math.fsum(s.reward for s in self.steps)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, data: str | bytes) -> EpisodeRecord:
        """Read :meth:`to_json` output, or the packed form the leaderboard stores (its steps
        under ``"step_columns"``, see :class:`StepColumns`)."""
        raw = json.loads(data)
        packed = raw.pop("step_columns", None) if isinstance(raw, dict) else None
        if packed is not None:
            raw["steps"] = StepColumns.unpack(packed)
        return cls.model_validate(raw)


# -- packed steps ---------------------------------------------------------------------------------

_LITTLE = sys.byteorder == "little"


def _encode(typecode: str, values: Sequence[Any]) -> str:
    """Little-endian bytes of ``values`` as ``typecode`` ("d" float64, "q" int64), base64."""
    packed = array(typecode, values)
    if not _LITTLE:
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _decode(typecode: str, text: str, length: int) -> list[Any]:
    packed = array(typecode)
    packed.frombytes(base64.b64decode(text))
    if not _LITTLE:
        packed.byteswap()
    if len(packed) != length:
        raise ValueError(f"a packed step column holds {len(packed)} values, expected {length}")
    return packed.tolist()


def _pack_floats(values: Sequence[Any]) -> Any:
    """One float column: ``{"index": [...], "value": [...]}`` listing the non-zero entries
    when they are at most a quarter of the column, else the dense float64 base64 string."""
    length = len(values)
    if 4 * (length - values.count(0.0)) <= length:
        return {
            "index": list(compress(range(length), values)),
            "value": list(map(float, compress(values, values))),
        }
    return _encode("d", values)


def _unpack_floats(column: Any, length: int) -> list[float]:
    if isinstance(column, str):
        return _decode("d", column, length)
    values = [0.0] * length
    for i, v in zip(column["index"], column["value"], strict=True):
        if not 0 <= i < length:
            raise ValueError(f"a packed step column has an entry at step {i} of {length}")
        values[i] = float(v)
    return values


def _pack_actions(actions: Sequence[Any]) -> Any:
    """Integer actions as base64 bytes (``uint8``) or int64; anything else as a JSON list."""
    try:
        return {"uint8": base64.b64encode(bytes(actions)).decode("ascii")}
    except (TypeError, ValueError):
        pass
    try:
        return {"int64": _encode("q", actions)}
    except (TypeError, OverflowError):
        return [a if type(a) is str else to_jsonable(a) for a in actions]


def _unpack_actions(packed: Any, length: int) -> list[Any]:
    if isinstance(packed, list):
        actions = packed
    elif "uint8" in packed:
        actions = list(base64.b64decode(packed["uint8"]))
    else:
        actions = _decode("q", packed["int64"], length)
    if len(actions) != length:
        raise ValueError(f"step_columns holds {len(actions)} actions, expected {length}")
    return actions


def _keys(rows: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The keys of ``rows[0]``, if no row has more keys than that (a row with fewer, or other,
    keys makes the column reads after this raise KeyError).

    Raises:
        KeyError: if the rows do not all have as many keys as the first.
    """
    names = tuple(rows[0])
    if sum(map(len, rows)) != len(names) * len(rows):
        raise KeyError("rows with different keys")
    return names


def _columns(rows: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, ...], list[list[Any]]]:
    """The keys of ``rows[0]`` and one column per key, if every row has exactly those keys.

    Column by column, so no tuple per row is made: a burst of new tuples would set off the
    garbage collector (see ``rewardgym.leaderboard.runner.run_episode``).

    Raises:
        KeyError: if the rows do not all share the first row's keys.
    """
    names = _keys(rows)
    return names, [list(map(itemgetter(name), rows)) for name in names]


def component_sums(components: Sequence[Mapping[str, float]]) -> dict[str, float] | None:
    """The ``math.fsum`` of each reward component over the steps, or None if the steps do not
    all report the same components (sum them one by one then)."""
    if not components:
        return {}
    try:  # summed straight from the rows: no column lists, as _columns would make
        return {name: math.fsum(map(itemgetter(name), components)) for name in _keys(components)}
    except (KeyError, TypeError, ValueError, OverflowError):
        return None  # a step lacks a component, or a value is not a number


_SORTED_JSON = json.JSONEncoder(sort_keys=True).encode
_FLOAT_REPR = float.__repr__  # what json writes for a finite float (and for a float subclass)


@lru_cache(maxsize=1024)
def _sorted_members(names: tuple[Any, ...]) -> tuple[tuple[str, str], ...] | None:
    """``(key, '"key": ')`` for ``names`` in sorted order (None unless every name is a str)."""
    if not all(type(name) is str for name in names):
        return None
    return tuple((name, json.dumps(name) + ": ") for name in sorted(names))


def float_dict_json(values: Mapping[str, float]) -> str:
    """``json.dumps(values, sort_keys=True)``, written directly for the usual case of a small
    dict of finite floats (component sums, costs), and by ``json`` for anything else.

    The bench runner writes two of these per episode, right after the env has evicted
    ``json``'s Python-level encoder from the CPU caches; the direct form touches less code.
    """
    if not values:
        return "{}"
    members = _sorted_members(tuple(values))
    if members is None:
        return _SORTED_JSON(values)
    try:
        parts = [key + _FLOAT_REPR(values[name]) for name, key in members]
    except TypeError:  # an int, a bool, None, ...: json writes those its own way
        return _SORTED_JSON(values)
    for part in parts:
        if part[-1] in "nf":  # nan, inf, -inf: json writes NaN, Infinity, -Infinity
            return _SORTED_JSON(values)
    return "{" + ", ".join(parts) + "}"


class StepColumns:
    """An episode's steps stored column by column: how the leaderboard keeps every step cheaply.

    A list of :class:`StepRecord` dicts costs several microseconds per step to build, encode and
    store, which is as much as a step of a fast env. Packed (``format`` 1):

    - the scalar reward and each reward component are one float column: the non-zero entries
      as ``{"index": [...], "value": [...]}`` when at most a quarter are non-zero (shaped and
      sparse task rewards mostly are zero), else one base64 string of little-endian float64;
      exact either way (a zero's sign is not kept);
    - weights are stored when they change: ``[[step_index, {...}], ...]`` starting at index 0
      (one entry when they never change, the usual case);
    - integer actions are base64 bytes (``uint8``, 0-255) or little-endian int64; other actions
      (text, structures) stay a JSON list;
    - only invalid actions are listed, by 0-based step index; ``terminated``/``truncated`` are
      those of the last step (the episode ends at the first step that sets either).

    :meth:`pack` returns None when the steps do not fit (their component or weight keys vary,
    or a value is not a number); the caller then stores a plain ``steps`` list. :meth:`unpack`
    gives the ``StepRecord`` dicts back; ``EpisodeRecord.from_json`` does it for you.
    """

    FORMAT = 1

    def __init__(self, packed: dict[str, Any], component_sums: dict[str, float]) -> None:
        #: The JSON-ready packed form (``record["step_columns"]``; empty without steps).
        self.packed = packed
        #: The ``math.fsum`` of each component over the episode.
        self.component_sums = component_sums

    @classmethod
    def pack(
        cls,
        actions: Sequence[Any],
        rewards: Sequence[float],
        components: Sequence[Mapping[str, float]],
        weight_changes: Sequence[tuple[int, Mapping[str, float]]],
        invalid: Sequence[str | None],
        *,
        terminated: bool,
        truncated: bool,
    ) -> StepColumns | None:
        """Pack one episode's per-step values.

        ``actions``, ``rewards``, ``components`` and ``invalid`` have one entry per step;
        ``weight_changes`` lists ``(step_index, weights)`` each time the weights differ from the
        previous step's, starting with step 0.
        """
        length = len(rewards)
        if not length:
            return cls({}, {})
        if not weight_changes or weight_changes[0][0] != 0:
            raise ValueError("weight_changes must start with the weights of step 0")
        try:
            names, cols = _columns(components)
            sums = dict(zip(names, map(math.fsum, cols)))
            packed_weights = [[i, {k: float(v) for k, v in w.items()}] for i, w in weight_changes]
            packed: dict[str, Any] = {
                "format": cls.FORMAT,
                "length": length,
                "action": _pack_actions(actions),
                "reward": _pack_floats(rewards),
                "reward_components": dict(zip(names, map(_pack_floats, cols))),
                "reward_weights": packed_weights,
                "invalid_action": (
                    {}
                    if invalid.count(None) == length
                    else {str(i): why for i, why in enumerate(invalid) if why}
                ),
                "terminated": bool(terminated),
                "truncated": bool(truncated),
            }
        except (KeyError, TypeError, ValueError, OverflowError):
            return None  # keys vary between steps, or a value is not a number
        return cls(packed, sums)

    @classmethod
    def unpack(cls, packed: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The :class:`StepRecord` fields of every step, from :attr:`packed`.

        Raises:
            ValueError: on a format this version does not read, or inconsistent columns.
        """
        if not packed:
            return []
        if packed.get("format") != cls.FORMAT:
            raise ValueError(
                f"step_columns format {packed.get('format')!r} is not readable by this rewardgym "
                f"(reads format {cls.FORMAT}); upgrade rewardgym"
            )
        n = int(packed["length"])
        actions = _unpack_actions(packed["action"], n)
        rewards = _unpack_floats(packed["reward"], n)
        comps = {k: _unpack_floats(v, n) for k, v in packed["reward_components"].items()}
        changes = dict(packed["reward_weights"])  # step index -> weights from that step on
        if 0 not in changes:
            raise ValueError("step_columns reward_weights must start at step 0")
        invalid = packed.get("invalid_action", {})
        steps = []
        weights = changes[0]
        for i in range(n):
            last = i == n - 1
            weights = changes.get(i, weights)
            steps.append(
                {
                    "step": i + 1,
                    "action": actions[i],
                    "reward": rewards[i],
                    "reward_components": {k: col[i] for k, col in comps.items()},
                    "reward_weights": dict(weights),
                    "terminated": last and bool(packed["terminated"]),
                    "truncated": last and bool(packed["truncated"]),
                    "invalid_action": invalid.get(str(i)),
                    "extras": {},
                }
            )
        return steps
