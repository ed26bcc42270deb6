"""Playing one episode of a bench: building (and caching) each worker's env and agent, the two
play loops (summaries, or every step packed), and the row the store keeps
(:func:`run_episode`, :func:`execute_job`)."""

from __future__ import annotations

import json
import logging
import math
import time
from functools import lru_cache, reduce
from operator import add
from typing import Any

import rewardgym
from rewardgym.agents.registry import make_agent
from rewardgym.errors import AgenticEnvCheckError, ConfigError
from rewardgym.leaderboard.jobs import (
    EpisodeJob,
    EpisodeOutcome,
    _stored_env,
    agent_seed,
)
from rewardgym.leaderboard.store import summary_record
from rewardgym.records import StepColumns, component_sums, float_dict_json, to_jsonable

log = logging.getLogger("rewardgym.leaderboard.runner")


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
