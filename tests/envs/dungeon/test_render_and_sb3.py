"""Rendering and Stable-Baselines3 conventions on the dungeon and NLE ids (issue 13, items 1, 3).

* every NLE id renders ``ansi`` (the 24x80 terminal) and ``rgb_array`` (NLE's tiles), so
  Gymnasium's ``check_env`` and SB3's ``make_vec_env`` (which asks for ``rgb_array``) work;
* ``render()`` without a render mode warns, as Gymnasium's envs do;
* ``info["is_success"]`` is what SB3's ``Monitor`` reads; step limits are in the registration.
"""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.registry import ENTRIES

HAS_NLE = importlib.util.find_spec("nle") is not None
NLE_IDS = sorted(e.id for e in ENTRIES.values() if e.family == "nethack")
needs_nle = pytest.mark.skipif(not HAS_NLE, reason="needs pip install 'rewardgym[nethack]'")


@needs_nle
@pytest.mark.parametrize("env_id", NLE_IDS)
def test_nle_ids_render_ansi_and_rgb_array(env_id):
    ansi = gym.make(env_id, render_mode="ansi")
    rgb = gym.make(env_id, render_mode="rgb_array")
    try:
        ansi.reset(seed=1)
        text = ansi.render()
        lines = text.rstrip("\n").split("\n")
        assert isinstance(text, str) and len(lines) == 24
        assert "Dlvl:1" in text and "@" in text  # status line and the hero on the map
        rgb.reset(seed=1)
        first = rgb.render()
        assert first.dtype == np.uint8 and first.shape == (336, 1264, 3) and first.any()
        for _ in range(8):
            rgb.step(rgb.action_space.sample())
        assert not np.shares_memory(first, rgb.render())  # a copy, not NLE's buffer
    finally:
        ansi.close()
        rgb.close()


@needs_nle
def test_sb3_make_vec_env_runs_an_nle_id_with_images():
    pytest.importorskip("stable_baselines3", reason="SB3 is in the 'train' extra")
    from stable_baselines3.common.env_util import make_vec_env

    vec = make_vec_env("rewardgym/NLE-Staircase-v0", n_envs=2, seed=0)
    try:
        obs = vec.reset()
        assert obs["glyphs"].shape == (2, 21, 79)
        _, _, _, infos = vec.step(np.zeros(2, dtype=np.int64))
        assert len(infos) == 2 and "is_success" in infos[0]
        images = vec.get_images()
        assert len(images) == 2 and images[0].shape == (336, 1264, 3)
    finally:
        vec.close()


@pytest.mark.parametrize(
    "env_id",
    [
        "rewardgym/Dungeon-Staircase-v0",
        "rewardgym/CodeExec-v0",
        pytest.param("rewardgym/NLE-Staircase-v0", marks=needs_nle),
    ],
)
def test_render_without_a_render_mode_warns(env_id):
    env = gym.make(env_id)
    try:
        env.reset(seed=0)
        with pytest.warns(UserWarning, match=r"without specifying any render mode.*render_mode="):
            assert env.unwrapped.render() is None
    finally:
        env.close()


def test_sb3_monitor_sees_is_success_on_truncation_and_on_success():
    pytest.importorskip("stable_baselines3", reason="SB3 is in the 'train' extra")
    from stable_baselines3.common.monitor import Monitor

    from rewardgym.agents.dungeon_agents import DungeonExpert

    env = Monitor(gym.make("rewardgym/Dungeon-Staircase-v0"))
    try:
        env.reset(seed=0)
        done, info = False, {}
        while not done:
            _, _, terminated, truncated, info = env.step(14)  # wait until truncated
            done = terminated or truncated
        assert truncated and info["is_success"] is False and info["success"] is False
        assert info["episode"]["l"] == gym.spec("rewardgym/Dungeon-Staircase-v0").max_episode_steps

        expert = DungeonExpert(seed=0)
        obs, info = env.reset(seed=0)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(expert.act(obs, info))
            done = terminated or truncated
        assert terminated and info["is_success"] is True and info["success"] is True
    finally:
        env.close()


def test_registered_step_limits_match_the_envs_and_apply_through_gym_make():
    for env_id in ("rewardgym/Dungeon-Staircase-v0", "rewardgym/Dungeon-Scout-v0"):
        spec = gym.spec(env_id)
        assert spec.max_episode_steps == spec.kwargs["max_steps"]
        env = gym.make(env_id)
        assert env.spec.max_episode_steps == spec.max_episode_steps
        assert env.unwrapped.max_steps == spec.max_episode_steps
        env.close()
