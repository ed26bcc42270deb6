"""Every environment id rewardgym provides, registered with string entry points.

This module is the single place where ``gymnasium.register`` is called (the Gymnasium pattern):
importing it imports no environment code, so ``import rewardgym`` stays light, and
``gym.make("rewardgym/<Name>-v<N>")`` imports the env module only when it is made.

Each entry also records a one-line description, its family and the pip extra it needs, which
``rewardgym list`` shows and the registered-env tests use to skip what is not installed.
Multi-agent (PettingZoo) envs are listed here too and made with :func:`make_parallel`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Any

import gymnasium

from rewardgym.errors import ConfigError, DependencyNotInstalled

__all__ = ["ENTRIES", "EnvEntry", "extra_available", "make_parallel", "register_all"]

#: The module whose presence means an extra is installed.
EXTRA_PROBES: dict[str, str] = {
    "docker": "docker",
    "nethack": "nle",
    "llm": "transformers",
    "train": "stable_baselines3",
    "distributed": "ray",
    "search": "bm25s",
    "gui": "PIL",
    "miniwob": "miniwob",
    "social": "openskill",
}


@dataclass(frozen=True)
class EnvEntry:
    """What the registry knows about one env id."""

    id: str
    entry_point: str
    description: str
    family: str
    extra: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    max_episode_steps: int | None = None
    multiagent: bool = False


ENTRIES: dict[str, EnvEntry] = {}


def extra_available(extra: str | None) -> bool:
    """Whether the pip extra ``extra`` (None = core) is installed."""
    if extra is None:
        return True
    probe = EXTRA_PROBES.get(extra, extra)
    return importlib.util.find_spec(probe) is not None


def _register(
    env_id: str,
    entry_point: str,
    *,
    description: str,
    family: str,
    extra: str | None = None,
    kwargs: dict[str, Any] | None = None,
    max_episode_steps: int | None = None,
    multiagent: bool = False,
) -> None:
    entry = EnvEntry(
        id=env_id,
        entry_point=entry_point,
        description=description,
        family=family,
        extra=extra,
        kwargs=dict(kwargs or {}),
        max_episode_steps=max_episode_steps,
        multiagent=multiagent,
    )
    ENTRIES[env_id] = entry
    if not multiagent and env_id not in gymnasium.registry:
        gymnasium.register(
            id=env_id,
            entry_point=entry_point,
            kwargs=entry.kwargs,
            max_episode_steps=max_episode_steps,
        )


def make_parallel(env_id: str, **kwargs: Any) -> Any:
    """Make the PettingZoo ``ParallelEnv`` registered as ``env_id``.

    Raises:
        ConfigError: if ``env_id`` is not a registered multi-agent env.
        DependencyNotInstalled: if the extra it needs is missing.
    """
    entry = ENTRIES.get(env_id)
    if entry is None or not entry.multiagent:
        known = sorted(e.id for e in ENTRIES.values() if e.multiagent)
        raise ConfigError(f"{env_id!r} is not a registered multi-agent env; known: {known}")
    if not extra_available(entry.extra):
        raise DependencyNotInstalled(
            EXTRA_PROBES.get(entry.extra, entry.extra), entry.extra, env_id
        )
    module_name, _, attr = entry.entry_point.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(**{**entry.kwargs, **kwargs})


def register_all() -> None:
    """Register every rewardgym env id (idempotent; called by ``import rewardgym``)."""
    if ENTRIES:
        return

    # --- code execution (envs/code) -------------------------------------------------------
    code_env = "rewardgym.envs.code.env:CodeExecEnv"
    _register(
        "rewardgym/CodeExec-v0",
        code_env,
        description="HumanEval (164 problems) graded per assertion in a sandbox",
        family="code",
    )
    _register(
        "rewardgym/CodeExec-Bank-v0",
        code_env,
        description="our own problem bank, >= 8 graded tests per problem",
        family="code",
        kwargs={"source": "bank"},
    )
    _register(
        "rewardgym/CodeExec-Repair-v0",
        code_env,
        description="HumanEval with 3 attempts and test feedback (multi-turn repair)",
        family="code",
        kwargs={"max_attempts": 3},
    )
    _register(
        "rewardgym/CodeExec-Impossible-v0",
        code_env,
        description="HumanEval plus a spec-contradicting test: task must be 0 (cheating canary)",
        family="code",
        kwargs={"impossible": True},
    )

    # --- dungeon: our own NetHack-style roguelike (envs/dungeon) -----------------------------
    _tasks = "rewardgym.envs.dungeon.tasks:"
    _small = {"height": 6, "width": 6, "rooms": 1, "room_min": 4, "room_max": 4, "gold_piles": 0,
              "food": 0, "monsters": 0, "traps": 0}  # fmt: skip
    _medium = {"height": 15, "width": 40, "rooms": 4, "room_min": 3, "room_max": 7,
               "gold_piles": 2, "monsters": 1, "traps": 1}  # fmt: skip
    _large = {"height": 21, "width": 79, "rooms": 8, "monsters": 3, "traps": 3}
    for _id, _cls, _desc, _kw in (
        ("Staircase", "StaircaseEnv", "reach and descend the stairs; one 4x4 room (smallest)",
         {**_small, "max_steps": 50}),
        ("Staircase-M", "StaircaseEnv", "reach and descend the stairs; 4 rooms, 15x40",
         {**_medium, "max_steps": 300}),
        ("Staircase-L", "StaircaseEnv", "reach and descend the stairs; NetHack-sized 21x79 level",
         {**_large, "max_steps": 1000}),
        ("Descend", "DescendEnv", "reach dungeon level 3 (hard sparse task); 15x40 levels",
         {**_medium, "target_depth": 3, "max_steps": 1000}),
        ("Gold", "GoldEnv", "collect 50 gold; 15x40 levels, 5 gold piles each",
         {**_medium, "gold_piles": 5, "target_gold": 50, "max_steps": 500}),
        ("Eat", "EatEnv", "find food and eat it before starving (300 nutrition); 15x40",
         {**_medium, "food": 2, "start_nutrition": 300, "max_steps": 500}),
        ("KeyDoor", "KeyDoorEnv", "fetch the key, unlock the stairs room, reach the stairs; 15x40",
         {**_medium, "rooms": 3, "monsters": 0, "max_steps": 400}),
        ("Scout", "ScoutEnv", "reveal 60% of a 21x79 level",
         {**_large, "explore_fraction": 0.6, "max_steps": 1000}),
    ):  # fmt: skip
        _register(
            f"rewardgym/Dungeon-{_id}-v0",
            _tasks + _cls,
            description=_desc,
            family="dungeon",
            kwargs=_kw,
            max_episode_steps=_kw["max_steps"],
        )

    # --- social deduction, multi-agent (envs/social; made with make_parallel) ---------------
    for _id, _desc, _kw in (
        ("SocialDeduction", "Among Us-like: 5 players, 1 imposter, 3x2 rooms (the paper's)", {}),
        ("SocialDeduction-Small", "4 players, 1 imposter, 2x2 rooms, 3 tasks (fast games)",
         {"num_players": 4, "width": 2, "height": 2, "num_tasks": 3}),
        ("SocialDeduction-Large", "10 players, 2 imposters, 4x3 rooms",
         {"num_players": 10, "num_imposters": 2, "width": 4, "height": 3}),
        ("SocialDeduction-NoTalk", "5 players, 1 imposter; surveys and votes, no messages",
         {"messages_per_player": 0}),
        ("SocialDeduction-LongTasks", "5 players; 10 tasks, kill cooldown 10: the crew must "
         "find the imposter before finishing", {"num_tasks": 10, "kill_cooldown": 10}),
    ):  # fmt: skip
        _register(
            f"rewardgym/{_id}-v0",
            "rewardgym.envs.social.env:parallel_env",
            description=_desc,
            family="social",
            kwargs=_kw,
            multiagent=True,
        )

    # --- real NetHack through NLE (envs/dungeon/nle_backend) ---------------------------------
    for _id, _task, _desc in (
        ("Staircase", "staircase", "real NetHack: find and descend the first staircase (NLE)"),
        ("Gold", "gold", "real NetHack: collect gold (NLE gold task)"),
        ("Eat", "eat", "real NetHack: relieve hunger by eating (NLE eat task)"),
        ("Scout", "scout", "real NetHack: see as many map cells as possible (NLE scout task)"),
        ("Score", "score", "real NetHack: in-game score (NLE score task)"),
    ):
        _register(
            f"rewardgym/NLE-{_id}-v0",
            "rewardgym.envs.dungeon.nle_backend:NLETaskEnv",
            description=_desc,
            family="nethack",
            extra="nethack",
            kwargs={"task": _task, "max_steps": 1000},
            max_episode_steps=1000,
        )

    # --- GUI: a simulated phone and UI-S1's semi-online mode (envs/gui) ---------------------
    for _id, _cls, _desc in (
        ("GUI-Online", "gui.env:GuiOnlineEnv",
         "simulated phone, 8 apps, 46 task templates; sparse task reward from the app state"),
        ("GUI-SemiOnline", "gui.semionline:GuiSemiOnlineEnv",
         "UI-S1 semi-online replay of expert phone trajectories; step score, patch module"),
        ("GUI-Offline", "gui.semionline:GuiOfflineEnv",
         "one step of an expert phone trajectory: single-step action accuracy"),
    ):  # fmt: skip
        _register(
            f"rewardgym/{_id}-v0",
            f"rewardgym.envs.{_cls}",
            description=_desc,
            family="gui",
            extra="gui",
        )

    _register(
        "rewardgym/MiniWoB-v0",
        "rewardgym.envs.gui.miniwob_env:MiniWoBEnv",
        description="16 MiniWoB++ pages in headless Chromium with the GUI action schema",
        family="gui",
        extra="miniwob",
    )
    _register(
        "rewardgym/MiniWoB-SemiOnline-v0",
        "rewardgym.envs.gui.miniwob_env:MiniWoBSemiOnlineEnv",
        description="UI-S1 semi-online replay of MiniWoB++ trajectories recorded from solvers",
        family="gui",
        extra="miniwob",
    )

    # --- toy text envs for trainers' learning tests (envs/toy) ------------------------------
    _register(
        "rewardgym/Toy-Letters-v0",
        "rewardgym.envs.toy.env:LetterSetEnv",
        description="toy text task: reply using only a given set of letters (dense reward)",
        family="toy",
    )

    # --- tool-use search QA with pay-per-search (envs/search) --------------------------------
    _search = "rewardgym.envs.search.env:SearchQAEnv"
    for _id, _desc, _kw in (
        ("SearchQA", "synthetic-world QA, all question kinds; pay per search (MASH)", {}),
        ("SearchQA-Hop1", "synthetic-world single-hop questions", {"kinds": ["single-hop"]}),
        ("SearchQA-Hop2", "synthetic-world bridge (2-hop) questions", {"kinds": ["bridge"]}),
        ("SearchQA-Compare", "synthetic-world comparison questions", {"kinds": ["comparison"]}),
        ("SearchQA-Unanswerable", "synthetic-world unanswerable questions: abstain",
         {"kinds": ["unanswerable"]}),
        ("SearchQA-NoSearch", "synthetic-world QA with search disabled (closed-book arm)",
         {"max_searches": 0, "max_opens": 0}),
        ("SearchQA-Budget", "synthetic-world QA with a spend budget of 2 searches",
         {"budget": 2.0}),
        ("SearchQA-JSONL", "your NQ-open/HotpotQA JSONL questions and corpus (default: sample)",
         {"source": "jsonl"}),
    ):  # fmt: skip
        _register(
            f"rewardgym/{_id}-v0",
            _search,
            description=_desc,
            family="search",
            extra="search",
            kwargs=_kw,
        )
