"""Rules of the social deduction game: kills, sight, reports, meetings, votes, wins, rewards."""

from __future__ import annotations

import numpy as np
import pytest
from social_helpers import force_roles, idle  # tests/envs/social/social_helpers.py

from rewardgym.envs.social import ActionLayout, crew_belief, speaking_reward
from rewardgym.envs.social.game import GAMEPLAY, SPEAK, SURVEY, VOTE
from rewardgym.envs.social.rewards import validate_survey


def test_speaking_reward_reference_value():
    """METHODS §4: crew beliefs [0.2, 0.3, 0.1] -> [0.5, 0.4, 0.3] gives +0.6 / -0.6."""
    before = crew_belief([np.array([0.2, 0.8]), np.array([0.3, 0.7]), np.array([0.1, 0.9])], [0])
    after = crew_belief([np.array([0.5, 0.5]), np.array([0.4, 0.6]), np.array([0.3, 0.7])], [0])
    assert speaking_reward(before, after, speaker_is_imposter=False) == pytest.approx(0.6)
    assert speaking_reward(before, after, speaker_is_imposter=True) == pytest.approx(-0.6)


def _survey(n: int, imposter: int, p: float, seat: int) -> np.ndarray:
    """A belief with ``p`` on ``imposter`` and the rest on the first other seat."""
    b = np.zeros(n)
    b[imposter] = p
    other = next(j for j in range(n) if j not in (imposter, seat))
    b[other] += 1.0 - p
    return b


@pytest.mark.parametrize("speaker_is_imposter", [False, True])
def test_speaking_reward_reference_value_through_the_env(make_env, speaker_is_imposter):
    env = make_env(num_players=4, meeting_interval=1, messages_per_player=1)
    env.reset(seed=0)
    force_roles(env, (3,))
    env.step(idle(env))  # tick 1: the meeting starts
    g = env.game
    assert g.phase == SURVEY
    crew = [0, 1, 2]

    def answer(ps):
        beliefs = {f"player_{s}": {"survey": _survey(4, 3, p, s)} for s, p in zip(crew, ps)}
        beliefs["player_3"] = {"survey": _survey(4, 0, 1.0, 3)}
        return env.step(beliefs)

    _, rewards, _, _, infos = answer([0.2, 0.3, 0.1])
    # first survey: crew get P - 1, the imposter -(P - 1), in the task component
    assert infos["player_0"]["reward_components"]["task"] == pytest.approx(0.6 - 1.0)
    assert infos["player_3"]["reward_components"]["task"] == pytest.approx(1.0 - 0.6)
    # let the wanted speaker be first
    speaker = 3 if speaker_is_imposter else 1
    g.speakers[g.message] = speaker
    g.speaker = speaker
    env.step(
        {f"player_{speaker}": {"message": "hello"}}
        | {a: {"action": 0} for a in env.agents if a != f"player_{speaker}"}
    )
    assert g.phase == SURVEY
    _, rewards, _, _, infos = answer([0.5, 0.4, 0.3])
    expected = -0.6 if speaker_is_imposter else 0.6
    comp = infos[f"player_{speaker}"]["reward_components"]
    assert comp["discussion"] == pytest.approx(expected)
    assert rewards[f"player_{speaker}"] == pytest.approx(1.0 * expected)
    for a in env.agents:
        if a != f"player_{speaker}":
            assert infos[a]["reward_components"]["discussion"] == 0.0


def test_kill_cooldown_and_who_sees_the_kill(make_env):
    env = make_env(num_players=5, kill_cooldown=3, meeting_interval=0)
    env.reset(seed=1)
    force_roles(env, (0,))
    g = env.game
    lay = ActionLayout(5)
    g.cooldown[0] = 3
    assert not g.mask(0)[lay.KILL + 1]  # cooling down
    for _ in range(3):
        env.step(idle(env))
    assert g.cooldown[0] == 0 and g.mask(0)[lay.KILL + 1]
    # player 4 leaves for another room before the kill; 2 and 3 stay and see it
    g.room[4] = (g.room[0] + 1) % env.config.num_rooms
    actions = idle(env)
    actions["player_0"] = {"action": lay.KILL + 1}
    obs, _, _, _, infos = env.step(actions)
    assert not g.alive[1]
    assert g.cooldown[0] == 2  # counts down from 3 in the kill's own tick
    assert infos["player_0"]["reward_components"]["task"] == 1.0
    for witness in ("player_2", "player_3"):
        assert obs[witness]["witnessed"][0] == 1
        assert "kill Blue (player_1) here" in obs[witness]["text"]
    assert obs["player_4"]["witnessed"].sum() == 0
    assert "kill" not in obs["player_4"]["text"].split("You are a Crewmate")[1]
    assert obs["player_2"]["bodies"][1] == 1 and obs["player_4"]["bodies"][1] == 0
    assert not g.mask(0)[lay.KILL + 2]  # cooldown again: the next kill 3 ticks after this one
    env.step(idle(env))
    assert not g.mask(0)[lay.KILL + 2]
    env.step(idle(env))
    assert g.mask(0)[lay.KILL + 2]


def test_a_body_is_seen_by_whoever_walks_in(make_env):
    env = make_env(num_players=5, kill_cooldown=0, meeting_interval=0, move_time=1)
    env.reset(seed=2)
    force_roles(env, (0,))
    g = env.game
    lay = ActionLayout(5)
    g.room[4] = g.room[0] + 1  # player 4 is next door, east
    g.moves += 1  # what a real move does: the cached masks and views are stale
    env._observe()
    actions = idle(env)
    actions["player_0"] = {"action": lay.KILL + 1}
    obs, *_ = env.step(actions)
    assert obs["player_4"]["bodies"][1] == 0
    actions = idle(env)
    actions["player_4"] = {"action": lay.MOVE + 2}  # west, into the room with the body
    obs, *_ = env.step(actions)
    assert obs["player_4"]["bodies"][1] == 1
    assert obs["player_4"]["action_mask"][lay.report + 1] == 1
    assert "dead body of Blue (player_1)" in obs["player_4"]["text"]


def test_report_starts_a_discussion(make_env):
    env = make_env(num_players=5, kill_cooldown=0, meeting_interval=0)
    env.reset(seed=2)
    force_roles(env, (0,))
    g = env.game
    lay = ActionLayout(5)
    actions = idle(env)
    actions["player_0"] = {"action": lay.KILL + 1}
    obs, *_ = env.step(actions)
    assert g.phase == GAMEPLAY
    assert obs["player_2"]["action_mask"][lay.report + 1] == 1
    actions = idle(env)
    actions["player_2"] = {"action": lay.report + 1}
    obs, *_ = env.step(actions)
    assert g.phase == SURVEY and g.discussion == 0
    assert "reported the dead body of Blue (player_1)" in obs["player_4"]["text"]
    assert obs["player_4"]["phase"].tolist() == [0, 1, 0, 0]
    # 4 living players x 2 messages
    assert len(g.speakers) == 8 and sorted(set(g.speakers)) == [0, 2, 3, 4]


def test_meeting_on_the_tick_alignment(make_env):
    env = make_env(num_players=4, meeting_interval=5)
    env.reset(seed=3)
    g = env.game
    for tick in range(1, 6):
        env.step(idle(env))
        assert (g.phase == SURVEY) == (tick == 5)
    assert g.discussion == 0


def test_discussion_sequence_survey_speak_survey_vote(make_env):
    env = make_env(num_players=4, meeting_interval=1, messages_per_player=1)
    env.reset(seed=4)
    env.step(idle(env))
    g = env.game
    phases = []
    for _ in range(20):
        phases.append(g.phase)
        if g.phase == VOTE:
            break
        if g.phase == SURVEY:
            env.step({a: {"survey": np.full(4, 0.25)} for a in env.agents})
        else:
            env.step({a: "words" for a in env.agents})
    assert phases == [SURVEY, SPEAK] * 4 + [SURVEY, VOTE]


@pytest.mark.parametrize(
    ("votes", "ejected"),
    [
        ({0: 1, 1: 2, 2: 1, 3: 1, 4: -1}, 1),  # plurality
        ({0: 1, 1: 2, 2: 1, 3: 2, 4: -1}, -1),  # tie for the most
        ({0: -1, 1: -1, 2: 1, 3: -1, 4: 2}, -1),  # skip holds the most
        ({0: 3, 1: -1, 2: 3, 3: -1}, -1),  # tie between a player and skip; 4 missing = skip
    ],
)
def test_plurality_vote_with_ties_and_skip(make_env, votes, ejected):
    env = make_env(num_players=5, meeting_interval=0)
    env.reset(seed=5)
    force_roles(env, (0,))
    g = env.game
    assert g.vote(votes) == ejected
    if ejected >= 0:
        assert not g.alive[ejected]
    else:
        assert g.alive.all()


def test_voting_for_the_imposter_pays_task_reward(make_env):
    env = make_env(num_players=5, meeting_interval=0)
    env.reset(seed=5)
    force_roles(env, (0,))
    g = env.game
    g.vote({1: 0, 2: 0, 3: 4, 4: -1, 0: 3})
    assert g.components["task"][1] == 1.0 and g.components["task"][2] == 1.0
    assert g.components["task"][3] == 0.0 and g.components["task"][0] == 0.0


def test_crew_wins_by_ejecting_every_imposter(make_env):
    env = make_env(num_players=5, meeting_interval=1, messages_per_player=0)
    env.reset(seed=6)
    force_roles(env, (2,))
    env.step(idle(env))
    env.step({a: {"survey": np.full(5, 0.2)} for a in env.agents})
    lay = ActionLayout(5)
    votes = {a: {"action": lay.vote + 2} for a in env.agents}
    votes["player_2"] = {"action": lay.vote + 0}
    _, _rewards, terms, truncs, infos = env.step(votes)
    assert all(terms.values()) and not any(truncs.values())
    assert env.agents == []
    assert infos["player_0"]["winner"] == "crew" and infos["player_0"]["success"] is True
    assert infos["player_2"]["success"] is False
    assert infos["player_0"]["reward_components"]["win"] == 1.0
    assert infos["player_2"]["reward_components"]["win"] == 0.0


def test_imposters_win_at_parity(make_env):
    env = make_env(num_players=4, kill_cooldown=0, meeting_interval=0)
    env.reset(seed=7)
    force_roles(env, (0,))
    g = env.game
    g.alive[3] = False  # already one crewmate down: 1 imposter vs 2 crew
    lay = ActionLayout(4)
    actions = idle(env)
    actions["player_0"] = {"action": lay.KILL + 1}
    _, rewards, terms, _, infos = env.step(actions)
    assert all(terms.values())
    assert infos["player_0"]["winner"] == "imposters" and infos["player_0"]["success"] is True
    assert infos["player_3"]["success"] is False  # the dead crewmate lost too
    assert rewards["player_0"] == pytest.approx(1.0 + 0.2 * 1.0)  # win + a kill


def test_crew_wins_when_every_task_is_done(make_env):
    env = make_env(num_players=4, num_tasks=1, task_time=2, meeting_interval=0)
    env.reset(seed=8)
    force_roles(env, (3,))
    g = env.game
    g.task_room[:3, 0] = g.room[0]
    g.version += 1  # refresh the cached masks after changing the game by hand
    env._observe()
    lay = ActionLayout(4)
    actions = idle(env)
    for a in ("player_0", "player_1", "player_2"):
        actions[a] = {"action": lay.TASK}
    _, _, terms, _, infos = env.step(actions)
    assert not any(terms.values())
    assert infos["player_0"]["reward_components"]["task"] == 0.0
    _, _, terms, _, infos = env.step(idle(env))
    assert all(terms.values())
    assert infos["player_0"]["reward_components"]["task"] == 1.0
    assert infos["player_1"]["winner"] == "crew"
    assert "finished their tasks" in infos["player_1"]["win_reason"]


def test_truncation_after_max_steps(make_env):
    env = make_env(num_players=4, max_steps=3, meeting_interval=0)
    env.reset(seed=9)
    for _ in range(2):
        _, _, terms, truncs, _ = env.step(idle(env))
        assert not any(truncs.values())
    _, _, terms, truncs, infos = env.step(idle(env))
    assert all(truncs.values()) and not any(terms.values())
    assert all(i["success"] is False for i in infos.values())


def test_imposter_seats_are_randomised(make_env):
    env = make_env(num_players=6, num_imposters=2)
    seats = set()
    for seed in range(30):
        env.reset(seed=seed)
        seats.update(env.true_imposters)
    assert len(seats) == 6


@pytest.mark.parametrize("n", [4, 5, 7, 8, 10])
def test_survey_normalisation_is_numpys_to_the_last_bit(n):
    """The survey check's pure-Python sum (small n) divides by exactly numpy's own sum."""
    rng = np.random.default_rng(n)
    for i in range(2000):
        value = rng.dirichlet(np.ones(n)) * (1 + rng.uniform(-5e-4, 5e-4))
        if i % 10 == 0:
            value = np.full(n, 1.0 / n)  # sums to exactly 1.0 for some n
        belief, problem = validate_survey(value, n, 1e-3)
        assert problem is None
        assert belief.tobytes() == (value / value.sum()).tobytes()
        assert belief is not value and belief.flags.writeable  # the caller's array is not kept
    assert validate_survey(np.full(n, 0.5), n, 1e-3)[0] is None
    bad = np.full(n, 1.0 / n)
    bad[0] = np.nan
    assert "NaN" in validate_survey(bad, n, 1e-3)[1]
