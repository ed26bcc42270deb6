"""Named bench presets (``rewardgym bench --suite quick``).

A suite is a list of (agent, env) pairs, seeds and episodes. The ``quick`` suite is built from
whatever is installed and registered when it runs: for every single-agent env family it takes
one small env and runs the random baseline, the tiny local LLM agent, and the family's scripted
experts and adversarial baselines (those that are registered). It is what ``make demo`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from rewardgym.agents.registry import AGENT_ENTRY_POINTS
from rewardgym.errors import ConfigError
from rewardgym.registry import ENTRIES, extra_available

__all__ = ["FAMILY_AGENTS", "FAMILY_QUICK_ENVS", "SUITES", "Suite", "get_suite"]

#: The envs each family contributes to the quick suite (its first registered one if none of
#: these is). The impossible code tasks are the cheating canary: every agent must score 0.
FAMILY_QUICK_ENVS: dict[str, tuple[str, ...]] = {
    "code": (
        "rewardgym/CodeExec-v0",
        "rewardgym/CodeExec-Bank-v0",
        "rewardgym/CodeExec-Impossible-v0",
    ),
    "dungeon": ("rewardgym/Dungeon-Staircase-v0", "rewardgym/Dungeon-Staircase-M-v0"),
    "nethack": (),  # real NetHack episodes are long: not in the quick suite
    # SOP (semi-online) and online success of the same agents, side by side (gui_board.py).
    "gui": ("rewardgym/GUI-SemiOnline-v0", "rewardgym/GUI-Online-v0"),
    "toy": (),  # trainer learning-test fixtures, not a benchmark
    # The closed-book arm gives MASH's abstention buckets (leaderboard/search_board.py).
    "search": ("rewardgym/SearchQA-v0", "rewardgym/SearchQA-NoSearch-v0"),
}

#: Family-specific baselines: scripted experts and adversarial ones (cheaters).
FAMILY_AGENTS: dict[str, tuple[str, ...]] = {
    "code": ("code-oracle", "cheater:exit-zero", "cheater:always-equal"),
    "dungeon": ("dungeon-expert",),
    "gui": ("gui-expert", "gui-noisy:0.1"),
    "search": ("search-oracle", "memoriser:0.5", "always-search", "never-search", "abstainer"),
}

#: Agents run on every family.
COMMON_AGENTS: tuple[str, ...] = ("random", "llm-local:tiny")


@dataclass(frozen=True)
class Suite:
    """A bench preset: (agent, env) pairs run over ``seeds`` with ``episodes`` each."""

    name: str
    pairs: tuple[tuple[str, str], ...]
    seeds: tuple[int, ...]
    episodes: int = 1
    max_steps: int | None = None


def _registered(agent: str) -> bool:
    return agent.partition(":")[0] in AGENT_ENTRY_POINTS


def quick_suite() -> Suite:
    """Every installed single-agent family, its quick envs, the baselines, 5 seeds."""
    pairs: list[tuple[str, str]] = []
    families = sorted({e.family for e in ENTRIES.values() if not e.multiagent})
    for family in families:
        entries = [
            e
            for e in ENTRIES.values()
            if e.family == family and not e.multiagent and extra_available(e.extra)
        ]
        if not entries:
            continue
        wanted = FAMILY_QUICK_ENVS.get(family)
        if wanted == ():
            continue
        ids = [e.id for e in entries]
        env_ids = [w for w in wanted or () if w in ids] or ids[:1]
        agents = [a for a in (*COMMON_AGENTS, *FAMILY_AGENTS.get(family, ())) if _registered(a)]
        pairs += [(a, env_id) for env_id in env_ids for a in agents]
    if not pairs:
        raise ConfigError("no env family is registered and installed: nothing to bench")
    return Suite("quick", tuple(pairs), seeds=(0, 1, 2, 3, 4), episodes=1, max_steps=200)


SUITES = {"quick": quick_suite}


def get_suite(name: str) -> Suite:
    """The suite preset ``name``.

    Raises:
        ConfigError: for an unknown name (the message lists the known ones).
    """
    factory = SUITES.get(name)
    if factory is None:
        raise ConfigError(f"unknown suite {name!r}; known suites: {sorted(SUITES)}")
    return factory()
