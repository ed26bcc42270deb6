"""MashPenalty (all four variants, historic minimum) and the UI-S1 returns/advantages."""

from __future__ import annotations

import math

import pytest

from rewardgym.errors import ConfigError
from rewardgym.shaping import DynamicSampling, MashPenalty, UIS1Advantage, UIS1Returns
from rewardgym.shaping.transforms import uis1_discounted_returns, uis1_step_score


def _mash_group(make_episode, correct, searches, task_id="q"):
    return [
        make_episode(
            task_id, components=[{"task": float(c)}], cost={"searches": s}, episode_id=str(i)
        )
        for i, (c, s) in enumerate(zip(correct, searches))
    ]


def test_mash_exp_reference(make_episode):
    group = _mash_group(make_episode, [0, 1, 1, 1], [0, 1, 2, 3])
    assert MashPenalty(lam=0.8)(group).per_episode == pytest.approx([0, 1, 0.8, 0.64], abs=1e-4)


def test_mash_default_lambda_is_0_7(make_episode):
    group = _mash_group(make_episode, [0, 1, 1, 1], [0, 1, 2, 3])
    assert MashPenalty()(group).per_episode == pytest.approx([0, 1, 0.7, 0.49], abs=1e-4)


def test_mash_historic_minimum_persists_and_checkpoints(make_episode):
    transform = MashPenalty(lam=0.8)
    transform(_mash_group(make_episode, [0, 1, 1, 1], [0, 1, 2, 3]))
    later = _mash_group(make_episode, [1, 0], [3, 0])
    assert transform(later).per_episode == pytest.approx([0.64, 0.0], abs=1e-4)
    restored = MashPenalty(lam=0.8)
    restored.load_state_dict(transform.state_dict())
    assert restored(later).per_episode == pytest.approx([0.64, 0.0], abs=1e-4)
    # Another question has its own minimum.
    assert transform(_mash_group(make_episode, [1], [3], task_id="other")).per_episode == [1.0]


def test_mash_linear(make_episode):
    group = _mash_group(make_episode, [0, 1, 1, 1], [0, 1, 2, 3])
    assert MashPenalty(variant="linear")(group).per_episode == pytest.approx(
        [0, 5 / 6, 4 / 6, 3 / 6], abs=1e-4
    )
    assert MashPenalty(variant="linear", max_searches=2)(group).per_episode == pytest.approx(
        [0, 2 / 3, 1 / 3, 0], abs=1e-4
    )


def test_mash_otc(make_episode):
    group = _mash_group(make_episode, [0, 1, 1, 1], [0, 1, 2, 3])
    assert MashPenalty(variant="otc")(group).per_episode == pytest.approx(
        [0, 1.0, math.sin(2 * math.pi / 3), math.sin(3 * math.pi / 4)], abs=1e-4
    )
    zero = _mash_group(make_episode, [1, 1, 0], [0, 2, 1])
    assert MashPenalty(variant="otc")(zero).per_episode == pytest.approx(
        [1.0, math.cos(2 * math.pi / 9), 0.0], abs=1e-4
    )
    assert MashPenalty(variant="otc", max_searches=1)(zero).per_episode == pytest.approx(
        [1.0, math.cos(2 * math.pi / 5), 0.0], abs=1e-4
    )


def test_mash_otc_strict_zeroes_searching_when_none_was_needed(make_episode):
    zero = _mash_group(make_episode, [1, 1, 0], [0, 2, 1])
    assert MashPenalty(variant="otc_strict")(zero).per_episode == pytest.approx([1.0, 0.0, 0.0])


@pytest.mark.parametrize("variant", ["exp", "linear", "otc", "otc_strict"])
def test_mash_graded_correctness_multiplies_the_penalty(make_episode, variant):
    """MASH's reward manager: reward = correctness score * search penalty (a token-F1 of 0.5
    earns half of what an exact answer with the same searches earns)."""
    graded = _mash_group(make_episode, [0.0, 0.5, 1.0, 0.8], [0, 1, 2, 3])
    binary = _mash_group(make_episode, [0, 1, 1, 1], [0, 1, 2, 3])
    penalties = MashPenalty(variant=variant, lam=0.8)(binary).per_episode
    expected = [c * p for c, p in zip([0.0, 0.5, 1.0, 0.8], penalties)]
    assert MashPenalty(variant=variant, lam=0.8)(graded).per_episode == pytest.approx(expected)
    if variant == "exp":
        assert expected == pytest.approx([0.0, 0.5, 0.8, 0.512])


def test_mash_graded_score_counts_as_correct_for_the_minimum(make_episode):
    # The cheapest rollout with any credit (F1 0.2 with 0 searches) sets m_hat = 0.
    group = _mash_group(make_episode, [0.2, 1.0], [0, 2])
    assert MashPenalty(lam=0.5)(group).per_episode == pytest.approx([0.2, 0.25])


@pytest.mark.parametrize("bad", [{"variant": "cubic"}, {"lam": 1.5}, {"max_searches": -1}])
def test_mash_bad_arguments(bad):
    with pytest.raises(ConfigError):
        MashPenalty(**bad)


def test_uis1_step_score_reference():
    assert uis1_step_score(True, "exact") == pytest.approx(1.0)
    assert uis1_step_score(True, "wrong_args") == pytest.approx(0.55)
    assert uis1_step_score(False, "wrong_type") == pytest.approx(0.09)


def _gui_episode(make_episode, scores, matches, episode_id):
    return make_episode(
        "g", rewards=scores, extras=[{"matched": m} for m in matches], episode_id=episode_id
    )


def test_uis1_returns_reference(make_episode):
    assert uis1_discounted_returns(
        [1.0, 0.55, 1.0, 1.0], [True, False, True, True]
    ) == pytest.approx([1.0, 0.55, 1.5, 1.0], abs=1e-4)
    ep = _gui_episode(make_episode, [1.0, 0.55, 1.0, 1.0], [True, False, True, True], "a")
    result = UIS1Returns()([ep])
    assert result.per_step == [pytest.approx([1.0, 0.55, 1.5, 1.0], abs=1e-4)]
    assert result.per_episode == pytest.approx([1.0])
    assert UIS1Returns(gamma=0.9)([ep]).per_step[0] == pytest.approx([1.0, 0.55, 1.9, 1.0])


def _gui_group(make_episode):
    return [
        _gui_episode(make_episode, [1.0, 1.0], [True, True], "a"),
        _gui_episode(make_episode, [1.0, 0.1], [True, False], "b"),
    ]


def test_uis1_advantage_pooled_scores(make_episode):
    result = UIS1Advantage()(_gui_group(make_episode))
    s = 1 / math.sqrt(2)
    assert result.kind == "advantage"
    assert result.per_step[0] == pytest.approx([0.5 + s, 0.5 + s], abs=1e-4)
    assert result.per_step[1] == pytest.approx([0.5 - s, -1.5 - s], abs=1e-4)


def test_uis1_advantage_trajectory_return_and_weights(make_episode):
    s = 1 / math.sqrt(2)
    result = UIS1Advantage(episode_term="trajectory_return")(_gui_group(make_episode))
    assert result.per_step == [
        pytest.approx([2 * s, 2 * s], abs=1e-4),
        pytest.approx([-2 * s, -2 * s], abs=1e-4),
    ]
    weighted = UIS1Advantage(w_episode=0.0, w_step=2.0)(_gui_group(make_episode))
    assert weighted.per_step == [
        pytest.approx([2 * s, 2 * s], abs=1e-4),
        pytest.approx([-2 * s, -2 * s], abs=1e-4),
    ]


def test_uis1_advantage_mean_norm_subtracts_the_mean_only(make_episode):
    # Returns: a = [1.5, 1.0], b = [1.0, 0.1]; pooled scores [1, 1, 1, 0.1] (mean 0.775).
    result = UIS1Advantage(mode="mean_norm")(_gui_group(make_episode))
    assert result.per_step[0] == pytest.approx([0.225 + 0.25, 0.225 + 0.45])
    assert result.per_step[1] == pytest.approx([0.225 - 0.25, -0.675 - 0.45])
    assert UIS1Advantage(mode="mean_norm").spec()["mode"] == "mean_norm"
    with pytest.raises(ConfigError, match="mode"):
        UIS1Advantage(mode="std_only")


@pytest.mark.parametrize("mode", ["mean_norm", "mean_std_norm"])
def test_uis1_single_rollout_keeps_the_raw_score_when_asked(make_episode, mode):
    lone = [_gui_episode(make_episode, [0.7], [True], "a")]
    assert UIS1Advantage(mode=mode)(lone).per_step == [[0.0]]
    raw = UIS1Advantage(mode=mode, single_rollout="raw")(lone).per_step
    assert raw == [[pytest.approx(0.7, abs=1e-6)]]
    # trajectory_return: one rollout's summed score, broadcast; the step term stays 0.
    two_steps = [_gui_episode(make_episode, [1.0, 0.55], [True, True], "a")]
    traj = UIS1Advantage(mode=mode, episode_term="trajectory_return", single_rollout="raw")
    assert traj(two_steps).per_step == [pytest.approx([1.55, 1.55], abs=1e-5)]


def test_uis1_needs_match_flags(make_episode):
    with pytest.raises(ConfigError, match="matched"):
        UIS1Returns()([make_episode(rewards=[1.0])])


def test_dynamic_sampling_threshold(make_episode):
    flat = [_gui_episode(make_episode, [1.0], [True], str(i)) for i in range(3)]
    spread = _gui_group(make_episode)  # R_0 = 1.5 and 1.0: std 0.3536
    sampler = DynamicSampling(0.3, UIS1Returns())
    assert sampler.spread(spread) == pytest.approx(0.353553, abs=1e-4)
    assert sampler.filter([flat, spread]) == [spread]
    assert DynamicSampling(0.4, UIS1Returns()).filter([flat, spread]) == []
