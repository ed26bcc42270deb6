"""``PotentialShaping``: potential-based shaping (Ng, Harada & Russell 1999)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from rewardgym.errors import ConfigError
from rewardgym.shaping.wrappers.base import Potential, ShapingWrapper, _finite


class PotentialShaping(ShapingWrapper):
    """Potential-based shaping (Ng, Harada & Russell 1999) under ``shaping/potential``.

    ``F = gamma * Phi(s') * (1 - terminated) - Phi(s)``: a terminal state has potential 0, a
    truncated one keeps ``gamma * Phi(s')`` (the episode was cut, the state is not terminal).
    With the learner's own ``gamma`` this keeps every optimal policy; over a terminated episode
    the discounted sum of F is ``-Phi(s_0)``.

    Args:
        env: the env to wrap.
        potential: a callable ``(observation, info) -> float``, or the name of a potential the
            env offers through ``env.unwrapped.named_potentials()``.
        gamma: the learner's discount, in [0, 1].
        weight: the weight of the term (1.0 keeps the guarantee exact; any constant keeps it).
        offset: a constant added to every non-terminal potential (``Phi + offset``; still a
            potential, so still policy-invariant). Raising the potentials by ``offset`` makes
            every non-terminal step pay ``(gamma - 1) * offset`` more, which takes away the
            reward a negative potential (e.g. ``-distance``) pays for standing still under
            ``gamma < 1``.
    """

    shaping_name = "potential"

    def __init__(
        self,
        env: gym.Env,
        potential: Potential | str,
        gamma: float = 0.99,
        weight: float = 1.0,
        offset: float = 0.0,
    ) -> None:
        super().__init__(env)
        self.gamma = _finite("gamma", gamma, minimum=0.0)
        if self.gamma > 1.0:
            raise ConfigError(f"gamma must be in [0, 1], got {self.gamma}")
        self.weight = _finite("weight", weight)
        self.offset = _finite("offset", offset)
        if isinstance(potential, str):
            offered_fn = getattr(env.unwrapped, "named_potentials", None)
            offered = dict(offered_fn()) if callable(offered_fn) else {}
            if potential not in offered:
                raise ConfigError(
                    f"{type(env.unwrapped).__name__} offers no potential named {potential!r}; "
                    f"valid: {sorted(offered)} (or pass a callable (obs, info) -> float)"
                )
            self.potential_name: str = potential
            self.potential: Potential = offered[potential]
        elif callable(potential):
            self.potential_name = getattr(potential, "__qualname__", repr(potential))
            self.potential = potential
        else:
            raise ConfigError(
                f"potential must be a callable (obs, info) -> float or a name, got {potential!r}"
            )
        self._named = isinstance(potential, str)
        self._phi = 0.0

    def _params(self) -> dict[str, Any]:
        params = {"potential": self.potential_name, "gamma": self.gamma, "weight": self.weight}
        if self.offset:
            params["offset"] = self.offset
        return params

    def __getstate__(self) -> dict[str, Any]:
        # A named potential is usually a closure over the env: pickle its name, look it up again.
        state = self.__dict__.copy()
        if self._named:
            state["potential"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._named:
            self.potential = self.env.unwrapped.named_potentials()[self.potential_name]

    def _evaluate(self, obs: Any, info: Mapping[str, Any]) -> float:
        value = float(self.potential(obs, info))
        if not math.isfinite(value):
            raise ConfigError(
                f"potential {self.potential_name!r} returned {value}; potentials must be finite"
            )
        return value + self.offset

    def _on_reset(self, obs: Any, info: Mapping[str, Any], seed: int | None) -> None:
        self._phi = self._evaluate(obs, info)

    def _shape(
        self, obs: Any, reward: float, terminated: bool, truncated: bool, info: Mapping[str, Any]
    ) -> float:
        phi_next = 0.0 if terminated else self._evaluate(obs, info)
        term = self.gamma * phi_next - self._phi
        self._phi = phi_next
        return term
