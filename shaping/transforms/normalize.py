"""GRPO group normalisation and dynamic sampling (keep groups with spread)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from rewardgym.errors import ConfigError
from rewardgym.records import EpisodeRecord
from rewardgym.shaping.transforms.base import (
    GroupResult,
    Source,
    _check_group,
    _episode_values,
    _number,
    _Transform,
)


def group_normalize(values: Sequence[float], eps: float = 1e-6) -> list[float]:
    """GRPO group normalisation ``(x - mean) / (std + eps)`` with the unbiased std.

    A group of one has no spread: its advantage is 0.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return [0.0] * int(x.size)
    return ((x - x.mean()) / (x.std(ddof=1) + eps)).tolist()


# ----------------------------------------------------------------------------------------------
# GRPO
# ----------------------------------------------------------------------------------------------


class GroupNormalize(_Transform):
    """GRPO advantages: the group-normalised episode value, broadcast to every step.

    Args:
        source: ``"reward"`` (the episode's scalar return, shaping included), a component name
            (e.g. ``"task"``), or another transform whose ``per_episode`` to normalise.
        eps: added to the std.
    """

    _SPEC = ("source", "eps")

    def __init__(self, source: Source = "reward", eps: float = 1e-6) -> None:
        if not isinstance(source, str) and not callable(source):
            raise ConfigError(f"source must be a name or a group transform, got {source!r}")
        self.source = source
        self.eps = _number("eps", eps, lo=0.0)

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        _check_group(episodes, "GroupNormalize")
        values = _episode_values(self.source, episodes)
        return GroupResult.episode_advantages(episodes, group_normalize(values, self.eps))


class DynamicSampling(_Transform):
    """Keep a group only if the spread (unbiased std) of its episode values exceeds a threshold.

    Not a reward: :meth:`keep` says whether a group carries learning signal; :meth:`filter`
    keeps the groups that do. UI-S1 uses ``DynamicSampling(0.3, UIS1Returns())`` (the std of
    ``R_0``).

    Args:
        threshold: the minimum std (0.3 in UI-S1).
        source: as in :class:`GroupNormalize`.
    """

    _SPEC = ("threshold", "source")

    def __init__(self, threshold: float = 0.3, source: Source = "reward") -> None:
        self.threshold = _number("threshold", threshold, lo=0.0)
        self.source = source

    def spread(self, episodes: Sequence[EpisodeRecord]) -> float:
        """The unbiased std of the group's values (0 for a group of one)."""
        _check_group(episodes, "DynamicSampling")
        values = _episode_values(self.source, episodes)
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0

    def keep(self, episodes: Sequence[EpisodeRecord]) -> bool:
        return self.spread(episodes) > self.threshold

    def filter(self, groups: Iterable[Sequence[EpisodeRecord]]) -> list[Sequence[EpisodeRecord]]:
        return [g for g in groups if self.keep(g)]
