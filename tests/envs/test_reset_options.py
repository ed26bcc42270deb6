"""One rule for ``reset(options=...)`` (issue 13, item 5).

Known options are documented per env; an unknown key, a wrong type or a non-dict is a
``ConfigError`` naming it. A dungeon or NLE episode is replayable by its ``task_id``.
"""

from __future__ import annotations

import importlib.util

import gymnasium as gym
import numpy as np
import pytest

from rewardgym.errors import ConfigError

_NLE = pytest.mark.skipif(
    importlib.util.find_spec("nle") is None, reason="needs pip install 'rewardgym[nethack]'"
)
IDS = [
    "rewardgym/Dungeon-Staircase-v0",
    "rewardgym/Dungeon-KeyDoor-v0",
    pytest.param("rewardgym/NLE-Staircase-v0", marks=_NLE),
    "rewardgym/CodeExec-v0",
]


@pytest.fixture
def env(request):
    made = gym.make(request.param)
    yield made
    made.close()


@pytest.mark.parametrize("env", IDS, indirect=True)
def test_unknown_keys_wrong_types_and_non_dicts_are_config_errors(env):
    with pytest.raises(ConfigError, match=r"unknown option\(s\) 'level', 'taskid'.*task_id"):
        env.reset(seed=0, options={"taskid": "x", "level": 2})
    with pytest.raises(ConfigError, match=r"options\['task_id'\] must be str, got int"):
        env.reset(seed=0, options={"task_id": 5})
    with pytest.raises(ConfigError, match=r"options must be a dict.*got str"):
        env.reset(seed=0, options="task_id")
    with pytest.raises(ConfigError, match="not a task of this env"):
        env.reset(seed=0, options={"task_id": "no-such-task"})
    # Empty and absent options are fine, and so is an explicit None value.
    for options in (None, {}, {"task_id": None}):
        env.reset(seed=0, options=options)


def _trajectory(env, actions, **reset_kwargs):
    obs, info = env.reset(**reset_kwargs)
    frames = [obs]
    rewards = []
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        frames.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            break
    return info["task_id"], frames, rewards


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


@pytest.mark.parametrize(
    "env",
    ["rewardgym/Dungeon-Staircase-M-v0", pytest.param("rewardgym/NLE-Score-v0", marks=_NLE)],
    indirect=True,
)
def test_a_task_is_replayable_by_its_id(env):
    actions = [int(a) for a in np.random.default_rng(0).integers(0, 8, size=25)]
    task_id, frames, rewards = _trajectory(env, actions, seed=3)
    other_id, _, _ = _trajectory(env, actions, seed=4)
    assert other_id != task_id
    replay_id, replay, replay_rewards = _trajectory(
        env, actions, seed=99, options={"task_id": task_id}
    )
    assert replay_id == task_id
    assert len(replay) == len(frames) and all(map(_same, frames, replay))
    assert replay_rewards == rewards


def test_a_dungeon_task_id_of_another_task_is_refused():
    gold = gym.make("rewardgym/Dungeon-Gold-v0")
    stairs = gym.make("rewardgym/Dungeon-Staircase-v0")
    try:
        _, info = gold.reset(seed=0)
        assert info["task_id"].startswith("dungeon-gold-")
        with pytest.raises(ConfigError, match="dungeon-staircase-<16 hex digits>"):
            stairs.reset(options={"task_id": info["task_id"]})
    finally:
        gold.close()
        stairs.close()


def test_code_task_id_option_picks_the_task():
    env = gym.make("rewardgym/CodeExec-Bank-v0")
    try:
        task_id = env.unwrapped.tasks[3].task_id
        _, info = env.reset(seed=0, options={"task_id": task_id})
        assert info["task_id"] == task_id
    finally:
        env.close()
