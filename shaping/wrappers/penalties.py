"""Costs as reward terms: ``StepPenalty``, ``InvalidActionPenalty`` and ``CostPenalty``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from rewardgym.errors import ConfigError
from rewardgym.shaping.wrappers.base import ShapingWrapper, _finite


class StepPenalty(ShapingWrapper):
    """A constant cost per step under ``shaping/step_penalty`` (value ``-penalty``).

    Not policy-invariant: it favours short episodes (that is its purpose).

    Args:
        env: the env to wrap.
        penalty: the cost of one step (>= 0).
        weight: the weight of the term.
    """

    shaping_name = "step_penalty"

    def __init__(self, env: gym.Env, penalty: float = 0.01, weight: float = 1.0) -> None:
        super().__init__(env)
        self.penalty = _finite("penalty", penalty, minimum=0.0)
        self.weight = _finite("weight", weight)

    def _params(self) -> dict[str, Any]:
        return {"penalty": self.penalty, "weight": self.weight}

    def _shape(self, obs, reward, terminated, truncated, info) -> float:
        return -self.penalty


class InvalidActionPenalty(ShapingWrapper):
    """A cost for each step whose ``info["invalid_action"]`` is set (``shaping/invalid_action``).

    Args:
        env: the env to wrap.
        penalty: the cost of one invalid action (>= 0).
        weight: the weight of the term.
    """

    shaping_name = "invalid_action"

    def __init__(self, env: gym.Env, penalty: float = 0.1, weight: float = 1.0) -> None:
        super().__init__(env)
        self.penalty = _finite("penalty", penalty, minimum=0.0)
        self.weight = _finite("weight", weight)

    def _params(self) -> dict[str, Any]:
        return {"penalty": self.penalty, "weight": self.weight}

    def _shape(self, obs, reward, terminated, truncated, info) -> float:
        return -self.penalty if info.get("invalid_action") else 0.0


class CostPenalty(ShapingWrapper):
    """Pay for spend: ``-sum_k costs[k] * (cost_k(t) - cost_k(t-1))`` under ``shaping/cost``.

    ``info["cost"]`` is cumulative per episode, so the wrapper charges its increments. Cost
    names are checked against the env's declared ``COST_KEYS`` when it declares any.

    Args:
        env: the env to wrap.
        costs: cost name -> price per unit, e.g. ``{"searches": 0.1}``.
        weight: the weight of the term.
    """

    shaping_name = "cost"

    def __init__(
        self, env: gym.Env, costs: Mapping[str, float] | None = None, weight: float = 1.0
    ) -> None:
        super().__init__(env)
        costs = {"searches": 0.1} if costs is None else costs
        if not isinstance(costs, Mapping) or not costs:
            raise ConfigError(
                f"CostPenalty needs a non-empty mapping cost name -> price, got {costs!r}"
            )
        self.costs = {str(k): _finite(f"price of {k!r}", v) for k, v in costs.items()}
        declared = tuple(getattr(env.unwrapped, "COST_KEYS", ()) or ())
        unknown = sorted(set(self.costs) - set(declared)) if declared else []
        if unknown:
            raise ConfigError(
                f"CostPenalty: {type(env.unwrapped).__name__} reports no cost {unknown}; "
                f"valid: {list(declared)}"
            )
        self.weight = _finite("weight", weight)
        self._last: dict[str, float] = {}

    def _params(self) -> dict[str, Any]:
        return {"costs": dict(self.costs), "weight": self.weight}

    def _on_reset(self, obs, info, seed) -> None:
        cost = info.get("cost", {})
        self._last = {k: float(cost.get(k, 0.0)) for k in self.costs}

    def _shape(self, obs, reward, terminated, truncated, info) -> float:
        cost = info.get("cost", {})
        total = 0.0
        for key, price in self.costs.items():
            now = float(cost.get(key, 0.0))
            total -= price * (now - self._last[key])
            self._last[key] = now
        return total
