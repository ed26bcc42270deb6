"""Fixtures for the shaping tests: a small contract-following AgenticEnv and record builders."""

from __future__ import annotations

import pytest
from shaping_toy_envs import CorridorEnv

from rewardgym.records import EpisodeRecord, StepRecord


@pytest.fixture
def make_corridor():
    """A factory of CorridorEnv instances (keyword arguments passed through)."""
    return CorridorEnv


def episode(
    task_id: str = "t",
    *,
    components: list[dict[str, float]] | None = None,
    rewards: list[float] | None = None,
    extras: list[dict] | None = None,
    cost: dict[str, float] | None = None,
    metadata: dict | None = None,
    episode_id: str = "e",
) -> EpisodeRecord:
    """An EpisodeRecord from per-step components (weight 1 each) or scalar rewards."""
    n = len(components or rewards or extras or [{}])
    steps = []
    for t in range(n):
        comp = dict((components or [{}] * n)[t])
        comp.setdefault("task", 0.0)
        reward = rewards[t] if rewards is not None else sum(comp.values())
        weights = dict.fromkeys(comp, 1.0) if rewards is None else {}
        steps.append(
            StepRecord(
                step=t + 1,
                reward=reward,
                reward_components=comp,
                reward_weights=weights,
                terminated=t == n - 1,
                extras=dict((extras or [{}] * n)[t]),
            )
        )
    return EpisodeRecord(
        env_id="test",
        task_id=task_id,
        episode_id=episode_id,
        steps=steps,
        cost=cost or {},
        metadata=metadata or {},
    )


@pytest.fixture
def make_episode():
    """Build EpisodeRecords for transform tests (see :func:`episode`)."""
    return episode
