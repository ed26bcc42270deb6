"""Checks of a bench request, run before any episode and before a results file is created.

A bench should fail in its first second on a typo, not after an hour, and never leave an empty
database behind for a request that could not run. :func:`check_request` names every unknown
agent, env id and recipe at once (with the nearest known names); :func:`probe_pairs` builds
each (agent, env) pair once and plays one step, so that an agent that cannot play an env (a
dungeon expert on a code task) is refused with the reason instead of failing every episode.
"""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from rewardgym.agents.registry import AGENT_ENTRY_POINTS
from rewardgym.errors import ConfigError
from rewardgym.registry import ENTRIES, EXTRA_PROBES, extra_available

__all__ = ["check_agents", "check_envs", "check_recipe", "check_request", "probe_pairs"]

log = logging.getLogger("rewardgym.leaderboard.checks")


def _nearest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


def check_agents(specs: Iterable[str]) -> list[str]:
    """Problems with agent ``specs``: unknown names (``rewardgym agents`` lists the known)."""
    problems = []
    for spec in specs:
        name = spec.partition(":")[0]
        if name not in AGENT_ENTRY_POINTS:
            problems.append(
                f"unknown agent {name!r}{_nearest(name, AGENT_ENTRY_POINTS)}; "
                "`rewardgym agents` lists the known ones"
            )
    return problems


def _env_problem(env_id: str) -> str | None:
    import gymnasium as gym

    module_name, _, name = env_id.rpartition(":")
    if module_name:
        try:
            importlib.import_module(module_name)
        except ImportError as exc:
            return f"env {env_id!r}: cannot import {module_name!r} ({exc})"
    entry = ENTRIES.get(name)
    if entry is not None and entry.multiagent:
        return (
            f"env {env_id!r} is multi-agent (PettingZoo); bench runs single-agent envs "
            "(`rewardgym list` marks them)"
        )
    try:
        gym.spec(name)
    except gym.error.Error:
        known = dict.fromkeys([*ENTRIES, *(k for k in gym.registry if k.startswith("rewardgym"))])
        return (
            f"unknown env id {env_id!r}{_nearest(name, known)}; `rewardgym list` shows the "
            "registered ids"
        )
    if entry is not None and not extra_available(entry.extra):
        probe = EXTRA_PROBES.get(entry.extra or "", entry.extra)
        return (
            f"env {env_id!r} needs the {entry.extra!r} extra ({probe} is not installed): "
            f"pip install 'rewardgym[{entry.extra}]'"
        )
    return None


def check_envs(env_ids: Iterable[str]) -> list[str]:
    """Problems with ``env_ids``: unknown, multi-agent, or needing an extra not installed."""
    return [p for p in (_env_problem(e) for e in dict.fromkeys(env_ids)) if p]


def check_recipe(recipe: str) -> list[str]:
    """Problems with the reward recipe (a name in ``RECIPES`` or a YAML path; ``""`` = none)."""
    if recipe in ("", "none"):
        return []
    try:
        from rewardgym.shaping.config import WRAPPERS, resolve_config
    except ImportError as exc:  # pragma: no cover - shaping ships with rewardgym
        return [f"--reward-recipe needs rewardgym.shaping ({exc})"]
    try:
        items = resolve_config(recipe)
    except ConfigError as exc:
        return [str(exc)]
    unknown = [i["name"] for i in items if i["name"] not in WRAPPERS]
    if unknown:
        return [f"recipe {recipe!r} names unknown wrappers {unknown}; known: {sorted(WRAPPERS)}"]
    return []


def check_request(
    agents: Sequence[str],
    envs: Sequence[str],
    *,
    recipe: str = "",
    workers: int = 1,
    backend: str = "local",
) -> None:
    """Check the names and numbers of a bench request, all at once.

    Raises:
        ConfigError: listing every problem found (one per line).
    """
    problems = [*check_agents(dict.fromkeys(agents)), *check_envs(envs), *check_recipe(recipe)]
    if workers < 1:
        problems.append(f"--workers must be >= 1, got {workers}")
    if backend not in ("local", "ray"):
        problems.append(f"unknown --backend {backend!r}; use 'local' or 'ray'")
    if problems:
        raise ConfigError("; ".join(problems) if len(problems) == 1 else _bullets(problems))


def _bullets(problems: list[str]) -> str:
    return f"{len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems)


def _probe(job: Any) -> None:
    from rewardgym.leaderboard.episodes import _actor
    from rewardgym.leaderboard.jobs import agent_seed

    actor = _actor(job)
    obs, info = actor.env.reset(seed=job.seed)
    actor.agent.reset(seed=agent_seed(job.seed, job.episode_index))
    try:
        action = actor.agent.act(obs, info)
    except Exception as exc:
        raise _PairError("the agent's act", exc) from exc
    try:
        actor.env.step(action)
    except Exception as exc:
        raise _PairError("the env's step on the agent's action", exc) from exc


class _PairError(Exception):
    def __init__(self, where: str, exc: BaseException) -> None:
        super().__init__(f"{type(exc).__name__}: {exc} (in {where})")


#: Agents that load a model and answer any text observation: probing them in this process
#: costs a model load the worker processes repeat, and finds little, so a run in other
#: processes (``keep=False``) does not probe them (a run in this process reuses the probe).
MODEL_AGENTS = frozenset({"llm-local", "llm-openai"})


def probe_pairs(jobs: Sequence[Any], *, keep: bool = False) -> None:
    """Build every distinct (agent, env, recipe, max_steps) of ``jobs`` once and play one step.

    The env is reset with the pair's first seed and the agent asked for one action, which the
    env then steps on. Built envs and agents are the runner's cached ones (``episodes._actor``):
    with ``keep`` they stay open for a run in this process to use; otherwise they are closed,
    and pairs of :data:`MODEL_AGENTS` are not probed.

    Raises:
        ConfigError: naming every pair that could not be built or played, and why.
    """
    from rewardgym.leaderboard.episodes import _ACTORS, close_actors

    problems: list[str] = []
    seen: set[tuple[Any, ...]] = set()
    try:
        for job in jobs:
            pair = (job.agent, job.env_id, job.recipe, job.max_steps)
            if pair in seen or (not keep and job.agent.partition(":")[0] in MODEL_AGENTS):
                continue
            seen.add(pair)
            try:
                _probe(job)
            except ConfigError as exc:
                problems.append(f"{job.agent} on {job.env_id}: {exc}")
            except _PairError as exc:
                problems.append(f"{job.agent} cannot play {job.env_id}: {exc}")
            except Exception as exc:
                problems.append(f"{job.agent} on {job.env_id}: {type(exc).__name__}: {exc}")
            else:
                continue
            log.debug("probe of %s failed", pair, exc_info=True)
            stale = _ACTORS.pop(pair, None)
            if stale is not None:
                try:
                    stale.close()
                except Exception:
                    log.exception("closing the probed %s failed", pair)
    except BaseException:
        close_actors()
        raise
    if problems or not keep:
        close_actors()
    if problems:
        raise ConfigError(problems[0] if len(problems) == 1 else _bullets(problems))
