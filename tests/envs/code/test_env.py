"""CodeExecEnv behaviour: task choice, observations, rewards, multi-turn repair, config errors."""

from __future__ import annotations

import gymnasium as gym
import pytest

import rewardgym  # noqa: F401  (registers the ids)
from rewardgym.contract import invariant_error
from rewardgym.envs.code import CodeExecEnv
from rewardgym.errors import ConfigError, InvalidAction, ResetNeeded

ADD_OK = "def add_pairs(xs, ys):\n    return [x + y for x, y in zip(xs, ys)]\n"
ADD_HALF = "def add_pairs(xs, ys):\n    return [x + y for x, y in zip(xs, ys)][:2]\n"


@pytest.fixture(scope="module")
def user_env(user_tasks_path):
    env = CodeExecEnv(tasks_path=str(user_tasks_path), max_attempts=3)
    yield env
    env.close()


def test_reset_draws_the_task_from_the_seed(user_tasks_path):
    env = CodeExecEnv()
    try:
        drawn = [env.reset(seed=s)[1]["task_id"] for s in range(12)]
        again = [env.reset(seed=s)[1]["task_id"] for s in range(12)]
        assert drawn == again and len(set(drawn)) > 6
        _obs, info = env.reset(seed=3, options={"task_id": "HumanEval/7"})
        assert info["task_id"] == "HumanEval/7" and info["entry_point"] == "filter_by_substring"
        with pytest.raises(ConfigError, match="not a task of this env"):
            env.reset(options={"task_id": "HumanEval/999"})
    finally:
        env.close()


def test_observation_shows_visible_tests_and_never_hidden_ones(user_env):
    obs, info = user_env.reset(seed=0, options={"task_id": "user/add-pairs"})
    assert user_env.observation_space.contains(obs)
    assert set(obs) == {"prompt", "starter_code", "visible_tests", "feedback"}
    assert "element-wise sums" in obs["prompt"]
    assert obs["starter_code"].startswith("def add_pairs")
    assert "candidate([1, 2], [3, 4]) == [4, 6]" in obs["visible_tests"]
    hidden = [t.code for t in user_env.task.hidden_tests]
    # a wrong attempt: feedback names the failing visible test, only counts hidden failures
    obs, reward, terminated, truncated, info = user_env.step("def add_pairs(xs, ys):\n    return 0")
    assert not terminated and not truncated and reward == 0.0
    assert "Failed visible test t01" in obs["feedback"]
    assert "3 hidden tests failed (2 wrong answer, 1 check raised an error)." in obs["feedback"]
    everything = "\n".join(obs.values()) + repr(info)
    for code in hidden:
        assert code not in everything


def test_rewards_components_and_test_results(user_env):
    user_env.reset(seed=0, options={"task_id": "user/add-pairs"})
    _, reward, terminated, _, info = user_env.step(f"```python\n{ADD_HALF}```")
    assert info["reward_components"] == {
        "task": 0.0,
        "tests_passed": 0.75,  # t04's long list is cut
        "compile_ok": 1.0,
        "format": 1.0,
    }
    assert info["reward_weights"] == {
        "task": 1.0,
        "tests_passed": 0.0,
        "compile_ok": 0.0,
        "format": 0.0,
    }
    assert info["test_results"] == [
        {"id": "t01", "passed": True},
        {"id": "t02", "passed": True},
        {"id": "t03", "passed": True},
        {"id": "t04", "passed": False},
    ]
    assert reward == 0.0 and not terminated and info["success"] is None
    assert info["cost"]["sandbox_s"] > 0 and info["attempt"] == 1
    assert invariant_error(reward, info) is None


def test_multi_turn_repair_ends_on_success(user_env):
    user_env.reset(seed=0, options={"task_id": "user/add-pairs"})
    first = user_env.step("no code here, sorry")
    assert first[4]["invalid_action"].startswith("no Python code found")
    assert first[4]["reward_components"]["format"] == 0.0 and not first[2]
    assert "Answer with one ```python block" in first[0]["feedback"]
    second = user_env.step(ADD_HALF)
    assert not second[2] and second[4]["attempt"] == 2
    obs, reward, terminated, truncated, info = user_env.step(ADD_OK)
    assert (reward, terminated, truncated, info["success"]) == (1.0, True, False, True)
    assert obs["feedback"].startswith("4/4 tests passed")
    cost_before = second[4]["cost"]["sandbox_s"]
    assert info["cost"]["sandbox_s"] > cost_before  # cumulative over the episode
    with pytest.raises(ResetNeeded):
        user_env.step(ADD_OK)


def test_attempts_run_out_with_terminated(user_env):
    user_env.reset(seed=0, options={"task_id": "user/is-even"})
    for attempt in range(3):
        _, _reward, terminated, truncated, info = user_env.step("```python\ndef broken(:\n```")
        assert info["invalid_action"].startswith("the code does not parse")
        assert info["reward_components"]["format"] == 1.0
        assert info["reward_components"]["compile_ok"] == 0.0
        assert terminated == (attempt == 2) and not truncated
    assert info["success"] is False


def test_custom_weights_and_text_observations(user_tasks_path):
    env = CodeExecEnv(
        tasks_path=str(user_tasks_path),
        observation_format="text",
        reward_weights={"tests_passed": 0.5, "format": 0.1},
    )
    try:
        obs, _ = env.reset(seed=0, options={"task_id": "user/add-pairs"})
        assert isinstance(obs, str) and env.observation_space.contains(obs)
        assert "## Problem" in obs and "candidate([1, 2], [3, 4])" in obs
        _, reward, _, _, info = env.step(ADD_HALF)
        assert reward == pytest.approx(0.5 * 0.75 + 0.1)
        assert invariant_error(reward, info) is None
    finally:
        env.close()


def test_load_failures_score_zero_compile(user_env):
    user_env.reset(seed=0, options={"task_id": "user/is-even"})
    obs, reward, _, _, info = user_env.step("raise RuntimeError('boom')\ndef is_even(n): ...")
    assert info["reward_components"]["compile_ok"] == 0.0 and reward == 0.0
    assert info["invalid_action"] is None  # a program that crashes is valid, just wrong
    assert "failed to load" in obs["feedback"] and "RuntimeError" in obs["feedback"]
    # said once, not once per test nor prefixed twice
    assert obs["feedback"].count("failed to load") == 1, obs["feedback"]


def test_caller_errors_raise(user_env, user_tasks_path):
    fresh = CodeExecEnv(tasks_path=str(user_tasks_path))
    with pytest.raises(ResetNeeded):
        fresh.step(ADD_OK)
    fresh.close()
    user_env.reset(seed=0)
    with pytest.raises(InvalidAction, match="str"):
        user_env.step(42)
    too_long = CodeExecEnv(max_action_length=10, task_ids=["HumanEval/0"])
    try:
        too_long.reset(seed=0)
        _, _, _, _, info = too_long.step("x" * 11)
        assert "max_action_length" in info["invalid_action"]
    finally:
        too_long.close()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"sandbox": "vm"}, "sandbox"),
        ({"source": "jsonl"}, "needs tasks_path"),
        ({"source": "bank", "tasks_path": "x.jsonl"}, "only used with source='jsonl'"),
        ({"observation_format": "html"}, "observation_format"),
        ({"temperature": 1.0}, "temperature"),
        ({"reward_weights": {"speed": 1.0}}, "unknown reward component"),
        ({"task_ids": ["HumanEval/999"]}, "unknown task ids"),
    ],
)
def test_bad_arguments_fail_at_construction(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        gym.make("rewardgym/CodeExec-v0", **kwargs)


def test_registered_variants():
    repair = gym.make("rewardgym/CodeExec-Repair-v0")
    impossible = gym.make("rewardgym/CodeExec-Impossible-v0")
    try:
        assert repair.unwrapped.config.max_attempts == 3
        assert all(t.task_id.startswith("impossible/") for t in impossible.unwrapped.tasks)
        assert len(impossible.unwrapped.tasks) == 154
    finally:
        repair.close()
        impossible.close()


def test_close_is_idempotent_and_releases_the_sandbox(user_tasks_path):
    env = CodeExecEnv(tasks_path=str(user_tasks_path), render_mode="ansi")
    env.reset(seed=0)
    env.step(ADD_OK)
    sandbox = env._sandbox
    assert sandbox is not None
    env.close()
    env.close()
    assert env._sandbox is None and sandbox._closed
    assert "## Problem" in env.render()
