"""Ecosystem conformance of every registered single-agent id (issue 13, "Must show").

One parametrized test runs, for each id in the registry (new families are picked up
automatically; ids whose extra is not installed are skipped with the reason):

* ``gymnasium``: Gymnasium's ``check_env`` on the made env, render checks included (it makes a
  fresh env for every declared render mode);
* ``sb3``: Stable-Baselines3's ``check_env`` where SB3 supports the spaces (skipped, with the
  reason, for text spaces);
* ``vec-sync`` / ``vec-async``: ``gym.make_vec(id, 2, vectorization_mode=...)`` resets and
  steps; the async one moves observations through shared memory, so every character an env
  emits must have a place in its space's encoding.
"""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence

from rewardgym.registry import ENTRIES, extra_available

SINGLE = sorted(e.id for e in ENTRIES.values() if not e.multiagent)
CHECKS = ("gymnasium", "sb3", "vec-sync", "vec-async")
_SB3_SPACES = (
    gym.spaces.Box,
    gym.spaces.Discrete,
    gym.spaces.MultiDiscrete,
    gym.spaces.MultiBinary,
)


def _skip_unless_installed(env_id: str) -> None:
    entry = ENTRIES[env_id]
    if not extra_available(entry.extra):
        pytest.skip(f"{env_id} needs pip install 'rewardgym[{entry.extra}]'")


def _sb3_unsupported(space: gym.Space) -> str | None:
    """Why SB3 cannot take ``space`` (None if it can)."""
    leaves = list(space.spaces.values()) if isinstance(space, gym.spaces.Dict) else [space]
    for leaf in leaves:
        if not isinstance(leaf, _SB3_SPACES):
            return f"SB3 has no support for {type(leaf).__name__} spaces"
    return None


def _unbatch(space: gym.Space, batch: Any, index: int) -> Any:
    if isinstance(space, gym.spaces.Dict):
        return {key: _unbatch(sub, batch[key], index) for key, sub in space.spaces.items()}
    return batch[index]


def _run_vector(env_id: str, mode: str) -> None:
    """Reset and step a 2-env vector env; each env's observation must be one its own env
    would give (the async one comes back through shared memory)."""
    single = gym.make(env_id)
    envs = gym.make_vec(env_id, 2, vectorization_mode=mode)
    try:
        obs, infos = envs.reset(seed=0)
        expected, _ = single.reset(seed=0)  # the first sub-env is seeded with 0
        first = _unbatch(envs.single_observation_space, obs, 0)
        assert data_equivalence(first, expected), (
            f"{env_id}: the first sub-env's observation differs"
        )
        for index in range(2):
            assert _unbatch(envs.single_observation_space, obs, index) in (
                envs.single_observation_space
            )
        envs.action_space.seed(0)
        for _ in range(2):
            obs, rewards, _, _, infos = envs.step(envs.action_space.sample())
            assert np.isfinite(np.asarray(rewards, dtype=float)).all()
            assert "success" in infos and "is_success" in infos
            for index in range(2):
                assert _unbatch(envs.single_observation_space, obs, index) in (
                    envs.single_observation_space
                )
    finally:
        envs.close()
        single.close()


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("env_id", SINGLE)
def test_registered_env_conforms_to_gymnasium_and_sb3(env_id, check):
    _skip_unless_installed(env_id)
    if check == "gymnasium":
        from gymnasium.utils.env_checker import check_env

        env = gym.make(env_id)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check_env(env.unwrapped)
        finally:
            env.close()
    elif check == "sb3":
        pytest.importorskip("stable_baselines3", reason="SB3 is in the 'train' extra")
        from stable_baselines3.common.env_checker import check_env as sb3_check_env

        env = gym.make(env_id)
        try:
            reason = _sb3_unsupported(env.observation_space) or _sb3_unsupported(env.action_space)
            if reason:
                pytest.skip(f"{env_id}: {reason}")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sb3_check_env(env)
        finally:
            env.close()
    else:
        _run_vector(env_id, check.removeprefix("vec-"))


def test_every_entry_with_a_step_limit_registers_it():
    """SB3 and Gymnasium read the limit from ``spec.max_episode_steps``; it must be the env's."""
    limited = [e for e in ENTRIES.values() if "max_steps" in e.kwargs and not e.multiagent]
    assert limited, "no registered env has a step limit"
    for entry in limited:
        assert gym.spec(entry.id).max_episode_steps == entry.kwargs["max_steps"], entry.id
