"""Fixtures for the shaping tests: a small contract-following AgenticEnv and record builders."""

from __future__ import annotations

import gymnasium as gym
import pytest

from rewardgym.envs.base import AgenticEnv
from rewardgym.errors import InvalidAction
from rewardgym.records import EpisodeRecord, StepRecord
from rewardgym.spaces import text


class CorridorEnv(AgenticEnv):
    """Walk right along a corridor to its end; ``search`` costs a search and does not move.

    Components: ``task`` (1 on reaching the end, weight 1), ``format`` (1 for a valid command,
    weight 0.1), ``progress`` (position / end, weight 0: a metric). Cost: ``searches``.
    Terminates at the end; truncates after ``max_steps``. Potential ``goal_distance`` is minus
    the distance to the end.
    """

    COMPONENTS = ("task", "format", "progress")
    DEFAULT_WEIGHTS = {"task": 1.0, "format": 0.1}
    COST_KEYS = ("searches",)
    metadata = {"render_modes": [], "render_fps": 1}

    def __init__(self, reward_weights=None, length: int = 5, max_steps: int = 20):
        super().__init__(reward_weights)
        self.length = length
        self.max_steps = max_steps
        self.observation_space = gym.spaces.Discrete(length)
        self.action_space = text(16)
        self.pos = 0

    def named_potentials(self):
        return {"goal_distance": lambda obs, info: -float(self.length - 1 - int(obs))}

    def reset(self, *, seed=None, options=None):
        self._reset_options(options)
        super().reset(seed=seed)
        self.pos = int(self.np_random.integers(0, self.length - 1))
        return self.pos, self._start_episode(task_id=f"corridor-{self.length}-{self.pos}")

    def step(self, action):
        self._check_running()
        if not isinstance(action, str):
            raise InvalidAction(f"actions are str, got {type(action).__name__}")
        command = action.strip().lower()
        invalid = None
        if command == "right":
            self.pos = min(self.pos + 1, self.length - 1)
        elif command == "left":
            self.pos = max(self.pos - 1, 0)
        elif command == "search":
            self._add_cost("searches", 1)
        else:
            invalid = "unknown command; use left, right or search"
        at_end = self.pos == self.length - 1
        truncated = not at_end and self._step_count + 1 >= self.max_steps
        reward, info = self._finish_step(
            {
                "task": float(at_end),
                "format": float(invalid is None),
                "progress": self.pos / (self.length - 1),
            },
            terminated=at_end,
            truncated=truncated,
            success=at_end if (at_end or truncated) else None,
            invalid_action=invalid,
        )
        return self.pos, reward, at_end, truncated, info

    def close(self):
        pass


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
