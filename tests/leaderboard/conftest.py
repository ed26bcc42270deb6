"""Fixtures for the leaderboard tests: the toy envs, reachable from subprocesses too."""

from __future__ import annotations

import os
import pathlib

import pytest

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture
def toy_envs(monkeypatch):
    """Register the toy envs here and let worker processes import them (``PYTHONPATH``)."""
    import lb_toy_envs

    old = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(HERE) + (os.pathsep + old if old else ""))
    return lb_toy_envs


@pytest.fixture
def with_expert(monkeypatch, toy_envs):
    """Make ``count-expert`` a known agent name (in this process)."""
    from rewardgym.agents import registry

    monkeypatch.setitem(registry.AGENT_ENTRY_POINTS, "count-expert", "lb_toy_envs:make_expert")
    return "count-expert"
