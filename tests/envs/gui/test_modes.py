"""The three GUI modes: online success from state, semi-online replay with patches, offline accuracy."""

from __future__ import annotations

import gymnasium as gym
import pytest

import rewardgym  # noqa: F401 - registers the ids
from rewardgym.envs.checker import check_agentic_env
from rewardgym.envs.gui import GuiAction
from rewardgym.errors import ConfigError
from rewardgym.records import EpisodeRecord, StepRecord
from rewardgym.shaping import DynamicSampling, UIS1Advantage, UIS1Returns

IDS = ["rewardgym/GUI-Online-v0", "rewardgym/GUI-SemiOnline-v0", "rewardgym/GUI-Offline-v0"]
WRONG = GuiAction("wait", thought="I wait.").to_text()


def expert_episode(env, seed, options=None):
    env.reset(seed=seed, options=options)
    while True:
        result = env.step(env.unwrapped.expert_action())
        if result[2] or result[3]:
            return result


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("kwargs", [{}, {"action_format": "structured", "observation": "a11y"}])
def test_every_id_passes_the_checker(env_id, kwargs):
    check_agentic_env(gym.make(env_id, **kwargs), n_steps=6)


@pytest.mark.parametrize("env_id", IDS)
def test_the_expert_succeeds_in_every_mode(env_id):
    env = gym.make(env_id, observation="a11y")
    for seed in range(8):
        _, _, terminated, truncated, info = expert_episode(env, seed)
        assert terminated and not truncated and info["success"] is True
        assert info["reward_components"]["task"] == 1.0
    env.close()


def test_bad_arguments_fail_at_make_naming_the_field():
    with pytest.raises(ConfigError, match="patch_mode"):
        gym.make("rewardgym/GUI-SemiOnline-v0", patch_mode="sometimes")
    with pytest.raises(ConfigError, match="unknown GUI task templates"):
        gym.make("rewardgym/GUI-Online-v0", templates=["settings.fly"])
    with pytest.raises(ConfigError, match="screenshot_size"):
        gym.make("rewardgym/GUI-Online-v0", screenshot_size=(10, 10))
    with pytest.raises(ConfigError, match=r"no trajectories\.jsonl"):
        gym.make("rewardgym/GUI-Offline-v0", dataset_dir="/nonexistent")


def test_online_terminate_without_doing_the_task_fails():
    env = gym.make("rewardgym/GUI-Online-v0", templates=["settings.turn_on"])
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(GuiAction("terminate", text="success").to_text())
    assert terminated and info["success"] is False and reward == 0.0
    env.close()


def test_online_episode_truncates_at_max_steps():
    env = gym.make("rewardgym/GUI-Online-v0", max_steps=3)
    env.reset(seed=0)
    for _ in range(3):
        _, _, terminated, truncated, info = env.step(WRONG)
    assert truncated and not terminated and info["success"] is False
    env.close()


def test_semi_online_stops_at_the_first_miss_without_patches():
    env = gym.make("rewardgym/GUI-SemiOnline-v0", observation="a11y")
    env.reset(seed=1, options={"task_id": "contacts.add#0"})
    _, reward, terminated, _, info = env.step(env.unwrapped.expert_action())
    assert info["matched"] and not terminated and reward == pytest.approx(1.0)
    _, reward, terminated, _, info = env.step(WRONG)  # a wait where the expert taps
    assert terminated and not info["matched"] and info["success"] is False
    assert info["action_level"] == "wrong_type" and reward == pytest.approx(0.1 + 0.9 * 0.1)
    assert info["step_score"] == pytest.approx(reward)
    assert info["progress"] == pytest.approx(1 / info["trajectory_length"])
    env.close()


@pytest.mark.parametrize("mode", ["expert_thought", "self_thought", "action_only"])
def test_the_patch_module_splices_expert_steps_into_the_history(mode):
    env = gym.make(
        "rewardgym/GUI-SemiOnline-v0", observation="a11y", patch_threshold=2, patch_mode=mode
    )
    obs, _ = env.reset(options={"task_id": "settings.two_toggles#4"})
    gold = env.unwrapped.trajectory.steps
    miss = GuiAction("wait", thought="my own idea").to_text()
    obs, _, terminated, _, info = env.step(miss)
    assert info["patched"] and info["patches_used"] == 1 and not terminated
    line = obs["history"].splitlines()[-1]
    assert '"action": "open"' in line  # the expert's action, not the agent's wait
    assert ("Settings app" in line) is (mode == "expert_thought")
    assert ("my own idea" in line) is (mode == "self_thought")
    obs, _, terminated, _, info = env.step(miss)
    assert info["patches_used"] == 2 and not terminated
    _, _, terminated, _, info = env.step(miss)  # no patch left
    assert terminated and info["success"] is False and info["progress"] == 0.0
    assert len(gold) > 3


def test_semi_online_history_holds_the_policys_own_actions():
    env = gym.make("rewardgym/GUI-SemiOnline-v0", observation="a11y")
    env.reset(options={"task_id": "settings.turn_on#0"})
    own = GuiAction("open", text="settings", thought="Settings holds the toggles.").to_text()
    obs, _, _, _, info = env.step(own)
    assert info["matched"]
    assert (
        "Settings holds the toggles." in obs["history"] and '"text": "settings"' in obs["history"]
    )


def record(env, policy, seed, task_id):
    env.reset(seed=seed, options={"task_id": task_id})
    steps, t = [], 0
    while True:
        action = policy(env, t)
        _, reward, terminated, truncated, info = env.step(action)
        steps.append(StepRecord.from_step(t, action, reward, terminated, truncated, info,
                                          extra_keys=("matched", "step_score")))  # fmt: skip
        t += 1
        if terminated or truncated:
            break
    return EpisodeRecord(env_id="rewardgym/GUI-SemiOnline-v0", task_id=info["task_id"],
                         episode_id=info["episode_id"], steps=steps, success=info["success"])  # fmt: skip


def test_uis1_transforms_work_on_semi_online_records():
    env = gym.make("rewardgym/GUI-SemiOnline-v0", observation="a11y", patch_threshold=1)
    expert = lambda e, t: e.unwrapped.expert_action()  # noqa: E731
    slip = lambda e, t: WRONG if t == 1 else e.unwrapped.expert_action()  # noqa: E731
    group = [
        record(env, p, s, "contacts.delete#3") for s, p in enumerate([expert, expert, slip, slip])
    ]
    returns = UIS1Returns()(group)
    perfect = returns.per_step[0]
    assert all(step.extras["matched"] for step in group[0].steps)
    assert perfect[-1] == pytest.approx(1.0) and perfect[-2] == pytest.approx(1.5)
    slipped = returns.per_step[2]
    assert slipped[1] == pytest.approx(0.1 + 0.09)  # the miss keeps only its own score
    assert slipped[0] == pytest.approx(1.0)  # nothing flows back across the miss
    advantage = UIS1Advantage()(group)
    assert advantage.per_episode[0] > advantage.per_episode[2]
    assert DynamicSampling(threshold=0.0, source=UIS1Returns()).keep(group)
