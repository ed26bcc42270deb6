"""Does ONI's annotator slow the env down? Steps/s with and without ``LLMIntrinsicReward``.

The annotator talks over real HTTP to the project's OpenAI-compatible server in front of the
rule-based "LLM", which sleeps 50 ms per answer (a loaded vLLM's latency). Configurations,
alternated round by round on ``Dungeon-KeyDoor-v0`` with seeded random actions:

* ``bare`` — the env alone (the peer);
* ``hash`` / ``classifier`` — the env with ``LLMIntrinsicReward`` (the classifier trains in its
  background thread meanwhile);
* ``flood`` — every message made unique (the turn appended), so each step queues a new label
  and the backlog cap drops the oldest: the worst case for the step path. Its peer is the bare
  env with the same message rewriting.

After a warm-up round, 15 rounds of 2000 steps each, the configurations in a fresh random
order every round; median steps/s over the rounds, by the wall clock and by the stepping
thread's own CPU time (the step path's cost, which the shared machine's load disturbs far
less); ratios against the peer from the same run. Writes
``runs/bench/llm_rewards.json``. Run: ``.venv/bin/python benchmarks/bench_llm_rewards.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym
import numpy as np

import rewardgym  # noqa: F401 - registers the env ids
from rewardgym.llm.http import OpenAIClient
from rewardgym.llm.server import OpenAICompatServer
from rewardgym.shaping.llm import Annotator, LLMIntrinsicReward, RuleBasedLLM

ENV_ID = "rewardgym/Dungeon-KeyDoor-v0"


class UniqueMessages(gym.Wrapper):
    """Appends the step count to every non-empty message (a flood of distinct texts)."""

    def step(self, action):
        obs, reward, term, trunc, info = self.env.step(action)
        if info.get("message"):
            info = {**info, "message": f"{info['message']} [T:{info['step']}]"}
        return obs, reward, term, trunc, info


def steps_per_s(env: gym.Env, steps: int, seed: int) -> tuple[float, float]:
    """Steps per wall-clock second, and per CPU second of the stepping thread."""
    rng = np.random.default_rng(seed)
    actions = rng.integers(env.action_space.n, size=steps)
    env.reset(seed=seed)
    start, cpu = time.perf_counter(), time.thread_time()
    for a in actions:
        _, _, term, trunc, _ = env.step(int(a))
        if term or trunc:
            env.reset()
    return steps / (time.perf_counter() - start), steps / (time.thread_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--delay", type=float, default=0.05, help="server answer time (s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    server = OpenAICompatServer(RuleBasedLLM(delay_s=args.delay)).start()
    client = OpenAIClient(server.url, "rule-based-v1", timeout_s=10, max_retries=0)
    annotators = []

    def annotated(model: str, unique: bool = False) -> gym.Env:
        ann = Annotator(client, "dungeon", concurrency=4, max_backlog=256, log_every_s=3600)
        annotators.append(ann)
        base = gym.make(ENV_ID)
        base = UniqueMessages(base) if unique else base
        return LLMIntrinsicReward(base, ann, model=model, c_ext=10.0)

    envs = {
        "bare": gym.make(ENV_ID),
        "hash": annotated("hash"),
        "classifier": annotated("classifier"),
        "bare_unique": UniqueMessages(gym.make(ENV_ID)),
        "flood": annotated("hash", unique=True),
    }
    rates: dict[str, list[float]] = {k: [] for k in envs}
    cpu_rates: dict[str, list[float]] = {k: [] for k in envs}
    for env in envs.values():  # warm-up: the first labels arrive, caches fill
        steps_per_s(env, args.steps, seed=0)
    order = np.random.default_rng(0)
    for r in range(args.rounds):
        # a fresh order each round, so slow spells of the shared machine hit all alike
        for name in order.permutation(list(envs)):
            wall, cpu = steps_per_s(envs[name], args.steps, seed=r)
            rates[name].append(wall)
            cpu_rates[name].append(cpu)
    median = {k: statistics.median(v) for k, v in rates.items()}
    cpu = {k: statistics.median(v) for k, v in cpu_rates.items()}
    result = {
        "env": ENV_ID,
        "server_delay_s": args.delay,
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        "steps_per_s": median,
        "ratio_hash": median["hash"] / median["bare"],
        "ratio_classifier": median["classifier"] / median["bare"],
        "ratio_flood": median["flood"] / median["bare_unique"],
        "steps_per_cpu_s": cpu,
        "cpu_ratio_hash": cpu["hash"] / cpu["bare"],
        "cpu_ratio_classifier": cpu["classifier"] / cpu["bare"],
        "cpu_ratio_flood": cpu["flood"] / cpu["bare_unique"],
        "annotator_stats": [a.stats() for a in annotators],
        "classifier_updates": envs["classifier"].model.updates,
    }
    for env in envs.values():
        env.close()
    for a in annotators:
        a.close()
    server.stop()
    out = pathlib.Path("runs/bench/llm_rewards.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "annotator_stats"}, indent=2))
    for name, stats in zip(("hash", "classifier", "flood"), result["annotator_stats"], strict=True):
        print(name, {k: round(v, 3) for k, v in stats.items()})


if __name__ == "__main__":
    main()
