"""The `rewardgym` console script: --version and `list`, as a user runs them."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

import rewardgym
from rewardgym.registry import ENTRIES


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    exe = pathlib.Path(sys.executable).with_name("rewardgym")  # the console script beside python
    if not exe.exists():
        pytest.fail(f"the rewardgym console script is not installed at {exe}")
    return subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_version():
    out = _run("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"rewardgym {rewardgym.__version__}"


def test_list_shows_every_registered_id_with_description_and_extra():
    out = _run("list")
    assert out.returncode == 0, out.stderr
    for entry in ENTRIES.values():
        assert entry.id in out.stdout
        assert entry.description.split(";")[0][:20] in out.stdout
    assert f"{len(ENTRIES)} environment ids" in out.stdout
    assert "nethack" in out.stdout  # the NLE ids name the extra they need


def test_list_filters_by_family():
    out = _run("list", "--family", "code")
    assert out.returncode == 0, out.stderr
    assert "rewardgym/CodeExec-v0" in out.stdout
    assert "Dungeon" not in out.stdout


def test_unknown_command_fails_with_usage():
    out = _run("no-such-command")
    assert out.returncode != 0
    assert "No such command" in out.stderr


def test_quick_suite_covers_every_installed_family_and_the_cheating_canary():
    from rewardgym.leaderboard.suites import FAMILY_QUICK_ENVS, get_suite
    from rewardgym.registry import extra_available

    suite = get_suite("quick")
    envs = {env for _, env in suite.pairs}
    families = {ENTRIES[e].family for e in envs}
    installed = {
        e.family for e in ENTRIES.values() if not e.multiagent and extra_available(e.extra)
    }
    # families that opt out (real NetHack episodes are too long; trainer fixtures) stay out
    opted_out = {f for f, ids in FAMILY_QUICK_ENVS.items() if ids == ()}
    assert "nethack" in opted_out
    assert families == installed - opted_out
    assert "rewardgym/CodeExec-Impossible-v0" in envs
    agents = {agent for agent, _ in suite.pairs}
    assert {"random", "code-oracle", "dungeon-expert"} <= agents
    assert any(a.startswith("cheater:") for a in agents)
