"""Unlikeliness, PAR and its baselines, ClipDelta, CurriculumMix, ReNorm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rewardgym.errors import ConfigError
from rewardgym.shaping import PAR, BoundedReward, ClipDelta, CurriculumMix, ReNorm, Unlikeliness
from rewardgym.shaping.transforms import group_normalize, par_reward


def _samples(make_episode, rewards, logprobs, where="metadata"):
    eps = []
    for i, (r, lp) in enumerate(zip(rewards, logprobs)):
        if where == "metadata":
            eps.append(
                make_episode(components=[{"task": r}], metadata={"logprob": lp}, episode_id=str(i))
            )
        else:
            eps.append(
                make_episode(components=[{"task": r}], extras=[{"logprob": lp}], episode_id=str(i))
            )
    return eps


def test_unlikeliness_reference(make_episode):
    group = _samples(make_episode, [1, 1, 0, 1], [-0.5, -2.0, -1.0, -0.1])
    raw = Unlikeliness(normalize=False)(group)
    assert raw.per_episode == pytest.approx([0.875, 1.0, 0.0, 0.8125], abs=1e-4)
    adv = Unlikeliness()(group)
    assert adv.kind == "advantage"
    assert adv.per_episode == pytest.approx(group_normalize([0.875, 1.0, 0.0, 0.8125]), abs=1e-9)


def test_unlikeliness_beta_and_token_lists(make_episode):
    group = _samples(make_episode, [1, 1], [[-1.0, -3.0], [-0.1, -0.1]], where="extras")
    assert Unlikeliness(beta=0.5, normalize=False)(group).per_episode == pytest.approx([1.0, 0.75])


def test_unlikeliness_needs_logprobs(make_episode):
    with pytest.raises(ConfigError, match="logprob"):
        Unlikeliness()([make_episode()])


def test_par_reference(make_episode):
    assert par_reward(1.0, [0.0, 2.0]) == pytest.approx(0.5, abs=1e-4)
    group = [
        make_episode(rewards=[1.0], episode_id="a"),
        make_episode(rewards=[3.0], episode_id="b"),
    ]
    assert PAR(reference=[0.0, 2.0])(group).per_episode == pytest.approx(
        [0.5, 0.5 * (1 / (1 + math.exp(-3)) + 1 / (1 + math.exp(-1)))], abs=1e-4
    )
    assert PAR(k=2.0, reference=[0.0])(group).per_episode[0] == pytest.approx(0.880797, abs=1e-4)


def test_par_reads_per_episode_references(make_episode):
    group = [make_episode(rewards=[1.0], metadata={"reference_rewards": [1.0]})]
    assert PAR()(group).per_episode == pytest.approx([0.5])
    with pytest.raises(ConfigError, match="reference"):
        PAR()([make_episode(rewards=[1.0])])


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("zscore", [-1.0, 0.0, 1.0]),
        ("clip", [0.0, 1.0, 2.0]),
        ("minmax", [0.0, 0.5, 1.0]),
        ("centered", [-1.0, 0.0, 1.0]),
        ("tanh", list(np.tanh([0.0, 1.0, 2.0]))),
        ("tanh_centered", list(np.tanh([-1.0, 0.0, 1.0]))),
        ("arctan", list(np.arctan([0.0, 1.0, 2.0]))),
        ("arctan_centered", list(np.arctan([-1.0, 0.0, 1.0]))),
        (
            "logsigmoid_centered",
            [math.log(1 / (1 + math.exp(1))), math.log(0.5), math.log(1 / (1 + math.exp(-1)))],
        ),
    ],
)
def test_bounded_baselines(make_episode, method, expected):
    group = [make_episode(rewards=[r], episode_id=str(r)) for r in (0.0, 1.0, 2.0)]
    # values 0,1,2: mean 1, unbiased std 1, min 0, max 2
    assert BoundedReward(method, eps=0.0)(group).per_episode == pytest.approx(expected, abs=1e-4)


def test_bounded_reference_and_running_state(make_episode):
    group = [make_episode(rewards=[r], episode_id=str(r)) for r in (0.0, 1.0, 2.0)]
    assert BoundedReward("centered", reference=0.5)(group).per_episode == pytest.approx(
        [-0.5, 0.5, 1.5]
    )
    transform = BoundedReward("minmax", eps=0.0)
    transform(group)
    later = [make_episode(rewards=[1.0])]
    assert transform(later).per_episode == pytest.approx([0.5])  # min/max remembered
    restored = BoundedReward("minmax", eps=0.0)
    restored.load_state_dict(transform.state_dict())
    assert restored.state_dict() == transform.state_dict()
    with pytest.raises(ConfigError):
        BoundedReward("cubic")


def _process(make_episode, values, task=0.0):
    comps = [{"process": v} for v in values]
    comps[-1]["task"] = task
    return make_episode(components=comps)


def test_clip_and_delta_reference(make_episode):
    ep = _process(make_episode, [0.2, 0.5, 0.3])
    assert ClipDelta("clip", eta=0.4)([ep]).per_step[0] == pytest.approx([-0.2, 0.0, -0.1])
    assert ClipDelta("clip")([ep]).per_step[0] == pytest.approx([0.0, 0.0, 0.0])
    delta = ClipDelta("delta")([ep])
    assert delta.per_step[0] == pytest.approx([-0.3, 0.2, 0.3])
    assert delta.per_episode == pytest.approx([0.2])  # telescopes to r_0: no farming


def test_curriculum_mix_decays_with_the_global_step(make_episode):
    ep = _process(make_episode, [0.8], task=1.0)
    mix = CurriculumMix(alpha0=0.5, horizon=100)
    assert mix([ep]).per_episode == pytest.approx([0.5 * 0.8 + 0.5])
    mix.set_global_step(50)
    assert mix([ep]).per_episode == pytest.approx([0.25 * 0.8 + 0.75], abs=1e-4)
    restored = CurriculumMix(alpha0=0.5, horizon=100)
    restored.load_state_dict(mix.state_dict())
    assert restored.alpha == pytest.approx(0.25)
    mix.set_global_step(500)
    assert mix([ep]).per_episode == pytest.approx([1.0])
    assert CurriculumMix(alpha0=0.2, horizon=100)([ep]).per_episode == pytest.approx(
        [0.2 * 0.8 + 0.8]
    )


def test_renorm_is_labelled_experimental(make_episode):
    assert ReNorm()([_process(make_episode, [0.2, 0.9], task=1.0)]).per_step[0] == pytest.approx(
        [0.2, 0.9]
    )
    assert ReNorm()([_process(make_episode, [0.2, 0.9], task=0.0)]).per_step[0] == pytest.approx(
        [-0.8, -0.1]
    )
    assert ReNorm().spec()["experimental"] is True


def test_key_name_arguments_are_honoured(make_episode):
    from rewardgym.shaping import MashPenalty, PosteriorGate, UIS1Returns

    group = [
        make_episode(
            components=[{"task": 1.0}], cost={"tool_calls": 2, "searches": 0}, episode_id="a"
        ),
        make_episode(
            components=[{"task": 1.0}], cost={"tool_calls": 1, "searches": 0}, episode_id="b"
        ),
    ]
    assert MashPenalty(lam=0.5, cost_key="tool_calls")(group).per_episode == pytest.approx(
        [0.5, 1.0]
    )
    ep = make_episode(components=[{"fmt": 1.0, "ok": 1.0, "process": 0.5}])
    assert PosteriorGate(format_component="fmt", outcome_component="ok")([ep]).per_episode == [2.5]
    gui = make_episode(
        components=[{"action": 0.5}, {"action": 1.0}], extras=[{"hit": True}, {"hit": True}]
    )
    assert UIS1Returns(score_key="action", match_key="hit")([gui]).per_step[0] == pytest.approx(
        [1.0, 1.0]
    )
    lp = [
        make_episode(components=[{"task": 1.0}], metadata={"lp": v}, episode_id=str(v))
        for v in (-1.0, -2.0)
    ]
    assert Unlikeliness(logprob_key="lp", normalize=False)(lp).per_episode == pytest.approx(
        [0.875, 1.0]
    )
    prm = make_episode(components=[{"prm": 0.3}, {"prm": 0.1}])
    assert ClipDelta("delta", process_component="prm")([prm]).per_step[0] == pytest.approx(
        [0.2, 0.1]
    )
    rewards = [make_episode(components=[{"task": 1.0}], rewards=[5.0])]
    assert PAR(reference=[1.0], source="task")(rewards).per_episode == pytest.approx([0.5])
