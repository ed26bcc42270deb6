"""The bench runner: agents x envs x seeds x episodes, each episode stored as it finishes.

:func:`plan` expands a bench request into :class:`EpisodeJob` s; :func:`run_bench` skips the
ones already in the :class:`~rewardgym.leaderboard.store.ResultsStore`, runs the rest in this
process, in worker processes (``workers > 1``) or as Ray tasks (``backend="ray"``), and writes
each finished episode from this process (one writer, one commit per episode).

Seeding: episode ``i`` of seed ``s`` resets the env with seed ``s`` (so all episodes of a seed
are samples of the *same* task instance, which is what pass@k needs) and the agent with a seed
derived from ``(s, i)``. The score is the raw ``task`` component, summed over the episode:
a ``--reward-recipe`` changes what a learner would see, never the score.

The pieces live beside it: :mod:`~rewardgym.leaderboard.jobs` (jobs, plans, seeding) and
:mod:`~rewardgym.leaderboard.episodes` (playing one episode); this module runs them on a
backend and stores the results, and re-exports the public names.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import Any

from rewardgym.errors import ConfigError
from rewardgym.leaderboard.episodes import (
    _execute_batch,
    close_actors,
    execute_job,
    make_env,
    run_episode,
)
from rewardgym.leaderboard.jobs import (
    BenchSummary,
    EpisodeJob,
    EpisodeOutcome,
    _key_values,
    agent_seed,
    env_version,
    plan,
)
from rewardgym.leaderboard.store import ResultsStore
from rewardgym.localonly import init_local_ray

__all__ = [
    "BenchSummary",
    "EpisodeJob",
    "EpisodeOutcome",
    "agent_seed",
    "close_actors",
    "env_version",
    "make_env",
    "plan",
    "run_bench",
    "run_episode",
]

log = logging.getLogger("rewardgym.leaderboard.runner")


def _run_local(jobs: list[EpisodeJob], keep_warm: bool) -> Iterator[EpisodeOutcome]:
    try:
        for job in jobs:
            yield execute_job(job)
    finally:
        if not keep_warm:
            close_actors()


def _batches(jobs: list[EpisodeJob]) -> list[list[EpisodeJob]]:
    """Group jobs by (agent, env) so a worker keeps one env and agent warm across a batch."""
    groups: dict[tuple[str, str, str, int | None], list[EpisodeJob]] = {}
    for job in jobs:
        groups.setdefault((job.agent, job.env_id, job.recipe, job.max_steps), []).append(job)
    out: list[list[EpisodeJob]] = []
    for group in groups.values():
        size = max(1, min(8, math.ceil(len(group) / 4)))
        out += [group[i : i + size] for i in range(0, len(group), size)]
    return out


def _run_processes(jobs: list[EpisodeJob], workers: int) -> Iterator[EpisodeOutcome]:
    import concurrent.futures as cf
    import multiprocessing as mp

    # spawn, not fork: the parent may hold threads (the progress bar) and torch state.
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_execute_batch, batch) for batch in _batches(jobs)]
        try:
            for fut in cf.as_completed(futures):
                yield from fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _run_ray(
    jobs: list[EpisodeJob], address: str | None, num_cpus: int | None
) -> Iterator[EpisodeOutcome]:
    try:
        import ray
    except ImportError as exc:
        from rewardgym.errors import DependencyNotInstalled

        raise DependencyNotInstalled("ray", "distributed", "--backend ray") from exc
    started = False
    runtime_env: dict | None = None
    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            # A local Ray contacts nothing beyond loopback (rewardgym.localonly).
            runtime_env = init_local_ray(num_cpus or 2)
        started = True
    try:
        remote = ray.remote(num_cpus=1, runtime_env=runtime_env)(_execute_batch)
        pending = [remote.remote(batch) for batch in _batches(jobs)]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield from ray.get(ref)
    finally:
        if started:
            ray.shutdown()


def run_bench(
    jobs: Sequence[EpisodeJob],
    store: ResultsStore,
    *,
    workers: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
    on_planned: Callable[[int, int], None] | None = None,
    on_episode: Callable[[EpisodeOutcome], None] | None = None,
    keep_warm: bool = False,
) -> BenchSummary:
    """Run every job not yet in ``store`` and store each result as it arrives.

    Args:
        jobs: from :func:`plan`.
        store: the results database (only this process writes to it).
        workers: local worker processes (1 = run in this process).
        backend: ``"local"`` or ``"ray"``.
        ray_address: a Ray cluster address (``"auto"``, ``"ray://host:10001"``); None starts a
            local Ray with ``workers`` CPUs.
        on_planned: called once with ``(to_run, skipped)``.
        on_episode: called after each episode (stored or failed), e.g. to advance a progress bar.
        keep_warm: with the local backend and one worker, leave this process's envs and agents
            open for the next ``run_bench`` (a notebook running several benches, or a
            benchmark); :func:`close_actors` closes them.

    Raises:
        ConfigError: on an unknown backend or ``workers < 1``.
    """
    if backend not in ("local", "ray"):
        raise ConfigError(f"unknown backend {backend!r}; use 'local' or 'ray'")
    if workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    t0 = time.perf_counter()
    done = store.done_keys()
    seen: set[tuple[Any, ...]] = set()
    todo: list[EpisodeJob] = []
    for job in jobs:
        key = _key_values(job)  # no EpisodeKey object per job: only set lookups need it
        if key in done or key in seen:
            continue
        seen.add(key)
        todo.append(job)
    summary = BenchSummary(planned=len(jobs), skipped=len(jobs) - len(todo))
    if on_planned is not None:
        on_planned(len(todo), summary.skipped)
    if backend == "ray":
        outcomes: Iterable[EpisodeOutcome] = _run_ray(todo, ray_address, workers)
    elif workers > 1 and len(todo) > 1:
        outcomes = _run_processes(todo, workers)
    else:
        outcomes = _run_local(todo, keep_warm)
    stored_before = store.stored
    for outcome in outcomes:
        summary.ran += 1
        row = outcome.row
        if row is not None:
            store.add(row)
        else:
            summary.failed.append((outcome.job, outcome.error or "unknown error"))
        if on_episode is not None:
            on_episode(outcome)
    store.flush()
    summary.stored = store.stored - stored_before
    summary.wall_s = time.perf_counter() - t0
    if log.isEnabledFor(logging.INFO):
        log.info("bench: %s", asdict(summary) | {"failed": len(summary.failed)})
    return summary
