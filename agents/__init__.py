"""Layer 4: the Agent protocol, baselines, scripted experts, LLM agents and trainers."""

from __future__ import annotations

from rewardgym.agents.base import Agent
from rewardgym.agents.registry import make_agent

__all__ = ["Agent", "make_agent"]
