"""LLM agents and the client interface: the tiny local model, the HTTP backend over a real
loopback server (retries, timeouts, usage), and parsing failures scored as invalid actions."""

from __future__ import annotations

import json
import socket

import gymnasium as gym
import pytest

from rewardgym.agents import make_agent
from rewardgym.agents.llm_agents import TEMPLATES, LLMAgent, parse_code
from rewardgym.envs.base import AgenticEnv
from rewardgym.errors import ConfigError, InvalidAction, LLMError
from rewardgym.leaderboard.runner import EpisodeJob, run_episode
from rewardgym.llm import (
    Completion,
    ContextLengthError,
    LLMClient,
    format_chat,
    make_client,
    self_certainty,
)

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
    cost_local, cost_http = json.loads(row_local["cost_json"]), json.loads(row_http["cost_json"])
    assert cost_local["llm_tokens"] > 0 and cost_local["llm_calls"] == row_local["length"]
    # same model, same seeds: the HTTP agent acts exactly like the local one
    assert cost_http == cost_local
    assert row_http["task_return"] == row_local["task_return"]


# -- token log-probabilities ------------------------------------------------------------------


def test_the_tiny_model_is_servable_by_vllm(tiny_dir, local):
    """vLLM's CPU attention needs heads of 32+; a chat needs a template rendering format_chat."""
    config = local._model.config
    assert config.hidden_size // config.num_attention_heads >= 32
    assert (tiny_dir / "chat_template.jinja").is_file()
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Go\nnorth"}]
    rendered = local.tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    assert rendered == format_chat(msgs)
    assert local.chat_ids(msgs) == local.prompt_ids(format_chat(msgs))


def test_an_outdated_cached_tiny_model_is_rebuilt(tmp_path):
    from rewardgym.llm.tiny import TINY_VERSION, ensure_tiny_model

    out = ensure_tiny_model(tmp_path / "m")
    (out / "rewardgym-tiny.json").write_text('{"vocab_size": 512}')  # a version-1 marker
    (out / "chat_template.jinja").unlink()
    assert ensure_tiny_model(out) == out
    assert (out / "chat_template.jinja").is_file()
    assert json.loads((out / "rewardgym-tiny.json").read_text())["version"] == TINY_VERSION


def test_local_logprobs_are_the_models_own_distribution(local):
    import math

    import torch

    out = local.complete("def add(a, b):", max_tokens=6, logprobs=3)  # greedy
    assert len(out.logprobs) == out.completion_tokens == 6
    assert "".join(t.token for t in out.logprobs) == out.text
    ids = local.prompt_ids("def add(a, b):")
    for t in out.logprobs:  # a plain forward pass per step, without generate's cache
        with torch.no_grad():
            row = torch.log_softmax(local._model(torch.tensor([ids])).logits[0, -1].float(), -1)
        ids.append(int(row.argmax()))
        assert t.logprob == pytest.approx(row.max().item(), abs=1e-4)
        assert [lp for _, lp in t.top] == pytest.approx(row.topk(3).values.tolist(), abs=1e-4)
        assert t.top[0][0] == t.token
        kl = -math.log(row.shape[0]) - row.mean().item()
        assert t.kl_uniform == pytest.approx(kl, abs=1e-4) and t.kl_uniform >= 0
    assert out.self_certainty == pytest.approx(sum(t.kl_uniform for t in out.logprobs) / 6)
    sampled = local.complete("x", max_tokens=4, temperature=1.0, seed=1, logprobs=0)
    assert len(sampled.logprobs) == 4 and all(t.top == () for t in sampled.logprobs)
    assert local.complete("x", max_tokens=2).logprobs is None
    with pytest.raises(ConfigError, match="logprobs"):
        local.complete("x", logprobs=21)


def test_logprobs_stop_at_the_stop_string(local):
    out = local.complete("Action:", max_tokens=24, temperature=1.0, seed=1, stop=["e"], logprobs=0)
    assert "e" not in out.text and out.finish_reason == "stop"
    text = "".join(t.token for t in out.logprobs)
    assert text.startswith(out.text) and "e" in text[len(out.text) :]  # up to the stop's token
    assert all(t.top == () for t in out.logprobs)


def test_http_logprobs_match_the_local_model_in_both_api_forms(local, server):
    client = OpenAIClient(server.url, "tiny")
    msgs = [{"role": "user", "content": "north or south?"}]
    remote = client.chat(msgs, max_tokens=8, temperature=0.8, seed=2, logprobs=4)
    direct = local.chat(msgs, max_tokens=8, temperature=0.8, seed=2, logprobs=4)
    assert remote == direct and remote.logprobs is not None
    # the legacy completions form: dicts of alternatives (same-text tokens merge)
    remote = client.complete("for i in", max_tokens=5, temperature=0.8, seed=3, logprobs=2)
    direct = local.complete("for i in", max_tokens=5, temperature=0.8, seed=3, logprobs=2)
    assert remote.token_logprobs == direct.token_logprobs
    assert [t.kl_uniform for t in remote.logprobs] == [t.kl_uniform for t in direct.logprobs]
    assert [dict(t.top) for t in remote.logprobs] == [dict(t.top) for t in direct.logprobs]


def test_a_vllm_style_answer_without_kl_estimates_self_certainty_from_the_top_k(local, server):
    import urllib.request

    body = {"model": "tiny", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4,
            "logprobs": True, "top_logprobs": 5}  # fmt: skip
    req = urllib.request.Request(
        server.url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        data = json.loads(resp.read())
    content = data["choices"][0]["logprobs"]["content"]
    assert len(content) == 4 and len(content[0]["top_logprobs"]) == 5
    assert content[0]["bytes"] == list(content[0]["token"].encode())
    for entry in content:  # what vLLM sends: no kl_uniform
        del entry["kl_uniform"]
    from rewardgym.llm.http import _parse_logprobs

    parsed = _parse_logprobs(data["choices"][0]["logprobs"], chat=True, k=5)
    assert all(t.kl_uniform is None for t in parsed)
    assert 0 <= self_certainty(parsed) < float("inf")


def test_a_server_that_refuses_logprobs_is_asked_without_them(local):
    with OpenAICompatServer(local, model_name="tiny", logprobs=False) as srv:
        client = OpenAIClient(srv.url, "tiny", max_retries=0)
        out = client.chat([{"role": "user", "content": "hi"}], max_tokens=3, logprobs=5)
        assert out.logprobs is None and out.completion_tokens == 3
        assert client.logprobs_supported is False
        assert client.complete("x", max_tokens=2, logprobs=1).logprobs is None
        assert srv.requests_seen == 3  # refused once, then asked without


# -- prompts longer than the context -----------------------------------------------------------


@pytest.fixture
def short_ctx(tiny_dir):
    """A local client whose context is 48 tokens, and our server in front of it."""
    client = TransformersClient(tiny_dir, torch_threads=1)
    client.context_length = 48
    with OpenAICompatServer(client, model_name="tiny") as srv:
        yield client, srv


LONG_CHAT = [
    {"role": "system", "content": "You play a dungeon game."},
    {"role": "user", "content": "You see a goblin to the east. " * 12 + "Choose one action."},
]


def test_the_server_reports_its_context_and_refuses_what_does_not_fit(short_ctx):
    _, srv = short_ctx
    raw = OpenAIClient(srv.url, "tiny", max_retries=0)
    assert raw.context_length == 48  # from /v1/models' max_model_len, as vLLM lists it
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        srv.url + "/chat/completions",
        data=json.dumps({"model": "tiny", "messages": LONG_CHAT, "max_tokens": 8}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 400 and "maximum context length is 48" in err.value.read().decode()


def test_the_http_client_cuts_long_prompts_from_the_left_like_the_local_client(short_ctx):
    local, srv = short_ctx
    client = OpenAIClient(srv.url, "tiny", max_retries=0)
    n = len(local.chat_ids(LONG_CHAT))
    assert n + 8 > 48
    remote = client.chat(LONG_CHAT, max_tokens=8, temperature=0.5, seed=1, logprobs=1)
    direct = local.chat(LONG_CHAT, max_tokens=8, temperature=0.5, seed=1, logprobs=1)
    assert remote.prompt_truncated == direct.prompt_truncated == n - 40
    assert remote.prompt_tokens == direct.prompt_tokens == 40
    assert remote.text == direct.text and remote.token_logprobs == direct.token_logprobs
    long_prompt = "def f(x):\n    return x\n" * 20
    remote = client.complete(long_prompt, max_tokens=4, seed=1)
    direct = local.complete(long_prompt, max_tokens=4, seed=1)
    assert remote.prompt_tokens == 44 and remote.text == direct.text
    # a prompt that fits goes as it is, without counting
    assert client.complete("def f(x):", max_tokens=4).prompt_truncated == 0


class EchoClient(LLMClient):
    """A backend without a tokenizer that remembers the prompts it got."""

    model = "echo"

    def __init__(self):
        super().__init__()
        self.seen = []

    def _generate(self, prompt, **kw):
        self.seen.append(prompt)
        return Completion("ok", len(prompt.encode()), 1)

    def _generate_chat(self, messages, **kw):
        self.seen.append(messages)
        return Completion("ok", sum(len(m["content"].encode()) for m in messages), 1)


def test_without_tokenize_the_client_cuts_by_the_byte_bound():
    backend = EchoClient()
    with OpenAICompatServer(backend) as srv:
        client = OpenAIClient(srv.url, "echo", context_length=300, max_retries=0)
        history = [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "old " * 40},
            {"role": "assistant", "content": "reply"},
            {"role": "user", "content": "now " * 50},
        ]
        client.chat(history, max_tokens=20)
        got = backend.seen[-1]
        assert got[0] == history[0] and got[-1]["content"].endswith("now ")
        assert len(got) == 2  # the oldest turns went first
        size = sum(len(m["role"]) + len(m["content"].encode()) for m in got)
        assert size + 128 + 16 * len(got) <= 300 - 20
        client.complete("é" * 400, max_tokens=20)
        assert len(backend.seen[-1].encode()) <= 300 - 20 - 16
        assert set(backend.seen[-1]) == {"é"}  # whole characters


def test_a_refused_prompt_is_the_agents_invalid_action_not_a_crash(short_ctx):
    _, srv = short_ctx
    env = PickEnv()
    # the client believes in a large context, so it sends the prompt and the server refuses
    client = OpenAIClient(srv.url, "tiny", context_length=100_000, max_retries=0)
    with pytest.raises(ContextLengthError):
        client.chat(LONG_CHAT, max_tokens=8)
    agent = LLMAgent(client, env.action_space, TEMPLATES["dungeon"], names=env.action_names)
    row = run_episode(EpisodeJob("llm", "pick", seed=0), env, agent, [])
    cost = json.loads(row["cost_json"])
    assert cost["llm_context_errors"] == row["length"] == 3
    assert row["invalid_actions"] == 3 and row["success"] == 0
