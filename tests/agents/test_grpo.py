"""The GRPO trainer: config checks before any model loads, rollout log-probabilities that match
the trainer's recomputation, transforms that plug in, exact resume, a CPU learning test, and
checkpoints the bench can evaluate."""

from __future__ import annotations

import json
import math
import os
import pathlib
import signal
import subprocess
import sys
import time

import gymnasium as gym
import pytest
import yaml

import rewardgym  # noqa: F401 - registers the ids
from rewardgym.errors import ConfigError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from rewardgym.agents.grpo import GRPOConfig, GRPOTrainer, group_advantages  # noqa: E402
from rewardgym.agents.grpo.policy import PolicyClient, sequence_logprobs  # noqa: E402
from rewardgym.agents.grpo.rollout import make_policy_agent, play_episode  # noqa: E402
from rewardgym.llm.tiny import build_tiny_model  # noqa: E402
from rewardgym.records import EpisodeRecord, StepRecord  # noqa: E402
from rewardgym.shaping import GroupNormalize, UIS1Advantage, VeRPOReward  # noqa: E402

#: Rollout log-probabilities (incremental, KV cache) vs one batched forward pass: float32
#: round-off only.
LOGPROB_TOLERANCE = 1e-4


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def _config(tiny_dir, out, **kw):
    base = dict(
        model=str(tiny_dir),
        env_id="rewardgym/Toy-Letters-v0",
        task_ids=["vowels"],
        group_size=4,
        tasks_per_step=1,
        steps=4,
        max_new_tokens=6,
        learning_rate=1e-2,
        out_dir=str(out),
        tensorboard=False,
        checkpoint_every=2,
    )
    base.update(kw)
    return GRPOConfig.build(**base)


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"transform": {"name": "NoSuchTransform"}}, "transform"),
        ({"transform": {"name": "GroupNormalize", "bogus": 1}}, "transform"),
        ({"transform": {"recipe": "no-such-recipe"}}, "transform"),
        ({"transform": {"recipe": "potential-stairs"}}, "transform"),  # no group transform
        ({"group_size": 1}, "group_size"),
        ({"model": "/no/such/model"}, "model"),
        ({"env_id": "rewardgym/Dungeon-Staircase-v0"}, "env_id"),
        ({"env_id": "rewardgym/NoSuch-v0"}, "env_id"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"unknown_field": 3}, "unknown_field"),
        ({"backend": "openai"}, "server_url"),
        ({"backend": "vllm", "vllm": {"dtype": "int3"}}, "vllm.dtype"),
        ({"backend": "vllm", "vllm": {"gpu_memory_utilization": 1.5}}, "vllm.gpu_memory_util"),
        (
            {"backend": "openai", "server_url": "http://127.0.0.1:9", "rollout_workers": 2},
            "rollout_workers",
        ),
    ],
)
def test_bad_config_fails_naming_the_field_before_any_model_loads(
    tmp_path, monkeypatch, fields, named
):
    def no_model(*a, **k):
        raise AssertionError("a model was loaded before the config was checked")

    monkeypatch.setattr("rewardgym.agents.grpo.trainer.PolicyClient", no_model)
    with pytest.raises(ConfigError, match=named):
        cfg = GRPOConfig.build(out_dir=str(tmp_path), tensorboard=False, **fields)
        GRPOTrainer(cfg)


def test_the_vllm_backend_without_vllm_fails_naming_the_backend(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a)
    )
    with pytest.raises(ConfigError, match="backend: the 'vllm' backend needs vLLM"):
        GRPOTrainer(GRPOConfig.build(out_dir=str(tmp_path), tensorboard=False, backend="vllm"))


def test_a_code_env_trains_through_its_sandboxed_grader(tiny_dir, tmp_path):
    """GRPO on a code env: completions are graded by the sandbox, the env's own reward
    components reach the metrics, and VeRPO's transform turns them into advantages."""
    cfg = _config(
        tiny_dir, tmp_path, env_id="rewardgym/CodeExec-Bank-v0", task_ids=None, group_size=2,
        tasks_per_step=2, steps=2, max_turns=2, max_new_tokens=24,
        transform={"name": "VeRPOReward"},
    )  # fmt: skip
    with GRPOTrainer(cfg) as trainer:
        history = trainer.fit()
    assert [m["step"] for m in history] == [1.0, 2.0]
    for m in history:
        assert {"reward/task", "reward/tests_passed", "reward/compile_ok"} <= set(m)
        assert m["tokens/generated"] > 0 and math.isfinite(m["loss/policy"])
    assert (tmp_path / "model" / "config.json").is_file()


def test_a_recipes_group_transform_can_train(tmp_path):
    from rewardgym.agents.grpo import build_transform
    from rewardgym.shaping import MashPenalty

    assert isinstance(build_transform({"recipe": "mash"}), MashPenalty)


def test_config_loads_from_yaml_and_overrides_win(tmp_path):
    from rewardgym.agents.grpo import load_config

    path = tmp_path / "run.yaml"
    path.write_text(
        yaml.safe_dump({"group_size": 3, "steps": 7, "transform": {"name": "VeRPOReward"}})
    )
    cfg = load_config(path, steps=9)
    assert (cfg.group_size, cfg.steps, cfg.transform["name"]) == (3, 9, "VeRPOReward")
    path.write_text("- not a mapping\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path)
    with pytest.raises(ConfigError, match="no GRPO config file"):
        load_config(tmp_path / "missing.yaml")


# -- rollouts ---------------------------------------------------------------------------------


def test_rollout_logprobs_match_the_trainers_recomputation(tiny_dir):
    client = PolicyClient(tiny_dir)
    env = gym.make("rewardgym/Toy-Letters-v0", turns=3)
    agent = make_policy_agent(env, client, max_new_tokens=12, temperature=0.8)

    def episode():
        return play_episode(
            env, agent, client, env_id="rewardgym/Toy-Letters-v0", reset_seed=1, agent_seed=2,
            max_turns=5,
        )  # fmt: skip

    ep = episode()
    assert ep.length == 3 and ep.steps[-1].terminated
    pairs = [(s.extras["prompt_ids"], s.extras["completion_ids"]) for s in ep.steps]
    with torch.no_grad():
        recomputed = sequence_logprobs(
            client.module, pairs, temperature=0.8, pad_id=client.tokenizer.pad_token_id
        )
    for step, again in zip(ep.steps, recomputed):
        assert len(step.extras["logprobs"]) == len(step.extras["completion_ids"]) > 0
        diff = (again - torch.tensor(step.extras["logprobs"])).abs().max().item()
        assert diff < LOGPROB_TOLERANCE
    # the episode's token log-probs are where Unlikeliness reads them
    assert ep.metadata["logprob"] == [lp for s in ep.steps for lp in s.extras["logprobs"]]
    # same seeds, same episode
    again = episode()
    assert [s.action for s in again.steps] == [s.action for s in ep.steps]
    env.close()


# -- transforms plug in -----------------------------------------------------------------------


def _batch() -> list[EpisodeRecord]:
    eps = []
    for i, (passed, matched) in enumerate(
        [([1, 1, 0], [1, 1]), ([1, 0, 0], [1, 0]), ([0, 0, 0], [0, 0]), ([1, 1, 1], [1, 1])]
    ):
        steps = []
        for t, m in enumerate(matched):
            last = t == len(matched) - 1
            task = float(all(passed)) if last else 0.0
            steps.append(
                StepRecord(
                    step=t,
                    reward=0.5 * m + task,
                    reward_components={"task": task, "action": float(m)},
                    reward_weights={"task": 1.0, "action": 0.5},
                    terminated=last,
                    extras={
                        "matched": bool(m),
                        **({"test_results": [bool(p) for p in passed]} if last else {}),
                    },
                )
            )
        eps.append(EpisodeRecord(env_id="x", task_id="t0", episode_id=f"e{i}", steps=steps))
    return eps


@pytest.mark.parametrize(
    "transform",
    [GroupNormalize(), VeRPOReward(), UIS1Advantage()],
    ids=["GroupNormalize", "VeRPOReward", "UIS1Advantage"],
)
def test_trainer_advantages_are_exactly_what_the_transform_computes(transform):
    batch = _batch()
    got = group_advantages(transform, batch)
    result = transform(batch)
    if result.kind == "advantage":
        assert got == result.per_step
    else:  # a reward transform is normalised over its per-episode values
        assert got == GroupNormalize(source=transform)(batch).per_step
    assert [len(row) for row in got] == [ep.length for ep in batch]
    assert any(a != 0 for row in got for a in row)


# -- training ---------------------------------------------------------------------------------


def _params(trainer):
    return {k: v.detach().clone() for k, v in trainer.client.module.state_dict().items()}


def _learning(history):
    return [
        {k: v for k, v in m.items() if not k.startswith(("time/", "throughput/"))} for m in history
    ]


def test_resume_after_a_stop_gives_the_same_parameters_and_metrics(tiny_dir, tmp_path):
    with GRPOTrainer(_config(tiny_dir, tmp_path / "a", steps=4)) as full:
        full_history = full.fit()
        full_params = _params(full)
    with GRPOTrainer(_config(tiny_dir, tmp_path / "b", steps=2)) as first:
        first.fit()
    with GRPOTrainer(_config(tiny_dir, tmp_path / "b", steps=4)) as resumed:
        assert resumed.step == 2
        resumed_history = resumed.fit()
        resumed_params = _params(resumed)
    assert full_params.keys() == resumed_params.keys()
    assert all(torch.equal(full_params[k], resumed_params[k]) for k in full_params)
    assert _learning(resumed_history) == _learning(full_history)
    assert len((tmp_path / "b" / "metrics.jsonl").read_text().splitlines()) == 4


def test_an_earlier_run_is_never_replaced_silently(tiny_dir, tmp_path):
    with GRPOTrainer(_config(tiny_dir, tmp_path, steps=2)) as t:
        t.fit()
    with pytest.raises(ConfigError, match="--force"):
        GRPOTrainer(_config(tiny_dir, tmp_path, steps=2), resume=False)
    with pytest.raises(ConfigError, match="different config"):
        GRPOTrainer(_config(tiny_dir, tmp_path, steps=3, learning_rate=0.5))
    with GRPOTrainer(_config(tiny_dir, tmp_path, steps=2), resume=False, force=True) as fresh:
        assert fresh.step == 0


def test_checkpoint_is_evaluated_by_the_bench_as_llm_local(tiny_dir, tmp_path):
    from rewardgym.agents.registry import make_agent

    with GRPOTrainer(_config(tiny_dir, tmp_path, steps=2)) as t:
        t.fit()
    model_dir = tmp_path / "model"
    assert (model_dir / "config.json").is_file()
    env = gym.make("rewardgym/Toy-Letters-v0")
    agent = make_agent(f"llm-local:{model_dir}", env)
    obs, info = env.reset(seed=0)
    agent.reset(seed=0)
    _, _, terminated, _, info = env.step(agent.act(obs, info))
    assert terminated and 0.0 <= info["reward_components"]["task"] <= 1.0
    env.close()


@pytest.mark.slow
def test_killed_cli_run_resumes_to_the_uninterrupted_result(tiny_dir, tmp_path):
    cfg = {
        "model": str(tiny_dir),
        "task_ids": ["vowels"],
        "group_size": 4,
        "tasks_per_step": 1,
        "steps": 8,
        "max_new_tokens": 6,
        "learning_rate": 1e-2,
        "checkpoint_every": 1,
        "keep_checkpoints": 8,
        "tensorboard": False,
        "out_dir": str(tmp_path / "killed"),
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(cfg))
    cli = [sys.executable, "-m", "rewardgym.leaderboard.cli", "train", "grpo", "-c", str(path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ckpt = pathlib.Path(cfg["out_dir"]) / "checkpoints" / "step-000003" / "trainer_state.json"
    deadline = time.monotonic() + 240
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert ckpt.exists(), proc.stdout.read().decode()
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with GRPOTrainer(GRPOConfig.build(**{**cfg, "out_dir": str(tmp_path / "whole")})) as whole:
        whole.fit()
        expected = _params(whole)
    from transformers import AutoModelForCausalLM

    resumed = AutoModelForCausalLM.from_pretrained(
        pathlib.Path(cfg["out_dir"]) / "model"
    ).state_dict()
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)
    lines = (pathlib.Path(cfg["out_dir"]) / "metrics.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in lines]
    assert steps[-1] == 8.0 and sorted(set(steps)) == [float(s) for s in range(1, 9)]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiny_model_learns_the_toy_task(tiny_dir, tmp_path, seed):
    cfg = _config(
        tiny_dir, tmp_path, seed=seed, steps=24, group_size=8, tasks_per_step=2, max_new_tokens=8,
        checkpoint_every=100,
    )  # fmt: skip
    with GRPOTrainer(cfg) as trainer:
        history = trainer.fit()
    start = sum(m["reward/task"] for m in history[:3]) / 3
    end = sum(m["reward/task"] for m in history[-3:]) / 3
    assert end >= start + 0.25 and end >= 0.6, (start, end)


@pytest.mark.slow
def test_ray_rollouts_give_the_same_run_as_local_rollouts(tiny_dir, tmp_path, loopback_only_netns):
    pytest.importorskip("ray")
    kw = {"steps": 2, "tasks_per_step": 2, "batch_groups": 1}  # two batches: both actors play
    with GRPOTrainer(_config(tiny_dir, tmp_path / "local", **kw)) as local:
        local_history = local.fit()
        local_params = _params(local)
    with GRPOTrainer(_config(tiny_dir, tmp_path / "ray", rollout_workers=2, **kw)) as remote:
        ray_history = remote.fit()
        ray_params = _params(remote)
    assert _learning(ray_history) == _learning(local_history)
    assert all(torch.equal(local_params[k], ray_params[k]) for k in local_params)


# -- TRL --------------------------------------------------------------------------------------


def test_env_reward_scores_completions_by_one_env_step_on_their_task():
    pytest.importorskip("datasets")
    from rewardgym.agents.grpo.trl_adapter import EnvReward, env_prompt_dataset

    kwargs = {"task_ids": ["vowels", "digits"]}
    ds = env_prompt_dataset("rewardgym/Toy-Letters-v0", 6, env_kwargs=kwargs)
    assert set(ds.column_names) == {"prompt", "task_seed", "task_id"}
    assert all("Reply using only these letters" in p for p in ds["prompt"])
    reward = EnvReward("rewardgym/Toy-Letters-v0", env_kwargs=kwargs)
    perfect = ["aeiou aei" if t == "vowels" else "12345 678" for t in ds["task_id"]]
    wrong = ["zzzz" for _ in ds["task_id"]]
    assert reward(ds["prompt"], perfect, task_seed=ds["task_seed"]) == [1.0] * 6
    assert reward(ds["prompt"], wrong, task_seed=ds["task_seed"]) == [0.0] * 6
    chat = [[{"role": "assistant", "content": c}] for c in perfect]
    assert reward(ds["prompt"], chat, task_seed=ds["task_seed"]) == [1.0] * 6
    with pytest.raises(ConfigError, match="task_seed"):
        reward(ds["prompt"], perfect)
    reward.close()


@pytest.mark.slow
def test_trl_grpo_trainer_trains_on_a_rewardgym_env(tiny_dir, tmp_path):
    trl = pytest.importorskip("trl")
    from transformers import AutoTokenizer

    from rewardgym.agents.grpo.trl_adapter import EnvReward, env_prompt_dataset

    ds = env_prompt_dataset("rewardgym/Toy-Letters-v0", 8, env_kwargs={"task_ids": ["vowels"]})
    calls = []
    reward = EnvReward("rewardgym/Toy-Letters-v0")

    def scored(prompts, completions, task_seed, **kw):
        out = reward(prompts, completions, task_seed=task_seed)
        calls.append((list(task_seed), out))
        return out

    scored.__name__ = reward.__name__
    args = trl.GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        max_steps=2,
        report_to=[],
        logging_steps=1,
        save_strategy="no",
        use_cpu=True,
        bf16=False,
    )
    trainer = trl.GRPOTrainer(
        model=str(tiny_dir),
        reward_funcs=[scored],
        args=args,
        train_dataset=ds,
        processing_class=AutoTokenizer.from_pretrained(tiny_dir),
    )
    trainer.train()
    assert len(calls) == 2 and all(set(seeds) <= set(ds["task_seed"]) for seeds, _ in calls)
    logged = [
        h[f"rewards/{reward.__name__}/mean"] for h in trainer.state.log_history if "reward" in h
    ]
    assert logged == pytest.approx([sum(r) / len(r) for _, r in calls], abs=1e-6)


def test_server_backend_logprobs_match_the_trainers_recomputation(tiny_dir, tmp_path):
    """Generation through an OpenAI-compatible server (ours, serving the same weights): the
    log-probabilities it reports equal the trainer's recomputation within LOGPROB_TOLERANCE
    (temperature 1, where the served and the trained distributions are the same)."""
    from rewardgym.llm.local import TransformersClient
    from rewardgym.llm.server import OpenAICompatServer

    served = TransformersClient(tiny_dir)
    with OpenAICompatServer(served, model_name="tiny") as server:
        cfg = _config(
            tiny_dir, tmp_path, steps=1, backend="openai", server_url=server.url, temperature=1.0
        )
        with GRPOTrainer(cfg) as trainer:
            (metrics,) = trainer.fit()
    assert metrics["tokens/generated"] > 0
    assert metrics["logprob/backend_abs_diff"] < LOGPROB_TOLERANCE


def test_lora_trains_only_the_adapter_and_checkpoints_a_merged_model(tiny_dir, tmp_path):
    pytest.importorskip("peft")
    lora = {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}
    with GRPOTrainer(_config(tiny_dir, tmp_path, steps=2, lora=lora, tensorboard=True)) as t:
        base = {k: v.clone() for k, v in t.client.module.state_dict().items() if "lora_" not in k}
        trainable = [n for n, p in t.client.module.named_parameters() if p.requires_grad]
        t.fit()
        after = t.client.module.state_dict()
    assert trainable and all("lora_" in n for n in trainable)
    assert all(torch.equal(base[k], after[k]) for k in base)  # the base weights never move
    ckpt = tmp_path / "checkpoints" / "step-000002"
    assert (ckpt / "adapter" / "adapter_config.json").is_file()
    assert (tmp_path / "model" / "config.json").is_file()  # merged: loadable as llm-local
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    with GRPOTrainer(_config(tiny_dir, tmp_path, steps=3, lora=lora, tensorboard=True)) as again:
        assert again.step == 2
        again.fit()


def test_every_config_field_is_in_the_training_docs_reference():
    doc = (pathlib.Path(__file__).parents[2] / "docs" / "training.md").read_text()
    table = doc.split("## Configuration reference", 1)[1]
    missing = [f for f in GRPOConfig.model_fields if f"| `{f}` |" not in table]
    assert missing == []


def test_the_example_config_is_valid():
    from rewardgym.agents.grpo import check_config, load_config

    example = pathlib.Path(__file__).parents[2] / "examples" / "grpo_toy.yaml"
    check_config(load_config(example))
