"""Every registered env id passes the agentic env checker (new envs are checked automatically)."""

from __future__ import annotations

import importlib
import inspect
import pathlib
import re

import gymnasium as gym
import pytest

import rewardgym
from rewardgym.envs.checker import check_agentic_env, check_agentic_parallel_env
from rewardgym.registry import ENTRIES, extra_available

SINGLE = sorted(e.id for e in ENTRIES.values() if not e.multiagent)
MULTI = sorted(e.id for e in ENTRIES.values() if e.multiagent)


def _skip_unless_installed(env_id: str) -> None:
    entry = ENTRIES[env_id]
    if not extra_available(entry.extra):
        pytest.skip(f"skipped: {env_id} needs pip install 'rewardgym[{entry.extra}]'")


def test_registry_is_not_empty():
    assert SINGLE, "no single-agent env is registered"


@pytest.mark.parametrize("env_id", SINGLE)
def test_registered_env_passes_the_checker(env_id):
    _skip_unless_installed(env_id)
    check_agentic_env(gym.make(env_id), n_steps=8)


@pytest.mark.parametrize("env_id", MULTI)
def test_registered_parallel_env_passes_the_checker(env_id):
    _skip_unless_installed(env_id)
    check_agentic_parallel_env(lambda: rewardgym.make_parallel(env_id))


@pytest.mark.parametrize("env_id", SINGLE)
def test_registered_env_has_a_doc_page_docstring(env_id):
    """Every env class docstring is its doc page (ARCHITECTURE.md §7)."""
    _skip_unless_installed(env_id)
    env = gym.make(env_id)
    try:
        doc = type(env.unwrapped).__doc__ or ""
    finally:
        env.close()
    for heading in (
        "Description",
        "Action Space",
        "Observation Space",
        "Rewards",
        "Episode End",
        "Arguments",
        "Version History",
    ):
        assert heading in doc, f"{env_id}: docstring lacks the {heading!r} section"


_DOC_PAGES = {"nethack": "dungeon"}  # family -> docs/envs/<page>.md
_REPO = pathlib.Path(__file__).resolve().parents[2]


def _normalised(text: str) -> str:
    return re.sub(r"[#`*\s]+", " ", text).strip()


@pytest.mark.parametrize("env_id", SINGLE)
def test_family_doc_page_shows_the_env_docstring(env_id):
    """docs/envs/<family>.md carries each env's docstring (python -m rewardgym.envs.docpages)."""
    entry = ENTRIES[env_id]
    module_name, _, attr = entry.entry_point.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    page = _REPO / "docs" / "envs" / f"{_DOC_PAGES.get(entry.family, entry.family)}.md"
    assert page.exists(), f"{env_id}: no doc page {page}"
    body = inspect.getdoc(cls).split("\n", 1)[1]
    assert _normalised(body) in _normalised(page.read_text()), (
        f"{page} does not show the current {attr} docstring; run "
        f"python -m rewardgym.envs.docpages {page.relative_to(_REPO)}"
    )
