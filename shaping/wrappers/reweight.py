"""``ReweightComponents``: set or override the weights of the reward components."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from rewardgym.contract import weighted_reward
from rewardgym.errors import ConfigError
from rewardgym.shaping.wrappers.base import (
    ShapingWrapper,
    _finite,
    _inner_component_names,
    _owned_info,
)


class ReweightComponents(ShapingWrapper):
    """Set or override the weights of reward components; the reward is recomputed from them.

    A weight of 0 turns a term into a logged metric. Names are checked against the components
    the env declares (``COMPONENTS``) and those inner shaping wrappers add; for envs that
    declare none, the first step checks them against what is reported.

    Args:
        env: the env to wrap.
        weights: component name -> new weight (a partial mapping; others keep theirs).
    """

    def __init__(self, env: gym.Env, weights: Mapping[str, float]) -> None:
        super().__init__(env)
        if not isinstance(weights, Mapping) or not weights:
            raise ConfigError(
                f"ReweightComponents needs a non-empty mapping of weights, got {weights!r}"
            )
        self.weights = {str(k): _finite(f"weight of {k!r}", v) for k, v in weights.items()}
        known = _inner_component_names(env)
        unknown = sorted(set(self.weights) - known) if known else []
        if unknown:
            raise ConfigError(
                f"ReweightComponents: unknown component(s) {unknown}; valid: {sorted(known)}"
            )
        self._checked = bool(known)

    def _params(self) -> dict[str, Any]:
        return {"weights": dict(self.weights)}

    def _reweight(self, info: Mapping[str, Any]) -> tuple[float, dict[str, Any]]:
        components = info["reward_components"]
        if not self._checked:
            unknown = sorted(set(self.weights) - set(components))
            if unknown:
                raise ConfigError(
                    f"ReweightComponents: unknown component(s) {unknown}; the env reports "
                    f"{sorted(components)}"
                )
            self._checked = True
        new_info = _owned_info(info, self._owned)
        weights = new_info["reward_weights"]
        weights.update(self.weights)
        return weighted_reward(new_info["reward_components"], weights), new_info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        _, info = self._reweight(info)
        return obs, info

    def step(self, action: Any):
        obs, _, terminated, truncated, info = self.env.step(action)
        reward, info = self._reweight(info)
        return obs, reward, terminated, truncated, info
