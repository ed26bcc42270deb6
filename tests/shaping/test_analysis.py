"""STARC distance and the tabular helpers."""

from __future__ import annotations

import numpy as np
import pytest

from rewardgym.errors import ConfigError
from rewardgym.shaping import starc_distance
from rewardgym.shaping.analysis import TabularMDP, random_mdp, shape_reward, value_iteration


@pytest.mark.parametrize("seed", range(3))
def test_starc_is_zero_for_scaled_and_shaped_rewards(seed):
    mdp = random_mdp(n_states=6, n_actions=3, seed=seed, terminal_prob=0.0)
    phi = np.random.default_rng(seed).normal(size=6)
    shaped = TabularMDP(mdp.P, 3.0 * mdp.R, mdp.done)
    equivalent = shape_reward(shaped, phi, 0.9)
    assert starc_distance(mdp.R, equivalent, mdp.P, 0.9) == pytest.approx(0.0, abs=1e-9)


def test_starc_handles_terminal_transitions():
    mdp = random_mdp(n_states=6, n_actions=3, seed=4, terminal_prob=0.3)
    shaped = shape_reward(mdp, np.arange(6.0), 0.8)
    assert starc_distance(mdp.R, shaped, mdp.P, 0.8, done=mdp.done) == pytest.approx(0.0, abs=1e-9)
    # Ignoring the terminal mask, the same shaping is no longer a pure potential difference.
    assert starc_distance(mdp.R, shaped, mdp.P, 0.8) > 1e-3


def test_starc_is_one_for_opposite_rewards_and_between_otherwise():
    mdp = random_mdp(n_states=5, n_actions=2, seed=1, terminal_prob=0.0)
    assert starc_distance(mdp.R, -mdp.R, mdp.P, 0.9) == pytest.approx(1.0, abs=1e-9)
    other = np.random.default_rng(9).normal(size=mdp.R.shape)
    d = starc_distance(mdp.R, other, mdp.P, 0.9)
    assert 0.05 < d < 1.0
    assert starc_distance(mdp.R, other, mdp.P, 0.9) == pytest.approx(
        starc_distance(other, mdp.R, mdp.P, 0.9)
    )


@pytest.mark.parametrize("terminal_prob", [0.0, 0.3])
def test_starc_ignores_zero_mean_noise_over_next_states(terminal_prob):
    """Value-adjusted levelling takes E_{S'}[R(s,a,S') - V(s) + gamma*V(S')] (METHODS.md §6):
    rewards that differ only by noise with mean 0 under P(s, a, .) are the same reward."""
    mdp = random_mdp(n_states=6, n_actions=3, seed=5, terminal_prob=terminal_prob)
    noise = np.random.default_rng(11).normal(scale=2.0, size=mdp.R.shape)
    noise -= (mdp.P * noise).sum(axis=2, keepdims=True)  # mean 0 over S' ~ P(s, a, .)
    assert np.abs(noise).max() > 0.5
    noisy = mdp.R + noise
    assert starc_distance(mdp.R, noisy, mdp.P, 0.9, done=mdp.done) == pytest.approx(0.0, abs=1e-9)
    # Noise whose mean over next states is not 0 does change the reward.
    biased = mdp.R + np.random.default_rng(12).normal(scale=2.0, size=mdp.R.shape)
    assert starc_distance(mdp.R, biased, mdp.P, 0.9, done=mdp.done) > 0.05


def test_starc_accepts_state_action_rewards():
    mdp = random_mdp(n_states=4, n_actions=2, seed=2, terminal_prob=0.0)
    r_sa = np.random.default_rng(3).normal(size=(4, 2))
    assert starc_distance(r_sa, 2 * r_sa, mdp.P, 0.5) == pytest.approx(0.0, abs=1e-9)


def test_value_iteration_solves_a_two_state_chain():
    # state 0 --a0--> 1 (reward 1), state 1 --any--> 1 (reward 0); a1 from 0 stays (reward 0.5).
    P = np.zeros((2, 2, 2))
    P[0, 0, 1] = P[0, 1, 0] = P[1, 0, 1] = P[1, 1, 1] = 1.0
    R = np.zeros((2, 2, 2))
    R[0, 0, 1], R[0, 1, 0] = 1.0, 0.5
    V, Q = value_iteration(TabularMDP.build(P, R), 0.9)
    assert V[0] == pytest.approx(5.0, abs=1e-6)  # 0.5 / (1 - 0.9) beats 1.0
    assert Q[0, 0] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    "bad",
    [
        {"P": np.ones((2, 2, 2))},  # rows sum to 2
        {"P": np.full((2, 2, 3), 1 / 3)},  # not (S, A, S)
        {"R": np.zeros((3, 3))},
    ],
)
def test_malformed_mdps_are_rejected(bad):
    args = {"P": np.full((2, 2, 2), 0.5), "R": np.zeros((2, 2)), **bad}
    with pytest.raises(ConfigError):
        TabularMDP.build(**args)
