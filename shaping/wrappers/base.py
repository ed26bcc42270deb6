"""The base of every shaping wrapper: :class:`ShapingWrapper` (``shaping_spec()`` and the
copy-and-add bookkeeping that keeps the reward invariant), the helpers the wrappers share, and
:func:`stack_spec`."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym

from rewardgym.errors import ConfigError

logger = logging.getLogger("rewardgym.shaping.wrappers")

Potential = Callable[[Any, Mapping[str, Any]], float]


def _finite(name: str, value: Any, *, minimum: float | None = None) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{name} must be finite, got {number}")
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {number}")
    return number


def _owned_info(info: Mapping[str, Any], owned: bool) -> dict[str, Any]:
    """``info`` with its own ``reward_components``/``reward_weights`` dicts.

    ``owned`` says the three dicts are fresh copies made by the shaping wrapper just inside
    (nobody else holds them), so they may be changed in place; otherwise they are copied, and
    the env's own dicts are never touched.
    """
    if owned:
        return info  # type: ignore[return-value]
    new_info = dict(info)
    new_info["reward_components"] = dict(info["reward_components"])
    new_info["reward_weights"] = dict(info["reward_weights"])
    return new_info


def _with_component(
    reward: SupportsFloat,
    info: Mapping[str, Any],
    name: str,
    value: float,
    weight: float,
    owned: bool = False,
) -> tuple[float, dict[str, Any]]:
    """``info`` (copied unless ``owned``) with component ``name`` added, and the new reward.

    The component is appended last, so ``reward + weight*value`` is the very float that
    :func:`rewardgym.contract.weighted_reward` computes over the new dicts.
    """
    new_info = _owned_info(info, owned)
    new_info["reward_components"][name] = float(value)
    new_info["reward_weights"][name] = float(weight)
    reward = float(reward)
    if weight and value:
        reward += weight * float(value)
    return reward, new_info


def _inner_component_names(env: gym.Env) -> set[str]:
    """Component names the env under ``env`` may report: its declared ones plus inner shaping."""
    names: set[str] = set(getattr(env.unwrapped, "COMPONENTS", ()) or ())
    current: Any = env
    while isinstance(current, gym.Wrapper):
        if isinstance(current, ShapingWrapper) and current.component_name:
            names.add(current.component_name)
        current = current.env
    return names


class ShapingWrapper(gym.Wrapper):
    """Base of the shaping wrappers: a ``shaping_spec()`` and the copy-and-add bookkeeping.

    Subclasses set ``shaping_name`` (the ``<name>`` in ``shaping/<name>``; empty for wrappers
    that only re-weight) and implement :meth:`_shape`, which receives the step's values and
    returns the term to add.
    """

    shaping_name: ClassVar[str] = ""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        # A shaping wrapper hands out fresh info dicts, so the one outside it may edit them in
        # place (one copy per stack instead of one per wrapper).
        self._owned = isinstance(env, ShapingWrapper)
        self.component_name = f"shaping/{self.shaping_name}" if self.shaping_name else ""
        if self.shaping_name:
            current: Any = env
            while isinstance(current, gym.Wrapper):
                if isinstance(current, ShapingWrapper) and current.component_name == (
                    self.component_name
                ):
                    raise ConfigError(
                        f"{type(self).__name__}: the stack already has a wrapper adding "
                        f"{self.component_name!r}; combine their parameters into one wrapper"
                    )
                current = current.env

    def shaping_spec(self) -> dict[str, Any]:
        """The wrapper's name and parameters: enough for ``from_config`` to rebuild it.

        (Not ``spec``: on a Gymnasium wrapper that name is the ``EnvSpec`` property which outer
        wrappers, vector envs and SB3 read, and it keeps working through a shaping stack.)
        """
        return {"name": type(self).__name__, **self._params()}

    def _params(self) -> dict[str, Any]:
        return {}

    # -- additive wrappers -------------------------------------------------------------------

    weight: float = 1.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._on_reset(obs, info, seed)
        if self.component_name:
            _, info = _with_component(0.0, info, self.component_name, 0.0, self.weight, self._owned)
        else:
            info = _owned_info(info, self._owned)
        return obs, info

    def step(self, action: Any):
        # The hot path of every additive wrapper: _with_component inlined (see its docstring).
        obs, reward, terminated, truncated, info = self.env.step(action)
        reward = float(reward)
        value = self._shape(obs, reward, terminated, truncated, info)
        if not self._owned:
            info = _owned_info(info, False)
        info["reward_components"][self.component_name] = value
        weight = self.weight
        info["reward_weights"][self.component_name] = weight
        if weight and value:
            reward += weight * value
        return obs, reward, terminated, truncated, info

    def _on_reset(self, obs: Any, info: Mapping[str, Any], seed: int | None) -> None:
        """Hook: remember what the shaping term of the first step needs."""

    def _shape(
        self, obs: Any, reward: float, terminated: bool, truncated: bool, info: Mapping[str, Any]
    ) -> float:
        raise NotImplementedError


def stack_spec(env: gym.Env) -> list[dict[str, Any]]:
    """The ``shaping_spec()`` of every shaping wrapper around ``env``, innermost first.

    ``from_config(unwrapped_env, stack_spec(wrapped))`` rebuilds the same stack (for potentials
    given as names; a callable potential is recorded by its qualified name only).
    """
    specs: list[dict[str, Any]] = []
    current: Any = env
    while isinstance(current, gym.Wrapper):
        if isinstance(current, ShapingWrapper):
            specs.append(current.shaping_spec())
        current = current.env
    return specs[::-1]
