"""Dungeon speed and memory against NLE and MiniGrid, measured in the same run.

Steps/s with uniform random actions in one process (``gym.make`` stacks, resets included) of
``rewardgym/Dungeon-Staircase-v0`` and ``Dungeon-Staircase-L-v0`` (NetHack-sized map) against
NLE ``NetHackScore-v0`` and MiniGrid ``DoorKey-8x8-v0``; median of alternating repeats; ratios
against NLE. Memory per extra env instance: tracemalloc growth over 20 extra reset instances.
Writes ``runs/bench/dungeon.json``.

Run: ``.venv/bin/python benchmarks/bench_dungeon.py [--steps N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from pathlib import Path

import gymnasium as gym
import numpy as np

import rewardgym  # noqa: F401  (registers the ids)


def _rate(env_id: str, steps: int, seed: int) -> float:
    env = gym.make(env_id)
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, env.action_space.n, steps).tolist()
    start = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()
    rate = steps / (time.perf_counter() - start)
    env.close()
    return rate


def _memory_per_instance(env_id: str, n: int = 20) -> float:
    keep = [gym.make(env_id)]
    keep[0].reset(seed=0)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(n):
        env = gym.make(env_id)
        env.reset(seed=i)
        env.step(0)
        keep.append(env)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return grown / n / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    envs = {
        "dungeon_staircase": "rewardgym/Dungeon-Staircase-v0",
        "dungeon_staircase_L": "rewardgym/Dungeon-Staircase-L-v0",
    }
    try:
        import nle  # noqa: F401

        envs["nle_score"] = "NetHackScore-v0"
    except ImportError:
        pass
    try:
        import minigrid  # noqa: F401

        envs["minigrid_doorkey8"] = "MiniGrid-DoorKey-8x8-v0"
    except ImportError:
        pass
    rates: dict[str, list[float]] = {name: [] for name in envs}
    for r in range(args.repeats):  # alternate so drift hits every env alike
        for name, env_id in envs.items():
            rates[name].append(_rate(env_id, args.steps, seed=r))
    median = {name: statistics.median(v) for name, v in rates.items()}
    result: dict[str, object] = {
        "steps": args.steps,
        "repeats": args.repeats,
        "steps_per_s": median,
        "steps_per_s_all": rates,
        "memory_mb_per_extra_instance": {
            "dungeon_staircase_L": _memory_per_instance("rewardgym/Dungeon-Staircase-L-v0"),
        },
    }
    if "nle_score" in median:
        result["ratio_vs_nle"] = {n: v / median["nle_score"] for n, v in median.items()}
    if "minigrid_doorkey8" in median:
        result["ratio_vs_minigrid"] = {
            n: v / median["minigrid_doorkey8"] for n, v in median.items()
        }
    out = Path("runs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "dungeon.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
