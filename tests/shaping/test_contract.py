"""Every shaping wrapper keeps check_agentic_env green, on a toy env and on every registered env."""

from __future__ import annotations

import gymnasium as gym
import pytest

from rewardgym.contract import invariant_error
from rewardgym.envs.checker import check_agentic_env
from rewardgym.registry import ENTRIES, extra_available
from rewardgym.shaping import (
    ClipReward,
    CostPenalty,
    InvalidActionPenalty,
    PotentialShaping,
    RewardNoise,
    ReweightComponents,
    RunningNormalize,
    StepPenalty,
    stack_spec,
)

CHEAP_MALFORMED = ["", "}{ not an action ]][[ \x7f"]
REGISTERED = sorted(e.id for e in ENTRIES.values() if not e.multiagent)


def _step_potential(obs, info):
    return 0.25 * float(info["step"])


def _warm_frozen_normalize(env):
    """RunningNormalize warmed up on a few steps, then frozen (rollouts must be repeatable)."""
    wrapped = RunningNormalize(env, epsilon=1e-3, center=False)
    wrapped.reset(seed=123)
    wrapped.action_space.seed(123)
    for _ in range(5):
        *_, terminated, truncated, _ = wrapped.step(wrapped.action_space.sample())
        if terminated or truncated:
            wrapped.reset()
    wrapped.freeze()
    return wrapped


def _cost_penalty(env):
    keys = tuple(getattr(env.unwrapped, "COST_KEYS", ()) or ())
    if not keys:
        pytest.skip(f"{type(env.unwrapped).__name__} declares no cost to pay for")
    return CostPenalty(env, costs={keys[0]: 0.3})


WRAPPERS = {
    "reweight": lambda env: ReweightComponents(env, {"task": 2.0}),
    "potential": lambda env: PotentialShaping(env, _step_potential, gamma=0.9),
    "step_penalty": lambda env: StepPenalty(env, penalty=0.05),
    "invalid_action": lambda env: InvalidActionPenalty(env, penalty=0.3),
    "cost": _cost_penalty,
    "clip": lambda env: ClipReward(env, min_reward=-0.5, max_reward=0.5),
    "noise": lambda env: RewardNoise(env, flip_p=0.5, seed=3),
    "normalize": _warm_frozen_normalize,
    "stack": lambda env: _warm_frozen_normalize(
        PotentialShaping(ReweightComponents(env, {"task": 3.0}), _step_potential, gamma=0.5)
    ),
}


def _corridor_policy(obs, info):
    return ["right", "search", "oops", "left"][info["step"] % 4]


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
def test_wrapper_keeps_the_toy_env_valid(make_corridor, wrapper):
    env = WRAPPERS[wrapper](make_corridor(length=4, max_steps=6))
    check_agentic_env(env, actions=_corridor_policy)
    check_agentic_env(WRAPPERS[wrapper](make_corridor()))  # random text actions


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
@pytest.mark.parametrize("env_id", REGISTERED)
def test_wrapper_keeps_registered_envs_valid(env_id, wrapper):
    entry = ENTRIES[env_id]
    if not extra_available(entry.extra):
        pytest.skip(f"{env_id} needs pip install 'rewardgym[{entry.extra}]'")
    env = WRAPPERS[wrapper](gym.make(env_id))
    # Gymnasium's own checker looks at env.unwrapped, which tests/envs already covers; two cheap
    # malformed outputs here, the full default list in the whole-stack test below.
    text_actions = isinstance(env.action_space, gym.spaces.Text)
    malformed = CHEAP_MALFORMED if text_actions else None
    check_agentic_env(env, n_steps=8, skip_gymnasium=True, malformed_actions=malformed)


@pytest.mark.parametrize("env_id", REGISTERED)
def test_every_wrapper_stacked_keeps_registered_envs_valid(env_id):
    entry = ENTRIES[env_id]
    if not extra_available(entry.extra):
        pytest.skip(f"{env_id} needs pip install 'rewardgym[{entry.extra}]'")
    env = gym.make(env_id)
    keys = tuple(getattr(env.unwrapped, "COST_KEYS", ()) or ())
    for name in ("reweight", "potential", "step_penalty", "invalid_action", "clip", "noise"):
        env = WRAPPERS[name](env)
    if keys:
        env = CostPenalty(env, costs={keys[0]: 0.3})
    env = _warm_frozen_normalize(env)
    assert len(stack_spec(env)) == (8 if keys else 7)
    check_agentic_env(env, n_steps=8, skip_gymnasium=True)


@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
def test_wrapper_never_mutates_the_inner_info(make_corridor, wrapper):
    inner = make_corridor()
    seen = []
    original_step = inner.step

    def spy(action):
        result = original_step(action)
        seen.append((result[1], result[4], dict(result[4]["reward_components"])))
        return result

    inner.step = spy
    env = WRAPPERS[wrapper](inner)
    env.reset(seed=0)
    for action in ["right", "search", "x", "right"]:
        *_, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            break
    for reward, info, components in seen:
        assert info["reward_components"] == components
        assert not any(k.startswith("shaping/") for k in info["reward_weights"])
        assert invariant_error(reward, info) is None


def test_specs_name_every_wrapper_with_its_parameters(make_corridor):
    env = StepPenalty(CostPenalty(make_corridor(), costs={"searches": 0.4}), penalty=0.2)
    assert stack_spec(env) == [
        {"name": "CostPenalty", "costs": {"searches": 0.4}, "weight": 1.0},
        {"name": "StepPenalty", "penalty": 0.2, "weight": 1.0},
    ]


def test_gymnasium_env_spec_survives_a_shaping_stack():
    """``env.spec`` stays Gymnasium's EnvSpec through the stack (outer wrappers and SB3 read it)."""
    import rewardgym.shaping as shaping

    env = shaping.from_config(gym.make("rewardgym/Dungeon-Staircase-v0"), "efficient")
    outer = gym.wrappers.RecordEpisodeStatistics(env)
    assert env.spec.id == "rewardgym/Dungeon-Staircase-v0"
    assert outer.spec.id == "rewardgym/Dungeon-Staircase-v0"
    assert env.shaping_spec() == {"name": "InvalidActionPenalty", "penalty": 0.1, "weight": 1.0}
    outer.close()
