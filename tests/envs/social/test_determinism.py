"""Same seeds, same games: a digest of whole games pinned against the rules as they were.

Speed work on the env (caches, inlined info building) must not change a single observation,
reward, info or termination. The digests below were recorded before that work; a change of the
rules themselves must update them on purpose.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from rewardgym.envs.social import SocialDeductionEnv


def _feed(h: hashlib._Hash, value: object) -> None:
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            h.update(repr(key).encode())
            _feed(h, value[key])
    elif isinstance(value, np.ndarray):
        h.update(f"{value.dtype}{value.shape}".encode())
        h.update(value.tobytes())
    else:
        h.update(repr(value).encode())


def _policy(rng: np.random.Generator, n: int, obs: dict) -> object:
    """Mostly allowed moves, sometimes malformed input, so the invalid paths are covered."""
    roll = rng.random()
    if roll < 0.05:
        return rng.choice([None, "text", 3.5, {"action": 1, "bogus": 2}, -1, 10_000])
    phase = int(obs["phase"].argmax())
    if phase == 1:
        if roll < 0.1:
            return {"survey": np.full(n, 0.5)}
        return {"survey": rng.dirichlet(np.ones(n))}
    if phase == 2:
        return {"message": f"I saw player_{rng.integers(n)} near room {rng.integers(6)}."}
    allowed = obs["action_mask"].nonzero()[0]
    if roll < 0.1:
        return {"action": int(rng.integers(len(obs["action_mask"])))}
    return {"action": int(allowed[rng.integers(len(allowed))])}


def game_digest(seeds: range, **settings: object) -> str:
    env = SocialDeductionEnv(**settings)
    n = env.config.num_players
    h = hashlib.sha256()
    for seed in seeds:
        rng = np.random.default_rng(seed + 1000)
        obs, infos = env.reset(seed=seed)
        _feed(h, obs)
        _feed(h, infos)
        while env.agents:
            actions = {a: _policy(rng, n, obs[a]) for a in env.agents}
            obs, rewards, terms, truncs, infos = env.step(actions)
            for part in (obs, rewards, terms, truncs, infos):
                _feed(h, part)
        _feed(h, [(r.discussion, r.index, r.seat, r.valid, r.belief) for r in env.listening_data()])
    return h.hexdigest()


@pytest.mark.parametrize(
    ("settings", "digest"),
    [
        ({}, "bff867b739af0da5f979ad1abf418eddc84a322505c09999e39590eb5bee9ab9"),
        (
            {"num_players": 4, "meeting_interval": 5},
            "58288e62c295a87e15103367984b321251a0ea4e20b09a74bbeca5cedb156f97",
        ),
        (
            {"num_players": 7, "num_imposters": 2, "kill_cooldown": 2},
            "0b0f30b73e2f09391362c15bad08a661d3509096e4495e4bbf31b6fcbc455b47",
        ),
    ],
)
def test_same_seeds_give_the_same_games_as_recorded(settings, digest):
    assert game_digest(range(12), **settings) == digest


@pytest.mark.parametrize(
    ("settings", "digest"),
    [
        (
            {"max_text_chars": 300},
            "a55cb1356b1540f2012f8b10d9cac8ce16fb07fe2a8325b26d155b12b046cbcd",
        ),
        (
            {"num_players": 10, "num_imposters": 2, "max_text_chars": 256},
            "6c2329858c11eeef947aa6974d7c6187a365469aa24ffaf3feddc03f0ed2ae9c",
        ),
    ],
)
def test_cut_transcripts_are_the_same_as_recorded(settings, digest):
    """Short ``max_text_chars``: the transcript tail is cut on almost every step."""
    assert game_digest(range(6), **settings) == digest


def test_full_state_caches_start_again_and_change_nothing(monkeypatch):
    """The per-game caches of recurring states (masks, rooms, idle seats, room sentences) are
    bounded; one that fills up is emptied, and the games stay the same as recorded."""
    import sys

    for module in ("rewardgym.envs.social.game", "rewardgym.envs.social.observations"):
        monkeypatch.setattr(sys.modules[module], "CACHE_LIMIT", 2)
    env = SocialDeductionEnv(num_players=4, meeting_interval=5)
    obs, _ = env.reset(seed=0)
    while env.agents:  # the last allowed action: kills and reports where there are any
        actions = {a: {"action": int(o["action_mask"].nonzero()[0][-1])} for a, o in obs.items()}
        obs, *_ = env.step(actions)
        g = env.game
        assert max(len(g._seen_masks), len(g._idle_seen), len(g._sentences)) <= 2
        assert len(env._rooms_seen) <= 2
    assert (
        game_digest(range(12), num_players=4, meeting_interval=5)
        == "58288e62c295a87e15103367984b321251a0ea4e20b09a74bbeca5cedb156f97"
    )
