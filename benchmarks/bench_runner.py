"""Bench-runner overhead per episode versus a bare ``act``/``step`` loop (docs/performance.md).

Times are this process's CPU time (``time.process_time``): the machines are shared, and wall
time would mostly measure the neighbours. The runner side is ``run_bench`` itself, as the CLI
calls it (without the progress bar): skipping stored keys, running each episode with
``run_episode`` and storing its row in SQLite (grouped commits), with the env and agent kept
warm between repeats (``keep_warm=True``), as the bare loop keeps its own. Two runner arms: the
default (episode summaries) and ``record_steps=True`` (``rewardgym bench --record-steps``:
every step packed into the record), each measured in its own pass against the bare loop. Each
repeat runs the pass's two arms in a fresh random order, on new episode keys so every insert
really writes; the figure is the median of the per-repeat ratios.

Run: ``.venv/bin/python benchmarks/bench_runner.py [--repeats N]`` -> ``runs/bench/runner.json``;
``--layers``: where the runner's time goes on the first case, layer by layer, in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import random
import statistics
import tempfile
import time

import rewardgym  # noqa: F401 - registers the env ids
from rewardgym.leaderboard.episodes import _actor
from rewardgym.leaderboard.runner import (
    agent_seed,
    close_actors,
    execute_job,
    plan,
    run_bench,
    run_episode,
)
from rewardgym.leaderboard.store import ResultsStore

CASES = (
    # (env id, agent, episodes per repeat)
    ("rewardgym/Dungeon-Staircase-v0", "random", 100),
    ("rewardgym/Dungeon-Staircase-M-v0", "random", 20),
    ("rewardgym/CodeExec-v0", "code-oracle", 30),
)


def bare(env, agent, seeds: list[int]) -> float:
    t0 = time.process_time()
    for seed in seeds:
        agent.reset(seed=agent_seed(seed, 0))
        obs, info = env.reset(seed=seed)
        while True:
            obs, _, term, trunc, info = env.step(agent.act(obs, info))
            if term or trunc:
                break
    return time.process_time() - t0


def runner(db: pathlib.Path, env_id, agent_spec, seeds, record_steps) -> float:
    """CPU seconds of ``run_bench`` storing ``seeds`` into a new results file ``db``."""
    jobs = plan([agent_spec], [env_id], seeds, record_steps=record_steps)
    with ResultsStore(db) as store:  # opening and closing the file are not timed
        t0 = time.process_time()
        summary = run_bench(jobs, store, keep_warm=True)
        elapsed = time.process_time() - t0
    assert summary.stored == len(jobs) and not summary.failed, summary.failed
    return elapsed


def measure(env_id, agent_spec, episodes, repeats, tmp):
    seeds = list(range(episodes))
    db = pathlib.Path(tmp) / env_id.replace("/", "_")
    db.mkdir()
    # warm up: imports, sandbox pools, the runner's cached env and agent
    for recorded in (False, True):
        runner(db / f"warm-{recorded}.sqlite", env_id, agent_spec, seeds[:5], recorded)
    # The bare loop drives the very env and agent objects the runner keeps warm: two instances
    # of an env with a sandbox would compare two sandboxes, not the runner with a bare loop.
    actor = _actor(plan([agent_spec], [env_id], [0])[0])
    env, agent = actor.env, actor.agent
    bare(env, agent, seeds[:5])
    # One pass per runner mode, each against its own bare arm. Interleaving the two modes in
    # one pass let the --record-steps arm's large records (left in the allocator and the CPU
    # caches) slow whichever arm ran next, which inflated the summary ratio by 0.5-1.5%.
    times: dict[str, list[float]] = {}
    for mode in ("summary", "recorded"):
        arms: dict[str, list[float]] = {"bare": [], mode: []}
        order = list(arms)
        for rep in range(repeats):
            random.Random(rep).shuffle(order)
            for arm in order:
                if arm == "bare":
                    arms[arm].append(bare(env, agent, seeds))
                else:
                    path = db / f"{arm}-{rep}.sqlite"
                    arms[arm].append(runner(path, env_id, agent_spec, seeds, arm == "recorded"))
        times[mode], times[f"bare_{mode}"] = arms[mode], arms["bare"]
    close_actors()

    def ratios(arm: str) -> list[float]:
        return [a / b for a, b in zip(times[arm], times[f"bare_{arm}"])]

    def ci(values: list[float]) -> list[float]:
        """95% bootstrap interval of the median ratio (the machine's noise, made visible)."""
        rng = random.Random(0)
        meds = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(2000))
        return [meds[49], meds[1949]]

    return {
        "env_id": env_id,
        "agent": agent_spec,
        "episodes_per_repeat": episodes,
        "repeats": repeats,
        "ms_per_episode": {
            "bare": 1000
            * statistics.median(times["bare_summary"] + times["bare_recorded"])
            / episodes,
            "summary": 1000 * statistics.median(times["summary"]) / episodes,
            "recorded": 1000 * statistics.median(times["recorded"]) / episodes,
        },
        "ratio_summary": statistics.median(ratios("summary")),
        "ratio_summary_ci95": ci(ratios("summary")),
        "ratio_recorded": statistics.median(ratios("recorded")),
        "ratio_recorded_ci95": ci(ratios("recorded")),
        "ratios_summary": ratios("summary"),
        "ratios_recorded": ratios("recorded"),
    }


class _KeepNothing(ResultsStore):
    """A results store whose ``add`` only counts: ``run_bench`` without SQLite."""

    def add(self, row) -> None:
        self.stored += 1


def layers(env_id, agent_spec, episodes, repeats, tmp):
    """Where the runner's time goes, layer by layer, in one run: each arm adds one layer
    (``run_episode`` -> ``execute_job`` -> ``run_bench`` with a store that keeps nothing ->
    ``run_bench`` with SQLite). Microseconds per episode over the bare loop, median of the
    per-repeat differences (the same env and agent objects; arms in a random order)."""
    seeds = list(range(episodes))
    job0 = plan([agent_spec], [env_id], [0])[0]
    actor = _actor(job0)
    env, agent = actor.env, actor.agent
    db = pathlib.Path(tmp) / ("layers-" + env_id.replace("/", "_"))
    db.mkdir()

    def direct(call):
        def arm(rep):
            jobs = plan([agent_spec], [env_id], seeds)
            t0 = time.process_time()
            for job in jobs:
                call(job)
            return time.process_time() - t0

        return arm

    def bench(store_cls):
        def arm(rep):
            jobs = plan([agent_spec], [env_id], seeds)
            with store_cls(db / f"{store_cls.__name__}-{rep}.sqlite") as store:
                t0 = time.process_time()
                run_bench(jobs, store, keep_warm=True)
                return time.process_time() - t0

        return arm

    arms = {
        "bare": lambda rep: bare(env, agent, seeds),
        "run_episode": direct(lambda job: run_episode(job, env, agent, [])),
        "execute_job": direct(execute_job),
        "run_bench, no store": bench(_KeepNothing),
        "run_bench": bench(ResultsStore),
    }
    for arm in arms.values():  # warm up
        arm("warm")
    times: dict[str, list[float]] = {name: [] for name in arms}
    order = list(arms)
    for rep in range(repeats):
        random.Random(rep).shuffle(order)
        for name in order:
            times[name].append(arms[name](rep))
    close_actors()
    return {
        name: 1e6 * statistics.median(a - b for a, b in zip(t, times["bare"])) / episodes
        for name, t in times.items()
        if name != "bare"
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=41)
    parser.add_argument(
        "--layers",
        action="store_true",
        help="instead: the cost of each runner layer on the first case, in one run",
    )
    args = parser.parse_args()
    if args.layers:
        env_id, agent_spec, episodes = CASES[0]
        with tempfile.TemporaryDirectory() as tmp:
            costs = layers(env_id, agent_spec, episodes, args.repeats, tmp)
        print(f"{env_id} ({agent_spec}): microseconds per episode over the bare loop")
        for name, us in costs.items():
            print(f"  {name:22s} +{us:6.1f}")
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for env_id, agent_spec, episodes in CASES:
            r = measure(env_id, agent_spec, episodes, args.repeats, tmp)
            results.append(r)
            ms = r["ms_per_episode"]
            print(
                f"{env_id:34s} {agent_spec:12s} bare {ms['bare']:7.3f} ms/ep  "
                f"summary {r['ratio_summary']:.3f}x [{r['ratio_summary_ci95'][0]:.3f}, "
                f"{r['ratio_summary_ci95'][1]:.3f}]  --record-steps {r['ratio_recorded']:.3f}x "
                f"[{r['ratio_recorded_ci95'][0]:.3f}, {r['ratio_recorded_ci95'][1]:.3f}]"
            )
    out = pathlib.Path("runs/bench/runner.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"cases": results, "target_ratio": 1.05, "cpus": os.cpu_count()}, indent=2)
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
