"""Baseline agents that need no knowledge of the task: the floor every leaderboard starts from.

:class:`RandomAgent` samples uniformly from the env's action space, whatever it is (discrete,
box, multi-discrete, dict, tuple, text). Registered as ``"random"`` in
``rewardgym.agents.registry``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from gymnasium import spaces

__all__ = ["RandomAgent", "make_random_agent"]

#: Longest text a random agent writes into a text action space (the space may allow 16k chars,
#: which would only make random episodes slow without making them more informative).
RANDOM_TEXT_MAX = 64


class RandomAgent:
    """Uniformly random actions from a private, seeded copy of the action space.

    Args:
        action_space: the env's action space (copied; the env's own RNG is never touched).
        text_max_length: cap on the length of sampled text actions.

    ``reset(seed)`` reseeds the agent, so the same seed gives the same action sequence.
    """

    name = "random"

    def __init__(self, action_space: spaces.Space[Any], text_max_length: int = RANDOM_TEXT_MAX):
        self.action_space = copy.deepcopy(action_space)
        self.text_max_length = int(text_max_length)
        self._rng = np.random.default_rng()
        self.action_space.seed(int(self._rng.integers(2**31)))

    def reset(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)
        self.action_space.seed(int(self._rng.integers(2**31)))

    def act(self, observation: Any, info: dict[str, Any]) -> Any:
        return self._sample(self.action_space)

    def _sample(self, space: spaces.Space[Any]) -> Any:
        if isinstance(space, spaces.Text):
            hi = min(space.max_length, self.text_max_length)
            length = int(self._rng.integers(space.min_length, max(space.min_length, hi) + 1))
            return space.sample(mask=(length, None))
        if isinstance(space, spaces.Dict):
            return {k: self._sample(s) for k, s in space.spaces.items()}
        if isinstance(space, spaces.Tuple):
            return tuple(self._sample(s) for s in space.spaces)
        return space.sample()


def make_random_agent(env: Any, arg: str | None = None, **kwargs: Any) -> RandomAgent:
    """Registry factory for ``"random"`` (no argument)."""
    return RandomAgent(env.action_space, **kwargs)
