"""LLMIntrinsicReward on the dungeon env: HTTP → annotator → reward model → wrapper."""

from __future__ import annotations

import logging

import gymnasium as gym
import pytest

import rewardgym  # noqa: F401 - registers the env ids
from rewardgym.contract import invariant_error
from rewardgym.errors import ConfigError
from rewardgym.llm.http import OpenAIClient
from rewardgym.shaping.llm import Annotator, LLMIntrinsicReward, RuleBasedLLM
from rewardgym.shaping.wrappers import stack_spec

# A fixed walk on the smallest dungeon: it sees the stairs and descends.
ENV_ID = "rewardgym/Dungeon-Staircase-v0"


def _run(env, steps, seed=0):
    _, info = env.reset(seed=seed)
    assert invariant_error(0.0, info) is None
    rng = __import__("numpy").random.default_rng(seed)
    out = []
    for _ in range(steps):
        _, reward, term, trunc, info = env.step(int(rng.integers(env.action_space.n)))
        assert invariant_error(reward, info) is None, invariant_error(reward, info)
        out.append((reward, info))
        if term or trunc:
            env.reset()
    return out


def test_end_to_end_over_http_with_mixing(rule_server):
    with Annotator(rule_server, "dungeon") as ann:
        env = LLMIntrinsicReward(gym.make(ENV_ID), ann, model="hash", c_ext=10.0, c_llm=0.4)
        _run(env, 300)  # the messages reach the annotator
        assert ann.wait_idle(10)
        steps = _run(env, 300, seed=1)
        env.close()
    helpful = [i for r, i in steps if i["message"] and ann.label(i["message"]) == 1.0]
    assert helpful, "the rule LLM should find some dungeon message helpful"
    for _, info in steps:
        comps, weights = info["reward_components"], info["reward_weights"]
        assert weights["shaping/llm_intrinsic"] == 0.4
        assert weights["task"] == pytest.approx(10.0 * env.unwrapped.reward_weights["task"])
        value = comps["shaping/llm_intrinsic"]
        assert value >= 0.0
        if value:  # 1 / n**3 of a helpful message
            assert ann.label(info["message"]) == 1.0
            assert 1.0 / value == pytest.approx(round(value ** (-1 / 3)) ** 3)
    first_seen = [i for _, i in steps if i["reward_components"]["shaping/llm_intrinsic"] == 1.0]
    assert first_seen
    assert steps[-1][1]["llm_labelled_fraction"] > 0.5
    spec = stack_spec(env)[-1]
    assert spec["name"] == "LLMIntrinsicReward" and spec["llm_model_id"] == "rule-based-v1"
    assert spec["prompt_hash"] == ann.prompt.hash and spec["c_ext"] == 10.0


@pytest.mark.parametrize("model", ["classifier", "ranking"])
def test_trained_models_keep_the_contract(model):
    with Annotator(RuleBasedLLM(), "dungeon", "dungeon") as ann:
        env = LLMIntrinsicReward(
            gym.make(ENV_ID), ann, model=model,
            model_kwargs={"background": False, "batch_size": 32, "width": 8, "lr": 1e-2},
        )  # fmt: skip
        _run(env, 200)
        assert ann.wait_idle(10)
        assert env.model.update()
        for _ in range(4):
            env.model.update(force=True)
        steps = _run(env, 200)
        env.close()
    assert env.model.version == 5
    assert any(i["reward_components"]["shaping/llm_intrinsic"] for _, i in steps)
    ends = [i for _, i in steps if "llm_annotator" in i]
    assert ends and ends[0]["llm_annotator"]["model_version"] == 5


def test_server_down_degrades_to_zero_and_training_continues(caplog):
    client = OpenAIClient("http://127.0.0.1:9/v1", "gone", timeout_s=0.5, max_retries=0)
    with (
        caplog.at_level(logging.WARNING, "rewardgym.shaping.llm"),
        Annotator(client, "dungeon", max_retries=0, backoff_s=0.01) as ann,
    ):
        env = LLMIntrinsicReward(gym.make(ENV_ID), ann, c_ext=1.0)
        steps = _run(env, 400)
        ann.wait_idle(5)
        env.close()
    assert all(i["reward_components"]["shaping/llm_intrinsic"] == 0.0 for _, i in steps)
    assert any(i["reward_components"]["task"] for _, i in steps) or len(steps) == 400
    assert "training continues" in caplog.text


def test_env_without_message_is_refused():
    with Annotator(RuleBasedLLM()) as ann:
        env = LLMIntrinsicReward(gym.make("rewardgym/Toy-Letters-v0"), ann)
        with pytest.raises(ConfigError, match="message_key"):
            env.reset(seed=0)


def test_bad_model_name():
    with Annotator(RuleBasedLLM()) as ann, pytest.raises(ConfigError, match="valid"):
        LLMIntrinsicReward(gym.make(ENV_ID), ann, model="bogus")


@pytest.mark.slow
def test_ppo_trains_through_a_dead_annotator(tmp_path, caplog):
    """Training goes on when the LLM server is down: the intrinsic term is 0, PPO finishes."""
    pytest.importorskip("stable_baselines3")
    from rewardgym.agents.sb3 import PPOConfig, train_ppo

    client = OpenAIClient("http://127.0.0.1:9/v1", "gone", timeout_s=0.5, max_retries=0)
    with (
        caplog.at_level(logging.WARNING, "rewardgym.shaping.llm"),
        Annotator(client, "dungeon", max_retries=0, backoff_s=0.01) as ann,
    ):
        run = train_ppo(
            ENV_ID, 256, seed=0, out_dir=tmp_path / "run", tensorboard=False,
            config=PPOConfig(n_steps=128, batch_size=64, n_epochs=1),
            shaping=lambda env: LLMIntrinsicReward(env, ann, c_ext=10.0),
        )  # fmt: skip
        assert ann.wait_idle(10)
        assert ann.stats()["failed"] >= 1 and ann.stats()["labelled"] == 0
    assert run.training["steps"] >= 256
    assert "training continues" in caplog.text


def test_real_nethack_messages():
    """The same wrapper on NLE (the real NetHack): its messages get labelled, contract kept."""
    pytest.importorskip("nle")
    with Annotator(RuleBasedLLM(), "nethack") as ann:
        env = LLMIntrinsicReward(gym.make("rewardgym/NLE-Staircase-v0"), ann, c_ext=10.0)
        steps = _run(env, 60)
        assert ann.wait_idle(10)
        env.close()
    assert ann.stats()["labelled"] >= 1
    assert all("shaping/llm_intrinsic" in i["reward_components"] for _, i in steps)
