"""MiniWoB++ pages in headless Chromium: solvers, the action schema, semi-online replay, and the
browser's life cycle (a crash mid-episode, nothing left after close). check_agentic_env runs on
both MiniWoB ids in tests/envs/test_registered.py."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import gymnasium as gym
import pytest

import rewardgym  # noqa: F401 - registers the ids
from rewardgym.agents import make_agent
from rewardgym.envs.gui import GuiAction, screen_elements
from rewardgym.envs.gui.browser import BrowserError, chromium_paths, miniwob_html_dir
from rewardgym.envs.gui.miniwob_tasks import MINIWOB_TASKS

try:
    chromium_paths()
    miniwob_html_dir()
except BrowserError as exc:
    pytestmark = pytest.mark.skip(reason=f"skipped: {exc}")
else:
    pytestmark = pytest.mark.browser


def play(env, agent, task_id):
    obs, info = env.reset(seed=0, options={"task_id": task_id})
    agent.reset(seed=0)
    infos = []
    while True:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        infos.append(info)
        if terminated or truncated:
            return infos


@pytest.fixture(scope="module")
def online():
    env = gym.make("rewardgym/MiniWoB-v0")
    yield env
    env.close()


@pytest.mark.slow
def test_at_least_ten_tasks_are_solved_by_their_solvers(online):
    assert len(MINIWOB_TASKS) >= 10
    agent = make_agent("gui-expert", online)
    for task in MINIWOB_TASKS:
        for seed in (1, 2):
            infos = play(online, agent, f"{task}#{seed}")
            assert infos[-1]["success"] is True, f"{task}#{seed}: {infos[-1]['goal']}"
            assert infos[-1]["reward_components"]["task"] == 1.0


def test_observations_show_the_page(online):
    obs, info = online.reset(options={"task_id": "click-button#4"})
    assert obs["screenshot"].shape == (210, 160, 3) and obs["screenshot"].std() > 0
    assert info["goal"].startswith("Click on the") and '"class_name": "BUTTON"' in obs["a11y"]


def test_a_wrong_click_fails_the_page(online):
    online.reset(options={"task_id": "click-test-2#3"})
    page = online.unwrapped.current_a11y()
    assert "ONE" in page and "TWO" in page
    expert = online.unwrapped.expert_gui_action()
    wrong = next(  # the other button
        e for e in screen_elements(page) if e["class_name"] == "BUTTON"
        and not (e["bbox"][0] <= expert.x < e["bbox"][2] and e["bbox"][1] <= expert.y < e["bbox"][3])
    )  # fmt: skip
    _, _, x1, y1 = wrong["bbox"]
    _, reward, terminated, _, info = online.step(GuiAction("click", x=x1 - 2, y=y1 - 2).to_text())
    assert terminated and info["success"] is False and reward == 0.0


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ('{"action": "click", "coordinate": [200, 50]}', "off the 160x210 screen"),
        ('{"action": "open", "text": "Settings"}', "no apps"),
        ('{"action": "system_button", "button": "home"}', "no meaning on a web page"),
        ("{broken", "not valid JSON"),
    ],
)
def test_malformed_actions_are_invalid(online, action, reason):
    online.reset(options={"task_id": "enter-text#0"})
    _, _, terminated, _, info = online.step(action)
    assert reason in info["invalid_action"] and not terminated


def test_semi_online_replays_solver_trajectories():
    env = gym.make(
        "rewardgym/MiniWoB-SemiOnline-v0", tasks=["login-user", "click-checkboxes"], instances=2
    )
    expert = make_agent("gui-expert", env)
    for task_id in ("login-user#0", "click-checkboxes#1"):
        infos = play(env, expert, task_id)
        assert infos[-1]["success"] and all(i["matched"] for i in infos)
    infos = play(env, make_agent("gui-noisy:args=1", env), "login-user#0")
    assert infos[-1]["success"] is False and infos[-1]["action_level"] == "wrong_args"
    env.close()
    assert not env.unwrapped.browser.alive


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_browser_killed_mid_episode_gives_a_clear_error_and_reset_recovers():
    env = gym.make("rewardgym/MiniWoB-v0", tasks=["enter-text"])
    env.reset(seed=0)
    env.step(env.unwrapped.expert_action())  # the episode is under way
    pids = env.unwrapped.browser.processes()
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(BrowserError, match=r"died or stopped answering.*call reset"):
        for _ in range(3):
            env.step(env.unwrapped.expert_action())
    agent = make_agent("gui-expert", env)
    infos = play(env, agent, "enter-text#5")
    assert infos[-1]["success"] is True
    env.close()


def test_no_chromium_process_is_left_after_close():
    env = gym.make("rewardgym/MiniWoB-v0", tasks=["click-test"])
    env.reset(seed=0)
    pids = env.unwrapped.browser.processes()
    assert len(pids) >= 2  # chromium and its helpers
    env.close()
    env.close()  # twice is fine
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)]
