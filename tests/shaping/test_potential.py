"""PotentialShaping: the formula, terminal/truncation handling, named potentials, invariance."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rewardgym.errors import ConfigError
from rewardgym.shaping import PotentialShaping, check_policy_invariance
from rewardgym.shaping.analysis import random_mdp

KEY = "shaping/potential"


def _run(env, actions, seed=0):
    obs, info = env.reset(seed=seed)
    out = [(obs, 0.0, False, False, info)]
    for a in actions:
        out.append(env.step(a))
        if out[-1][2] or out[-1][3]:
            break
    return out


def phi(obs, info):
    return 2.0 * obs + 1.0  # non-zero at every state, terminal ones included


@pytest.mark.parametrize("gamma", [0.99, 0.5, 1.0])
def test_term_is_gamma_phi_next_minus_phi(make_corridor, gamma):
    env = PotentialShaping(make_corridor(length=6), phi, gamma=gamma)
    trace = _run(env, ["right", "left", "search", "right"])
    for (prev, *_), (obs, _, terminated, _, info) in itertools.pairwise(trace):
        expected = gamma * phi(obs, info) * (1 - terminated) - phi(prev, None)
        assert info["reward_components"][KEY] == pytest.approx(expected, abs=1e-12)
        assert info["reward_weights"][KEY] == 1.0


@pytest.mark.parametrize("gamma", [0.9, 0.7])
def test_discounted_sum_over_terminated_episode_is_minus_phi0(make_corridor, gamma):
    env = PotentialShaping(make_corridor(length=5), phi, gamma=gamma)
    trace = _run(env, ["right"] * 10, seed=3)
    assert trace[-1][2], "the episode should terminate at the corridor's end"
    terms = [step[4]["reward_components"][KEY] for step in trace[1:]]
    discounted = sum(gamma**t * f for t, f in enumerate(terms))
    assert discounted == pytest.approx(-phi(trace[0][0], None), abs=1e-12)


def test_truncation_keeps_gamma_phi_of_the_last_state(make_corridor):
    env = PotentialShaping(make_corridor(length=8, max_steps=2), phi, gamma=0.8)
    trace = _run(env, ["left", "left"])
    obs, _, terminated, truncated, info = trace[-1]
    assert truncated and not terminated
    assert info["reward_components"][KEY] == pytest.approx(
        0.8 * phi(obs, info) - phi(trace[-2][0], None)
    )


def test_weight_scales_the_term(make_corridor):
    plain = _run(PotentialShaping(make_corridor(), phi, gamma=0.9), ["right"])[-1]
    heavy = _run(PotentialShaping(make_corridor(), phi, gamma=0.9, weight=3.0), ["right"])[-1]
    assert heavy[1] - plain[1] == pytest.approx(2.0 * plain[4]["reward_components"][KEY])


def test_named_potential_is_looked_up_on_the_env(make_corridor):
    env = PotentialShaping(make_corridor(length=5), "goal_distance", gamma=1.0)
    seed = next(s for s in range(100) if env.reset(seed=s)[0] <= 2)  # room to move right
    env.reset(seed=seed)
    *_, info = env.step("right")
    # Phi = -(distance to the end): one step closer earns exactly 1 with gamma = 1.
    assert info["reward_components"][KEY] == pytest.approx(1.0)
    *_, info = env.step("left")
    assert info["reward_components"][KEY] == pytest.approx(-1.0)
    assert env.shaping_spec()["potential"] == "goal_distance"


def test_unknown_named_potential_lists_the_valid_ones(make_corridor):
    with pytest.raises(ConfigError, match="goal_distance"):
        PotentialShaping(make_corridor(), "nope", gamma=0.9)


@pytest.mark.parametrize(
    "bad", [{"gamma": 1.5}, {"gamma": -0.1}, {"gamma": float("nan")}, {"potential": 3}]
)
def test_bad_arguments_fail_at_construction(make_corridor, bad):
    kwargs = {"potential": phi, "gamma": 0.9, **bad}
    with pytest.raises(ConfigError):
        PotentialShaping(make_corridor(), **kwargs)


def test_non_finite_potential_is_reported(make_corridor):
    env = PotentialShaping(make_corridor(), lambda o, i: float("inf"), gamma=0.9)
    with pytest.raises(ConfigError, match="finite"):
        env.reset(seed=0)


@pytest.mark.parametrize("seed", range(5))
def test_shaping_keeps_the_optimal_policy_on_random_mdps(seed):
    mdp = random_mdp(n_states=7, n_actions=3, seed=seed)
    potential = np.random.default_rng(100 + seed).normal(scale=5.0, size=7)
    report = check_policy_invariance(mdp, potential, gamma=0.9)
    assert report.passed, report


def test_invariance_check_detects_non_potential_shaping():
    """A bonus on (s, a) that is not of potential form changes the optimal policy."""
    from rewardgym.shaping.analysis import TabularMDP, value_iteration

    mdp = random_mdp(n_states=5, n_actions=3, seed=1)
    _, Q = value_iteration(mdp, 0.9)
    worst = Q.argmin(axis=1)
    bonus = np.zeros_like(mdp.R)
    bonus[np.arange(5), worst, :] = 100.0
    _, Qb = value_iteration(TabularMDP(mdp.P, mdp.R + bonus, mdp.done), 0.9)
    assert (Qb.argmax(axis=1) != Q.argmax(axis=1)).any()


def test_invariance_on_a_gymnasium_toy_text_env():
    import gymnasium as gym

    report = check_policy_invariance(
        lambda: gym.make("FrozenLake-v1", is_slippery=True), lambda s: float(s % 4), gamma=0.95
    )
    assert report.passed, report


def test_named_potential_survives_pickling(make_corridor):
    import pickle

    import gymnasium as gym

    import rewardgym  # noqa: F401  (registers the ids)

    env = PotentialShaping(make_corridor(length=20), "goal_distance", gamma=0.9)
    env.reset(seed=2)
    clone = pickle.loads(pickle.dumps(env))
    for action in ["right", "left", "right"]:
        a, b = env.step(action), clone.step(action)
        assert a[1] == b[1]
        assert a[4]["reward_components"][KEY] == b[4]["reward_components"][KEY]
    # The dungeon's potentials are closures over the env: they are looked up again.
    dungeon = PotentialShaping(gym.make("rewardgym/Dungeon-Staircase-v0"), "stairs_distance")
    dungeon.reset(seed=0)
    copy = pickle.loads(pickle.dumps(dungeon))
    assert dungeon.step(1)[1] == copy.step(1)[1]
    dungeon.close()


def test_offset_shifts_every_non_terminal_potential_and_stops_paying_for_standing_still(
    make_corridor,
):
    def neg_distance(obs, info):
        return -float(5 - obs)  # -distance to the corridor's end: idling under gamma < 1 pays

    gamma = 0.9
    plain = PotentialShaping(make_corridor(length=6), neg_distance, gamma=gamma)
    shifted = PotentialShaping(make_corridor(length=6), neg_distance, gamma=gamma, offset=5.0)
    assert shifted.shaping_spec()["offset"] == 5.0 and "offset" not in plain.shaping_spec()
    idle = ["search"] * 3  # a move that goes nowhere
    for p, s in zip(_run(plain, idle)[1:], _run(shifted, idle)[1:]):
        f_plain, f_shift = p[4]["reward_components"][KEY], s[4]["reward_components"][KEY]
        assert f_plain > 0  # the plain -distance potential pays for standing still
        assert f_shift == pytest.approx(f_plain + (gamma - 1) * 5.0)
    trace = _run(shifted, ["right"] * 10, seed=3)
    assert trace[-1][2]
    terms = [step[4]["reward_components"][KEY] for step in trace[1:]]
    discounted = sum(gamma**t * f for t, f in enumerate(terms))
    assert discounted == pytest.approx(-(neg_distance(trace[0][0], None) + 5.0), abs=1e-12)
