"""Agents by name, with string entry points so that naming an agent imports nothing heavy.

``make_agent("random", env)`` builds an agent for an env; a spec may carry an argument after a
colon (``"llm-local:/path/to/model"``, ``"ppo:runs/ppo/model.zip"``,
``"cheater:exit-zero"``). Each family adds its experts and baselines here.
"""

from __future__ import annotations

import importlib
from typing import Any

from rewardgym.errors import ConfigError

__all__ = ["AGENT_ENTRY_POINTS", "make_agent"]

#: name -> "module:factory"; the factory is called as ``factory(env, arg, **kwargs)`` where
#: ``arg`` is the text after the colon of the spec (or None).
AGENT_ENTRY_POINTS: dict[str, str] = {
    # --- baselines (agents/baselines.py) ---
    "random": "rewardgym.agents.baselines:make_random_agent",
    # --- code family ---
    "code-oracle": "rewardgym.agents.code_agents:make_reference_agent",
    "cheater": "rewardgym.agents.cheaters:make_cheater",
    # --- dungeon family ---
    "dungeon-expert": "rewardgym.agents.dungeon_agents:make_dungeon_expert",
    "ppo": "rewardgym.agents.sb3:make_ppo_agent",
    # --- LLM agents ---
    "llm-local": "rewardgym.agents.llm_agents:make_local_llm_agent",
    "llm-openai": "rewardgym.agents.llm_agents:make_openai_llm_agent",
}


def make_agent(spec: str, env: Any, **kwargs: Any) -> Any:
    """Build the agent named by ``spec`` (``name`` or ``name:arg``) for ``env``.

    Raises:
        ConfigError: if the name is unknown (the message lists the known ones).
    """
    name, _, arg = spec.partition(":")
    entry = AGENT_ENTRY_POINTS.get(name)
    if entry is None:
        raise ConfigError(f"unknown agent {name!r}; known agents: {sorted(AGENT_ENTRY_POINTS)}")
    module_name, _, attr = entry.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(env, arg or None, **kwargs)
