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
    # (registrations added by the dungeon family)

    # --- real NetHack through NLE (envs/dungeon/nle_backend) ---------------------------------
    # (registrations added by the NLE backend)
