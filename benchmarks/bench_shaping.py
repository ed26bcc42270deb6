"""Per-step overhead of a 4-wrapper shaping stack, as µs/step and as a ratio to the bare env.

The stack is the one the issue names: ``ReweightComponents`` -> ``PotentialShaping`` ->
``CostPenalty`` -> ``RunningNormalize``. It runs on ``rewardgym/Dungeon-Staircase-v0`` (among
the fastest registered envs; all core envs are surveyed first with random actions and the
survey is stored; the fastest one is used if the staircase is not registered), made with
``gym.make`` in every arm, so the difference is only our wrappers. The arms step through the
same pre-drawn action stream, alternating in chunks of 250 steps (so load changes on this shared
machine hit every arm alike); the added time and the ratio are medians of the per-chunk paired
differences and ratios. Two potentials are timed: the env's own named potential (what a user
gets; its own cost is measured separately) and a constant callable (the wrappers' bookkeeping
alone).

Run: ``.venv/bin/python benchmarks/bench_shaping.py`` -> ``runs/bench/shaping.json``.
"""

from __future__ import annotations

import json
import pathlib
import statistics
import sys
import time

import gymnasium as gym

import rewardgym
from rewardgym.registry import ENTRIES
from rewardgym.shaping import (
    CostPenalty,
    PotentialShaping,
    ReweightComponents,
    RunningNormalize,
)

STEPS = 4000
CHUNK = 250
REPEATS = 48
OUT = pathlib.Path("runs/bench/shaping.json")
PREFERRED = "rewardgym/Dungeon-Staircase-v0"


def _actions(env_id: str, n: int) -> list:
    env = gym.make(env_id)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(n)]
    env.close()
    return actions


def _time_steps(env: gym.Env, actions: list) -> float:
    """Seconds per step over ``actions`` from a fresh episode (resets excluded from the clock)."""
    env.reset(seed=0)
    return _time_chunk(env, actions)


def _time_chunk(env: gym.Env, actions: list) -> float:
    """Seconds per step over ``actions``, continuing the env's episode (resets off the clock)."""
    elapsed = 0.0
    for action in actions:
        start = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        elapsed += time.perf_counter() - start
        if terminated or truncated:
            env.reset()
    return elapsed / len(actions)


def _fastest_env() -> tuple[str, dict[str, float]]:
    rates = {}
    for entry in ENTRIES.values():
        if entry.multiagent or entry.extra is not None:
            continue
        env = gym.make(entry.id)
        rates[entry.id] = _time_steps(env, _actions(entry.id, 300)) * 1e6
        env.close()
    return min(rates, key=rates.get), rates


def _time_potential(env_id: str, name: str, actions: list) -> float:
    """µs per call of the env's own named potential, called after each step of a rollout."""
    env = gym.make(env_id)
    potential = env.unwrapped.named_potentials()[name]
    runs = []
    for _ in range(REPEATS):
        obs, info = env.reset(seed=0)
        elapsed = 0.0
        for action in actions:
            start = time.perf_counter()
            potential(obs, info)
            elapsed += time.perf_counter() - start
            obs, _, terminated, truncated, info = env.step(action)
            if terminated or truncated:
                obs, info = env.reset()
        runs.append(elapsed / len(actions) * 1e6)
    env.close()
    return statistics.median(runs)


def _stack(env: gym.Env, potential) -> gym.Env:
    keys = tuple(getattr(env.unwrapped, "COST_KEYS", ()) or ()) or ("searches",)
    env = ReweightComponents(env, {"task": 1.0})
    env = PotentialShaping(env, potential, gamma=0.99)
    env = CostPenalty(env, costs={keys[0]: 0.1})
    return RunningNormalize(env)


def main() -> dict:
    fastest, survey = _fastest_env()
    env_id = PREFERRED if PREFERRED in survey else fastest
    offered = sorted(gym.make(env_id).unwrapped.named_potentials())
    named = "stairs_distance" if "stairs_distance" in offered else (offered[0] if offered else None)
    actions = _actions(env_id, STEPS)
    arms = {
        "bare": lambda: gym.make(env_id),
        "stack_constant_potential": lambda: _stack(gym.make(env_id), lambda o, i: 1.0),
    }
    if named:
        arms["stack_named_potential"] = lambda: _stack(gym.make(env_id), named)
    samples: dict[str, list[float]] = {k: [] for k in arms}
    envs = {k: make() for k, make in arms.items()}
    for env in envs.values():
        env.reset(seed=0)
    # Alternate the arms in short chunks on the same action stream, so load changes on this
    # shared machine hit every arm alike; compare arms chunk by chunk (paired).
    for chunk in range(REPEATS):
        stream = actions[(chunk * CHUNK) % STEPS :][:CHUNK]
        for key, env in envs.items():
            samples[key].append(_time_chunk(env, stream) * 1e6)
    for env in envs.values():
        env.close()
    median = {k: statistics.median(v) for k, v in samples.items()}
    added = {
        k: statistics.median(a - b for a, b in zip(samples[k], samples["bare"]))
        for k in samples
        if k != "bare"
    }
    ratio = {
        k: statistics.median(a / b for a, b in zip(samples[k], samples["bare"]))
        for k in samples
        if k != "bare"
    }
    potential_us = _time_potential(env_id, named, actions) if named else None
    result = {
        "env_id": env_id,
        "fastest_in_survey": fastest,
        "named_potential": named,
        "steps_per_chunk": CHUNK,
        "chunks": REPEATS,
        "survey_us_per_step": survey,
        "us_per_step": median,
        "added_us_per_step": added,
        "ratio_to_bare": ratio,
        "named_potential_us_per_call": potential_us,
        "target_added_us_per_step": 15.0,
        "rewardgym_version": rewardgym.__version__,
        "python": sys.version.split()[0],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    res = main()
    print(f"env: {res['env_id']} (named potential: {res['named_potential']})")
    for key, value in res["us_per_step"].items():
        extra = ""
        if key != "bare":
            extra = (
                f"  +{res['added_us_per_step'][key]:.2f} µs/step, "
                f"x{res['ratio_to_bare'][key]:.3f} of bare"
            )
        print(f"  {key:28s} {value:8.2f} µs/step{extra}")
    if res["named_potential_us_per_call"] is not None:
        print(
            f"  (the env's {res['named_potential']} itself: "
            f"{res['named_potential_us_per_call']:.2f} µs/call)"
        )
    print(f"wrote {OUT}")
