"""The dungeon family: maps, observations, rules, tasks, potentials and the expert."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest

import rewardgym
from rewardgym.agents import make_agent
from rewardgym.envs.dungeon import BLSTATS_FIELDS, GLYPH_NAMES, MESSAGE_LENGTH
from rewardgym.envs.dungeon.level import distance_map
from rewardgym.envs.dungeon.symbols import DESCEND, DOOR_LOCKED, MOVES, OPEN, ROCK, WAIT, WALL
from rewardgym.errors import ConfigError, InvalidAction

DUNGEON_IDS = sorted(e.id for e in rewardgym.ENTRIES.values() if e.family == "dungeon")
BL = {name: i for i, name in enumerate(BLSTATS_FIELDS)}


def _run_expert(env_id: str, seed: int, **kwargs):
    env = gym.make(env_id, **kwargs)
    agent = make_agent("dungeon-expert", env)
    obs, info = env.reset(seed=seed)
    agent.reset(seed)
    steps = [(obs, info)]
    while True:
        obs, _reward, terminated, truncated, info = env.step(agent.act(obs, info))
        steps.append((obs, info))
        if terminated or truncated:
            return env, steps, terminated, truncated, info


def test_every_task_is_registered():
    names = {i.split("/")[1] for i in DUNGEON_IDS}
    for task in ("Staircase", "Gold", "Eat", "KeyDoor", "Scout", "Descend"):
        assert f"Dungeon-{task}-v0" in names


@pytest.mark.parametrize("env_id", DUNGEON_IDS)
def test_same_seed_same_map_and_every_level_is_solvable(env_id):
    env = gym.make(env_id)
    first, _ = env.reset(seed=7)
    terrain = env.unwrapped.game.level.terrain.copy()
    again, _ = env.reset(seed=7)
    assert np.array_equal(terrain, env.unwrapped.game.level.terrain)
    assert np.array_equal(first["glyphs"], again["glyphs"])
    env.reset(seed=8)
    assert not np.array_equal(terrain, env.unwrapped.game.level.terrain)
    for seed in range(25):  # the stairs are always reachable from the start
        env.reset(seed=seed)
        game = env.unwrapped.game
        assert game.stairs_distance() > 0, f"seed {seed}: stairs unreachable"


@pytest.mark.parametrize("env_id", DUNGEON_IDS)
def test_the_scripted_expert_solves_every_task(env_id):
    wins = sum(_run_expert(env_id, seed)[-1]["success"] for seed in range(8))
    assert wins >= 7, f"{env_id}: expert won {wins}/8"


def test_observation_fields_agree_with_the_symbolic_state():
    env = gym.make("rewardgym/Dungeon-Gold-v0", crop_size=9)
    _, steps, *_ = _run_expert("rewardgym/Dungeon-Gold-v0", 3, crop_size=9)
    for obs, info in steps:
        assert env.observation_space.contains(obs)
        state = info["symbolic_state"]
        bl = obs["blstats"]
        assert (bl[BL["x"]], bl[BL["y"]]) == state["position"]
        assert bl[BL["gold"]] == state["gold"] and bl[BL["depth"]] == state["depth"]
        assert obs["glyphs"][state["position"][1], state["position"][0]] == GLYPH_NAMES.index("you")
        assert obs["crop"][4, 4] == GLYPH_NAMES.index("you")
        text = bytes(obs["message"]).split(b"\0", 1)[0].decode()
        assert text == info["message"][: MESSAGE_LENGTH - 1]
        assert info["reward_components"]["events"] == len(info["events"])
    gold_events = [e for _, i in steps for e in i["events"] if e["type"] == "gold"]
    assert gold_events and gold_events[0]["message"].endswith("gold pieces.")
    assert steps[-1][1]["symbolic_state"]["gold"] == sum(e["amount"] for e in gold_events)


def test_staircase_rewards_only_the_descent():
    _env, steps, terminated, truncated, info = _run_expert("rewardgym/Dungeon-Staircase-M-v0", 1)
    assert terminated and not truncated and info["success"] is True
    assert info["reward_components"]["task"] == 1.0
    assert info["reward_components"]["score"] == 50.0  # NetHack-like: 50 x new depth - 1
    assert all(i["reward_components"]["task"] == 0.0 for _, i in steps[:-1])
    assert "You descend" in info["message"]


def test_descend_elsewhere_and_walls_are_rule_bound():
    env = gym.make("rewardgym/Dungeon-Staircase-v0")
    env.reset(seed=0)
    game = env.unwrapped.game
    if game.level.terrain[game.y, game.x] != 0:
        _, _, terminated, _, info = env.step(DESCEND)
        assert not terminated and info["message"] == "You can't go down here."
    # Walk north until the wall stops us: the position stops changing.
    for _ in range(8):
        env.step(0)
    y = game.y
    assert game.level.terrain[y - 1, game.x] == WALL
    env.step(0)
    assert game.y == y


def test_keydoor_needs_the_key():
    env = gym.make("rewardgym/Dungeon-KeyDoor-v0")
    for seed in range(20):
        env.reset(seed=seed)
        game = env.unwrapped.game
        locked = np.argwhere(game.level.terrain == DOOR_LOCKED)
        assert len(locked), "the stairs room has locked doors"
        # Teleport next to a locked door without the key: open fails, kicking never works.
        (dy, dx) = locked[0]
        for my, mx in MOVES:
            y, x = dy + my, dx + mx
            if game.level.terrain[y, x] not in (ROCK, WALL, DOOR_LOCKED):
                game.y, game.x = int(y), int(x)
                break
        _, _, _, _, info = env.step(OPEN)
        assert info["message"] == "This door is locked."
        for _ in range(5):
            env.step(10)  # kick: kick_prob is 0 in KeyDoor
        assert (game.level.terrain == DOOR_LOCKED).sum() == len(locked)
        game.keys = 1
        _, _, _, _, info = env.step(OPEN)
        assert "unlock" in info["message"]
        return


def test_starving_ends_the_episode_with_failure():
    env = gym.make("rewardgym/Dungeon-Eat-v0", start_nutrition=60, food=0, monsters=0)
    env.reset(seed=0)
    messages = []
    for _ in range(70):
        _, _, terminated, truncated, info = env.step(WAIT)
        messages.append(info["message"])
        if terminated:
            break
    assert terminated and not truncated and info["success"] is False
    assert "You die from starvation..." in info["message"]
    assert "You are beginning to feel weak." in messages
    assert "You faint from lack of food." in messages


def test_the_step_limit_truncates_without_success():
    env = gym.make("rewardgym/Dungeon-Scout-v0", max_steps=5)
    env.reset(seed=0)
    for t in range(5):
        _, _, terminated, truncated, info = env.step(WAIT)
        assert not terminated
        assert truncated == (t == 4)
    assert info["success"] is False


def test_invalid_actions_are_scored_and_wrong_types_raise():
    env = gym.make("rewardgym/Dungeon-Staircase-v0")
    env.reset(seed=0)
    _, _, _, _, info = env.step(99)
    assert "outside" in info["invalid_action"]
    _, _, _, _, info = env.step(np.int64(3))
    assert info["invalid_action"] is None
    with pytest.raises(InvalidAction):
        env.step("north")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"crop_size": 4},
        {"height": 3},
        {"room_min": 9, "room_max": 4},
        {"bogus": 1},
        {"max_steps": 0},
    ],
)
def test_bad_config_fails_at_construction(kwargs):
    with pytest.raises(ConfigError):
        gym.make("rewardgym/Dungeon-Staircase-M-v0", **kwargs)


def test_render_modes():
    env = gym.make("rewardgym/Dungeon-Staircase-M-v0", render_mode="ansi")
    env.reset(seed=2)
    text = env.render()
    assert "@" in text and "Dlvl:1" in text
    env = gym.make("rewardgym/Dungeon-Staircase-M-v0", render_mode="rgb_array")
    _obs, _ = env.reset(seed=2)
    img = env.render()
    assert img.dtype == np.uint8 and img.shape == (15 * 8, 40 * 8, 3)


def test_fog_of_war_grows_as_the_hero_explores():
    _env, steps, *_ = _run_expert("rewardgym/Dungeon-Scout-v0", 4)
    explored = [i["symbolic_state"]["explored"] for _, i in steps]
    assert explored[0] < 0.6 <= explored[-1]
    assert all(b >= a for a, b in itertools.pairwise(explored))


def test_stairs_potential_is_the_negative_scaled_distance():
    env, _steps, *_ = _run_expert("rewardgym/Dungeon-Staircase-L-v0", 5)
    env.reset(seed=5)
    base = env.unwrapped
    phi = base.named_potentials()["stairs_distance"]
    game = base.game
    passable = (game.level.terrain != ROCK) & (game.level.terrain != WALL)
    src = np.zeros_like(passable)
    src[game.y, game.x] = True
    d = distance_map(passable, src)[game.level.stairs]
    assert phi(None, {}) == pytest.approx(-d / (21 + 79))
    game.y, game.x = game.level.stairs
    assert phi(None, {}) == 0.0
    assert set(base.named_potentials()) == {"stairs_distance", "explore_distance", "key_distance"}


def test_explore_and_key_potentials_rise_along_the_expert_path():
    env = gym.make("rewardgym/Dungeon-KeyDoor-v0")
    agent = make_agent("dungeon-expert", env)
    obs, info = env.reset(seed=3)
    key_phi = env.unwrapped.named_potentials()["key_distance"]
    values = [key_phi(obs, info)]
    while env.unwrapped.game.keys == 0:
        obs, _, _, _, info = env.step(agent.act(obs, info))
        values.append(key_phi(obs, info))
    assert values[0] < 0 and values[-1] == 0.0
    env = gym.make("rewardgym/Dungeon-Scout-v0")
    env.reset(seed=1)
    explore = env.unwrapped.named_potentials()["explore_distance"]
    assert -1.0 <= explore(None, {}) <= 0.0


def test_potential_shaping_runs_on_the_dungeon():
    from rewardgym.shaping import PotentialShaping

    env = PotentialShaping(gym.make("rewardgym/Dungeon-Staircase-M-v0"), "stairs_distance", 0.99)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(WAIT)
    assert "shaping/potential" in info["reward_components"]
    assert reward == pytest.approx(
        sum(info["reward_weights"][k] * v for k, v in info["reward_components"].items())
    )
