"""Step wrappers: Gymnasium wrappers that re-weight or add one named reward term each.

Every wrapper here keeps the step contract of ARCHITECTURE.md §2: it copies the ``info`` dicts
it changes (the env's own dicts are never mutated), adds exactly one component named
``shaping/<name>`` (or re-weights existing ones), and returns the reward so that
``reward == sum(reward_weights[k] * reward_components[k])`` keeps holding. Each records its
parameters through :meth:`ShapingWrapper.shaping_spec` (:func:`stack_spec` lists a whole stack),
so a result can say which reward produced it. The method is not called ``spec``: on a Gymnasium
wrapper ``spec`` is the ``EnvSpec`` property, which stays intact through a shaping stack.

Conventions shared by the additive wrappers: the component holds the *signed shaping term*
(e.g. ``-0.01`` for a step penalty) and carries weight ``weight`` (default 1.0), so a later
:class:`ReweightComponents` can scale or silence it. The component is reported with value 0 on
``reset`` so every info of an episode has the same keys.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np

from rewardgym.contract import weighted_reward
from rewardgym.errors import ConfigError

__all__ = [
    "ClipReward",
    "CostPenalty",
    "InvalidActionPenalty",
    "PotentialShaping",
    "RewardNoise",
    "ReweightComponents",
    "RunningNormalize",
    "ShapingWrapper",
    "StepPenalty",
    "stack_spec",
]

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
