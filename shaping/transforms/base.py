"""The group-transform protocol and what the transforms share.

:class:`GroupResult` (the return value), :class:`GroupTransform` (the protocol),
:func:`group_by_task`, and the parameter checks and ``spec()`` every transform uses.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from rewardgym.errors import ConfigError
from rewardgym.records import EpisodeRecord

Kind = Literal["reward", "advantage"]


@dataclass(frozen=True)
class GroupResult:
    """What a transform returns for one group (the layout: :mod:`rewardgym.shaping.transforms`).

    Attributes:
        kind: ``"reward"`` or ``"advantage"``.
        per_step: one list per episode, one value per step.
        per_episode: one episode-level value per episode.
    """

    kind: Kind
    per_step: list[list[float]]
    per_episode: list[float]

    @classmethod
    def episode_rewards(cls, episodes: Sequence[EpisodeRecord], values: Iterable[float]):
        """Episode-level rewards, placed on each episode's last step."""
        values = [float(v) for v in values]
        per_step = []
        for ep, v in zip(episodes, values):
            row = [0.0] * ep.length
            if row:
                row[-1] = v
            per_step.append(row)
        return cls("reward", per_step, values)

    @classmethod
    def episode_advantages(cls, episodes: Sequence[EpisodeRecord], values: Iterable[float]):
        """Episode-level advantages, broadcast to every step."""
        values = [float(v) for v in values]
        return cls("advantage", [[v] * ep.length for ep, v in zip(episodes, values)], values)


@runtime_checkable
class GroupTransform(Protocol):
    """A callable over the episodes of one task returning a :class:`GroupResult`."""

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult: ...

    def spec(self) -> dict[str, Any]: ...


def group_by_task(episodes: Iterable[EpisodeRecord]) -> dict[str, list[EpisodeRecord]]:
    """Split episodes into groups by ``task_id`` (insertion order kept)."""
    groups: dict[str, list[EpisodeRecord]] = defaultdict(list)
    for ep in episodes:
        groups[ep.task_id].append(ep)
    return dict(groups)


def _check_group(episodes: Sequence[EpisodeRecord], who: str) -> str:
    if not episodes:
        raise ConfigError(f"{who}: empty group; pass the episodes of one task_id")
    task_ids = {ep.task_id for ep in episodes}
    if len(task_ids) != 1:
        raise ConfigError(
            f"{who}: a group must share one task_id, got {sorted(task_ids)}; split with "
            "rewardgym.shaping.transforms.group_by_task first"
        )
    return episodes[0].task_id


def _number(name: str, value: Any, lo: float | None = None, hi: float | None = None) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
        bounds = f" in [{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        raise ConfigError(f"{name} must be a finite number{bounds}, got {value!r}")
    return x


def _choice(name: str, value: str, valid: Sequence[str]) -> str:
    if value not in valid:
        raise ConfigError(f"{name} must be one of {list(valid)}, got {value!r}")
    return value


Source = str | GroupTransform


def _episode_values(source: Source, episodes: Sequence[EpisodeRecord]) -> list[float]:
    """The per-episode value a transform works on: ``"reward"`` (the scalar return), a
    component name (its episode sum) or another transform (its ``per_episode``)."""
    if isinstance(source, str):
        if source == "reward":
            return [ep.total_reward for ep in episodes]
        return [ep.component_sum(source) for ep in episodes]
    return list(source(episodes).per_episode)


def _source_spec(source: Source) -> Any:
    return source if isinstance(source, str) else source.spec()


class _Transform:
    """What the transforms share: ``spec()`` is the class name plus the parameters named in
    ``_SPEC`` (a ``source`` that is itself a transform gives its own spec)."""

    _SPEC: tuple[str, ...] = ()

    def spec(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": type(self).__name__}
        for key in self._SPEC:
            value = getattr(self, key)
            out[key] = _source_spec(value) if key == "source" else value
        return out
