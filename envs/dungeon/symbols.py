"""The dungeon's tables: terrain codes, glyph ids and their names and characters, items,
monsters, the action set and the bottom-line (``blstats``) fields, in NetHack's spirit."""

from __future__ import annotations

import numpy as np

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
