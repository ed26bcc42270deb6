"""LLM agents and the client interface: the tiny local model, the HTTP backend over a real
loopback server (retries, timeouts, usage), and parsing failures scored as invalid actions."""

from __future__ import annotations

import socket

import gymnasium as gym
import pytest

from rewardgym.agents import make_agent
from rewardgym.agents.llm_agents import TEMPLATES, LLMAgent, parse_code
from rewardgym.envs.base import AgenticEnv
from rewardgym.errors import ConfigError, InvalidAction, LLMError
from rewardgym.leaderboard.runner import EpisodeJob, run_episode
from rewardgym.llm import Completion, LLMClient, make_client

pytest.importorskip("transformers")

from rewardgym.llm.http import OpenAIClient
from rewardgym.llm.local import TransformersClient
from rewardgym.llm.server import OpenAICompatServer
from rewardgym.llm.tiny import build_tiny_model


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def local(tiny_dir):
    return TransformersClient(tiny_dir, torch_threads=1)


@pytest.fixture
def server(local):
    with OpenAICompatServer(local, model_name="tiny") as srv:
        yield srv


def test_tiny_model_is_saved_and_loaded_back_from_disk(tiny_dir, local):
    assert {"config.json", "tokenizer.json", "model.safetensors"} <= {
        p.name for p in tiny_dir.iterdir()
    }
    before = local.usage()
    out = local.complete("def add(a, b):", max_tokens=6)
    assert out.prompt_tokens == len(local.tokenizer("def add(a, b):")["input_ids"])
    assert 1 <= out.completion_tokens <= 6
    after = local.usage()
    assert after["llm_tokens"] - before["llm_tokens"] == out.total_tokens
    assert after["llm_calls"] - before["llm_calls"] == 1


def test_sampling_is_reproducible_for_a_seed(local):
    msgs = [{"role": "user", "content": "Move north or south?"}]
    a = local.chat(msgs, max_tokens=12, temperature=1.0, seed=3)
    b = local.chat(msgs, max_tokens=12, temperature=1.0, seed=3)
    c = local.chat(msgs, max_tokens=12, temperature=1.0, seed=4)
    assert a == b
    assert a.text != c.text


def test_http_client_gets_the_same_answers_and_usage_as_the_local_model(local, server):
    client = OpenAIClient(server.url, "tiny", timeout_s=30)
    assert client.models() == ["tiny"]
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    remote = client.chat(msgs, max_tokens=8, temperature=0.7, seed=9)
    direct = local.chat(msgs, max_tokens=8, temperature=0.7, seed=9)
    assert remote == direct
    text = client.complete("for i in", max_tokens=5)
    assert text.prompt_tokens == len(local.tokenizer("for i in")["input_ids"])
    assert client.usage()["llm_tokens"] == remote.total_tokens + text.total_tokens


def test_transient_503s_are_retried_with_backoff(local):
    with OpenAICompatServer(local, model_name="tiny", fail_first=2) as srv:
        client = OpenAIClient(srv.url, "tiny", max_retries=3, backoff_s=0.01)
        out = client.complete("x", max_tokens=2)
        assert out.completion_tokens >= 1
        assert client.retries_used == 2 and srv.requests_seen == 3


def test_the_client_gives_up_after_its_retries(local):
    with OpenAICompatServer(local, model_name="tiny", fail_first=10) as srv:
        client = OpenAIClient(srv.url, "tiny", max_retries=2, backoff_s=0.0)
        with pytest.raises(LLMError, match="gave up after 3 attempts"):
            client.complete("x", max_tokens=2)
        assert srv.requests_seen == 3
        assert client.usage()["llm_calls"] == 0


def test_a_timeout_is_retried(local):
    with OpenAICompatServer(local, model_name="tiny", stall_first=1, stall_s=1.5) as srv:
        client = OpenAIClient(srv.url, "tiny", timeout_s=0.4, max_retries=2, backoff_s=0.0)
        assert client.complete("x", max_tokens=2).completion_tokens >= 1
        assert client.retries_used == 1
    with OpenAICompatServer(local, model_name="tiny", stall_first=1, stall_s=1.5) as srv:
        client = OpenAIClient(srv.url, "tiny", timeout_s=0.4, max_retries=0)
        with pytest.raises(LLMError, match="timed out"):
            client.complete("x", max_tokens=2)


def test_client_errors_are_not_retried(server):
    client = OpenAIClient(server.url, "not-served", max_retries=3, backoff_s=0.0)
    with pytest.raises(LLMError, match="not retried"):
        client.chat([{"role": "user", "content": "hi"}])
    assert client.retries_used == 0


def test_an_unreachable_server_raises_llm_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nobody listens
    client = OpenAIClient(f"http://127.0.0.1:{port}/v1", "m", max_retries=1, backoff_s=0.0)
    with pytest.raises(LLMError, match="Is the server running"):
        client.complete("x")


def test_bad_client_specs_fail_at_construction():
    with pytest.raises(ConfigError):
        make_client("gpt:whatever")
    with pytest.raises(ConfigError):
        OpenAIClient("127.0.0.1:8000", "m")
    with pytest.raises(ConfigError, match=r"config\.json"):
        TransformersClient("/nonexistent/model")


# -- agents ----------------------------------------------------------------------------------


class ScriptedClient(LLMClient):
    """Replies from a fixed list: isolates the agent's parsing from the model."""

    model = "scripted"

    def __init__(self, replies):
        super().__init__()
        self.replies = list(replies)

    def _generate(self, prompt, **kw):
        return Completion(self.replies.pop(0), 10, 2)

    def _generate_chat(self, messages, **kw):
        return Completion(self.replies.pop(0), 10, 2)


class PickEnv(AgenticEnv):
    """Pick "right" (action 1) of ``left``/``right``; invalid indices are scored, not raised."""

    COMPONENTS = ("task", "format")
    DEFAULT_WEIGHTS = {"task": 1.0, "format": 0.0}
    action_names = ("left", "right")

    def __init__(self, reward_weights=None):
        super().__init__(reward_weights)
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, self._start_episode("pick")

    def step(self, action):
        self._check_running()
        if not isinstance(action, int):
            raise InvalidAction("int actions only")
        valid = action in (0, 1)
        done = action == 1 or self._step_count + 1 >= 3
        reward, info = self._finish_step(
            {"task": float(action == 1), "format": float(valid)},
            terminated=action == 1,
            truncated=done and action != 1,
            success=(action == 1) if done else None,
            invalid_action=None if valid else f"action {action} is not 0 or 1",
        )
        return 0, reward, action == 1, done and action != 1, info


def test_unparseable_replies_become_invalid_actions_not_crashes():
    env = PickEnv()
    client = ScriptedClient(["banana", "I pick LEFT.", "right, definitely"])
    agent = LLMAgent(client, env.action_space, TEMPLATES["generic"], names=env.action_names)
    obs, info = env.reset(seed=0)
    agent.reset(seed=0)
    seen = []
    done = False
    while not done:
        action = agent.act(obs, info)
        obs, _, term, trunc, info = env.step(action)
        seen.append((action, info["invalid_action"]))
        done = term or trunc
    assert [a for a, _ in seen] == [2, 0, 1]
    assert seen[0][1] is not None and seen[1][1] is None
    assert info["success"] is True
    usage = agent.usage()
    assert usage["llm_parse_failures"] == 1 and usage["llm_tokens"] == 36


def test_code_replies_are_cut_to_the_code_block_or_left_for_the_env_to_judge():
    space = gym.spaces.Text(100)
    ok = parse_code("Sure:\n```python\ndef f():\n    return 1\n```\nDone.", space)
    assert ok.ok and ok.action == "def f():\n    return 1\n"
    bad = parse_code("I cannot write code today.", space)
    assert not bad.ok and bad.action == "I cannot write code today."


def test_llm_agents_from_the_registry_count_tokens_into_the_episode_cost(tiny_dir, server):
    gym.register("rewardgym-test/Pick-v0", entry_point=PickEnv)
    try:
        env = gym.make("rewardgym-test/Pick-v0")
        local_agent = make_agent(f"llm-local:{tiny_dir}", env, torch_threads=1)
        http_agent = make_agent(f"llm-openai:{server.url}|tiny", env)
        job = EpisodeJob("llm", "rewardgym-test/Pick-v0", seed=1)
        row_local = run_episode(job, env, local_agent, [])
        row_http = run_episode(job, env, http_agent, [])
    finally:
        gym.registry.pop("rewardgym-test/Pick-v0")
    import json

    cost_local, cost_http = json.loads(row_local["cost_json"]), json.loads(row_http["cost_json"])
    assert cost_local["llm_tokens"] > 0 and cost_local["llm_calls"] == row_local["length"]
    # same model, same seeds: the HTTP agent acts exactly like the local one
    assert cost_http == cost_local
    assert row_http["task_return"] == row_local["task_return"]
