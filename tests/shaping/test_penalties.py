"""StepPenalty, InvalidActionPenalty, CostPenalty, ClipReward, RewardNoise, ReweightComponents."""

from __future__ import annotations

import pytest

from rewardgym.errors import ConfigError
from rewardgym.shaping import (
    ClipReward,
    CostPenalty,
    InvalidActionPenalty,
    RewardNoise,
    ReweightComponents,
    StepPenalty,
)


def _steps(env, actions, seed=0):
    env.reset(seed=seed)
    out = []
    for a in actions:
        out.append(env.step(a))
        if out[-1][2] or out[-1][3]:
            break
    return out


@pytest.mark.parametrize("penalty", [0.01, 0.25])
def test_step_penalty_charges_every_step(make_corridor, penalty):
    base = _steps(make_corridor(length=9), ["left", "search", "x"])
    shaped = _steps(StepPenalty(make_corridor(length=9), penalty=penalty), ["left", "search", "x"])
    for (_, r0, *_), (_, r1, _, _, info) in zip(base, shaped):
        assert info["reward_components"]["shaping/step_penalty"] == -penalty
        assert r1 == pytest.approx(r0 - penalty)


@pytest.mark.parametrize("penalty", [0.1, 0.7])
def test_invalid_action_penalty_charges_only_invalid_steps(make_corridor, penalty):
    shaped = _steps(
        InvalidActionPenalty(make_corridor(length=9), penalty=penalty), ["left", "??", "search"]
    )
    values = [s[4]["reward_components"]["shaping/invalid_action"] for s in shaped]
    assert values == [0.0, -penalty, 0.0]


@pytest.mark.parametrize("price", [0.1, 0.5])
def test_cost_penalty_pays_for_increments(make_corridor, price):
    env = CostPenalty(make_corridor(length=9), costs={"searches": price})
    shaped = _steps(env, ["search", "left", "search", "search"])
    values = [s[4]["reward_components"]["shaping/cost"] for s in shaped]
    assert values == pytest.approx([-price, 0.0, -price, -price])
    # A new episode starts from its own baseline.
    shaped = _steps(env, ["left", "search"], seed=1)
    assert [s[4]["reward_components"]["shaping/cost"] for s in shaped] == pytest.approx([0, -price])


def test_cost_penalty_rejects_costs_the_env_does_not_report(make_corridor):
    with pytest.raises(ConfigError, match="searches"):
        CostPenalty(make_corridor(), costs={"tokens": 0.1})
    with pytest.raises(ConfigError):
        CostPenalty(make_corridor(), costs={})


@pytest.mark.parametrize(("lo", "hi"), [(-1.0, 1.0), (0.2, 0.5)])
def test_clip_bounds_the_reward_and_records_the_raw_one(make_corridor, lo, hi):
    inner = ReweightComponents(make_corridor(length=3), {"task": 4.0, "format": -3.0})
    env = ClipReward(inner, min_reward=lo, max_reward=hi)
    env.reset(seed=0)
    for action in ["bad", "right", "right"]:
        _, reward, terminated, _, info = env.step(action)
        raw = info["reward_unclipped"]
        assert reward == pytest.approx(min(max(raw, lo), hi))
        assert info["reward_components"]["shaping/clip"] == pytest.approx(reward - raw)
        if terminated:
            break
    assert raw == pytest.approx(1.0)  # 4*task - 3*format at the end


def test_clip_needs_ordered_bounds(make_corridor):
    with pytest.raises(ConfigError):
        ClipReward(make_corridor(), min_reward=1.0, max_reward=1.0)


@pytest.mark.parametrize("flip_p", [0.0, 0.3, 1.0])
def test_reward_noise_flips_at_the_requested_rate(make_corridor, flip_p):
    env = RewardNoise(make_corridor(length=50, max_steps=5000), flip_p=flip_p, seed=7)
    steps = _steps(env, ["left"] * 3000)
    noise = [s[4]["reward_components"]["shaping/noise"] for s in steps]
    # task is 0 here, weight 1: a flip adds exactly +1 to the reward.
    assert set(noise) <= {0.0, 1.0}
    rate = sum(noise) / len(noise)
    assert rate == pytest.approx(flip_p, abs=0.035)  # ~4 sigma at n=3000
    assert all(s[4]["reward_components"]["task"] == 0.0 for s in steps)  # original kept


def test_reward_noise_is_reproducible_from_the_reset_seed(make_corridor):
    def flips(seed, noise_seed):
        env = RewardNoise(make_corridor(length=50, max_steps=1000), flip_p=0.5, seed=noise_seed)
        return [
            s[4]["reward_components"]["shaping/noise"] for s in _steps(env, ["left"] * 50, seed)
        ]

    assert flips(1, 0) == flips(1, 0)
    assert flips(1, 0) != flips(2, 0)
    assert flips(1, 0) != flips(1, 1)


def test_reweight_changes_the_scalar_and_can_silence_a_term(make_corridor):
    env = ReweightComponents(make_corridor(length=5), {"progress": 2.0, "format": 0.0})
    _, info = env.reset(seed=0)
    assert info["reward_weights"]["progress"] == 2.0
    for _, reward, _, _, info in _steps(env, ["right", "search"]):
        c = info["reward_components"]
        assert reward == pytest.approx(c["task"] + 2.0 * c["progress"])


def test_reweight_can_reweight_an_inner_shaping_term(make_corridor):
    env = ReweightComponents(
        StepPenalty(make_corridor(), penalty=0.1), {"shaping/step_penalty": 3.0}
    )
    ((_, reward, _, _, info),) = _steps(env, ["left"])
    assert reward == pytest.approx(0.1 * info["reward_components"]["format"] - 0.3)


@pytest.mark.parametrize("weights", [{"nope": 1.0}, {}, {"task": float("inf")}, {"task": "high"}])
def test_reweight_validates_names_and_values(make_corridor, weights):
    with pytest.raises(ConfigError):
        ReweightComponents(make_corridor(), weights)


def test_the_same_shaping_term_cannot_be_added_twice(make_corridor):
    with pytest.raises(ConfigError, match="already"):
        StepPenalty(StepPenalty(make_corridor()))


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (StepPenalty, {"penalty": -1}),
        (InvalidActionPenalty, {"penalty": "x"}),
        (RewardNoise, {"flip_p": 1.5}),
        (RewardNoise, {"component": "nope"}),
    ],
)
def test_bad_penalty_arguments_fail_at_construction(make_corridor, cls, kwargs):
    with pytest.raises(ConfigError):
        cls(make_corridor(), **kwargs)


@pytest.mark.parametrize(
    ("make", "key", "actions"),
    [
        (lambda env, w: StepPenalty(env, penalty=0.2, weight=w), "shaping/step_penalty", ["left"]),
        (
            lambda env, w: InvalidActionPenalty(env, penalty=0.2, weight=w),
            "shaping/invalid_action",
            ["??"],
        ),
        (
            lambda env, w: CostPenalty(env, costs={"searches": 0.2}, weight=w),
            "shaping/cost",
            ["search"],
        ),
    ],
)
def test_weight_scales_the_contribution(make_corridor, make, key, actions):
    ((_, plain, _, _, info),) = _steps(make(make_corridor(length=9), 1.0), actions)
    ((_, heavy, _, _, heavy_info),) = _steps(make(make_corridor(length=9), 2.5), actions)
    assert info["reward_components"][key] == pytest.approx(-0.2)
    assert heavy_info["reward_weights"][key] == 2.5
    assert heavy - plain == pytest.approx(1.5 * -0.2)


def test_reward_noise_flips_the_named_component(make_corridor):
    env = RewardNoise(make_corridor(length=9), flip_p=1.0, component="format")
    ((_, reward, _, _, info),) = _steps(env, ["left"])
    # format = 1 (weight 0.1) flipped to 0: the noise term removes its 0.1.
    assert info["reward_components"]["shaping/noise"] == pytest.approx(-0.1)
    assert reward == pytest.approx(0.0)
    assert info["reward_components"]["format"] == 1.0
