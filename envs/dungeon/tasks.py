"""The dungeon tasks: thin subclasses of :class:`DungeonEnv` overriding the task hooks.

Variants (map sizes, targets) are registrations with different kwargs in
``rewardgym/registry.py``, not new classes (the Minigrid pattern). Each class docstring is the
task's doc page.
"""

from __future__ import annotations

from typing import Any

from rewardgym.envs.dungeon.env import DungeonEnv
from rewardgym.envs.dungeon.symbols import STAIRS
from rewardgym.errors import ConfigError

__all__ = ["DescendEnv", "EatEnv", "GoldEnv", "KeyDoorEnv", "ScoutEnv", "StaircaseEnv"]

_COMMON = """
    Action Space
        ``Discrete(15)``: 0-7 move N, E, S, W, NE, SE, SW, NW (moving into a monster attacks
        it); 8 pick up; 9 open (or unlock, holding a key) an adjacent door; 10 kick an adjacent
        door; 11 eat (food under you first, else from the pack); 12 descend (on ``>``);
        13 search (finds adjacent hidden traps); 14 wait. An int outside 0..14 is scored as
        ``info["invalid_action"]`` and played as wait; a non-int raises ``InvalidAction``.

    Observation Space
        ``Dict``: ``glyphs`` int16 (height, width) remembered map with monsters and you drawn on
        it (ids in ``rewardgym.envs.dungeon.GLYPH_NAMES``; 0 = unexplored or rock);
        ``blstats`` int64 (15,) in the order of ``BLSTATS_FIELDS``: 0 x, 1 y, 2 hp, 3 max_hp,
        4 depth, 5 gold, 6 nutrition, 7 hunger_state, 8 turn, 9 score, 10 keys, 11 food,
        12 explored_permille, 13 kills, 14 under (glyph id of what lies under you); ``message`` uint8 (256,) the step's messages as ASCII
        bytes, zero padded (full text in ``info["message"]``); with ``crop_size=c`` also
        ``crop`` int16 (c, c) centred on you (0 outside the map).

    Rewards
        ``task`` (weight 1.0): the sparse task reward below. ``score`` (weight 0): NetHack-like
        score gained this step (gold picked up, 50 x new depth per descent, 4 x exp x depth per
        kill, 10 per gem). ``events`` (weight 0): number of event messages this step.
        ``info["events"]`` lists them (dicts with ``type``, ``message`` and fields),
        ``info["message"]`` joins their text and ``info["symbolic_state"]`` is the documented
        state dict (``DungeonEnv.symbolic_state``). Named potentials: ``stairs_distance``,
        ``explore_distance``, ``key_distance``.

    Starting State
        A fresh level from the reset seed (same seed, same map): rooms chained by corridors
        with doorways, open and closed doors; you stand in a random room, the stairs lie in
        another; loot, hidden dart traps and monsters (never in your room) as configured.
        Rooms are lit (entering one reveals it); corridors show the 3x3 around you.
        ``info["task_id"]`` (``dungeon-<task>-<16 hex digits>``) names the level:
        ``reset(options={"task_id": ...})`` replays it (with the same actions, the same
        episode). That is the only option: another key, a wrong type or an id of another
        task raises ``ConfigError`` naming it.

    Episode End
        Terminated on success or death (monster, trap or starvation; ``success=False``).
        Truncated after ``max_steps`` steps (``success=False``); the registration carries
        the same limit (``gym.spec(id).max_episode_steps``). To change it, pass both:
        ``gym.make(id, max_steps=n, max_episode_steps=n)``.

    Arguments
        ``max_steps`` (int), ``crop_size`` (odd int or None), ``render_mode`` ("ansi",
        "rgb_array"), ``reward_weights`` (partial dict), and every level setting of
        ``LevelConfig`` (``height``, ``width``, ``rooms``, ``room_min``, ``room_max``,
        ``gold_piles``, ``food``, ``gems``, ``monsters``, ``traps``, ``closed_door_prob``,
        ``open_door_prob``, ``kick_prob``, ``lock_stairs_room``, ``start_nutrition``,
        ``max_hp``){extra_args}

    Version History
        v0: initial version.
"""


def _page(description: str, task_reward: str, extra_args: str = "") -> str:
    return (
        f"\n    Description\n        {description}\n\n    Task reward\n        {task_reward}\n"
        + _COMMON.replace("{extra_args}", extra_args)
    )


class StaircaseEnv(DungeonEnv):
    __doc__ = _page(
        "Find the staircase down (``>``) and descend it (NLE's *staircase* task).",
        "1 on the step you descend the stairs (which ends the episode), else 0.",
    )
    TASK = "staircase"

    def _task_progress(self, events: list[dict[str, Any]]) -> tuple[float, bool]:
        for e in events:
            if e["type"] == "descend":
                return 1.0, True
        return 0.0, False


class DescendEnv(DungeonEnv):
    __doc__ = _page(
        "Reach dungeon level ``target_depth`` by going down one staircase per level: the long, "
        "hard sparse task (each level is fresh and unexplored).",
        "1 on the step you arrive at ``target_depth``, else 0 (no reward for earlier levels).",
        "; ``target_depth`` (int >= 2, default 3).",
    )
    TASK = "descend"

    def __init__(self, *, target_depth: int = 3, **kwargs: Any) -> None:
        if not isinstance(target_depth, int) or target_depth < 2:
            raise ConfigError(f"target_depth must be an int >= 2, got {target_depth!r}")
        self.target_depth = target_depth
        super().__init__(**kwargs)

    def _task_progress(self, events: list[dict[str, Any]]) -> tuple[float, bool]:
        assert self.game is not None
        for e in events:
            if e["type"] == "descend" and self.game.depth >= self.target_depth:
                return 1.0, True
        return 0.0, False

    def _task_state(self) -> dict[str, Any]:
        return {"target_depth": self.target_depth}


class GoldEnv(DungeonEnv):
    __doc__ = _page(
        "Collect ``target_gold`` gold pieces (walking onto gold picks it up; deeper levels "
        "hold more). NLE's *gold* task rewards every piece; this one is the sparse version.",
        "1 on the step your gold reaches ``target_gold``, else 0.",
        "; ``target_gold`` (int >= 1, default 50).",
    )
    TASK = "gold"
    LEVEL_DEFAULTS = {"gold_piles": 5}

    def __init__(self, *, target_gold: int = 50, **kwargs: Any) -> None:
        if not isinstance(target_gold, int) or target_gold < 1:
            raise ConfigError(f"target_gold must be an int >= 1, got {target_gold!r}")
        self.target_gold = target_gold
        super().__init__(**kwargs)

    def _task_progress(self, events: list[dict[str, Any]]) -> tuple[float, bool]:
        assert self.game is not None
        if self.game.gold >= self.target_gold and any(e["type"] == "gold" for e in events):
            return 1.0, True
        return 0.0, False

    def _task_state(self) -> dict[str, Any]:
        return {"target_gold": self.target_gold}


class EatEnv(DungeonEnv):
    __doc__ = _page(
        "You start with little nutrition (``start_nutrition``): find food and eat it before "
        "you starve (NLE's *eat* task, made sparse). Food is eaten from the floor or picked "
        "up and eaten from the pack.",
        "1 on the step you eat, else 0; starving ends the episode with 0.",
    )
    TASK = "eat"
    LEVEL_DEFAULTS = {"start_nutrition": 300, "food": 2}

    def _task_progress(self, events: list[dict[str, Any]]) -> tuple[float, bool]:
        for e in events:
            if e["type"] == "eat":
                return 1.0, True
        return 0.0, False


class KeyDoorEnv(DungeonEnv):
    __doc__ = _page(
        "The stairs room's doors are locked and cannot be kicked open; a skeleton key lies in "
        "your start room. Pick it up, open (unlock) a door of the stairs room and step onto "
        "the stairs.",
        "1 on the step you stand on the stairs, else 0.",
    )
    TASK = "keydoor"
    LEVEL_DEFAULTS = {"lock_stairs_room": True, "kick_prob": 0.0, "rooms": 3}

    def _task_progress(self, events: list[dict[str, Any]]) -> tuple[float, bool]:
        g = self.game
        assert g is not None
        if g.level.terrain[g.y, g.x] == STAIRS:
            return 1.0, True
        return 0.0, False

    def _task_state(self) -> dict[str, Any]:
        g = self.game
        assert g is not None
        return {"has_key": g.keys > 0}


class ScoutEnv(DungeonEnv):
    __doc__ = _page(
        "Reveal ``explore_fraction`` of the level's non-rock cells (NLE's *scout* task, made "
        "sparse).",
        "1 on the step the explored share reaches ``explore_fraction``, else 0.",
        "; ``explore_fraction`` (float in (0, 1], default 0.6).",
    )
    TASK = "scout"

    def __init__(self, *, explore_fraction: float = 0.6, **kwargs: Any) -> None:
        if not 0 < float(explore_fraction) <= 1:
            raise ConfigError(f"explore_fraction must be in (0, 1], got {explore_fraction!r}")
        self.explore_fraction = float(explore_fraction)
        super().__init__(**kwargs)

    def _task_progress(self, events: list[dict[str, Any]]) -> tuple[float, bool]:
        g = self.game
        assert g is not None
        if g.seen_count >= self.explore_fraction * g.nonrock:
            return 1.0, True
        return 0.0, False

    def _task_state(self) -> dict[str, Any]:
        return {"explore_fraction": self.explore_fraction}
