"""Social deduction speed against PettingZoo's rps_v2 and tictactoe_v3, measured in the same run.

Joint steps/s (one ``step`` of a parallel env = one joint step of every agent; for the
turn-based tictactoe one AEC ``step``) with a minimal policy per agent that reads its
``action_mask``: random allowed moves for rps/tictactoe; for the social game the first allowed
gameplay move, a uniform survey, a fixed sentence and skip votes (so games reach discussions and
votes). Resets are included. Median of alternating repeats; ratios against each peer. Then
games/minute with the scripted agents (Bayesian-listener crew vs the lying imposter; agents'
own time included). Writes ``runs/bench/social.json``.

Run: ``.venv/bin/python benchmarks/bench_social.py [--steps N] [--repeats R] [--games G]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

import rewardgym
from rewardgym.agents.social_agents import BayesianListener, LyingImposter, play_game


def _social_rate(env_id: str, steps: int, seed: int) -> float:
    env = rewardgym.make_parallel(env_id)
    n = len(env.possible_agents)
    uniform = np.full(n, 1.0 / n)
    survey, message = {"survey": uniform}, {"message": "I did not see a kill."}
    skip = {"action": 7 + 3 * n}
    none = {"action": 0}
    observations, _ = env.reset(seed=seed)
    start = time.perf_counter()
    for _ in range(steps):
        if not env.agents:
            seed += 1
            observations, _ = env.reset(seed=seed)
        actions = {}
        for agent in env.agents:
            obs = observations[agent]
            phase = obs["phase"]
            if phase[0]:
                mask = obs["action_mask"]
                actions[agent] = none if mask[0] else {"action": int(mask[2:].argmax()) + 2}
            elif phase[1]:
                actions[agent] = survey
            elif phase[2]:
                actions[agent] = message
            else:
                actions[agent] = skip
        observations, *_ = env.step(actions)
    return steps / (time.perf_counter() - start)


def _rps_rate(steps: int, seed: int) -> float:
    from pettingzoo.classic import rps_v2

    env = rps_v2.parallel_env()
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(steps):
        if not env.agents:
            env.reset()
        env.step({a: int(rng.integers(3)) for a in env.agents})
    return steps / (time.perf_counter() - start)


def _tictactoe_rate(steps: int, seed: int) -> float:
    from pettingzoo.classic import tictactoe_v3

    env = tictactoe_v3.env()
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            env.step(None)
            if not env.agents:
                env.reset()
            continue
        allowed = np.flatnonzero(obs["action_mask"])
        env.step(int(allowed[int(rng.integers(len(allowed)))]))
    return steps / (time.perf_counter() - start)


def games_per_minute(env_id: str, games: int) -> dict[str, float]:
    """Scripted games (Bayesian listeners vs the lying imposter), agents' time included."""
    env = rewardgym.make_parallel(env_id)
    steps = 0
    start = time.perf_counter()
    for seed in range(games):
        env.reset(seed=seed)
        imposters = set(env.true_imposters)
        agents = {
            a: LyingImposter() if a in imposters else BayesianListener()
            for a in env.possible_agents
        }
        steps += play_game(env, agents, seed).steps
    elapsed = time.perf_counter() - start
    return {"games_per_minute": games / elapsed * 60, "steps_per_game": steps / games}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--games", type=int, default=200)
    args = parser.parse_args()
    arms = {
        "social_v0": lambda r: _social_rate("rewardgym/SocialDeduction-v0", args.steps, r),
        "social_small": lambda r: _social_rate("rewardgym/SocialDeduction-Small-v0", args.steps, r),
        "rps_v2": lambda r: _rps_rate(args.steps, r),
        "tictactoe_v3": lambda r: _tictactoe_rate(args.steps, r),
    }
    rates: dict[str, list[float]] = {name: [] for name in arms}
    for r in range(args.repeats):  # alternate so drift hits every env alike
        for name, arm in arms.items():
            rates[name].append(arm(r))
    median = {name: statistics.median(v) for name, v in rates.items()}
    result = {
        "steps": args.steps,
        "repeats": args.repeats,
        "joint_steps_per_s": median,
        "joint_steps_per_s_all": rates,
        "ratio_vs_rps_v2": {n: v / median["rps_v2"] for n, v in median.items()},
        "ratio_vs_tictactoe_v3": {n: v / median["tictactoe_v3"] for n, v in median.items()},
        "scripted_games": {
            env_id: games_per_minute(env_id, args.games)
            for env_id in ("rewardgym/SocialDeduction-v0", "rewardgym/SocialDeduction-Small-v0")
        },
    }
    out = Path("runs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "social.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
