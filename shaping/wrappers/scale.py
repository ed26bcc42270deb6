"""Bounding and normalising the scalar reward: ``ClipReward`` and ``RunningNormalize``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from rewardgym.errors import ConfigError
from rewardgym.shaping.wrappers.base import ShapingWrapper, _finite, _with_component


class ClipReward(ShapingWrapper):
    """Bound the reward to ``[min_reward, max_reward]``; the correction is ``shaping/clip``.

    The pre-clip reward is recorded in ``info["reward_unclipped"]``; the component holds
    ``clipped - unclipped`` (0 when inside the bounds), so the weighted sum is the clipped value.

    Args:
        env: the env to wrap.
        min_reward: the lower bound.
        max_reward: the upper bound (> min_reward).
    """

    shaping_name = "clip"

    def __init__(self, env: gym.Env, min_reward: float = -1.0, max_reward: float = 1.0) -> None:
        super().__init__(env)
        self.min_reward = _finite("min_reward", min_reward)
        self.max_reward = _finite("max_reward", max_reward)
        if self.max_reward <= self.min_reward:
            raise ConfigError(
                f"ClipReward needs min_reward < max_reward, got {self.min_reward}, "
                f"{self.max_reward}"
            )

    def _params(self) -> dict[str, Any]:
        return {"min_reward": self.min_reward, "max_reward": self.max_reward}

    def _shape(self, obs, reward, terminated, truncated, info) -> float:
        clipped = min(max(reward, self.min_reward), self.max_reward)
        return clipped - reward

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        unclipped = float(reward)
        value = self._shape(obs, unclipped, bool(terminated), bool(truncated), info)
        reward, info = _with_component(
            unclipped, info, self.component_name, value, self.weight, self._owned
        )
        info["reward_unclipped"] = unclipped
        return obs, reward, terminated, truncated, info


class RunningNormalize(ShapingWrapper):
    """Normalise the reward by running mean/std: ``r' = (r - mean) / (std + epsilon)``.

    The statistics (Welford, over every step seen while not frozen, the current one included)
    live in :meth:`state_dict`; :meth:`freeze` stops updating them for evaluation. The
    correction ``r' - r`` is the component ``shaping/normalize``. Unlike Gymnasium's
    ``NormalizeReward`` this scales rewards, not discounted returns.

    Args:
        env: the env to wrap.
        epsilon: added to the std (> 0).
        center: subtract the running mean (False only divides by the std).
    """

    shaping_name = "normalize"

    def __init__(self, env: gym.Env, epsilon: float = 1e-8, center: bool = True) -> None:
        super().__init__(env)
        self.epsilon = _finite("epsilon", epsilon, minimum=0.0)
        if self.epsilon == 0.0:
            raise ConfigError("epsilon must be > 0 (it keeps the first steps finite)")
        self.center = bool(center)
        self.frozen = False
        self.count = 0
        self.mean = 0.0
        self._m2 = 0.0

    def _params(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, "center": self.center}

    @property
    def std(self) -> float:
        return math.sqrt(self._m2 / self.count) if self.count > 1 else 1.0

    def freeze(self) -> None:
        """Stop updating the statistics (evaluation)."""
        self.frozen = True

    def unfreeze(self) -> None:
        """Resume updating the statistics."""
        self.frozen = False

    def state_dict(self) -> dict[str, Any]:
        """The statistics, as plain data (JSON-serialisable)."""
        return {"count": self.count, "mean": self.mean, "m2": self._m2, "frozen": self.frozen}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore statistics saved by :meth:`state_dict`."""
        try:
            count, mean, m2 = int(state["count"]), float(state["mean"]), float(state["m2"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"bad RunningNormalize state {state!r}: expected keys count, mean, m2"
            ) from exc
        if count < 0 or m2 < 0:
            raise ConfigError(f"bad RunningNormalize state {state!r}: negative count or m2")
        self.count, self.mean, self._m2 = count, mean, m2
        self.frozen = bool(state.get("frozen", self.frozen))

    def _shape(self, obs, reward, terminated, truncated, info) -> float:
        if not self.frozen:
            self.count += 1
            delta = reward - self.mean
            self.mean += delta / self.count
            self._m2 += delta * (reward - self.mean)
        std = math.sqrt(self._m2 / self.count) if self.count > 1 else 1.0
        shifted = reward - self.mean if self.center else reward
        return shifted / (std + self.epsilon) - reward
