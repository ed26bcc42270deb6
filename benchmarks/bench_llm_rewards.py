"""Does ONI's annotator slow the env down? Steps/s with and without ``LLMIntrinsicReward``.

The annotator talks over real HTTP to the project's OpenAI-compatible server in front of the
rule-based "LLM", which sleeps 50 ms per answer (a loaded vLLM's latency); the server runs in
a separate process, as vLLM would. Configurations,
alternated round by round on ``Dungeon-KeyDoor-v0`` with seeded random actions:

* ``bare`` — the env alone (the peer);
* ``hash`` — the env with ``LLMIntrinsicReward(model="hash")``;
* ``flood`` — every message made unique (the turn appended), so each step queues a new label
  and the backlog cap drops the oldest: the worst case for the step path. Its peer is the bare
  env with the same message rewriting;
* ``classifier`` — measured in a second phase against its own ``bare`` peer, since its trainer
  thread (at a lower CPU priority) shares the machine with every env of the process.

After a warm-up round, 21 rounds of 4000 steps each, the configurations in a fresh random
order every round; steps/s by the wall clock (median and best round) and by the stepping
thread's own CPU time (median; the step path's own cost, which the shared machine's load
disturbs far less); ratios against the peer from the same run. Writes
``runs/bench/llm_rewards.json``. Run: ``.venv/bin/python benchmarks/bench_llm_rewards.py``.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import pathlib
import statistics
import time
from typing import Any

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


def serve(delay: float, urls: Any, stop: Any) -> None:
    """The rule-based LLM behind the OpenAI-compatible server, until ``stop`` is set."""
    with OpenAICompatServer(RuleBasedLLM(delay_s=delay)) as server:
        urls.put(server.url)
        stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--delay", type=float, default=0.05, help="server answer time (s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    # The server runs in its own process, as vLLM would: its request handling must not share
    # the RL process's interpreter lock.
    ctx = multiprocessing.get_context("spawn")
    urls, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=serve, args=(args.delay, urls, stop), daemon=True)
    server.start()
    client = OpenAIClient(urls.get(timeout=60), "rule-based-v1", timeout_s=10, max_retries=0)
    annotators = []

    def annotated(model: str, unique: bool = False) -> gym.Env:
        ann = Annotator(client, "dungeon", concurrency=4, max_backlog=256, log_every_s=3600)
        annotators.append(ann)
        base = gym.make(ENV_ID)
        base = UniqueMessages(base) if unique else base
        return LLMIntrinsicReward(base, ann, model=model, c_ext=10.0)

    def measure(envs: dict[str, gym.Env]) -> tuple[dict[str, float], ...]:
        """Median steps/s (wall), median steps per CPU second, best steps/s (wall)."""
        for env in envs.values():  # warm-up: the first labels arrive, caches fill
            steps_per_s(env, args.steps, seed=0)
        rates: dict[str, list[float]] = {k: [] for k in envs}
        cpu_rates: dict[str, list[float]] = {k: [] for k in envs}
        order = np.random.default_rng(0)
        for r in range(args.rounds):
            # a fresh order each round, so slow spells of the shared machine hit all alike
            for name in order.permutation(list(envs)):
                wall, cpu = steps_per_s(envs[name], args.steps, seed=r)
                rates[name].append(wall)
                cpu_rates[name].append(cpu)
        return (
            {k: statistics.median(v) for k, v in rates.items()},
            {k: statistics.median(v) for k, v in cpu_rates.items()},
            {k: max(v) for k, v in rates.items()},
        )

    # Phase 1: the annotator alone (no trainer thread in the process).
    envs = {
        "bare": gym.make(ENV_ID),
        "hash": annotated("hash"),
        "bare_unique": UniqueMessages(gym.make(ENV_ID)),
        "flood": annotated("hash", unique=True),
    }
    median, cpu, best = measure(envs)
    # Phase 2: the classifier, whose trainer thread shares the CPU with the env.
    envs2 = {"bare": gym.make(ENV_ID), "classifier": annotated("classifier")}
    median2, cpu2, best2 = measure(envs2)
    best["classifier"], best["bare_phase2"] = best2["classifier"], best2["bare"]
    median["classifier"], median["bare_phase2"] = median2["classifier"], median2["bare"]
    cpu["classifier"], cpu["bare_phase2"] = cpu2["classifier"], cpu2["bare"]
    envs.update({"classifier": envs2["classifier"], "bare_phase2": envs2["bare"]})
    result = {
        "env": ENV_ID,
        "server_delay_s": args.delay,
        "steps_per_round": args.steps,
        "rounds": args.rounds,
        "steps_per_s": median,
        "ratio_hash": median["hash"] / median["bare"],
        "ratio_classifier": median["classifier"] / median["bare_phase2"],
        "ratio_flood": median["flood"] / median["bare_unique"],
        "best_steps_per_s": best,
        "best_ratio_hash": best["hash"] / best["bare"],
        "best_ratio_classifier": best["classifier"] / best["bare_phase2"],
        "best_ratio_flood": best["flood"] / best["bare_unique"],
        "steps_per_cpu_s": cpu,
        "cpu_ratio_hash": cpu["hash"] / cpu["bare"],
        "cpu_ratio_classifier": cpu["classifier"] / cpu["bare_phase2"],
        "cpu_ratio_flood": cpu["flood"] / cpu["bare_unique"],
        "annotator_stats": [a.stats() for a in annotators],
        "classifier_updates": envs["classifier"].model.updates,
    }
    for env in envs.values():
        env.close()
    for a in annotators:
        a.close()
    stop.set()
    server.join(10)
    out = pathlib.Path("runs/bench/llm_rewards.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "annotator_stats"}, indent=2))
    for name, stats in zip(("hash", "flood", "classifier"), result["annotator_stats"], strict=True):
        print(name, {k: round(v, 3) for k, v in stats.items()})


if __name__ == "__main__":
    main()
