"""The bench runner: agents x envs x seeds x episodes, each episode stored as it finishes.

:func:`plan` expands a bench request into :class:`EpisodeJob` s; :func:`run_bench` skips the
ones already in the :class:`~rewardgym.leaderboard.store.ResultsStore`, runs the rest in this
process, in worker processes (``workers > 1``) or as Ray tasks (``backend="ray"``), and writes
each finished episode from this process (one writer, one commit per episode).

Seeding: episode ``i`` of seed ``s`` resets the env with seed ``s`` (so all episodes of a seed
are samples of the *same* task instance, which is what pass@k needs) and the agent with a seed
derived from ``(s, i)``. The score is the raw ``task`` component, summed over the episode:
a ``--reward-recipe`` changes what a learner would see, never the score.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache, reduce
from operator import add
from typing import Any

import numpy as np

import rewardgym
from rewardgym.agents.registry import make_agent
from rewardgym.errors import AgenticEnvCheckError, ConfigError
from rewardgym.leaderboard.store import EpisodeKey, ResultsStore, summary_record
from rewardgym.localonly import init_local_ray
from rewardgym.records import StepColumns, component_sums, float_dict_json, to_jsonable

__all__ = [
    "BenchSummary",
    "EpisodeJob",
    "EpisodeOutcome",
    "agent_seed",
    "env_version",
    "make_env",
    "plan",
    "run_bench",
    "run_episode",
]

log = logging.getLogger("rewardgym.leaderboard.runner")

_VERSION_RE = re.compile(r"-v(\d+)$")


def env_version(env_id: str) -> int:
    """The version number of ``rewardgym/<Name>-v<N>`` (0 when the id has none)."""
    m = _VERSION_RE.search(env_id)
    return int(m.group(1)) if m else 0


def canonical_env_id(env_id: str) -> str:
    """``module:Name-v0`` (Gymnasium's import-then-make form) stored as ``Name-v0``."""
    return env_id.rpartition(":")[2]


def agent_seed(seed: int, episode_index: int) -> int:
    """The agent's seed for episode ``episode_index`` of env seed ``seed`` (index 0 -> seed)."""
    if episode_index == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), int(episode_index)]).generate_state(1)[0])


@dataclass(frozen=True, slots=True)
class EpisodeJob:
    """One episode to run: what the store's unique key is made of, plus how to run it."""

    agent: str
    env_id: str
    seed: int
    episode_index: int = 0
    recipe: str = ""
    max_steps: int | None = None
    #: Also store every step (action, reward, components, weights) in the episode's record JSON;
    #: off (the default) = the episode summary (component sums, costs), all scoring needs.
    record_steps: bool = False
    #: What the agent is (``rewardgym.leaderboard.identity.agent_identity``): the store keys
    #: and shows the episode under it; empty = the spec itself.
    agent_key: str = ""

    @property
    def key(self) -> EpisodeKey:
        return EpisodeKey._make(_key_values(self))


@dataclass(slots=True)
class EpisodeOutcome:
    """A finished episode: the store row, or the error that stopped it."""

    job: EpisodeJob
    row: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class BenchSummary:
    """What :func:`run_bench` did."""

    planned: int = 0
    skipped: int = 0
    ran: int = 0
    stored: int = 0
    failed: list[tuple[EpisodeJob, str]] = field(default_factory=list)
    wall_s: float = 0.0


def plan(
    agents: Sequence[str],
    envs: Sequence[str],
    seeds: Sequence[int],
    *,
    episodes: int = 1,
    recipe: str = "",
    max_steps: int | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    record_steps: bool = False,
    identities: Mapping[str, str] | None = None,
) -> list[EpisodeJob]:
    """Expand a bench request into jobs, env-major so progress fills one env at a time.

    Args:
        agents: agent specs (``make_agent`` names).
        envs: env ids.
        seeds: env seeds; each is one task instance.
        episodes: samples per (agent, env, seed); more than one enables pass@k.
        recipe: a shaping recipe name (``""`` = the env's own reward).
        max_steps: optional cap passed to ``gym.make(max_episode_steps=...)``.
        pairs: explicit (agent, env) pairs instead of the full cross product.
        record_steps: store each step's record in the episode JSON (not part of the key).
        identities: agent spec -> identity (``identity.agent_identity``), the name the store
            keys the agent's episodes by; a spec not in it is keyed by itself.

    Raises:
        ConfigError: on an empty request, ``episodes < 1``, ``max_steps < 1`` or a negative
            seed.
    """
    if episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {episodes}")
    if max_steps is not None and max_steps < 1:
        raise ConfigError(f"--max-steps must be >= 1 (or left out), got {max_steps}")
    negative = [s for s in seeds if int(s) < 0]
    if negative:
        raise ConfigError(f"seeds must be >= 0, got {negative[:5]}")
    identities = identities or {}
    recipe = "" if recipe in ("", "none") else recipe
    combos = list(pairs) if pairs is not None else [(a, e) for e in envs for a in agents]
    if not combos or not seeds:
        raise ConfigError("nothing to run: give at least one agent, one env and one seed")
    return [
        EpisodeJob(a, e, int(s), i, recipe, max_steps, record_steps, identities.get(a, ""))
        for a, e in combos
        for s in seeds
        for i in range(episodes)
    ]


# -- running one episode ------------------------------------------------------------------------


def make_env(env_id: str, recipe: str = "", max_steps: int | None = None) -> Any:
    """``gym.make(env_id)``, wrapped by the shaping recipe when one is named.

    Raises:
        ConfigError: if a recipe is named but ``rewardgym.shaping.from_config`` is unavailable.
    """
    import gymnasium as gym

    kwargs: dict[str, Any] = {}
    if max_steps is not None:
        kwargs["max_episode_steps"] = int(max_steps)
    env = gym.make(env_id, **kwargs)
    if recipe and recipe != "none":
        try:
            from rewardgym.shaping import from_config
        except ImportError:
            env.close()
            raise ConfigError(
                f"--reward-recipe {recipe!r} needs rewardgym.shaping.from_config, which this "
                "install lacks; run without --reward-recipe"
            ) from None
        env = from_config(env, recipe)
    return env


def recipe_spec(env: Any) -> list[dict[str, Any]]:
    """The ``spec()`` of every shaping wrapper around ``env``, innermost first."""
    try:
        from rewardgym.shaping.wrappers import stack_spec
    except ImportError:
        return []
    return to_jsonable(stack_spec(env))


class _Actor:
    """An env and an agent kept warm across episodes of the same (agent, env, recipe)."""

    def __init__(self, job: EpisodeJob) -> None:
        self.env = make_env(job.env_id, job.recipe, job.max_steps)
        try:
            self.agent = make_agent(job.agent, self.env)
        except BaseException:
            self.env.close()
            raise
        self.spec = recipe_spec(self.env) if job.recipe else []

    def close(self) -> None:
        closer = getattr(self.agent, "close", None)
        if callable(closer):
            closer()
        self.env.close()


_ACTORS: dict[tuple[str, str, str, int | None], _Actor] = {}


def _actor(job: EpisodeJob) -> _Actor:
    key = (job.agent, job.env_id, job.recipe, job.max_steps)
    actor = _ACTORS.get(key)
    if actor is None:
        actor = _ACTORS[key] = _Actor(job)
    return actor


def close_actors() -> None:
    """Close every cached env and agent of this process."""
    while _ACTORS:
        _, actor = _ACTORS.popitem()
        try:
            actor.close()
        except Exception:  # closing is best effort; the results are already stored
            log.exception("closing an actor failed")


@lru_cache(maxsize=256)
def _stored_env(env_id: str) -> tuple[str, int]:
    """``(env_id, env_version)`` as the store keys them (see :attr:`EpisodeJob.key`)."""
    env_id = canonical_env_id(env_id)
    return env_id, env_version(env_id)


def _key_values(job: EpisodeJob) -> tuple[Any, ...]:
    """:attr:`EpisodeJob.key` as a plain tuple (equal to the key, and hashed the same)."""
    env_id, version = _stored_env(job.env_id)
    return (job.agent_key or job.agent, env_id, version, job.seed, job.episode_index, job.recipe)


@lru_cache(maxsize=64)
def _empty_spec_json(recipe: str) -> str:
    return json.dumps({"name": recipe, "wrappers": []}, sort_keys=True)


_SORTED_JSON = json.JSONEncoder(sort_keys=True).encode
# numpy floats are floats to json; other numpy values go through to_jsonable
_RECORD_JSON = json.JSONEncoder(separators=(",", ":"), default=to_jsonable).encode
_STEP_INFO_KEYS = ("reward_components", "reward_weights", "invalid_action")


def _check_info_keys(env_id: str, info: Any, exc: KeyError) -> None:
    """Raise the contract error for a step ``info`` without the keys the runner reads; return
    if it has them (the KeyError ``exc`` came from the agent or the env: the caller re-raises
    it as it is)."""
    missing = [k for k in _STEP_INFO_KEYS if k not in info]
    if missing:
        raise AgenticEnvCheckError(
            "info-keys",
            f"{env_id}: step info lacks {missing}; every rewardgym env reports them "
            "(rewardgym.contract.REQUIRED_INFO_KEYS)",
        ) from exc


class _Played:
    """What one episode left behind, in per-value lists (see :func:`run_episode`)."""

    __slots__ = (
        "actions",
        "comps",
        "info",
        "invalid",
        "rewards",
        "terminated",
        "total",
        "truncated",
        "weight_changes",
    )

    def __init__(self) -> None:
        self.rewards: list[Any] = []  # recorded only
        self.total: Any = 0.0  # the rewards added up in step order
        self.comps: list[Any] = []
        self.invalid: list[Any] = []  # recorded: one entry per step; summary: the invalid ones
        self.actions: list[Any] = []  # recorded only
        self.weight_changes: list[tuple[int, Any]] = []  # recorded only
        self.info: Any = None
        self.terminated = self.truncated = False


def _play_summary(env_id: str, env: Any, agent: Any, obs: Any, info: Any) -> _Played:
    """Step to the end of the episode keeping what the episode summary needs.

    The rewards are added up as they come rather than kept: every object the loop keeps alive
    costs the env's own allocations measurably (~0.1 µs a step for a list of floats).
    """
    out = _Played()
    keep_comps, keep_invalid = out.comps.append, out.invalid.append
    act, step = agent.act, env.step
    total = 0.0
    try:
        while True:
            obs, reward, terminated, truncated, info = step(act(obs, info))
            total += reward
            keep_comps(info["reward_components"])
            if info["invalid_action"]:
                keep_invalid(info["invalid_action"])
            if terminated or truncated:
                break
    except KeyError as exc:
        _check_info_keys(env_id, info, exc)
        raise
    out.info, out.terminated, out.truncated, out.total = info, terminated, truncated, total
    return out


def _play_recorded(env_id: str, env: Any, agent: Any, obs: Any, info: Any) -> _Played:
    """Step to the end of the episode keeping every step's action, reward and reward values.

    Weights are kept only when they change: keeping every step's copy of the same weights
    measurably slows the env's own allocations.
    """
    out = _Played()
    keep_action, keep_reward = out.actions.append, out.rewards.append
    keep_comps, keep_invalid = out.comps.append, out.invalid.append
    changes = out.weight_changes
    act, step = agent.act, env.step
    weights = None
    try:
        while True:
            action = act(obs, info)
            obs, reward, terminated, truncated, info = step(action)
            keep_action(action)
            keep_reward(reward)
            keep_comps(info["reward_components"])
            keep_invalid(info["invalid_action"])
            if info["reward_weights"] != weights or not changes:
                weights = info["reward_weights"]
                changes.append((len(out.rewards) - 1, weights))
            if terminated or truncated:
                break
    except KeyError as exc:
        _check_info_keys(env_id, info, exc)
        raise
    out.info, out.terminated, out.truncated = info, terminated, truncated
    out.total = reduce(add, out.rewards, 0.0)  # what the summary loop adds up, in the same order
    return out


def run_episode(job: EpisodeJob, env: Any, agent: Any, spec: list[dict[str, Any]]) -> dict:
    """Run one episode of ``agent`` on ``env`` and return the store row for it.

    The per-step work is the agent's ``act``, the env's ``step``, adding up the reward, and
    appending the env's dict of component values and any invalid-action reason to lists (with
    ``job.record_steps`` also the reward, the action, every step's reason and the weights when
    they change): not the whole ``info``, which can be large, and no tuple per step, since a
    burst of new tracked objects sets off the garbage collector, which costs more than the
    bookkeeping itself. After the episode, component sums are taken column by column
    (``math.fsum``); ``total_reward`` is the rewards added in step order, the same in both
    modes. With ``job.record_steps`` the steps are packed
    (:class:`~rewardgym.records.StepColumns`; a plain ``steps`` list when their keys vary) into
    the ``EpisodeRecord`` JSON; without, ``record_json`` is left empty and the store rebuilds
    the (stepless) record from the row's columns. What this costs next to a bare loop:
    benchmarks/bench_runner.py, docs/performance.md.

    Raises:
        AgenticEnvCheckError: if a step's ``info`` lacks ``reward_components``,
            ``reward_weights`` or ``invalid_action`` (ARCHITECTURE.md §2).
    """
    a_seed = agent_seed(job.seed, job.episode_index)
    t0 = time.perf_counter()
    agent.reset(seed=a_seed)
    obs, info = env.reset(seed=job.seed)
    recorded = job.record_steps
    played = (_play_recorded if recorded else _play_summary)(job.env_id, env, agent, obs, info)
    wall_s = time.perf_counter() - t0
    info, rewards = played.info, played.rewards
    length = len(played.comps)
    columns = None
    if recorded:
        columns = StepColumns.pack(
            played.actions,
            rewards,
            played.comps,
            played.weight_changes,
            played.invalid,
            terminated=played.terminated,
            truncated=played.truncated,
        )
        sums = None if columns is None else columns.component_sums
        n_invalid = length - played.invalid.count(None) - played.invalid.count("")
    else:
        sums = component_sums(played.comps)
        n_invalid = len(played.invalid)
    steps = None
    if sums is None:  # the component keys vary between steps: the generic form
        sums, steps = _plain_steps(played, recorded)
    cost = info.get("cost")
    cost = {k: float(v) for k, v in cost.items()} if cost else {}
    usage = getattr(agent, "usage", None)
    if callable(usage):
        for k, v in usage().items():
            cost[k] = cost.get(k, 0.0) + float(v)
    env_id, version = _stored_env(job.env_id)
    success = info.get("success")
    if success is None and played.truncated and not played.terminated:
        success = False  # cut short (a time limit) without success: a failure in every rate
    task_return = float(sums.get("task", 0.0))
    if not math.isfinite(task_return):
        raise ValueError(f"{env_id} reported a non-finite task return {task_return}")
    row = {
        "agent": job.agent_key or job.agent,
        "env_id": env_id,
        "env_version": version,
        "seed": job.seed,
        "episode_index": job.episode_index,
        "recipe": job.recipe,
        "task_id": str(info.get("task_id", "")),
        "episode_id": str(info.get("episode_id", "")),
        "task_return": task_return,
        "total_reward": float(played.total),
        "success": None if success is None else int(bool(success)),
        "length": length,
        "invalid_actions": n_invalid,
        "components_json": float_dict_json(sums),
        "cost_json": float_dict_json(cost),
        "wall_s": wall_s,
        "rewardgym_version": rewardgym.__version__,
        "recipe_spec_json": (
            _SORTED_JSON({"name": job.recipe, "wrappers": spec})
            if spec
            else _empty_spec_json(job.recipe)
        ),
        "record_json": "",
    }
    if recorded:
        record = summary_record(row, cost=cost, recipe_spec=spec)
        record["metadata"].update(agent_seed=a_seed, steps_recorded=True)
        if steps is None:
            del record["steps"]
            record["step_columns"] = columns.packed
        else:
            record["steps"] = steps
        row["record_json"] = _RECORD_JSON(record)
    return row


def _plain_steps(played: _Played, record_steps: bool) -> tuple[dict[str, float], list[dict]]:
    """Component sums and ``StepRecord`` dicts, for steps whose component keys vary."""
    terms: dict[str, list[float]] = {}
    for step_comps in played.comps:
        for k, v in step_comps.items():
            terms.setdefault(k, []).append(float(v))
    sums = {k: math.fsum(vs) for k, vs in terms.items()}
    if not record_steps:
        return sums, []
    steps: list[dict[str, Any]] = []
    last = len(played.rewards) - 1
    changes = dict(played.weight_changes)
    weights = changes[0]
    values = zip(played.actions, played.rewards, played.comps, played.invalid)
    for i, (action, reward, step_comps, why) in enumerate(values):
        weights = changes.get(i, weights)
        steps.append(
            {
                "step": i + 1,
                "action": action if type(action) in (int, str) else to_jsonable(action),
                "reward": reward,
                # the env's own dicts, not copies: envs build fresh ones every step
                "reward_components": step_comps,
                "reward_weights": weights,
                "terminated": i == last and bool(played.terminated),
                "truncated": i == last and bool(played.truncated),
                "invalid_action": why,
                "extras": {},
            }
        )
    return sums, steps


def execute_job(job: EpisodeJob) -> EpisodeOutcome:
    """Run ``job`` with this process's cached env/agent; errors come back as text."""
    try:
        actor = _actor(job)
        return EpisodeOutcome(job, run_episode(job, actor.env, actor.agent, actor.spec))
    except Exception as exc:
        log.exception("episode %s failed", job)
        # A failed episode may leave the env or agent in a bad state: rebuild them next time.
        stale = _ACTORS.pop((job.agent, job.env_id, job.recipe, job.max_steps), None)
        if stale is not None:
            try:
                stale.close()
            except Exception:
                log.exception("closing a failed actor")
        return EpisodeOutcome(job, error=f"{type(exc).__name__}: {exc}")


def _execute_batch(jobs: list[EpisodeJob]) -> list[EpisodeOutcome]:
    return [execute_job(j) for j in jobs]


# -- backends ----------------------------------------------------------------------------------


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
