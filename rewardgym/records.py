"""Episode and step records: what a rollout leaves behind, serialisable to JSON.

Group transforms (``rewardgym.shaping.transforms``) consume lists of :class:`EpisodeRecord`
sharing a ``task_id``; the leaderboard stores them in SQLite. Records hold plain data only
(numpy values are converted on the way in by :func:`to_jsonable`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EpisodeRecord", "StepRecord", "to_jsonable"]


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
        return cls.model_validate_json(data)
