"""Bench-runner overhead per episode versus a bare ``act``/``step`` loop (docs/performance.md).

Times are this process's CPU time (``time.process_time``): the machines are shared, and wall
time would mostly measure the neighbours. Both sides drive the same env object with the same agent over the same seeds. The runner side
is what ``rewardgym bench`` does per episode: ``run_episode`` (keeping every step's values,
building the ``EpisodeRecord`` and its JSON, summing components and costs) plus the SQLite
insert (grouped commits). A third arm runs with ``record_steps=False`` (``rewardgym bench
--no-record-steps``: episode summaries only). Repeats alternate bare/runner/summary-only;
the figure is the median ratio.

Run: ``.venv/bin/python benchmarks/bench_runner.py`` -> ``runs/bench/runner.json``.
"""

from __future__ import annotations

import json
import os
import pathlib
import statistics
import tempfile
import time

import gymnasium as gym

import rewardgym  # noqa: F401 - registers the env ids
from rewardgym.agents import make_agent
from rewardgym.leaderboard.runner import EpisodeJob, agent_seed, run_episode
from rewardgym.leaderboard.store import ResultsStore

CASES = (
    # (env id, agent, episodes per repeat)
    ("rewardgym/Dungeon-Staircase-v0", "random", 40),
    ("rewardgym/Dungeon-Staircase-M-v0", "random", 10),
    ("rewardgym/CodeExec-v0", "code-oracle", 10),
)
REPEATS = 11


def bare(env, agent, seeds):
    t0 = time.process_time()
    for seed in seeds:
        agent.reset(seed=agent_seed(seed, 0))
        obs, info = env.reset(seed=seed)
        while True:
            obs, _, term, trunc, info = env.step(agent.act(obs, info))
            if term or trunc:
                break
    return time.process_time() - t0


def runner(env, agent, seeds, store, env_id, rep, record_steps=True):
    t0 = time.process_time()
    for seed in seeds:
        # a fresh key per repeat, so every insert really writes
        job = EpisodeJob(f"bench-{rep}-{record_steps}", env_id, seed, record_steps=record_steps)
        store.add(run_episode(job, env, agent, []))
    return time.process_time() - t0


def measure(env_id, agent_spec, episodes, tmp):
    env = gym.make(env_id)
    agent = make_agent(agent_spec, env)
    seeds = list(range(episodes))
    bare(env, agent, seeds[:3])  # warm up (imports, sandbox pools, caches)
    ratios, t_bare, t_run, lean_ratios, t_lean = [], [], [], [], []
    with ResultsStore(pathlib.Path(tmp) / f"{env_id.replace('/', '_')}.sqlite") as store:
        for rep in range(REPEATS):
            a = bare(env, agent, seeds)
            b = runner(env, agent, seeds, store, env_id, rep)
            c = runner(env, agent, seeds, store, env_id, rep, record_steps=False)
            t_bare.append(a)
            t_run.append(b)
            t_lean.append(c)
            ratios.append(b / a)
            lean_ratios.append(c / a)
    env.close()
    return {
        "env_id": env_id,
        "agent": agent_spec,
        "episodes_per_repeat": episodes,
        "repeats": REPEATS,
        "bare_ms_per_episode": 1000 * statistics.median(t_bare) / episodes,
        "runner_ms_per_episode": 1000 * statistics.median(t_run) / episodes,
        "ratio_median": statistics.median(ratios),
        "ratios": ratios,
        "summary_only_ms_per_episode": 1000 * statistics.median(t_lean) / episodes,
        "summary_only_ratio_median": statistics.median(lean_ratios),
    }


def main() -> None:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for env_id, agent_spec, episodes in CASES:
            if env_id not in gym.registry:
                print(f"skip {env_id}: not registered")
                continue
            r = measure(env_id, agent_spec, episodes, tmp)
            results.append(r)
            print(
                f"{env_id:34s} {agent_spec:12s} bare {r['bare_ms_per_episode']:8.2f} ms/ep  "
                f"runner {r['runner_ms_per_episode']:8.2f} ms/ep  ratio {r['ratio_median']:.3f}x  "
                f"summary-only ratio {r['summary_only_ratio_median']:.3f}x"
            )
    out = pathlib.Path("runs/bench/runner.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"cases": results, "target_ratio": 1.05, "cpus": os.cpu_count()}, indent=2)
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
