"""PPO on the dungeon: the learning test, the saved-model agent and `rewardgym train ppo`."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("stable_baselines3", reason="needs pip install 'rewardgym[train]'")

from typer.testing import CliRunner

from rewardgym.agents import make_agent
from rewardgym.agents.sb3 import PPOAgent, evaluate_success, train_ppo
from rewardgym.errors import ConfigError
from rewardgym.leaderboard.cli import app

SMALL = "rewardgym/Dungeon-Staircase-v0"


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.mark.slow
def test_ppo_learns_the_smallest_staircase(tmp_path):
    """Sparse reward only: PPO reaches >= 0.8 success within 40k steps (random policy ~0.1)."""
    result = train_ppo(SMALL, 40_000, seed=0, out_dir=tmp_path / "ppo", tensorboard=False)
    agent = make_agent(f"ppo:{result.out_dir}", None)
    assert isinstance(agent, PPOAgent)
    assert evaluate_success(agent, SMALL, 100) >= 0.8
    random_rate = evaluate_success(make_agent("random", _env()), SMALL, 100)
    assert random_rate < 0.5


def _env():
    import gymnasium as gym

    return gym.make(SMALL)


def test_train_cli_saves_a_model_with_tensorboard_logs_and_shaping(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "train", "ppo", "--env", "rewardgym/Dungeon-Staircase-M-v0", "--steps", "300",
            "--shaping", "potential-stairs", "--out", str(out), "--eval-episodes", "2",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "model.zip").exists()
    assert any((out / "tb").rglob("events.out.tfevents*"))
    meta = json.loads((out / "meta.json").read_text())
    assert meta["shaping"] == "potential-stairs" and meta["env_id"].endswith("Staircase-M-v0")
    assert '"success_rate"' in result.output


def test_train_cli_rejects_an_unknown_recipe(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "train",
            "ppo",
            "--env",
            SMALL,
            "--steps",
            "64",
            "--shaping",
            "nope",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2
    assert "unknown reward recipe" in result.output


def test_ppo_agent_needs_a_model():
    with pytest.raises(ConfigError):
        make_agent("ppo", None)
    with pytest.raises(ConfigError):
        make_agent("ppo:/nonexistent/dir", None)
