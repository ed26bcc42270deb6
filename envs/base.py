"""The shared base of every single-agent rewardgym env: the step contract's bookkeeping.

A family subclasses :class:`AgenticEnv`, declares its components and default weights, and in
``reset``/``step`` calls :meth:`AgenticEnv._start_episode` and :meth:`AgenticEnv._finish_step`,
which build the ``info`` dict of ARCHITECTURE.md §2 and the scalar reward from the components,
so the weighted-sum invariant holds by construction.

Two more rules every family shares live here: ``reset(options=...)`` accepts only the options a
family declares in :attr:`AgenticEnv.RESET_OPTIONS` (checked by :meth:`AgenticEnv._reset_options`;
anything else is a :class:`~rewardgym.errors.ConfigError` naming it), and ``render()`` without
a render mode warns as Gymnasium's own envs do (:meth:`AgenticEnv._render_mode_missing`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import gymnasium as gym
from gymnasium import logger as gym_logger

from rewardgym.contract import weighted_reward
from rewardgym.errors import ConfigError, ResetNeeded
from rewardgym.seeding import episode_id

__all__ = ["AgenticEnv"]

_Task = TypeVar("_Task")


class AgenticEnv(gym.Env):
    """Base class with the bookkeeping of the agentic step contract.

    Subclasses set:
        COMPONENTS: the names of the raw reward terms the env reports on every step
            (must include ``"task"``), in a stable order.
        DEFAULT_WEIGHTS: the weight of each component in the scalar reward (missing = 0).
        COST_KEYS: the cost counters the env accumulates per episode.
        RESET_OPTIONS: the keys ``reset(options=...)`` accepts and the type(s) of each value;
            ``reset`` calls :meth:`_reset_options` first, so an unknown key or a wrong type is a
            ``ConfigError`` naming it (the default accepts none).

    ``info["is_success"]`` repeats ``info["success"]`` (Stable-Baselines3's name, read by its
    ``Monitor`` and its ``rollout/success_rate``).

    The constructor argument ``reward_weights`` (a partial mapping) overrides defaults; unknown
    names fail at construction.
    """

    COMPONENTS: ClassVar[tuple[str, ...]] = ("task",)
    DEFAULT_WEIGHTS: ClassVar[Mapping[str, float]] = {"task": 1.0}
    COST_KEYS: ClassVar[tuple[str, ...]] = ()
    RESET_OPTIONS: ClassVar[Mapping[str, type | tuple[type, ...]]] = {}

    def __init__(self, reward_weights: Mapping[str, float] | None = None) -> None:
        if "task" not in self.COMPONENTS:
            raise TypeError(f"{type(self).__name__}.COMPONENTS must include 'task'")
        weights = {name: float(self.DEFAULT_WEIGHTS.get(name, 0.0)) for name in self.COMPONENTS}
        for name, value in (reward_weights or {}).items():
            if name not in weights:
                raise ConfigError(
                    f"unknown reward component {name!r} for {type(self).__name__}; "
                    f"valid: {list(self.COMPONENTS)}"
                )
            weights[name] = float(value)
        self.reward_weights: dict[str, float] = weights
        # every component at 0, in COMPONENTS order: copied per step (dict.fromkeys costs 5x)
        self._zero_components: dict[str, float] = dict.fromkeys(self.COMPONENTS, 0.0)
        self._task_id: str | None = None
        self._episode_id: str = ""
        self._step_count = 0
        self._cost: dict[str, float] = {}
        self._done = True

    def named_potentials(self) -> dict[str, Callable[[Any, dict[str, Any]], float]]:
        """Potentials this env family offers to ``PotentialShaping``, by name.

        Each is a function of ``(observation, info)`` returning Phi(s); families override this
        (e.g. the dungeon's distance to the stairs). The default offers none.
        """
        return {}

    # -- helpers for subclasses --------------------------------------------------------------

    def _reset_options(self, options: Any) -> dict[str, Any]:
        """``options`` checked against :attr:`RESET_OPTIONS` (None = no options).

        Raises:
            ConfigError: if ``options`` is not a mapping, holds a key the env
                does not declare, or a value of the wrong type; the message names them.
        """
        if options is None:
            return {}
        name = type(self).__name__
        valid = sorted(self.RESET_OPTIONS)
        if not isinstance(options, Mapping):
            raise ConfigError(
                f"{name}.reset: options must be a dict (or None), got {type(options).__name__}; "
                f"valid keys: {valid}"
            )
        unknown = sorted(repr(key) for key in options if key not in self.RESET_OPTIONS)
        if unknown:
            raise ConfigError(
                f"{name}.reset: unknown option(s) {', '.join(unknown)}; valid keys: {valid}"
            )
        for key, value in options.items():
            types = self.RESET_OPTIONS[key]
            types = types if isinstance(types, tuple) else (types,)
            if value is not None and (
                not isinstance(value, types) or (isinstance(value, bool) and bool not in types)
            ):
                expected = " or ".join(t.__name__ for t in types)
                raise ConfigError(
                    f"{name}.reset: options[{key!r}] must be {expected}, "
                    f"got {type(value).__name__} {value!r:.80}"
                )
        return {key: value for key, value in options.items() if value is not None}

    def _render_mode_missing(self) -> None:
        """Warn (as Gymnasium's envs do) that ``render()`` was called without a render mode."""
        modes = self.metadata.get("render_modes", [])
        spec_id = self.spec.id if self.spec is not None else type(self).__name__
        gym_logger.warn(
            "You are calling render method without specifying any render mode. You can specify "
            f'the render_mode at initialization, e.g. gym.make("{spec_id}", '
            f'render_mode="{modes[0] if modes else "ansi"}"); valid modes: {list(modes)}'
        )

    def _start_episode(self, task_id: str) -> dict[str, Any]:
        """Begin an episode of ``task_id``; returns the ``info`` for ``reset``.

        Call after ``super().reset(seed=seed)``: the episode id is drawn from ``np_random``.
        """
        self._task_id = task_id
        self._episode_id = episode_id(self.np_random)
        self._step_count = 0
        self._cost = dict.fromkeys(self.COST_KEYS, 0.0)
        self._done = False
        return self._info(self._zero_components.copy())

    def _draw_task(
        self,
        task_id: str | None,
        tasks: Sequence[_Task],
        by_id: Mapping[str, _Task],
        noun: str = "task",
    ) -> _Task:
        """The task ``options["task_id"]`` names, or one drawn uniformly with ``np_random``.

        Raises:
            ConfigError: ``task_id`` is not one of this env's (the message shows a few).
        """
        if task_id is None:
            return tasks[int(self.np_random.integers(len(tasks)))]
        if task_id not in by_id:
            raise ConfigError(
                f"options['task_id']={task_id!r} is not a {noun} of this env; "
                f"e.g. {list(by_id)[:3]}"
            )
        return by_id[task_id]

    def _check_running(self) -> None:
        if self._task_id is None:
            raise ResetNeeded(
                f"{type(self).__name__}.step() called before reset(); call reset() first"
            )
        if self._done:
            raise ResetNeeded(
                f"{type(self).__name__}.step() called after the episode ended; call reset()"
            )

    def _add_cost(self, key: str, amount: float) -> None:
        self._cost[key] = self._cost.get(key, 0.0) + float(amount)

    def _finish_step(
        self,
        components: Mapping[str, float],
        *,
        terminated: bool,
        truncated: bool = False,
        success: bool | None = None,
        invalid_action: str | None = None,
        **extra: Any,
    ) -> tuple[float, dict[str, Any]]:
        """Count the step and return ``(reward, info)`` for it.

        ``components`` may omit terms (they count as 0) but may not add unknown ones.
        """
        self._step_count += 1
        full = self._zero_components.copy()
        for name, value in components.items():
            if name not in full:
                raise KeyError(
                    f"component {name!r} is not declared in {type(self).__name__}.COMPONENTS"
                )
            full[name] = float(value)
        self._done = bool(terminated or truncated)
        info = self._info(full, success=success, invalid_action=invalid_action)
        if extra:
            info.update(extra)
        return weighted_reward(full, self.reward_weights), info

    def _info(
        self,
        components: dict[str, float],
        *,
        success: bool | None = None,
        invalid_action: str | None = None,
    ) -> dict[str, Any]:
        """The contract's keys (ARCHITECTURE.md §2), in their order (a family adds its own after
        them)."""
        return {
            "task_id": self._task_id or "",
            "episode_id": self._episode_id,
            "step": self._step_count,
            "reward_components": components,
            "reward_weights": dict(self.reward_weights),
            "cost": dict(self._cost),
            "success": success,
            "is_success": success,
            "invalid_action": invalid_action,
        }
