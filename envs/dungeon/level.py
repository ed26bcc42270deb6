"""Level generation: :class:`LevelConfig` (validated), :class:`Level` (the numpy arrays of one
level), :func:`generate_level` (rooms, corridors, doors, stairs, gold, items, traps, monsters)
and :func:`distance_map` (move distances, which the potentials and the expert use)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rewardgym.envs.dungeon.symbols import (
    CORRIDOR,
    DOOR_CLOSED,
    DOOR_LOCKED,
    DOOR_OPEN,
    DOORWAY,
    FLOOR,
    FOOD,
    GEM,
    KEY,
    MONSTERS,
    ROCK,
    STAIRS,
    WALL,
)


class LevelConfig(BaseModel):
    """What the generator puts on a level (validated once, at env construction)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    height: int = Field(21, ge=5, le=64, description="map rows, walls included")
    width: int = Field(79, ge=5, le=160, description="map columns, walls included")
    rooms: int = Field(6, ge=1, le=16, description="rooms to try to place")
    room_min: int = Field(3, ge=1, description="smallest room interior side")
    room_max: int = Field(8, ge=1, description="largest room interior side")
    gold_piles: int = Field(3, ge=0, description="gold piles per level")
    food: int = Field(1, ge=0, description="food rations per level")
    gems: int = Field(0, ge=0, description="gems per level (worthless loot to pick up)")
    monsters: int = Field(2, ge=0, description="monsters per level (never in the start room)")
    traps: int = Field(2, ge=0, description="hidden dart traps per level")
    closed_door_prob: float = Field(0.3, ge=0, le=1, description="chance a door is closed")
    open_door_prob: float = Field(
        0.3, ge=0, le=1, description="chance a door is open (else doorway)"
    )
    kick_prob: float = Field(0.3, ge=0, le=1, description="chance a kick breaks a door open")
    lock_stairs_room: bool = Field(False, description="lock the stairs room; put a key elsewhere")
    start_nutrition: int = Field(900, ge=1, description="nutrition at the start")
    max_hp: int = Field(12, ge=1)

    @model_validator(mode="after")
    def _fits(self) -> LevelConfig:
        if self.room_min > self.room_max:
            raise ValueError(f"room_min={self.room_min} > room_max={self.room_max}")
        if self.room_min + 2 > min(self.height, self.width):
            raise ValueError(
                f"a room of interior {self.room_min} does not fit a {self.height}x{self.width} map"
            )
        if self.lock_stairs_room and self.rooms < 2:
            raise ValueError("lock_stairs_room needs rooms >= 2 (the key must lie elsewhere)")
        return self


def _dilate(mask: np.ndarray) -> np.ndarray:
    """8-neighbour dilation of a boolean grid (no wrap-around)."""
    out = mask.copy()
    out[1:, :] |= mask[:-1, :]
    out[:-1, :] |= mask[1:, :]
    grown = out.copy()
    grown[:, 1:] |= out[:, :-1]
    grown[:, :-1] |= out[:, 1:]
    return grown


def distance_map(
    passable: np.ndarray, sources: np.ndarray, stop: np.ndarray | None = None
) -> np.ndarray:
    """Move distance (8-connected, king moves) from ``sources`` over ``passable`` cells.

    A numpy wavefront: one dilation per distance ring, so a level costs ~ path-length
    vectorised operations. Unreachable cells get -1. With ``stop`` the wave ends as soon as it
    reaches any cell of ``stop`` (used for nearest-target queries).
    """
    dist = np.full(passable.shape, -1, dtype=np.int32)
    frontier = sources & passable if sources.dtype == bool else sources
    frontier = frontier.copy()
    reached = np.zeros_like(passable)
    d = 0
    while frontier.any():
        dist[frontier] = d
        reached |= frontier
        if stop is not None and (frontier & stop).any():
            break
        frontier = _dilate(frontier) & passable & ~reached
        d += 1
    return dist


@dataclass
class Level:
    """One generated level: arrays indexed ``[row, col]`` plus the room rectangles."""

    terrain: np.ndarray
    gold: np.ndarray
    item: np.ndarray
    trap: np.ndarray  # a dart trap is here
    trap_known: np.ndarray
    room_id: np.ndarray  # room index for interior cells, -1 elsewhere
    rooms: list[tuple[int, int, int, int]]  # (top, left, bottom, right), walls included
    stairs: tuple[int, int]
    start: tuple[int, int]
    key_pos: tuple[int, int] | None
    monsters: list[list[int]] = field(default_factory=list)  # [y, x, kind, hp]


def _carve_room(
    terrain: np.ndarray, room_id: np.ndarray, rect: tuple[int, int, int, int], idx: int
) -> None:
    t, lf, b, r = rect
    terrain[t : b + 1, lf : r + 1] = WALL
    terrain[t + 1 : b, lf + 1 : r] = FLOOR
    room_id[t + 1 : b, lf + 1 : r] = idx


def _door_kind(rng: np.random.Generator, cfg: LevelConfig) -> int:
    u = rng.random()
    if u < cfg.closed_door_prob:
        return DOOR_CLOSED
    if u < cfg.closed_door_prob + cfg.open_door_prob:
        return DOOR_OPEN
    return DOORWAY


def _dig(
    terrain: np.ndarray,
    a: tuple[int, int],
    b: tuple[int, int],
    rng: np.random.Generator,
    cfg: LevelConfig,
) -> None:
    """Dig an L-shaped corridor from ``a`` to ``b``; walls it crosses become doors."""
    (y0, x0), (y1, x1) = a, b
    if rng.random() < 0.5:
        path = [(y0, x) for x in _span(x0, x1)] + [(y, x1) for y in _span(y0, y1)]
    else:
        path = [(y, x0) for y in _span(y0, y1)] + [(y1, x) for x in _span(x0, x1)]
    walls = [terrain[y, x] == WALL for y, x in path]
    for i, (y, x) in enumerate(path):
        t = terrain[y, x]
        if t == ROCK:
            terrain[y, x] = CORRIDOR
        elif t == WALL:
            # A corridor running along a wall breaks it open; a crossing gets a real door.
            along = (i > 0 and walls[i - 1]) or (i + 1 < len(path) and walls[i + 1])
            terrain[y, x] = DOORWAY if along else _door_kind(rng, cfg)


def _span(a: int, b: int) -> range:
    return range(a, b + 1) if b >= a else range(a, b - 1, -1)


def _random_cell(rng: np.random.Generator, mask: np.ndarray) -> tuple[int, int] | None:
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return None
    i = int(rng.integers(len(ys)))
    return int(ys[i]), int(xs[i])


def generate_level(cfg: LevelConfig, rng: np.random.Generator, depth: int = 1) -> Level:
    """Generate a level: rooms, corridors, doors, stairs, loot, traps and monsters.

    The same ``rng`` state gives the same level. Every room is reachable from the start
    (rooms are chained by corridors); with ``lock_stairs_room`` the stairs room's doors are
    locked and a key lies in the start room.
    """
    h, w = cfg.height, cfg.width
    terrain = np.zeros((h, w), dtype=np.int8)
    room_id = np.full((h, w), -1, dtype=np.int16)
    rooms: list[tuple[int, int, int, int]] = []
    for _ in range(60 * cfg.rooms):
        if len(rooms) >= cfg.rooms:
            break
        rh = int(rng.integers(cfg.room_min, min(cfg.room_max, h - 2) + 1))
        rw = int(rng.integers(cfg.room_min, min(cfg.room_max, w - 2) + 1))
        top = int(rng.integers(0, h - rh - 2 + 1))
        left = int(rng.integers(0, w - rw - 2 + 1))
        rect = (top, left, top + rh + 1, left + rw + 1)
        # Keep a gap of one cell between rooms so corridors can run between them.
        if any(
            not (
                rect[2] + 1 < o[0] or o[2] + 1 < rect[0] or rect[3] + 1 < o[1] or o[3] + 1 < rect[1]
            )
            for o in rooms
        ):
            continue
        rooms.append(rect)
    rooms.sort(key=lambda r: (r[1], r[0]))
    for i, rect in enumerate(rooms):
        _carve_room(terrain, room_id, rect, i)

    def centre(rect: tuple[int, int, int, int]) -> tuple[int, int]:
        t, lf, b, r = rect
        return int(rng.integers(t + 1, b)), int(rng.integers(lf + 1, r))

    for i in range(len(rooms) - 1):
        _dig(terrain, centre(rooms[i]), centre(rooms[i + 1]), rng, cfg)
    if len(rooms) > 2:  # one extra connection makes loops
        i, j = rng.choice(len(rooms), size=2, replace=False)
        _dig(terrain, centre(rooms[int(i)]), centre(rooms[int(j)]), rng, cfg)

    interior = room_id >= 0
    start_room = int(rng.integers(len(rooms)))
    start = _random_cell(rng, room_id == start_room)
    assert start is not None
    if len(rooms) > 1:
        others = [i for i in range(len(rooms)) if i != start_room]
        stairs_room = int(others[int(rng.integers(len(others)))])
        stairs_mask = room_id == stairs_room
    else:
        stairs_room = start_room
        stairs_mask = interior.copy()
        stairs_mask[start] = False
    stairs = _random_cell(rng, stairs_mask)
    assert stairs is not None
    terrain[stairs] = STAIRS

    key_pos = None
    if cfg.lock_stairs_room:
        t, lf, b, r = rooms[stairs_room]
        ring = np.zeros((h, w), dtype=bool)
        ring[t : b + 1, lf : r + 1] = True
        ring[t + 1 : b, lf + 1 : r] = False
        doors = ring & np.isin(terrain, (DOOR_OPEN, DOOR_CLOSED, DOORWAY))
        terrain[doors] = DOOR_LOCKED

    free = interior & (terrain == FLOOR)
    free[start] = False
    gold = np.zeros((h, w), dtype=np.int32)
    item = np.zeros((h, w), dtype=np.int8)
    trap = np.zeros((h, w), dtype=bool)
    if cfg.lock_stairs_room:
        key_pos = _random_cell(rng, free & (room_id == start_room)) or start
        item[key_pos] = KEY
        free[key_pos] = False
    for _ in range(cfg.gold_piles):
        cell = _random_cell(rng, free)
        if cell:
            gold[cell] = int(rng.integers(5, 31)) * depth
            free[cell] = False
    for kind, count in ((FOOD, cfg.food), (GEM, cfg.gems)):
        for _ in range(count):
            cell = _random_cell(rng, free)
            if cell:
                item[cell] = kind
                free[cell] = False
    for _ in range(cfg.traps):
        cell = _random_cell(rng, free)
        if cell:
            trap[cell] = True
            free[cell] = False
    monsters: list[list[int]] = []
    lair = free & (room_id != start_room)
    for _ in range(cfg.monsters):
        cell = _random_cell(rng, lair)
        if cell:
            kind = int(rng.integers(min(len(MONSTERS), 1 + depth)))
            monsters.append([cell[0], cell[1], kind, MONSTERS[kind][1]])
            lair[cell] = False
    return Level(
        terrain=terrain,
        gold=gold,
        item=item,
        trap=trap,
        trap_known=np.zeros((h, w), dtype=bool),
        room_id=room_id,
        rooms=rooms,
        stairs=stairs,
        start=start,
        key_pos=key_pos,
        monsters=monsters,
    )
