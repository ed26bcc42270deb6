"""Unlikeliness reward ("Rewarding the Unlikely", METHODS.md §6)."""

from __future__ import annotations

from collections.abc import Sequence

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
from rewardgym.shaping.transforms.normalize import group_normalize


def _mean_logprob(ep: EpisodeRecord, key: str) -> float:
    value = ep.metadata.get(key)
    if value is None:
        per_step = [s.extras[key] for s in ep.steps if key in s.extras]
        if not per_step:
            raise ConfigError(
                f"episode {ep.episode_id}: no metadata[{key!r}] or step extras[{key!r}] with "
                "the sample's log-probs"
            )
        tokens: list[float] = []
        for item in per_step:
            tokens.extend(item if isinstance(item, list) else [item])
        value = tokens
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"episode {ep.episode_id}: empty log-prob list under {key!r}")
        return float(np.mean(value))
    return float(value)


class Unlikeliness(_Transform):
    """Unlikeliness reward ("Rewarding the Unlikely"): boost correct but unlikely samples.

    Rank the G samples by mean token log-prob (rank 0 = least likely), ``rank_i = position/G``;
    ``r_i' = r_i * (1 - beta*rank_i)``; then GRPO normalisation (``normalize=True``, advantage
    kind) or the raw ``r'`` (reward kind). Ties keep the input order.

    Args:
        beta: strength (0.25).
        source: the reward to reshape, as in :class:`GroupNormalize` (default ``"task"``).
        logprob_key: the metadata/extras key of the log-probs.
        normalize: apply group normalisation afterwards.
        eps: the std epsilon of the normalisation.
    """

    _SPEC = ("beta", "source", "logprob_key", "normalize", "eps")

    def __init__(
        self,
        beta: float = 0.25,
        source: Source = "task",
        logprob_key: str = "logprob",
        normalize: bool = True,
        eps: float = 1e-6,
    ) -> None:
        self.beta = _number("beta", beta, lo=0.0, hi=1.0)
        self.source = source
        self.logprob_key = str(logprob_key)
        self.normalize = bool(normalize)
        self.eps = _number("eps", eps, lo=0.0)

    def reshaped(self, episodes: Sequence[EpisodeRecord]) -> list[float]:
        """``r_i'`` before normalisation."""
        _check_group(episodes, "Unlikeliness")
        rewards = _episode_values(self.source, episodes)
        logps = [_mean_logprob(ep, self.logprob_key) for ep in episodes]
        order = np.argsort(np.asarray(logps), kind="stable")
        g = len(episodes)
        rank = np.empty(g)
        rank[order] = np.arange(g) / g
        return [r * (1.0 - self.beta * k) for r, k in zip(rewards, rank)]

    def __call__(self, episodes: Sequence[EpisodeRecord]) -> GroupResult:
        values = self.reshaped(episodes)
        if self.normalize:
            return GroupResult.episode_advantages(episodes, group_normalize(values, self.eps))
        return GroupResult.episode_rewards(episodes, values)
