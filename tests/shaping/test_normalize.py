"""RunningNormalize: statistics, the normalised reward, state round trip and freezing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rewardgym.errors import ConfigError
from rewardgym.shaping import ReweightComponents, RunningNormalize


def _collect(env, actions, seed=0):
    env.reset(seed=seed)
    out = []
    for a in actions:
        _, reward, terminated, truncated, info = env.step(a)
        out.append((reward, info))
        if terminated or truncated:
            env.reset()
    return out


ACTIONS = ["left", "search", "bad", "right", "x", "left"] * 4


@pytest.mark.parametrize(("epsilon", "center"), [(1e-8, True), (0.5, False)])
def test_normalised_reward_uses_running_mean_and_std(make_corridor, epsilon, center):
    inner = ReweightComponents(make_corridor(length=12, max_steps=100), {"progress": 1.0})
    env = RunningNormalize(inner, epsilon=epsilon, center=center)
    raw = []
    for reward, info in _collect(env, ACTIONS):
        raw.append(reward - info["reward_components"]["shaping/normalize"])
        seen = np.asarray(raw)
        std = seen.std() if len(seen) > 1 else 1.0
        expected = ((seen[-1] - seen.mean()) if center else seen[-1]) / (std + epsilon)
        assert reward == pytest.approx(expected, abs=1e-9)
    assert env.count == len(ACTIONS)
    assert env.mean == pytest.approx(np.mean(raw))


def test_state_round_trip_and_freeze(make_corridor):
    env = RunningNormalize(make_corridor(length=12, max_steps=100))
    _collect(env, ACTIONS)
    state = json.loads(json.dumps(env.state_dict()))
    restored = RunningNormalize(make_corridor(length=12, max_steps=100))
    restored.load_state_dict(state)
    assert restored.state_dict() == env.state_dict()
    a = [r for r, _ in _collect(env, ACTIONS[:6], seed=5)]
    b = [r for r, _ in _collect(restored, ACTIONS[:6], seed=5)]
    assert a == b

    restored.freeze()
    frozen_state = restored.state_dict()
    first = [r for r, _ in _collect(restored, ACTIONS, seed=9)]
    second = [r for r, _ in _collect(restored, ACTIONS, seed=9)]
    assert first == second
    assert {k: v for k, v in restored.state_dict().items()} == frozen_state
    restored.unfreeze()
    _collect(restored, ACTIONS[:3])
    assert restored.count == frozen_state["count"] + 3


@pytest.mark.parametrize(
    "state", [{}, {"count": -1, "mean": 0, "m2": 0}, {"count": 1, "mean": "x", "m2": 0}]
)
def test_bad_state_is_rejected(make_corridor, state):
    with pytest.raises(ConfigError):
        RunningNormalize(make_corridor()).load_state_dict(state)


def test_epsilon_must_be_positive(make_corridor):
    with pytest.raises(ConfigError):
        RunningNormalize(make_corridor(), epsilon=0.0)
