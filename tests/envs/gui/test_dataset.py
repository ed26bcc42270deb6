"""The offline dataset: deterministic, cached, and every trajectory replays to success live."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from typer.testing import CliRunner

import rewardgym  # noqa: F401 - registers the ids
from rewardgym.envs.gui import TEMPLATES, build_dataset, load_dataset, make_task
from rewardgym.envs.gui.tasks import parse_task_id
from rewardgym.leaderboard.cli import app

SMALL = (108, 240)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("gui") / "all"
    return build_dataset(out, instances=2, size=SMALL)


def files_of(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_offline_trajectory_replays_to_success_in_the_live_simulator(dataset):
    trajectories, size = load_dataset(dataset)
    assert size == SMALL and len(trajectories) == 2 * len(TEMPLATES)
    for trajectory in trajectories:
        phone, task = make_task(*parse_task_id(trajectory.task_id))
        assert task.goal == trajectory.goal
        for t, step in enumerate(trajectory.steps):
            assert phone.a11y() == step.a11y, f"{trajectory.task_id} step {t}: the screens differ"
            if step.action.type == "terminate":
                break
            phone.perform(step.action)
        assert step.action.type == "terminate"
        assert task.check(phone), f"{trajectory.task_id} does not replay to success"


def test_records_hold_what_offline_gui_datasets_hold(dataset):
    rows = [json.loads(line) for line in (dataset / "trajectories.jsonl").read_text().splitlines()]
    step = rows[0]["steps"][1]
    assert set(step) == {"image", "a11y", "action", "thought", "boxes"}
    assert step["thought"] and (dataset / step["image"]).is_file()
    clicks = [s for r in rows for s in r["steps"] if s["action"]["action"] == "click"]
    assert clicks and all(len(s["boxes"]) == 1 for s in clicks)
    scrolls = [s for r in rows for s in r["steps"] if s["action"]["action"] == "scroll"]
    assert scrolls, "some expert scrolls a list: stored as the scroll direction"
    trajectories, _ = load_dataset(dataset)
    frame = trajectories[0].steps[0].frame()
    assert frame.shape == (SMALL[1], SMALL[0], 3) and frame.dtype == np.uint8


def test_the_dataset_is_deterministic_and_cached(tmp_path):
    subset = ["contacts.delete", "shop.buy_cheapest"]
    a = build_dataset(tmp_path / "a", templates=subset, instances=2, size=SMALL)
    b = build_dataset(tmp_path / "b", templates=subset, instances=2, size=SMALL)
    assert files_of(a) == files_of(b)
    stamp = (a / "trajectories.jsonl").stat().st_mtime_ns
    assert build_dataset(tmp_path / "a", templates=subset, instances=2, size=SMALL) == a
    assert (a / "trajectories.jsonl").stat().st_mtime_ns == stamp  # reused, not rewritten
    build_dataset(tmp_path / "a", templates=subset, instances=3, size=SMALL)  # another request
    assert len(load_dataset(a)[0]) == 6


def test_replay_envs_read_the_dataset(dataset):
    env = gym.make("rewardgym/GUI-SemiOnline-v0", dataset_dir=str(dataset), screenshot_size=SMALL)
    obs, info = env.reset(seed=0)
    assert obs["screenshot"].shape == (SMALL[1], SMALL[0], 3)
    while True:
        _, _, terminated, _, info = env.step(env.unwrapped.expert_action())
        if terminated:
            break
    assert info["success"] is True
    offline = gym.make("rewardgym/GUI-Offline-v0", dataset_dir=str(dataset), observation="a11y")
    offline.reset(options={"task_id": "clock.timer#1@2"})
    _, reward, terminated, _, info = offline.step(offline.unwrapped.expert_action())
    assert terminated and reward == 1.0 and info["matched"]


def test_the_cli_builds_a_dataset(tmp_path):
    out = tmp_path / "ds"
    args = ["gui", "build-dataset", "--out", str(out), "--instances", "1", "--template", "notes.create",
            "--width", "108", "--height", "240"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 trajectories" in result.output and (out / "manifest.json").exists()
    bad = CliRunner().invoke(app, ["gui", "build-dataset", "--template", "nope"])
    assert bad.exit_code == 2 and "unknown templates" in bad.output
