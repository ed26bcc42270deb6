"""The step contract in code: the info keys every env reports and the reward invariant.

ARCHITECTURE.md §2 is the prose; this module is what envs, wrappers and the checker share, so
there is one definition of "a valid step".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = [
    "INVARIANT_TOLERANCE",
    "REQUIRED_INFO_KEYS",
    "invariant_error",
    "weighted_reward",
]

#: Keys present in ``info`` after every ``reset`` and ``step``, with their expected types.
REQUIRED_INFO_KEYS: dict[str, tuple[type, ...]] = {
    "task_id": (str,),
    "episode_id": (str,),
    "step": (int,),
    "reward_components": (Mapping,),
    "reward_weights": (Mapping,),
    "cost": (Mapping,),
    "success": (bool, type(None)),
    "invalid_action": (str, type(None)),
}

#: Absolute tolerance (scaled by the reward's magnitude when it exceeds 1) of the invariant.
INVARIANT_TOLERANCE = 1e-9


def weighted_reward(components: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """The scalar reward ``sum(weights[k] * components[k])`` over the components.

    A component without a weight counts with weight 0 (a logged metric). Summation order is the
    components' order, so every layer that recomputes the sum gets the same float.
    """
    total = 0.0
    for name, value in components.items():
        w = weights.get(name, 0.0)
        if w:
            total += w * value
    return float(total)


def invariant_error(reward: float, info: Mapping[str, Any]) -> str | None:
    """Why ``reward`` breaks the weighted-sum invariant for ``info``, or None if it holds."""
    components = info.get("reward_components")
    weights = info.get("reward_weights")
    if not isinstance(components, Mapping) or not isinstance(weights, Mapping):
        return "info lacks reward_components/reward_weights"
    unknown = sorted(set(weights) - set(components))
    if unknown:
        return f"weights given for components that are not reported: {unknown}"
    expected = weighted_reward(components, weights)
    reward = float(reward)
    if not math.isfinite(reward):
        return f"reward is not finite: {reward}"
    if abs(reward - expected) > INVARIANT_TOLERANCE * max(1.0, abs(expected)):
        return (
            f"reward {reward!r} != sum(weights*components) = {expected!r} "
            f"(components={dict(components)}, weights={dict(weights)})"
        )
    return None
