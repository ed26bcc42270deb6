"""Text spaces admit every character the envs emit (issue 13, item 2).

HumanEval prompts hold characters such as '➞' that Gymnasium's default charset lacks; the
async vector env used to fail with ``KeyError('➞')``. Every observation of every code task must
be ``in`` its space and survive Gymnasium's ``flatten``/``unflatten`` (the encoding async
vector envs use), and an async vector env must hand those strings back intact.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.spaces.utils import flatten, flatten_space, unflatten

from rewardgym.envs.code.env import CodeExecEnv
from rewardgym.spaces import text

_STRANGE = "➞ é ß 中文 😀 \t\r\n"


def test_text_space_round_trips_any_unicode():
    space = text(64)
    assert _STRANGE in space
    codes = flatten(space, _STRANGE)
    assert codes.dtype == np.int32 and codes.shape == (64,)
    assert codes[0] == ord("➞")
    assert unflatten(space, codes) == _STRANGE
    assert codes in flatten_space(space)
    assert unflatten(space, flatten(space, "")) == ""
    assert copy.deepcopy(space) == space


def test_text_space_still_rejects_what_it_should():
    space = text(8)
    assert "\x00" not in space  # control characters other than \t \r \n
    assert "x" * 9 not in space
    assert b"bytes" not in space
    with pytest.raises(ValueError, match="does not fit"):
        flatten(space, "x" * 9)


def test_text_space_samples_ascii_and_honours_masks():
    space = text(16)
    space.seed(0)
    for _ in range(20):
        sample = space.sample()
        assert sample in space and sample.isascii()
    only_a = np.zeros(len(space.sample_characters), dtype=np.int8)
    only_a[space.sample_characters.index("a")] = 1
    assert space.sample(mask=(5, only_a)) == "aaaaa"
    assert space.sample(mask=(3, np.zeros_like(only_a))) == ""


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"source": "bank"},
        {"impossible": True},
        {"observation_format": "text"},
    ],
    ids=["humaneval", "bank", "impossible", "humaneval-text"],
)
def test_every_observation_of_every_code_task_is_in_its_space(kwargs):
    env = CodeExecEnv(**kwargs)
    space = env.observation_space
    try:
        for task in env.tasks:
            obs, _ = env.reset(options={"task_id": task.task_id})
            assert obs in space, f"{task.task_id}: observation outside {space}"
            assert unflatten(space, flatten(space, obs)) == obs, task.task_id
    finally:
        env.close()


def test_humaneval_prompts_with_non_ascii_come_back_from_an_async_vector_env():
    env = CodeExecEnv()
    non_ascii = [t.task_id for t in env.tasks if not t.prompt.isascii()]
    assert any("➞" in t.prompt for t in env.tasks)
    assert len(non_ascii) >= 7
    env.close()
    envs = gym.make_vec("rewardgym/CodeExec-v0", 2, vectorization_mode="async")
    try:
        for task_id in non_ascii[:3]:
            obs, infos = envs.reset(options={"task_id": task_id})
            assert list(infos["task_id"]) == [task_id, task_id]
            assert not obs["prompt"][0].isascii()
            assert obs["prompt"][0] == obs["prompt"][1]
            single = CodeExecEnv()
            expected, _ = single.reset(options={"task_id": task_id})
            single.close()
            assert obs["prompt"][0] == expected["prompt"]
    finally:
        envs.close()
