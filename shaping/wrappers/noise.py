"""``RewardNoise``: flip binary rewards, for robustness studies."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.errors import ConfigError
from rewardgym.shaping.wrappers.base import ShapingWrapper, _finite, _inner_component_names


class RewardNoise(ShapingWrapper):
    """Flip a binary component with probability ``flip_p`` (for robustness studies).

    The flip shows up as ``shaping/noise`` = ``w_c * (flipped - original)`` with weight 1, so
    the scalar reward is what it would be had the env reported the flipped value; the original
    component is left intact for scoring. Values other than 0/1 are never flipped. The noise
    stream is re-seeded from ``reset(seed=...)`` (and ``seed``), so runs are reproducible.

    Args:
        env: the env to wrap.
        flip_p: the flip probability, in [0, 1].
        component: the binary component to flip.
        seed: an extra seed mixed into the noise stream.
    """

    shaping_name = "noise"

    def __init__(
        self, env: gym.Env, flip_p: float = 0.1, component: str = "task", seed: int = 0
    ) -> None:
        super().__init__(env)
        self.flip_p = _finite("flip_p", flip_p, minimum=0.0)
        if self.flip_p > 1.0:
            raise ConfigError(f"flip_p must be in [0, 1], got {self.flip_p}")
        known = _inner_component_names(env)
        if known and component not in known:
            raise ConfigError(
                f"RewardNoise: unknown component {component!r}; valid: {sorted(known)}"
            )
        self.component = component
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        self.flips = 0

    def _params(self) -> dict[str, Any]:
        return {"flip_p": self.flip_p, "component": self.component, "seed": self.seed}

    def _on_reset(self, obs, info, seed) -> None:
        if seed is not None:
            self._rng = np.random.default_rng([int(seed), self.seed])

    def _shape(self, obs, reward, terminated, truncated, info) -> float:
        value = info["reward_components"].get(self.component)
        if value not in (0.0, 1.0) or self._rng.random() >= self.flip_p:
            return 0.0
        self.flips += 1
        weight = info["reward_weights"].get(self.component, 0.0)
        return weight * ((1.0 - value) - value)
