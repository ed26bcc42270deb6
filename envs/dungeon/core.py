"""The dungeon game itself: the turn logic over a generated level (:class:`Game`).

Everything on a level lives in a few numpy arrays (terrain, gold, items, traps, what the hero
has seen, the remembered glyphs); only the handful of monsters are Python lists. A turn touches
a few cells, and the fog of war is updated incrementally: entering a lit room reveals its
rectangle once, corridors reveal the 3x3 around the hero. So one step costs tens of
microseconds, not a redraw of the map.

The tables live in :mod:`~rewardgym.envs.dungeon.symbols` and level generation in
:mod:`~rewardgym.envs.dungeon.level`. This module knows nothing about Gymnasium or rewards; :mod:`rewardgym.envs.dungeon.env` wraps
it into the step contract and the tasks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rewardgym.envs.dungeon.level import (
    LevelConfig,
    _dilate,
    _random_cell,
    distance_map,
    generate_level,
)
from rewardgym.envs.dungeon.symbols import (
    DESCEND,
    DOOR_CLOSED,
    DOOR_LOCKED,
    DOOR_OPEN,
    DOORWAY,
    EAT,
    FAINT_AT,
    FOOD,
    FOOD_NUTRITION,
    G_DARK,
    G_DOOR_CLOSED,
    G_GOLD,
    G_TRAP,
    G_WALL,
    HUNGRY_AT,
    ITEM_GLYPH,
    ITEM_NAMES,
    KEY,
    KICK,
    MONSTERS,
    MOVES,
    NO_ITEM,
    OPEN,
    PASSABLE,
    PICKUP,
    ROCK,
    SEARCH,
    STAIRS,
    TERRAIN_GLYPH,
    WALL,
    WEAK_AT,
)

__all__ = ["Game"]


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
