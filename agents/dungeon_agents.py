"""The scripted expert of the dungeon tasks (the random baseline is ``agents/baselines.py``).

The expert plays from what an agent may see: the remembered ``glyphs`` map, ``blstats`` and
``info["symbolic_state"]["task"]``. It breadth-first searches the known map for the nearest
target of its task (stairs, gold, food, key, a locked door once it holds the key), otherwise
for the nearest cell next to unexplored space; it opens doors in its way, eats when hungry and
fights monsters that stand next to it.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from rewardgym.envs.dungeon.symbols import (
    BL,
    DESCEND,
    EAT,
    G_DARK,
    G_DOOR_CLOSED,
    G_FOOD,
    G_GOLD,
    G_KEY,
    G_MONSTER0,
    G_STAIRS,
    G_WALL,
    MOVES,
    OPEN,
    PICKUP,
    SEARCH,
)

__all__ = ["DungeonExpert", "make_dungeon_expert"]

_TARGETS = {
    "staircase": (G_STAIRS,),
    "descend": (G_STAIRS,),
    "keydoor": (G_STAIRS,),
    "gold": (G_GOLD,),
    "eat": (G_FOOD,),
    "scout": (),
}


class DungeonExpert:
    """Scripted BFS planner for every dungeon task (the Agent protocol)."""

    name = "dungeon-expert"

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)
        self._visited: set[tuple[int, int]] = set()
        self._depth = -1

    def reset(self, seed: int | None = None) -> None:
        """Re-seed the tie-breaking randomness and forget the visited cells."""
        self._rng = np.random.default_rng(seed)
        self._visited = set()
        self._depth = -1

    def act(self, observation: Any, info: dict[str, Any]) -> int:
        """The next action: fight, eat, pick up, descend, else walk a BFS path."""
        glyphs = observation["glyphs"]
        bl = observation["blstats"]
        x, y = int(bl[BL["x"]]), int(bl[BL["y"]])
        under = int(bl[BL["under"]])
        if int(bl[BL["depth"]]) != self._depth:  # a new level: nothing visited yet
            self._depth = int(bl[BL["depth"]])
            self._visited = set()
        self._visited.add((y, x))
        state = info.get("symbolic_state") or {}
        task = state.get("task", "staircase")
        h, w = glyphs.shape
        for i, (dy, dx) in enumerate(MOVES):  # fight what stands next to us
            ny, nx = y + dy, x + dx
            if 0 <= ny < h and 0 <= nx < w and glyphs[ny, nx] >= G_MONSTER0:
                return i
        hungry = bl[BL["hunger_state"]] > 0
        if (task == "eat" or hungry) and (bl[BL["food"]] > 0 or under == G_FOOD):
            return EAT
        if under == G_STAIRS and task in ("staircase", "descend"):
            return DESCEND
        if under in (G_KEY, G_FOOD):
            return PICKUP
        keys = int(bl[BL["keys"]])
        targets = set(_TARGETS.get(task, (G_STAIRS,)))
        if task == "keydoor" and keys == 0:
            targets = {G_KEY}
        if under == G_FOOD and task != "eat":
            targets.discard(G_FOOD)
        step = self._bfs(glyphs, y, x, targets)
        if step is None:
            return SEARCH
        dy, dx = step
        if glyphs[y + dy, x + dx] == G_DOOR_CLOSED:
            return OPEN
        return MOVES.index(step)

    def _bfs(self, glyphs: np.ndarray, y: int, x: int, targets: set[int]) -> tuple[int, int] | None:
        """First move towards the nearest target glyph, else towards unexplored space."""
        h, w = glyphs.shape
        walkable = (glyphs != G_DARK) & (glyphs != G_WALL)
        first: dict[tuple[int, int], tuple[int, int] | None] = {(y, x): None}
        queue = deque([(y, x)])
        frontier_hit = None
        order = list(MOVES)
        self._rng.shuffle(order)
        while queue:
            cy, cx = queue.popleft()
            g = int(glyphs[cy, cx])
            if (cy, cx) != (y, x):
                if g in targets:
                    return first[(cy, cx)]
                # Rock is drawn dark too, so only a cell we have not stood on can open onto
                # unexplored space (standing on a cell reveals its neighbours).
                if frontier_hit is None and (
                    g == G_DOOR_CLOSED
                    or ((cy, cx) not in self._visited and _touches_dark(glyphs, cy, cx))
                ):
                    frontier_hit = first[(cy, cx)]
            if g == G_DOOR_CLOSED and (cy, cx) != (y, x):
                continue  # open it when we stand next to it, do not plan through it
            for dy, dx in order:
                ny, nx = cy + dy, cx + dx
                if (
                    0 <= ny < h
                    and 0 <= nx < w
                    and (ny, nx) not in first
                    and (walkable[ny, nx] or int(glyphs[ny, nx]) in targets)
                ):
                    first[(ny, nx)] = first[(cy, cx)] or (dy, dx)
                    queue.append((ny, nx))
        return frontier_hit


def _touches_dark(glyphs: np.ndarray, y: int, x: int) -> bool:
    h, w = glyphs.shape
    for dy, dx in MOVES:
        ny, nx = y + dy, x + dx
        if 0 <= ny < h and 0 <= nx < w and glyphs[ny, nx] == G_DARK:
            return True
    return False


def make_dungeon_expert(env: Any, arg: str | None = None, **kwargs: Any) -> DungeonExpert:
    """Agent-registry factory for ``"dungeon-expert"``."""
    return DungeonExpert(**kwargs)
