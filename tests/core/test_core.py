"""Core (L0) behaviour: spaces, seeding, records, the reward invariant and import weight."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from rewardgym.contract import invariant_error, weighted_reward
from rewardgym.errors import ConfigError, DependencyNotInstalled, RewardGymError
from rewardgym.records import EpisodeRecord, StepRecord
from rewardgym.seeding import child_rng, child_seed, episode_id, parse_seeds
from rewardgym.spaces import text


@pytest.mark.parametrize("value", ["", "\n", "def f():\n\treturn 1\r\n", "naïve → ✓", "x" * 100])
def test_text_space_accepts_any_printable_text(value):
    assert text(100).contains(value)


@pytest.mark.parametrize("value", ["x" * 101, "bell\x07", 7, None, b"bytes"])
def test_text_space_rejects_non_text_and_overlong(value):
    assert not text(100).contains(value)


def test_text_space_samples_are_members():
    space = text(50)
    space.seed(0)
    assert all(space.contains(space.sample()) for _ in range(50))


def test_text_space_rejects_bad_length():
    with pytest.raises(ConfigError):
        text(0)


def test_child_seeds_follow_the_parent_stream():
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    assert child_seed(a) == child_seed(b)
    assert episode_id(a) == episode_id(b)
    assert child_rng(a).integers(1 << 30) == child_rng(b).integers(1 << 30)
    assert episode_id(np.random.default_rng(8)) != episode_id(np.random.default_rng(7))


@pytest.mark.parametrize(
    ("spec", "expected"), [("0-3", [0, 1, 2, 3]), ("5,1,1", [1, 5]), ("0-1,7", [0, 1, 7])]
)
def test_parse_seeds(spec, expected):
    assert parse_seeds(spec) == expected


@pytest.mark.parametrize("spec", ["", "a", "3-1", "1-x"])
def test_parse_seeds_rejects_garbage(spec):
    with pytest.raises(ConfigError, match="seed"):
        parse_seeds(spec)


def test_weighted_sum_and_invariant():
    comps = {"task": 1.0, "format": 1.0, "metric": 5.0}
    weights = {"task": 1.0, "format": 0.1, "metric": 0.0}
    assert weighted_reward(comps, weights) == pytest.approx(1.1)
    info = {"reward_components": comps, "reward_weights": weights}
    assert invariant_error(1.1, info) is None
    assert "!=" in invariant_error(1.2, info)
    assert "not reported" in invariant_error(1.1, {**info, "reward_weights": {**weights, "x": 1}})


def test_episode_record_round_trips_through_json():
    info = {
        "reward_components": {"task": np.float32(1.0), "format": 1},
        "reward_weights": {"task": 1.0, "format": 0.1},
        "invalid_action": None,
        "test_results": np.array([True, False]),
    }
    step = StepRecord.from_step(
        1, np.int64(3), np.float64(1.1), True, False, info, ("test_results",)
    )
    record = EpisodeRecord(
        env_id="rewardgym/X-v0", task_id="t", episode_id="e", seed=1, steps=[step]
    )
    again = EpisodeRecord.from_json(record.to_json())
    assert again == record
    assert again.task_return == 1.0
    assert again.steps[0].extras["test_results"] == [True, False]
    assert json.loads(record.to_json())["steps"][0]["action"] == 3


def test_dependency_error_names_the_extra():
    err = DependencyNotInstalled("nle", "nethack", "the NLE backend")
    assert isinstance(err, (RewardGymError, ImportError))
    assert "pip install 'rewardgym[nethack]'" in str(err)


def test_import_rewardgym_is_light():
    """`import rewardgym` registers envs without importing torch/transformers/docker/nle."""
    code = (
        "import sys, rewardgym, gymnasium as gym\n"
        "heavy = [m for m in ('torch', 'transformers', 'docker', 'nle', 'ray', 'matplotlib') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
        "print(sum(1 for k in gym.registry if k.startswith('rewardgym/')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, registered = out.stdout.split("\n")[:2]
    assert heavy == "", f"import rewardgym imported heavy modules: {heavy}"
    assert int(registered) > 0
