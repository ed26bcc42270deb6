"""from_config: recipes, lists, dicts, YAML files, errors and spec round trips."""

from __future__ import annotations

import pytest

from rewardgym.envs.checker import check_agentic_env
from rewardgym.errors import ConfigError
from rewardgym.shaping import RECIPES, from_config, stack_spec

STACK = [
    {"name": "ReweightComponents", "weights": {"progress": 0.5}},
    {"name": "PotentialShaping", "potential": "goal_distance", "gamma": 0.9},
    {"name": "CostPenalty", "costs": {"searches": 0.2}},
    {"name": "RunningNormalize", "epsilon": 0.01},
]


def test_list_builds_the_stack_in_order(make_corridor):
    env = from_config(make_corridor(), STACK)
    names = [s["name"] for s in stack_spec(env)]
    assert names == [item["name"] for item in STACK]
    assert stack_spec(env)[1] == {
        "name": "PotentialShaping",
        "potential": "goal_distance",
        "gamma": 0.9,
        "weight": 1.0,
    }
    assert stack_spec(env)[3]["epsilon"] == 0.01


def test_spec_round_trip_rebuilds_the_same_rewards(make_corridor):
    first = from_config(make_corridor(), {"wrappers": STACK})
    second = from_config(make_corridor(), stack_spec(first))
    assert stack_spec(second) == stack_spec(first)
    for env in (first, second):
        env.reset(seed=4)
    for action in ["right", "search", "??", "left"]:
        a, b = first.step(action), second.step(action)
        assert a[1] == b[1]
        assert a[4]["reward_components"] == b[4]["reward_components"]


def test_yaml_file(make_corridor, tmp_path):
    path = tmp_path / "reward.yaml"
    path.write_text(
        "wrappers:\n  - name: StepPenalty\n    penalty: 0.05\n"
        "  - name: CostPenalty\n    costs: {searches: 0.3}\n"
    )
    env = from_config(make_corridor(), str(path))
    assert stack_spec(env) == [
        {"name": "StepPenalty", "penalty": 0.05, "weight": 1.0},
        {"name": "CostPenalty", "costs": {"searches": 0.3}, "weight": 1.0},
    ]
    env.reset(seed=0)
    *_, info = env.step("search")
    assert info["reward_components"]["shaping/cost"] == pytest.approx(-0.3)


@pytest.mark.parametrize("recipe", ["none", "efficient", "normalized", "pay-per-search"])
def test_generic_recipes_apply_to_the_toy_env(make_corridor, recipe):
    env = from_config(make_corridor(), recipe)
    assert [s["name"] for s in stack_spec(env)] == [w["name"] for w in RECIPES[recipe]]
    if recipe == "normalized":
        env.reset(seed=0)
        env.step("left")
        env.freeze()
    check_agentic_env(env, actions=lambda o, i: ["right", "search", "x"][i["step"] % 3])


def test_recipe_needing_an_absent_potential_fails_clearly(make_corridor):
    with pytest.raises(ConfigError, match="stairs_distance"):
        from_config(make_corridor(), "potential-stairs")


def test_recipes_on_registered_envs():
    import gymnasium as gym

    import rewardgym  # noqa: F401  (registers the ids)

    code = from_config(gym.make("rewardgym/CodeExec-v0"), "dense-code")
    assert stack_spec(code)[0]["weights"] == {"tests_passed": 0.5}
    code.close()
    for recipe in ("potential-stairs", "potential-explore"):
        dungeon = from_config(gym.make("rewardgym/Dungeon-Staircase-v0"), recipe)
        dungeon.reset(seed=0)
        *_, info = dungeon.step(dungeon.action_space.sample())
        assert "shaping/potential" in info["reward_components"]
        assert stack_spec(dungeon)[0]["potential"] == RECIPES[recipe][0]["potential"]
        dungeon.close()


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ("no-such-recipe", "valid recipes"),
        ([{"name": "Nope"}], "PotentialShaping"),
        ([{"name": "StepPenalty", "penalti": 0.1}], "penalty"),
        ([{"name": "StepPenalty", "penalty": -0.1}], ">= 0"),
        ([{"penalty": 0.1}], "name"),
        ({"wrapper": []}, "wrappers"),
        (42, "recipe"),
    ],
)
def test_bad_configs_name_the_valid_choices(make_corridor, config, match):
    with pytest.raises(ConfigError, match=match):
        from_config(make_corridor(), config)


def test_missing_yaml_file(make_corridor, tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        from_config(make_corridor(), str(tmp_path / "absent.yaml"))


def _all_transforms():
    from rewardgym.shaping import (
        PAR,
        BoundedReward,
        ClipDelta,
        CurriculumMix,
        DynamicSampling,
        GroupNormalize,
        MashPenalty,
        PosteriorGate,
        ReNorm,
        UIS1Advantage,
        UIS1Returns,
        Unlikeliness,
        VeRPOReward,
    )

    return [
        GroupNormalize(source=VeRPOReward(beta=0.3, combination="B"), eps=0.1),
        VeRPOReward(beta=0.2, eps=0.05, running=True),
        PosteriorGate(process_component="quality"),
        MashPenalty(variant="otc", lam=0.5, max_searches=3, cost_key="tool_calls"),
        UIS1Returns(gamma=0.9, score_key="action"),
        UIS1Advantage(w_step=2.0, episode_term="trajectory_return"),
        DynamicSampling(0.1, source=UIS1Returns()),
        Unlikeliness(beta=0.5, normalize=False),
        PAR(k=2.0, reference=[0.5]),
        BoundedReward("tanh_centered", reference=1.0),
        ClipDelta("delta", eta=0.2),
        CurriculumMix(alpha0=0.3, horizon=10),
        ReNorm(process_component="prm"),
    ]


@pytest.mark.parametrize("transform", _all_transforms(), ids=lambda t: t.spec()["name"])
def test_transform_specs_round_trip(transform):
    from rewardgym.shaping import TRANSFORMS, transform_from_config

    rebuilt = transform_from_config(transform.spec())
    assert type(rebuilt) is type(transform)
    assert rebuilt.spec() == transform.spec()
    assert set(TRANSFORMS) >= {t.spec()["name"] for t in _all_transforms()}


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"name": "Nope"}, "VeRPOReward"),
        ({"name": "VeRPOReward", "betta": 1}, "beta"),
        ({"name": "VeRPOReward", "combination": "Z"}, "combination"),
        ("VeRPOReward", "name"),
    ],
)
def test_bad_transform_configs(config, match):
    from rewardgym.shaping import transform_from_config

    with pytest.raises(ConfigError, match=match):
        transform_from_config(config)
