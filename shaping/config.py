"""Build a wrapper stack from a config: named reward recipes for the CLI and the leaderboard.

A config is a list of ``{"name": <WrapperClass>, **params}`` dicts (innermost first), a dict
``{"wrappers": [...]}``, a path to a YAML file holding either, or the name of a built-in recipe
in :data:`RECIPES`. ``stack_spec(from_config(env, cfg))`` gives back the list of specs, and
``from_config(env, that_list)`` rebuilds the same stack.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from rewardgym.errors import ConfigError
from rewardgym.shaping.transforms import TRANSFORMS
from rewardgym.shaping.wrappers import (
    ClipReward,
    CostPenalty,
    InvalidActionPenalty,
    PotentialShaping,
    RewardNoise,
    ReweightComponents,
    RunningNormalize,
    StepPenalty,
)

__all__ = [
    "RECIPES",
    "RECIPE_TRANSFORMS",
    "WRAPPERS",
    "from_config",
    "recipe_transform",
    "resolve_config",
    "transform_from_config",
]

#: Every step wrapper a config may name.
WRAPPERS: dict[str, type[gym.Wrapper]] = {
    cls.__name__: cls
    for cls in (
        ReweightComponents,
        PotentialShaping,
        StepPenalty,
        InvalidActionPenalty,
        CostPenalty,
        ClipReward,
        RewardNoise,
        RunningNormalize,
    )
}

#: Built-in reward recipes by name (each a wrapper list, innermost first).
RECIPES: dict[str, list[dict[str, Any]]] = {
    # The env's own reward, untouched.
    "none": [],
    # Code envs: add half the fraction of tests passed to the binary task reward.
    "dense-code": [{"name": "ReweightComponents", "weights": {"tests_passed": 0.5}}],
    # Dungeon: potential-based guidance towards the stairs (keeps the optimal policy).
    "potential-stairs": [
        {"name": "PotentialShaping", "potential": "stairs_distance", "gamma": 0.99}
    ],
    # Dungeon: the same with the potentials raised into (0, 1], so that standing still is
    # never paid (with Phi = -distance it is, by (1 - gamma) * distance per step).
    "potential-stairs-offset": [
        {"name": "PotentialShaping", "potential": "stairs_distance", "gamma": 0.99, "offset": 1.0}
    ],
    # Dungeon: potential-based guidance towards unexplored cells (keeps the optimal policy).
    "potential-explore": [
        {"name": "PotentialShaping", "potential": "explore_distance", "gamma": 0.99}
    ],
    # Search envs: pay for every search (MASH-style budget awareness at step level).
    "pay-per-search": [{"name": "CostPenalty", "costs": {"searches": 0.1}}],
    # Search envs: MASH. The step reward stays the outcome; the search penalty is the group
    # transform in RECIPE_TRANSFORMS["mash"], applied by group trainers (GRPO).
    "mash": [],
    # Any env: a small per-step cost and a cost for malformed actions.
    "efficient": [
        {"name": "StepPenalty", "penalty": 0.01},
        {"name": "InvalidActionPenalty", "penalty": 0.1},
    ],
    # Any env: the raw reward bounded to [-1, 1], then normalised by running statistics.
    "normalized": [
        {"name": "ClipReward", "min_reward": -1.0, "max_reward": 1.0},
        {"name": "RunningNormalize"},
    ],
}


#: The group transform of the recipes that have one (a ``spec()`` dict; group trainers such as
#: GRPO build it with :func:`recipe_transform`). Its step wrappers are ``RECIPES[name]``.
RECIPE_TRANSFORMS: dict[str, dict[str, Any]] = {
    # MASH (METHODS.md §2): R_i = correct_i * lam**(s_i - m_hat) over one question's rollouts.
    "mash": {"name": "MashPenalty", "variant": "exp", "lam": 0.7, "max_searches": 5,
             "cost_key": "searches"},
}  # fmt: skip


def recipe_transform(name: str) -> Any | None:
    """A fresh group transform of the recipe ``name``, or None if it has none.

    Raises:
        ConfigError: for an unknown recipe name.
    """
    if name not in RECIPES:
        raise ConfigError(f"unknown reward recipe {name!r}; valid recipes: {sorted(RECIPES)}")
    spec = RECIPE_TRANSFORMS.get(name)
    return None if spec is None else transform_from_config(spec)


def _load_yaml(path: str) -> Any:
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read shaping config {path!r}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"shaping config {path!r} is not valid YAML: {exc}") from exc


def resolve_config(config: Any) -> list[dict[str, Any]]:
    """Turn any accepted config form into the list of wrapper dicts it stands for.

    Raises:
        ConfigError: for an unknown recipe, a missing file or a malformed config.
    """
    if config is None:
        return []
    if isinstance(config, (str, os.PathLike)):
        text = os.fspath(config)
        if text in RECIPES:
            return [dict(item) for item in RECIPES[text]]
        if text.endswith((".yaml", ".yml")) or os.path.exists(text):
            return resolve_config(_load_yaml(text) or [])
        raise ConfigError(
            f"unknown reward recipe {text!r}; valid recipes: {sorted(RECIPES)} "
            "(or a path to a .yaml file, or a list of wrapper dicts)"
        )
    if isinstance(config, Mapping):
        extra = sorted(set(config) - {"wrappers"})
        if "wrappers" not in config or extra:
            raise ConfigError(
                f"a shaping config dict must have exactly the key 'wrappers', got {sorted(config)}"
            )
        return resolve_config(config["wrappers"])
    if isinstance(config, Sequence):
        items = []
        for index, item in enumerate(config):
            if not isinstance(item, Mapping) or "name" not in item:
                raise ConfigError(
                    f"shaping config entry {index} must be a dict with a 'name', got {item!r}; "
                    f"valid names: {sorted(WRAPPERS)}"
                )
            items.append(dict(item))
        return items
    raise ConfigError(
        f"cannot read a shaping config from {type(config).__name__}; use a recipe name "
        f"({sorted(RECIPES)}), a YAML path, a list of wrapper dicts or {{'wrappers': [...]}}"
    )


def from_config(env: gym.Env, config: Any) -> gym.Env:
    """Wrap ``env`` with the stack ``config`` describes (innermost first).

    Args:
        env: the env to wrap.
        config: a recipe name, a YAML path, a list of ``{"name": ..., **params}`` dicts or a
            dict ``{"wrappers": [...]}``.

    Returns:
        The wrapped env (``env`` itself for an empty stack).

    Raises:
        ConfigError: naming the valid wrapper names or parameters when one is unknown, or the
            wrapper's own message when a parameter value is bad.
    """
    for item in resolve_config(config):
        params = dict(item)
        name = params.pop("name")
        cls = WRAPPERS.get(name)
        if cls is None:
            raise ConfigError(f"unknown shaping wrapper {name!r}; valid: {sorted(WRAPPERS)}")
        accepted = _check_params(name, cls, params, ("self", "env"))
        try:
            env = cls(env, **params)
        except TypeError as exc:
            raise ConfigError(f"{name}: {exc}; valid parameters: {accepted}") from exc
    return env


def _check_params(name: str, cls: type, params: Mapping[str, Any], skip: tuple[str, ...]) -> list:
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in skip]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ConfigError(f"{name}: unknown parameter(s) {unknown}; valid: {accepted}")
    return accepted


def transform_from_config(config: Mapping[str, Any]) -> Any:
    """Build a group transform from its ``spec()`` dict (``{"name": ..., **params}``).

    A ``source`` given as a dict is built recursively, so ``transform_from_config(t.spec())``
    rebuilds ``t`` (without its state: restore that with ``load_state_dict``).

    Raises:
        ConfigError: naming the valid transforms or parameters when one is unknown.
    """
    if not isinstance(config, Mapping) or "name" not in config:
        raise ConfigError(
            f"a transform config is a dict with a 'name', got {config!r}; "
            f"valid names: {sorted(TRANSFORMS)}"
        )
    params = dict(config)
    name = params.pop("name")
    cls = TRANSFORMS.get(name)
    if cls is None:
        raise ConfigError(f"unknown group transform {name!r}; valid: {sorted(TRANSFORMS)}")
    params.pop("experimental", None)  # a label in ReNorm's spec, not a parameter
    accepted = _check_params(name, cls, params, ("self",))
    if isinstance(params.get("source"), Mapping):
        params["source"] = transform_from_config(params["source"])
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(f"{name}: {exc}; valid parameters: {accepted}") from exc
