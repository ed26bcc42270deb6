"""GUI agents: the expert solves every mode, gui-noisy errs at the rates it is given, skill grades
online success, and the random and LLM agents run on the phone."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rewardgym  # noqa: F401 - registers the ids
from rewardgym.agents import make_agent
from rewardgym.agents.gui_agents import parse_noise_spec
from rewardgym.agents.llm_agents import TEMPLATES, LLMAgent
from rewardgym.envs.gui import GuiAction
from rewardgym.errors import ConfigError
from rewardgym.llm import Completion, LLMClient

IDS = ["rewardgym/GUI-Online-v0", "rewardgym/GUI-SemiOnline-v0", "rewardgym/GUI-Offline-v0"]


def play(env, agent, seed, options=None):
    obs, info = env.reset(seed=seed, options=options)
    agent.reset(seed=seed)
    infos = []
    while True:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        infos.append(info)
        if terminated or truncated:
            return infos


@pytest.mark.parametrize("env_id", IDS)
def test_the_expert_agent_succeeds(env_id):
    env = gym.make(env_id, observation="a11y")
    agent = make_agent("gui-expert", env)
    assert all(play(env, agent, seed)[-1]["success"] for seed in range(6))


def test_noise_specs():
    assert parse_noise_spec("0.2") == {
        "type": 0.2,
        "element": 0.2,
        "args": 0.2,
        "thought": 0.2,
        "task": 0.0,
    }
    assert parse_noise_spec("args=0.5,thought=1")["args"] == 0.5
    for bad in ("colour=0.1", "args=2", "args=lots"):
        with pytest.raises(ConfigError):
            parse_noise_spec(bad)
    with pytest.raises(ConfigError, match="no scripted expert"):
        make_agent("gui-expert", gym.make("rewardgym/Dungeon-Staircase-v0"))


@pytest.mark.parametrize(
    ("spec", "level", "rate"),
    [("type=0.3", "wrong_type", 0.3), ("args=0.3", "wrong_args", 0.3), ("thought=0.5", None, 0.5)],
)
def test_gui_noisy_errs_at_the_rate_it_is_given(spec, level, rate):
    # patches keep every episode going to the end, so every step is judged
    env = gym.make("rewardgym/GUI-SemiOnline-v0", observation="a11y", patch_threshold=100)
    agent = make_agent(f"gui-noisy:{spec}", env)
    infos = [i for seed in range(40) for i in play(env, agent, seed)]
    if level is None:
        observed = np.mean([i["reward_components"]["format"] == 0.0 for i in infos])
    else:
        observed = np.mean([i["action_level"] == level for i in infos])
    assert len(infos) > 250
    assert abs(observed - rate) < 0.08, (spec, observed)


def test_task_level_gaps_are_the_same_task_instances_in_every_mode():
    ids = [f"{t}#{s}" for t in ("contacts.add", "shop.buy_named", "clock.timer") for s in range(10)]
    online = gym.make("rewardgym/GUI-Online-v0", observation="a11y")
    offline = gym.make("rewardgym/GUI-Offline-v0", observation="a11y", instances=10)
    agent = make_agent("gui-noisy:task=0.4", online)
    lost = [agent.lost_on(t) for t in ids]
    assert 0 < sum(lost) < len(ids)
    for task_id, is_lost in zip(ids, lost):
        assert play(online, agent, 0, {"task_id": task_id})[-1]["success"] is (not is_lost)
        offline_agent = make_agent("gui-noisy:task=0.4", offline)
        info = play(offline, offline_agent, 0, {"task_id": f"{task_id}@1"})[-1]
        assert info["matched"] is (not is_lost)


def test_wrong_element_clicks_another_clickable_element():
    env = gym.make("rewardgym/GUI-SemiOnline-v0", observation="a11y", patch_threshold=100)
    agent = make_agent("gui-noisy:element=1", env)
    infos = play(env, agent, 0, options={"task_id": "contacts.add#1"})
    clicks = [i for i in infos if i["action_level"] != "exact"]
    assert clicks and all(i["action_level"] == "wrong_args" for i in clicks)


def test_more_noise_means_less_online_success():
    env = gym.make("rewardgym/GUI-Online-v0", observation="a11y")
    rates = {}
    for spec in ("gui-expert", "gui-noisy:0.05", "gui-noisy:0.25"):
        agent = make_agent(spec, env)
        rates[spec] = np.mean([play(env, agent, seed)[-1]["success"] for seed in range(30)])
    assert rates["gui-expert"] == 1.0
    assert rates["gui-expert"] > rates["gui-noisy:0.05"] > rates["gui-noisy:0.25"]


@pytest.mark.parametrize("kwargs", [{}, {"action_format": "structured"}])
def test_the_random_agent_runs_on_the_phone(kwargs):
    env = gym.make("rewardgym/GUI-Online-v0", observation="a11y", max_steps=10, **kwargs)
    agent = make_agent("random", env)
    infos = play(env, agent, 0)
    assert len(infos) == 10 and infos[-1]["success"] is False
    if not kwargs:
        assert all(i["invalid_action"] for i in infos)  # random text is never a tool call


class ToolCallClient(LLMClient):
    """An LLM that always replies with one fixed tool call (isolates the agent's plumbing)."""

    model = "scripted"

    def __init__(self, reply):
        super().__init__()
        self.reply = reply
        self.prompts = []

    def _generate(self, prompt, **kw):
        return Completion(self.reply, 10, 2)

    def _generate_chat(self, messages, **kw):
        self.prompts.append(messages[-1]["content"])
        return Completion(self.reply, 10, 2)


def test_llm_agents_read_the_a11y_text_and_their_replies_drive_the_phone():
    env = gym.make(
        "rewardgym/GUI-Online-v0", observation="screenshot+a11y", templates=["settings.turn_on"]
    )
    reply = GuiAction("open", text="Settings", thought="Toggles live in Settings.").to_text()
    client = ToolCallClient(reply)
    agent = LLMAgent(client, env.action_space, TEMPLATES["generic"], temperature=0.0)
    obs, info = env.reset(seed=0)
    agent.reset(seed=0)
    obs, _, _, _, info = env.step(agent.act(obs, info))
    assert info["invalid_action"] is None and info["app"] == "Settings"
    prompt = client.prompts[0]
    assert "goal: Turn on" in prompt and "UI element" in prompt and "screenshot" not in prompt


def test_llm_agents_are_told_the_envs_action_format():
    env = gym.make("rewardgym/GUI-Online-v0", observation="a11y")
    agent = make_agent("llm-local:tiny", env)
    assert agent.template.family == "gui"
    prompt = agent.messages(env.reset(seed=0)[0])[-1]["content"]
    assert prompt.endswith(type(env.unwrapped).ACTION_PROMPT) and "<tool_call>" in prompt
    env.close()


@pytest.mark.slow
def test_the_tiny_local_llm_plays_without_crashing(tmp_path):
    pytest.importorskip("transformers")
    from rewardgym.llm.tiny import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    env = gym.make("rewardgym/GUI-Online-v0", observation="a11y", max_steps=2)
    agent = make_agent(f"llm-local:{model}", env, torch_threads=1)
    infos = play(env, agent, 0)
    assert len(infos) == 2 and all(
        isinstance(i["invalid_action"], (str, type(None))) for i in infos
    )
