"""What a bench run is made of: :class:`EpisodeJob` (one episode to play), :func:`plan` (a bench
request expanded into jobs), the outcomes and the run's summary, and the env-id and seeding
rules they follow (episode ``i`` of seed ``s``: env reset with ``s``, agent with a seed derived
from ``(s, i)``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from rewardgym.errors import ConfigError
from rewardgym.leaderboard.store import EpisodeKey

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


@lru_cache(maxsize=256)
def _stored_env(env_id: str) -> tuple[str, int]:
    """``(env_id, env_version)`` as the store keys them (see :attr:`EpisodeJob.key`)."""
    env_id = canonical_env_id(env_id)
    return env_id, env_version(env_id)


def _key_values(job: EpisodeJob) -> tuple[Any, ...]:
    """:attr:`EpisodeJob.key` as a plain tuple (equal to the key, and hashed the same)."""
    env_id, version = _stored_env(job.env_id)
    return (job.agent_key or job.agent, env_id, version, job.seed, job.episode_index, job.recipe)
