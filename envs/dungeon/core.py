"""The dungeon game itself: glyph/terrain tables, the level generator and the turn logic.

Everything on a level lives in a few numpy arrays (terrain, gold, items, traps, what the hero
has seen, the remembered glyphs); only the handful of monsters are Python lists. A turn touches
a few cells, and the fog of war is updated incrementally: entering a lit room reveals its
rectangle once, corridors reveal the 3x3 around the hero. So one step costs tens of
microseconds, not a redraw of the map.

This module knows nothing about Gymnasium or rewards; :mod:`rewardgym.envs.dungeon.env` wraps
it into the step contract and the tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ACTION_NAMES",
    "BLSTATS_FIELDS",
    "GLYPH_NAMES",
    "NUM_GLYPHS",
    "Game",
    "LevelConfig",
    "distance_map",
]

# --- terrain codes (internal) -----------------------------------------------------------------
ROCK, WALL, FLOOR, CORRIDOR, DOOR_OPEN, DOOR_CLOSED, DOOR_LOCKED, STAIRS, DOORWAY = range(9)

# --- glyph ids (the observation) ----------------------------------------------------------------
G_DARK = 0  # unexplored, or solid rock (NetHack draws rock as blank too)
G_WALL, G_FLOOR, G_CORRIDOR, G_DOOR_OPEN, G_DOOR_CLOSED, G_STAIRS, G_TRAP, G_DOORWAY = range(1, 9)
G_GOLD, G_FOOD, G_KEY, G_GEM, G_PLAYER = range(9, 14)
G_MONSTER0 = 14  # first monster glyph; monster kind k has glyph G_MONSTER0 + k

#: Glyph id -> name (the index is the glyph id in ``observation["glyphs"]``).
GLYPH_NAMES: tuple[str, ...] = (
    "dark",
    "wall",
    "floor",
    "corridor",
    "open door",
    "closed door",
    "staircase down",
    "trap",
    "doorway",
    "gold",
    "food ration",
    "key",
    "gem",
    "you",
    "rat",
    "jackal",
    "goblin",
)
NUM_GLYPHS = len(GLYPH_NAMES)
GLYPH_CHARS = " #.#|+>^.$%(*@rdo"
# A closed and a locked door look the same; hidden traps look like floor.
TERRAIN_GLYPH = np.array(
    [G_DARK, G_WALL, G_FLOOR, G_CORRIDOR, G_DOOR_OPEN, G_DOOR_CLOSED, G_DOOR_CLOSED, G_STAIRS,
     G_DOORWAY],
    dtype=np.int16,
)  # fmt: skip
PASSABLE = np.array([0, 0, 1, 1, 1, 0, 0, 1, 1], dtype=bool)

# --- items ----------------------------------------------------------------------------------------
NO_ITEM, FOOD, KEY, GEM = range(4)
ITEM_GLYPH = np.array([G_DARK, G_FOOD, G_KEY, G_GEM], dtype=np.int16)
ITEM_NAMES = ("nothing", "food ration", "skeleton key", "gem")
FOOD_NUTRITION = 800

# --- monsters: name, hit points, damage max, to-hit, experience --------------------------------
MONSTERS: tuple[tuple[str, int, int, float, int], ...] = (
    ("rat", 2, 3, 0.5, 1),
    ("jackal", 3, 2, 0.6, 1),
    ("goblin", 5, 4, 0.5, 3),
)

#: Action index -> name. 0-7 are moves N, E, S, W, NE, SE, SW, NW (NLE's compass order).
ACTION_NAMES: tuple[str, ...] = (
    "move_n",
    "move_e",
    "move_s",
    "move_w",
    "move_ne",
    "move_se",
    "move_sw",
    "move_nw",
    "pickup",
    "open",
    "kick",
    "eat",
    "descend",
    "search",
    "wait",
)
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1), (-1, 1), (1, 1), (1, -1), (-1, -1))
PICKUP, OPEN, KICK, EAT, DESCEND, SEARCH, WAIT = range(8, 15)

#: ``blstats`` index -> field name (document order is the vector order).
BLSTATS_FIELDS: tuple[str, ...] = (
    "x",  # 0 column of the hero
    "y",  # 1 row of the hero
    "hp",  # 2 hit points
    "max_hp",  # 3
    "depth",  # 4 dungeon level, 1 at the start
    "gold",  # 5 gold carried
    "nutrition",  # 6 hunger counter; 0 = starved
    "hunger_state",  # 7 0 not hungry, 1 hungry, 2 weak, 3 fainting
    "turn",  # 8 game turns taken
    "score",  # 9 NetHack-like score
    "keys",  # 10 keys carried
    "food",  # 11 food rations carried
    "explored_permille",  # 12 explored share of this level's non-rock cells, x1000
    "kills",  # 13 monsters killed
    "under",  # 14 glyph id of what lies under the hero (the hero's glyph hides it)
)
BL = {name: i for i, name in enumerate(BLSTATS_FIELDS)}

HUNGRY_AT, WEAK_AT, FAINT_AT = 150, 50, 10


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


class Game:
    """The state of one game and the rules of a turn.

    ``act(action)`` plays one turn and returns the events it produced: a list of dicts with a
    ``"type"`` and a ``"message"`` (NetHack-like text) plus type-specific fields. The
    remembered map is ``memory`` (int16 glyphs, what the hero has seen), updated in place.
    """

    def __init__(self, cfg: LevelConfig, rng: np.random.Generator) -> None:
        self.cfg = cfg
        self.rng = rng
        self.depth = 1
        self.hp = cfg.max_hp
        self.max_hp = cfg.max_hp
        self.gold = 0
        self.nutrition = cfg.start_nutrition
        self.turn = 0
        self.score = 0
        self.keys = 0
        self.food = 0
        self.gems = 0
        self.kills = 0
        self.dead = False
        self.descended = 0  # times the hero went down stairs this game
        self.new_level()

    # -- level set-up ----------------------------------------------------------------------------

    def new_level(self) -> None:
        """Generate the level for ``self.depth`` and place the hero on it."""
        from rewardgym.seeding import child_rng

        lv = generate_level(self.cfg, child_rng(self.rng), self.depth)
        self.level = lv
        self.y, self.x = lv.start
        h, w = lv.terrain.shape
        self.seen = np.zeros((h, w), dtype=bool)
        self.memory = np.zeros((h, w), dtype=np.int16)
        self.lit_rooms: set[int] = set()
        self.nonrock = int(np.count_nonzero(lv.terrain != ROCK))
        self.seen_count = 0
        self._stairs_dist: np.ndarray | None = None
        self._key_dist: np.ndarray | None = None
        self.stairs_seen = False
        self.reveal()

    def base_glyph(self, y: int, x: int) -> int:
        """What the hero would see on an empty cell ``(y, x)``: object over terrain."""
        lv = self.level
        if lv.gold[y, x]:
            return G_GOLD
        item = lv.item[y, x]
        if item:
            return int(ITEM_GLYPH[item])
        if lv.trap_known[y, x]:
            return G_TRAP
        return int(TERRAIN_GLYPH[lv.terrain[y, x]])

    def _reveal_region(self, t: int, lf: int, b: int, r: int) -> None:
        lv = self.level
        sl = (slice(t, b), slice(lf, r))
        new = ~self.seen[sl]
        if not new.any():
            return
        glyphs = TERRAIN_GLYPH[lv.terrain[sl]]
        glyphs[lv.trap_known[sl]] = G_TRAP
        items = lv.item[sl]
        has_item = items > 0
        glyphs[has_item] = ITEM_GLYPH[items[has_item]]
        glyphs[lv.gold[sl] > 0] = G_GOLD
        mem = self.memory[sl]
        mem[new] = glyphs[new]
        self.seen_count += int(np.count_nonzero(new & (lv.terrain[sl] != ROCK)))
        self.seen[sl] = True
        if not self.stairs_seen:
            sy, sx = lv.stairs
            self.stairs_seen = bool(self.seen[sy, sx])

    def reveal(self) -> None:
        """Update the fog of war around the hero (room once when lit, else the 3x3)."""
        y, x = self.y, self.x
        room = int(self.level.room_id[y, x])
        if room >= 0 and room not in self.lit_rooms:
            t, lf, b, r = self.level.rooms[room]
            self.lit_rooms.add(room)
            self._reveal_region(t, lf, b + 1, r + 1)
        h, w = self.memory.shape
        self._reveal_region(max(y - 1, 0), max(x - 1, 0), min(y + 2, h), min(x + 2, w))

    def refresh(self, y: int, x: int) -> None:
        """Redraw remembered cell ``(y, x)`` after its contents changed (if seen)."""
        if self.seen[y, x]:
            self.memory[y, x] = self.base_glyph(y, x)

    # -- queries ---------------------------------------------------------------------------------

    @property
    def hunger_state(self) -> int:
        """0 not hungry, 1 hungry, 2 weak, 3 fainting."""
        n = self.nutrition
        return 0 if n > HUNGRY_AT else 1 if n > WEAK_AT else 2 if n > FAINT_AT else 3

    def monster_at(self, y: int, x: int) -> list[int] | None:
        for m in self.level.monsters:
            if m[0] == y and m[1] == x:
                return m
        return None

    def visible(self, y: int, x: int) -> bool:
        """Whether a monster at ``(y, x)`` is in view: same lit room, or adjacent."""
        if abs(y - self.y) <= 1 and abs(x - self.x) <= 1:
            return True
        room = self.level.room_id[self.y, self.x]
        return room >= 0 and self.level.room_id[y, x] == room

    def passable_known(self) -> np.ndarray:
        """Cells the hero knows to be walkable (closed doors count: they can be opened)."""
        g = self.memory
        return (g != G_DARK) & (g != G_WALL)

    def stairs_distance(self) -> int:
        """True move distance from the hero to the stairs (doors count as passable)."""
        if self._stairs_dist is None:
            lv = self.level
            passable = lv.terrain != ROCK
            passable &= lv.terrain != WALL
            src = np.zeros_like(passable)
            src[lv.stairs] = True
            self._stairs_dist = distance_map(passable, src)
        return int(self._stairs_dist[self.y, self.x])

    def key_distance(self) -> int:
        """Move distance to the key on this level; 0 when carried, -1 when there is none."""
        lv = self.level
        if self.keys > 0:
            return 0
        if lv.key_pos is None or lv.item[lv.key_pos] != KEY:
            return -1
        if self._key_dist is None:
            passable = (lv.terrain != ROCK) & (lv.terrain != WALL)
            src = np.zeros_like(passable)
            src[lv.key_pos] = True
            self._key_dist = distance_map(passable, src)
        return int(self._key_dist[self.y, self.x])

    def explore_distance(self) -> int:
        """Known-map distance to the nearest seen walkable cell next to unexplored space.

        0 when the hero stands on such a frontier cell; -1 when nothing is left to explore.
        """
        passable = self.passable_known()
        frontier = passable & _dilate(~self.seen) & (self.memory != G_DOOR_CLOSED)
        # A frontier that only touches rock beyond walls is no frontier: keep cells whose dark
        # neighbours include non-rock terrain.
        hidden_open = ~self.seen & (self.level.terrain != ROCK)
        frontier &= _dilate(hidden_open)
        if not frontier.any():
            return -1
        src = np.zeros_like(passable)
        src[self.y, self.x] = True
        dist = distance_map(passable, src, stop=frontier)
        hits = dist[frontier]
        hits = hits[hits >= 0]
        return int(hits.min()) if len(hits) else -1

    # -- the turn --------------------------------------------------------------------------------

    def act(self, action: int) -> list[dict[str, Any]]:
        """Play one turn of ``action`` (an index into :data:`ACTION_NAMES`)."""
        events: list[dict[str, Any]] = []
        if action < 8:
            self._move(MOVES[action], events)
        elif action == PICKUP:
            self._pickup(events)
        elif action == OPEN:
            self._open(events)
        elif action == KICK:
            self._kick(events)
        elif action == EAT:
            self._eat(events)
        elif action == DESCEND:
            self._descend(events)
            if events and events[-1]["type"] == "descend":
                return events  # a fresh level: no monster turn this step
        elif action == SEARCH:
            self._search(events)
        self._end_turn(events)
        return events

    def _move(self, d: tuple[int, int], events: list[dict[str, Any]]) -> None:
        lv = self.level
        y, x = self.y + d[0], self.x + d[1]
        h, w = lv.terrain.shape
        if not (0 <= y < h and 0 <= x < w):
            return
        if lv.monsters:
            m = self.monster_at(y, x)
            if m is not None:
                self._attack(m, events)
                return
        t = lv.terrain[y, x]
        if t in (DOOR_CLOSED, DOOR_LOCKED):
            events.append({"type": "door_closed", "message": "The door is closed.", "pos": (y, x)})
            return
        if not PASSABLE[t]:
            return
        self.y, self.x = y, x
        if lv.gold[y, x]:
            amount = int(lv.gold[y, x])
            lv.gold[y, x] = 0
            self.gold += amount
            self.score += amount
            self.memory[y, x] = self.base_glyph(y, x)
            events.append({"type": "gold", "amount": amount, "message": f"{amount} gold pieces."})
        item = lv.item[y, x]
        if item:
            name = ITEM_NAMES[item]
            events.append({"type": "see_item", "item": name, "message": f"You see here a {name}."})
        if lv.trap[y, x]:
            dmg = int(self.rng.integers(1, 4))
            self.hp -= dmg
            if not lv.trap_known[y, x]:
                lv.trap_known[y, x] = True
                self.memory[y, x] = self.base_glyph(y, x)
            events.append(
                {"type": "trap", "damage": dmg, "message": "A little dart shoots out at you!"}
            )
        elif t == STAIRS:
            events.append({"type": "see_stairs", "message": "There is a staircase down here."})
        if lv.room_id[y, x] < 0 or int(lv.room_id[y, x]) not in self.lit_rooms:
            self.reveal()
        else:
            # Inside a room already lit: only the border cells can add anything new.
            self._reveal_region(max(y - 1, 0), max(x - 1, 0), min(y + 2, h), min(x + 2, w))

    def _attack(self, m: list[int], events: list[dict[str, Any]]) -> None:
        name = MONSTERS[m[2]][0]
        if self.rng.random() < 0.8:
            m[3] -= int(self.rng.integers(1, 5))
            if m[3] <= 0:
                self.level.monsters.remove(m)
                self.kills += 1
                exp = MONSTERS[m[2]][4]
                self.score += 4 * exp * self.depth
                events.append({"type": "kill", "monster": name, "message": f"You kill the {name}!"})
            else:
                events.append({"type": "hit", "monster": name, "message": f"You hit the {name}."})
        else:
            events.append({"type": "miss", "monster": name, "message": f"You miss the {name}."})

    def _pickup(self, events: list[dict[str, Any]]) -> None:
        lv = self.level
        item = lv.item[self.y, self.x]
        if not item:
            events.append({"type": "nothing", "message": "There is nothing here to pick up."})
            return
        lv.item[self.y, self.x] = NO_ITEM
        if item == FOOD:
            self.food += 1
        elif item == KEY:
            self.keys += 1
        else:
            self.gems += 1
            self.score += 10
        self.memory[self.y, self.x] = self.base_glyph(self.y, self.x)
        name = ITEM_NAMES[item]
        events.append({"type": "pickup", "item": name, "message": f"You pick up a {name}."})

    def _adjacent_door(self) -> tuple[int, int] | None:
        t = self.level.terrain
        h, w = t.shape
        for dy, dx in MOVES:
            y, x = self.y + dy, self.x + dx
            if 0 <= y < h and 0 <= x < w and (t[y, x] == DOOR_CLOSED or t[y, x] == DOOR_LOCKED):
                return y, x
        return None

    def _set_door(self, pos: tuple[int, int], kind: int) -> None:
        # Distance maps already treat doors as passable, so they stay valid.
        self.level.terrain[pos] = kind
        self.refresh(*pos)

    def _open(self, events: list[dict[str, Any]]) -> None:
        pos = self._adjacent_door()
        if pos is None:
            events.append({"type": "no_door", "message": "You see no door there."})
            return
        if self.level.terrain[pos] == DOOR_LOCKED:
            if self.keys <= 0:
                events.append({"type": "locked", "pos": pos, "message": "This door is locked."})
                return
            self._set_door(pos, DOOR_OPEN)
            events.append(
                {
                    "type": "unlock",
                    "pos": pos,
                    "message": "You unlock the door with your key. The door opens.",
                }
            )
            return
        self._set_door(pos, DOOR_OPEN)
        events.append({"type": "door_open", "pos": pos, "message": "The door opens."})

    def _kick(self, events: list[dict[str, Any]]) -> None:
        pos = self._adjacent_door()
        if pos is None:
            events.append({"type": "kick_air", "message": "You kick at empty space."})
            return
        if self.rng.random() < self.cfg.kick_prob:
            self._set_door(pos, DOORWAY)
            events.append(
                {"type": "door_broken", "pos": pos, "message": "WHAMM!! The door crashes open!"}
            )
        else:
            events.append({"type": "kick_door", "pos": pos, "message": "WHAMM!!"})

    def _eat(self, events: list[dict[str, Any]]) -> None:
        lv = self.level
        if lv.item[self.y, self.x] == FOOD:
            lv.item[self.y, self.x] = NO_ITEM
            self.memory[self.y, self.x] = self.base_glyph(self.y, self.x)
        elif self.food > 0:
            self.food -= 1
        else:
            events.append({"type": "no_food", "message": "You don't have anything to eat."})
            return
        was_hungry = self.hunger_state > 0
        self.nutrition += FOOD_NUTRITION
        events.append(
            {
                "type": "eat",
                "was_hungry": was_hungry,
                "message": "This food ration is delicious!"
                if was_hungry
                else "You finish eating the food ration.",
            }
        )

    def _descend(self, events: list[dict[str, Any]]) -> None:
        if self.level.terrain[self.y, self.x] != STAIRS:
            events.append({"type": "no_stairs", "message": "You can't go down here."})
            return
        self.depth += 1
        self.descended += 1
        self.score += 50 * (self.depth - 1)
        self.turn += 1
        self.new_level()
        events.append(
            {
                "type": "descend",
                "depth": self.depth,
                "message": f"You descend to level {self.depth}.",
            }
        )

    def _search(self, events: list[dict[str, Any]]) -> None:
        lv = self.level
        t, lf = max(self.y - 1, 0), max(self.x - 1, 0)
        sl = (slice(t, self.y + 2), slice(lf, self.x + 2))
        found = lv.trap[sl] & ~lv.trap_known[sl]
        if found.any():
            lv.trap_known[sl] |= found
            for dy, dx in zip(*np.nonzero(found)):
                self.refresh(t + int(dy), lf + int(dx))
            events.append({"type": "find_trap", "message": "You find a dart trap."})

    def _end_turn(self, events: list[dict[str, Any]]) -> None:
        self.turn += 1
        if self.level.monsters:
            self._monsters_act(events)
        before = self.hunger_state
        self.nutrition -= 1
        after = self.hunger_state
        if after != before:
            text = (
                "You are beginning to feel hungry.",
                "You are beginning to feel weak.",
                "You faint from lack of food.",
            )[after - 1]
            events.append({"type": "hunger", "state": after, "message": text})
        if self.turn % 15 == 0 and self.hp < self.max_hp:
            self.hp += 1
        if self.level.terrain.size and self.rng.random() < 0.002:
            self._distant_door(events)
        if self.nutrition <= 0:
            self.dead = True
            events.append(
                {"type": "death", "cause": "starvation", "message": "You die from starvation..."}
            )
        elif self.hp <= 0:
            self.dead = True
            events.append({"type": "death", "cause": "injury", "message": "You die..."})

    def _distant_door(self, events: list[dict[str, Any]]) -> None:
        closed = (self.level.terrain == DOOR_CLOSED) & ~self.seen
        cell = _random_cell(self.rng, closed)
        if cell is not None:
            self.level.terrain[cell] = DOOR_OPEN
            events.append({"type": "hear_door", "message": "You hear a door open."})

    def _monsters_act(self, events: list[dict[str, Any]]) -> None:
        lv = self.level
        for m in lv.monsters:
            my, mx = m[0], m[1]
            dy, dx = self.y - my, self.x - mx
            if max(abs(dy), abs(dx)) == 1:
                name, _, dmg, to_hit, _ = MONSTERS[m[2]]
                if self.rng.random() < to_hit:
                    self.hp -= int(self.rng.integers(1, dmg + 1))
                    events.append(
                        {"type": "hurt", "monster": name, "message": f"The {name} bites!"}
                    )
                else:
                    events.append(
                        {"type": "monster_miss", "monster": name, "message": f"The {name} misses."}
                    )
                continue
            if not self.visible(my, mx) and max(abs(dy), abs(dx)) > 6:
                continue
            sy, sx = (dy > 0) - (dy < 0), (dx > 0) - (dx < 0)
            for ty, tx in ((my + sy, mx + sx), (my + sy, mx), (my, mx + sx)):
                if (
                    (ty, tx) != (my, mx)
                    and PASSABLE[lv.terrain[ty, tx]]
                    and self.monster_at(ty, tx) is None
                    and (ty, tx) != (self.y, self.x)
                ):
                    m[0], m[1] = ty, tx
                    break
