"""The NLE backend: real NetHack behind the dungeon family's components and info keys."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("nle", reason="needs pip install 'rewardgym[nethack]'")

from rewardgym.errors import ConfigError


def test_same_seed_same_first_level_and_copied_observations():
    env = gym.make("rewardgym/NLE-Staircase-v0")
    first, info = env.reset(seed=11)
    again, info2 = env.reset(seed=11)
    assert np.array_equal(first["glyphs"], again["glyphs"])
    assert info["task_id"] == info2["task_id"]
    other, _ = env.reset(seed=12)
    assert not np.array_equal(first["glyphs"], other["glyphs"])
    obs, *_ = env.step(1)
    assert obs["glyphs"] is not other["glyphs"]
    env.close()
    env.close()


def test_messages_events_and_symbolic_state():
    env = gym.make("rewardgym/NLE-Score-v0")
    obs, info = env.reset(seed=0)
    state = info["symbolic_state"]
    assert state["depth"] == 1 and state["hp"] > 0 and state["task"] == "score"
    seen_message = False
    for _ in range(60):
        obs, _reward, terminated, truncated, info = env.step(env.action_space.sample())
        if info["message"]:
            seen_message = True
            assert info["events"] == [{"type": "message", "message": info["message"]}]
            assert info["reward_components"]["events"] == 1.0
            raw = bytes(obs["message"]).split(b"\0", 1)[0].decode("ascii", "replace").strip()
            assert raw == info["message"]
        x, y = info["symbolic_state"]["position"]
        assert obs["glyphs"].shape == (21, 79) and 0 <= x < 79 and 0 <= y < 21
        if terminated or truncated:
            break
    assert seen_message


def test_step_limit_and_stairs_potential():
    env = gym.make("rewardgym/NLE-Staircase-v0", max_steps=3)
    env.reset(seed=1)
    phi = env.unwrapped.named_potentials()["stairs_distance"]
    for _t in range(3):
        _, _, terminated, truncated, info = env.step(19)  # wait (MiscDirection.WAIT)
    assert truncated and not terminated and info["success"] is False
    assert -1.0 <= phi(None, info) <= 0.0


def test_unknown_task_fails_at_construction():
    from rewardgym.envs.dungeon.nle_backend import NLETaskEnv

    with pytest.raises(ConfigError):
        NLETaskEnv(task="oracle-dance")
