"""Agents by name, with string entry points so that naming an agent imports nothing heavy.

``make_agent("random", env)`` builds an agent for an env; a spec may carry an argument after a
colon (``"llm-local:/path/to/model"``, ``"ppo:runs/ppo/model.zip"``,
``"cheater:exit-zero"``). Each family adds its experts and baselines here.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from dataclasses import dataclass
from typing import Any

from rewardgym.errors import ConfigError

__all__ = ["AGENT_ENTRY_POINTS", "AgentInfo", "describe_agents", "make_agent"]

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
    # --- social deduction, one agent per seat (agents/social_agents.py, social_llm.py) ---
    "social-random": "rewardgym.agents.social_agents:make_social_random",
    "task-crew": "rewardgym.agents.social_agents:make_task_crew",
    "honest-reporter": "rewardgym.agents.social_agents:make_honest_reporter",
    "bayes-listener": "rewardgym.agents.social_agents:make_bayes_listener",
    "lying-imposter": "rewardgym.agents.social_agents:make_lying_imposter",
    "social-llm": "rewardgym.agents.social_llm:make_social_llm_agent",
    # --- search QA family ---
    "search-oracle": "rewardgym.agents.search_agents:make_search_oracle",
    "memoriser": "rewardgym.agents.search_agents:make_memoriser",
    "always-search": "rewardgym.agents.search_agents:make_always_search",
    "never-search": "rewardgym.agents.search_agents:make_never_search",
    "abstainer": "rewardgym.agents.search_agents:make_abstainer",
    # --- GUI family ---
    "gui-expert": "rewardgym.agents.gui_agents:make_gui_expert",
    "gui-noisy": "rewardgym.agents.gui_agents:make_gui_noisy",
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


# -- listing (``rewardgym agents``) ------------------------------------------------------------


@dataclass(frozen=True)
class AgentInfo:
    """What ``rewardgym agents`` shows about one registered agent name."""

    name: str
    usage: str
    description: str
    entry_point: str


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n\n")[0].replace("\n", " ").strip()


def _describe(name: str, entry: str) -> AgentInfo:
    """Read the factory's (and its agent class's) docstring from source, importing nothing."""
    module_name, _, attr = entry.partition(":")
    usage, description = name, ""
    try:
        spec = importlib.util.find_spec(module_name)
        origin = spec.origin if spec is not None else None
        if origin:
            with open(origin, encoding="utf-8") as fh:
                tree = ast.parse(fh.read())
        else:
            tree = None
    except (ImportError, OSError, SyntaxError, ValueError):
        tree = None
    if tree is None:
        return AgentInfo(name, usage, f"(cannot read {module_name})", entry)
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    factory = defs.get(attr)
    if isinstance(factory, ast.FunctionDef):
        doc = _first_line(ast.get_docstring(factory))
        forms = re.findall(re.escape(name) + r":[^\s`\"',)]+", doc)
        # the argument is optional when the factory gives it a default
        optional = len(factory.args.args) >= 2 and len(factory.args.defaults) >= (
            len(factory.args.args) - 1
        )
        usage = ", ".join(dict.fromkeys([name, *forms] if optional else forms)) or name
        returned = factory.returns.id if isinstance(factory.returns, ast.Name) else None
        cls = defs.get(returned or "")
        description = _first_line(ast.get_docstring(cls)) if cls is not None else ""
        description = description or doc
    else:  # a factory built at import (``make_x = _factory("x")``): the class named ``name``
        cls = next((c for c in defs.values() if _class_name_attr(c) == name), None)
        description = _first_line(ast.get_docstring(cls)) if cls is not None else ""
    return AgentInfo(name, usage, description, entry)


def _class_name_attr(node: ast.AST) -> str | None:
    """The string a class body assigns to ``name`` (``name = "bayes-listener"``), if any."""
    if not isinstance(node, ast.ClassDef):
        return None
    for stmt in node.body:
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and stmt.targets else None
        if isinstance(stmt, ast.AnnAssign):
            target = stmt.target
        value = getattr(stmt, "value", None)
        if isinstance(target, ast.Name) and target.id == "name" and isinstance(value, ast.Constant):
            return value.value if isinstance(value.value, str) else None
    return None


def describe_agents() -> list[AgentInfo]:
    """Every registered agent name, how to spell it, and what it is (nothing is imported)."""
    return [_describe(n, AGENT_ENTRY_POINTS[n]) for n in sorted(AGENT_ENTRY_POINTS)]
