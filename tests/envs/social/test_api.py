"""PettingZoo conformance, the info contract, bad input, hidden roles and configuration."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test
from social_helpers import force_roles, idle  # tests/envs/social/social_helpers.py

import rewardgym
from rewardgym.contract import REQUIRED_INFO_KEYS, invariant_error
from rewardgym.envs.checker import check_agentic_parallel_env
from rewardgym.envs.social import ActionLayout, SocialDeductionEnv
from rewardgym.envs.social import env as aec_env
from rewardgym.errors import ConfigError
from rewardgym.registry import ENTRIES

VARIANTS = sorted(e.id for e in ENTRIES.values() if e.family == "social")


def test_variants_are_registered_as_multiagent():
    assert "rewardgym/SocialDeduction-v0" in VARIANTS and len(VARIANTS) >= 3
    assert all(ENTRIES[v].multiagent for v in VARIANTS)
    env = rewardgym.make_parallel("rewardgym/SocialDeduction-Large-v0")
    assert len(env.possible_agents) == 10 and env.config.num_imposters == 2


@pytest.mark.parametrize("env_id", VARIANTS)
def test_pettingzoo_conformance(env_id):
    """api_test, parallel_api_test, seed_test and parallel_seed_test, long enough to reach
    discussions and votes, and the suite's own checker."""
    kwargs = {"meeting_interval": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel_api_test(rewardgym.make_parallel(env_id, **kwargs), num_cycles=200)
        api_test(aec_env(**{**ENTRIES[env_id].kwargs, **kwargs}), num_cycles=60)
        parallel_seed_test(lambda: rewardgym.make_parallel(env_id, **kwargs), num_cycles=60)
        seed_test(lambda: aec_env(**{**ENTRIES[env_id].kwargs, **kwargs}), num_cycles=30)
    check_agentic_parallel_env(lambda: rewardgym.make_parallel(env_id, **kwargs), num_cycles=40)


def test_every_info_follows_the_contract_through_a_whole_game():
    from rewardgym.agents.social_agents import BayesianListener, LyingImposter

    env = SocialDeductionEnv(num_players=5, meeting_interval=10)
    obs, infos = env.reset(seed=3)
    agents = {
        a: (LyingImposter() if a in env.true_imposters else BayesianListener()) for a in env.agents
    }
    phases = set()
    while env.agents:
        obs, rewards, _terms, _truncs, infos = env.step(
            {a: agents[a].act(obs[a], infos[a]) for a in env.agents}
        )
        for a, info in infos.items():
            for key, types in REQUIRED_INFO_KEYS.items():
                assert isinstance(info[key], types), key
            assert invariant_error(rewards[a], info) is None
            assert set(info["reward_components"]) == {"win", "task", "discussion", "held_out"}
            assert info["invalid_action"] is None, info["invalid_action"]
            phases.add(info["phase"])
    assert phases == {"gameplay", "survey", "speak", "vote"}
    assert all(i["success"] is not None for i in infos.values())


def _discussion(n=5, seed=0, **kw):
    env = SocialDeductionEnv(num_players=n, meeting_interval=1, **kw)
    env.reset(seed=seed)
    force_roles(env, (0,))
    env.step(idle(env))
    return env


@pytest.mark.parametrize(
    ("survey", "reason"),
    [
        ([np.nan, 0.5, 0.5, 0, 0], "NaN"),
        ([-0.5, 0.5, 0.5, 0.5, 0], "negative"),
        ([0.5, 0.5], "shape"),
        ([0.5, 0.1, 0.1, 0.1, 0.1], "sums to"),
        ("not numbers", "not a vector"),
    ],
)
def test_bad_surveys_are_invalid_and_the_game_goes_on(survey, reason):
    env = _discussion()
    actions = {a: {"survey": np.full(5, 0.2)} for a in env.agents}
    actions["player_1"] = {"survey": survey}
    _, _rewards, terms, _, infos = env.step(actions)
    assert reason in infos["player_1"]["invalid_action"]
    assert infos["player_2"]["invalid_action"] is None
    record = [r for r in env.listening_data() if r.seat == 1][-1]
    assert not record.valid and record.belief[1] == 0.0
    assert record.belief.sum() == pytest.approx(1.0)
    assert env.game.phase == 2 and not any(terms.values())


def _to_speaker(env):
    env.step({a: {"survey": np.full(5, 0.2)} for a in env.agents})
    return f"player_{env.game.speaker}"


@pytest.mark.parametrize(
    ("message", "reason", "said"),
    [
        ("x" * 1_000_000, "limit 1000; cut", "x" * 1000),
        (b"\xff\xfe bad", "not valid UTF-8", ""),
        ("surrogate \udcff", "not valid UTF-8", ""),
        ("bell\x07", "non-printable", "bell "),
        ("two\nlines", None, "two lines"),
        (12, "must be text", None),
    ],
)
def test_bad_messages_are_invalid_and_the_game_goes_on(message, reason, said):
    env = _discussion()
    speaker = _to_speaker(env)
    actions = {a: {"action": 0} for a in env.agents}
    actions[speaker] = {"message": message}
    obs, _, terms, _, infos = env.step(actions)
    if reason is None:
        assert infos[speaker]["invalid_action"] is None
    else:
        assert reason in infos[speaker]["invalid_action"]
    assert not any(terms.values()) and env.game.phase == 1
    if said is not None:
        assert env.game.public_log[-1].endswith(f': "{said}"')
    other = next(a for a in env.agents if a != speaker)
    assert env.observation_space(other).contains(obs[other])


def test_votes_for_dead_players_and_actions_of_the_dead_and_unknown_agents():
    env = SocialDeductionEnv(num_players=5, meeting_interval=1, messages_per_player=0)
    env.reset(seed=0)
    force_roles(env, (0,))
    env.game.alive[4] = False
    env.step(idle(env))
    env.step({a: {"survey": [0, 0.5, 0.5, 0, 0] if a != "player_0" else [0, 1, 0, 0, 0]}
              for a in env.agents})  # fmt: skip
    lay = ActionLayout(5)
    actions = {a: {"action": lay.skip} for a in env.agents}
    actions["player_1"] = {"action": lay.vote + 4}  # dead
    actions["player_4"] = {"action": lay.vote + 0}  # the dead voting
    actions["player_9"] = {"action": lay.skip}  # unknown
    _, _, terms, _, infos = env.step(actions)
    assert "not a valid vote" in infos["player_1"]["invalid_action"]
    assert "is dead" in infos["player_4"]["invalid_action"]
    assert "player_9" in infos["player_2"]["ignored_actions"]
    assert infos["player_2"]["invalid_action"] is None
    assert env.game.alive[:4].all() and not any(terms.values())  # skip won, nobody ejected


def test_disallowed_gameplay_action_is_played_as_wait():
    env = SocialDeductionEnv(num_players=4, meeting_interval=0)
    env.reset(seed=0)
    force_roles(env, (0,))
    lay = ActionLayout(4)
    actions = idle(env)
    actions["player_1"] = {"action": lay.KILL + 2}  # a crewmate cannot kill
    actions["player_2"] = {"action": 10_000}
    actions["player_3"] = {"action": "north"}
    _, _, _, _, infos = env.step(actions)
    assert "not allowed now" in infos["player_1"]["invalid_action"]
    assert "action 10000" in infos["player_2"]["invalid_action"]
    assert "not an int" in infos["player_3"]["invalid_action"]
    assert env.game.alive.all()


def test_crewmate_observations_do_not_depend_on_who_the_imposter_is():
    """The same game with the imposter in seat 1 or seat 2: crewmate 0 sees the same."""
    seen = []
    for imposter in (1, 2):
        env = SocialDeductionEnv(num_players=5)
        env.reset(seed=11)
        force_roles(env, (imposter,))
        g = env.game
        g.lines = [[] for _ in range(5)]
        g._intro()  # the role lines again, for the forced roles
        env._texts, env._text_lines = [""] * 5, [0] * 5
        obs = env._observe()["player_0"]
        info = env._info(0, dict.fromkeys(("win", "task", "discussion", "held_out"), 0.0), None)
        seen.append((obs, info))
    (a, ia), (b, ib) = seen
    assert a.keys() == b.keys()
    for key in a:
        if key == "tasks":
            continue  # force_roles redraws the crew's tasks; covered by the check below
        assert np.array_equal(a[key], b[key]) if key != "text" else a[key] == b[key], key
    assert not a["known_imposters"].any()
    assert ia == ib and ia["role"] == "crewmate"


def test_imposters_know_each_other():
    env = SocialDeductionEnv(num_players=6, num_imposters=2)
    obs, infos = env.reset(seed=2)
    imps = env.true_imposters
    for a in imps:
        assert obs[a]["known_imposters"].tolist() == [int(x in imps) for x in env.possible_agents]
        assert infos[a]["role"] == "imposter"


def test_listening_data_holds_every_survey_with_the_truth():
    env = _discussion(n=4)
    env.step({a: {"survey": [0.1, 0.3, 0.3, 0.3]} for a in env.agents})
    records = env.listening_data()
    assert len(records) == 4
    assert all(r.imposters == (0,) and r.index == 0 and r.discussion == 0 for r in records)
    assert [r.is_imposter for r in records] == [True, False, False, False]
    assert env.true_imposters == ["player_0"]


def test_held_out_observer_channel_is_off_by_default_and_works_when_given():
    seen_logs = []

    def observer(transcript, alive):
        seen_logs.append(len(transcript))
        return (
            np.array([0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3]) if len(seen_logs) > 1 else np.full(4, 0.25)
        )

    env = _discussion(n=4, messages_per_player=1, held_out_observer=observer)
    assert env.reward_weights["held_out"] == 0.0
    env.step({a: {"survey": np.full(4, 0.25)} for a in env.agents})
    speaker = f"player_{env.game.speaker}"
    env.step({a: ({"message": "hi"} if a == speaker else {"action": 0}) for a in env.agents})
    _, rewards, _, _, infos = env.step({a: {"survey": np.full(4, 0.25)} for a in env.agents})
    expected = 0.9 - 0.25 if speaker != "player_0" else -(0.9 - 0.25)
    assert infos[speaker]["reward_components"]["held_out"] == pytest.approx(expected)
    assert invariant_error(rewards[speaker], infos[speaker]) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"num_players": 3}, "num_players"),
        ({"num_players": 11}, "num_players"),
        ({"num_imposters": 3}, "num_imposters"),
        ({"num_players": 4, "num_imposters": 2}, "imposters must be fewer"),
        ({"kill_cooldown": -1}, "kill_cooldown"),
        ({"grid": 3}, "grid"),
        ({"reward_weights": {"speaking": 1.0}}, "speaking"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_configuration_raises_config_error(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        SocialDeductionEnv(**kwargs)


def test_reward_weights_override_and_render():
    env = SocialDeductionEnv(reward_weights={"discussion": 0.5}, render_mode="ansi")
    _, infos = env.reset(seed=0)
    assert infos["player_0"]["reward_weights"] == {
        "win": 1.0, "task": 0.2, "discussion": 0.5, "held_out": 0.0
    }  # fmt: skip
    assert "tick 0 phase gameplay" in env.render()


def test_docstring_is_the_doc_page():
    """The env docstring has the fixed headings and docs/envs/social.md shows it as it is."""
    import inspect
    import pathlib
    import re

    doc = inspect.getdoc(SocialDeductionEnv)
    for heading in ("Description", "Action Space", "Observation Space", "Rewards",
                    "Starting State", "Episode End", "Arguments", "Version History"):  # fmt: skip
        assert f"## {heading}" in doc
    page = pathlib.Path(__file__).resolve().parents[3] / "docs" / "envs" / "social.md"

    def norm(text):
        return re.sub(r"[#`*\s]+", " ", text).strip()

    assert norm(doc.split("\n", 1)[1]) in norm(page.read_text()), (
        "run python -m rewardgym.envs.docpages docs/envs/social.md"
    )


def test_observations_and_infos_are_fresh_and_their_arrays_read_only():
    """The env keeps rows, templates and masks between steps: what it returns must be new
    dicts over read-only arrays, so a caller that edits one cannot change another or the game."""
    env = SocialDeductionEnv(meeting_interval=4)
    obs, infos = env.reset(seed=3)
    seen = []
    for _ in range(12):  # gameplay, then a discussion
        for a, o in obs.items():
            for key, value in o.items():
                if isinstance(value, np.ndarray):
                    assert not value.flags.writeable, (a, key)
                    with pytest.raises(ValueError):
                        value[...] = 0
            o["action_mask"] = None  # editing the returned dicts...
            o["extra"] = 1
            infos[a]["reward_components"]["task"] = 99.0
            infos[a]["reward_weights"]["win"] = -1.0
            infos[a]["cost"]["x"] = 1.0
        seen.append(obs)
        obs, _, _, _, infos = env.step(idle(env))
        for a, o in obs.items():  # ...changes nothing the env returns next
            assert o["action_mask"] is not None and "extra" not in o
            assert infos[a]["reward_weights"] == env.reward_weights and infos[a]["cost"] == {}
            assert infos[a]["reward_components"]["task"] != 99.0
            assert all(o is not old[a] for old in seen)
    assert env.reward_weights["win"] == 1.0
