"""Helpers for the social deduction tests (imported as ``social_helpers``)."""

from __future__ import annotations

import numpy as np

from rewardgym.envs.social import SocialDeductionEnv


def force_roles(env: SocialDeductionEnv, imposters: tuple[int, ...]) -> None:
    """Make ``imposters`` the imposter seats of the env's current game (tests only)."""
    g = env.game
    assert g is not None
    c = env.config
    g.imposters = tuple(sorted(imposters))
    g.is_imposter[:] = False
    g.is_imposter[list(imposters)] = True
    rng = np.random.default_rng(0)
    g.task_room = rng.integers(0, c.num_rooms, size=(g.n, c.num_tasks))
    g.task_done[:] = False
    g.task_room[g.is_imposter] = -1
    g.task_done[g.is_imposter] = True
    g.cooldown[:] = np.where(g.is_imposter, c.kill_cooldown, 0)
    g.version += 1  # what real events do: the cached masks and observations are stale
    env._roles = ["imposter" if i else "crewmate" for i in g.is_imposter.tolist()]
    env._observe()  # the env acts on the masks of the last observation: refresh them


def idle(env: SocialDeductionEnv) -> dict[str, dict]:
    """Every agent's "none" (or wait when idle in gameplay)."""
    g = env.game
    out = {}
    for s, a in enumerate(env.agents):
        mask = g.mask(s)
        out[a] = {"action": 0 if mask[0] else 1}
    return out
