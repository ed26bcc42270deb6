"""UI-S1's action space: the text tool-call form, the structured form, and malformed actions."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rewardgym  # noqa: F401 - registers the ids
from rewardgym.envs.gui import ACTION_TYPES, ActionError, GuiAction, parse_action
from rewardgym.envs.gui.actions import from_structured

W, H = 1080, 2400


def test_the_prompts_example_is_a_valid_action():
    from rewardgym.envs.gui.actions import ACTION_PROMPT

    example = (
        ACTION_PROMPT.split("tool call:\n", 1)[1]
        .split("\nActions:")[0]
        .replace("[x, y]", "[10, 20]")
    )
    assert parse_action(example, width=W, height=H) == GuiAction(
        "click", x=10, y=20, thought="what you see and why you act"
    )


def test_the_tool_call_form_round_trips_with_its_thought():
    action = GuiAction("click", x=540, y=730, thought="Tap Wi-Fi.")
    text = action.to_text()
    assert text.startswith("<thinking>\nTap Wi-Fi.\n</thinking>\n<tool_call>\n")
    assert parse_action(text, width=W, height=H) == action
    assert parse_action(action.to_text(with_thought=False), width=W, height=H).thought == ""


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"action": "type", "text": "hello"}', GuiAction("type", text="hello")),
        ('{"name": "mobile_use", "arguments": {"action": "system_button", "button": "Back"}}',
         GuiAction("system_button", button="back")),
        ('<tool_call>{"arguments": {"action": "swipe", "coordinate": [500, 1500], "coordinate2": [510, 600]}}</tool_call>',
         GuiAction("swipe", x=500, y=1500, direction="up")),
        ('{"action": "key", "text": "Enter"}', GuiAction("key", text="enter")),
        ('{"action": "terminate", "status": "failure"}', GuiAction("terminate", text="failure")),
        ('<think>x</think>{"action": "wait"}', GuiAction("wait", thought="x")),
    ],
)  # fmt: skip
def test_accepted_forms(reply, expected):
    assert parse_action(reply, width=W, height=H) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ('{"action": "click", "coordinate": [1200, 50]}', "off the 1080x2400 screen"),
        ('{"action": "click", "coordinate": [-1, 50]}', "off the"),
        ('{"action": "fly", "coordinate": [1, 1]}', "unknown action type"),
        ('{"action": "click", "coordinate": [1, 1}', "not valid JSON"),
        ("just words", "not valid JSON"),
        ("", "no <tool_call>"),
        ('{"action": "swipe", "direction": "sideways"}', "swipe needs a direction"),
        ('{"action": "key", "text": "hyper"}', "unknown key"),
        ('{"action": "system_button", "button": "menu"}', "system_button must be"),
        ('{"action": "type", "text": 5}', "needs a string 'text'"),
        ('{"action": "click", "coordinate": [NaN, 3]}', "finite number"),
    ],
)
def test_malformed_actions_say_why(reply, reason):
    with pytest.raises(ActionError, match=reason):
        parse_action(reply, width=W, height=H)


@pytest.mark.parametrize("env_id", ["rewardgym/GUI-Online-v0", "rewardgym/GUI-SemiOnline-v0"])
def test_malformed_actions_are_invalid_actions_not_crashes(env_id):
    env = gym.make(env_id)
    megabyte = '{"action": "type", "text": "' + "a" * 1_000_000 + '"}'
    cases = {
        '{"action": "click", "coordinate": [5000, 5000]}': "off the",
        '{"action": "teleport"}': "unknown action type",
        '{"action": "click", "coordinate": [1, 2': "not valid JSON",
        megabyte: "max_action_length",
    }
    for action, reason in cases.items():
        env.reset(seed=0)
        _, reward, _, _, info = env.step(action)
        assert reason in info["invalid_action"], info["invalid_action"]
        assert reward == 0.0
    env.close()


def test_long_type_text_within_the_action_limit_is_refused_by_max_text_length():
    env = gym.make("rewardgym/GUI-Online-v0", max_action_length=10_000, max_text_length=100)
    env.reset(seed=0)
    _, _, terminated, _, info = env.step('{"action": "type", "text": "' + "b" * 5000 + '"}')
    assert "limit is 100" in info["invalid_action"] and not terminated
    env.close()


def test_online_env_refuses_unknown_apps_and_can_end_after_invalid_actions():
    env = gym.make("rewardgym/GUI-Online-v0", max_invalid_actions=2)
    env.reset(seed=0)
    _, _, terminated, _, info = env.step('{"action": "open", "text": "Photoshop"}')
    assert "no app named" in info["invalid_action"] and not terminated
    _, _, terminated, _, info = env.step("nonsense")
    assert terminated and info["success"] is False
    env.close()


def test_structured_actions_drive_the_phone():
    env = gym.make(
        "rewardgym/GUI-Online-v0", action_format="structured", templates=["settings.turn_on"]
    )
    assert isinstance(env.action_space, gym.spaces.Dict)
    env.reset(seed=3)
    done = False
    while not done:
        action = env.unwrapped.expert_action()
        assert set(action) >= {"action_type", "coordinate", "direction", "button", "text"}
        _, _, terminated, truncated, info = env.step(action)
        done = terminated or truncated
    assert info["success"] is True
    env.reset(seed=0)
    _, _, _, _, info = env.step({"action_type": 99})
    assert "out of range" in info["invalid_action"]
    env.close()


def test_structured_space_samples_parse():
    env = gym.make("rewardgym/GUI-Online-v0", action_format="structured")
    env.action_space.seed(0)
    for _ in range(50):
        sample = env.action_space.sample()
        try:
            action = from_structured(sample, width=W, height=H, max_text=1000)
        except ActionError:
            continue
        assert action.type in ACTION_TYPES
    assert np.asarray(sample["coordinate"]).shape == (2,)
    env.close()
