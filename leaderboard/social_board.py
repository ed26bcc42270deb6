"""The multi-agent bench of the social deduction family: role-balanced matchups and a league.

A *matchup* is one game in which every crew seat is played by one agent and every imposter
seat by another (or the same: self-play). :func:`matchups` crosses every ordered pair of
agents with every seed, so each agent plays each role against each opponent on the same seeds
(role-balanced). Games are stored in the bench's SQLite file, in this module's own tables:

``social_games``
    one row per game, unique on ``(env_id, crew_agent, imposter_agent, seed)`` (re-running a
    league skips stored games): the winner, length, and the summed reward components of each
    side (``crew_*``/``imposter_*``: ``win``, ``task``, ``discussion`` = speaking reward,
    averaged over that side's seats), invalid actions, wall time.
``social_ratings``
    the league's ratings per ``(league, agent)``: openskill Plackett-Luce ``mu``/``sigma``
    and the ordinal ``mu - 3 sigma``, recomputed from every stored game of that env in id
    order (deterministic).

:func:`role_table` gives each agent's win rate per role with Wilson 95% intervals and its mean
speaking reward per role; :func:`html_section` renders both tables for the report page.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import pathlib
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rewardgym.errors import ConfigError, DependencyNotInstalled
from rewardgym.leaderboard.sections import html_table_section, md_table_section

__all__ = [
    "Matchup",
    "SocialBoard",
    "html_section",
    "matchups",
    "play_matchup",
    "rate_league",
    "role_table",
    "run_league",
    "wilson_ci",
]

log = logging.getLogger("rewardgym.leaderboard.social_board")

SCHEMA = """
CREATE TABLE IF NOT EXISTS social_games (
    id INTEGER PRIMARY KEY,
    env_id TEXT NOT NULL,
    crew_agent TEXT NOT NULL,
    imposter_agent TEXT NOT NULL,
    seed INTEGER NOT NULL,
    winner TEXT,
    steps INTEGER NOT NULL,
    crew_win REAL NOT NULL,
    crew_task REAL NOT NULL,
    crew_discussion REAL NOT NULL,
    imposter_win REAL NOT NULL,
    imposter_task REAL NOT NULL,
    imposter_discussion REAL NOT NULL,
    invalid_actions INTEGER NOT NULL,
    wall_s REAL NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (env_id, crew_agent, imposter_agent, seed)
);
CREATE TABLE IF NOT EXISTS social_ratings (
    league TEXT NOT NULL,
    agent TEXT NOT NULL,
    mu REAL NOT NULL,
    sigma REAL NOT NULL,
    ordinal REAL NOT NULL,
    games INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (league, agent)
);
"""

_GAME_COLUMNS = (
    "env_id",
    "crew_agent",
    "imposter_agent",
    "seed",
    "winner",
    "steps",
    "crew_win",
    "crew_task",
    "crew_discussion",
    "imposter_win",
    "imposter_task",
    "imposter_discussion",
    "invalid_actions",
    "wall_s",
    "created_at",
)


def wilson_ci(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95% by default); (0, 1) for n=0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Matchup:
    """One game to play: the crew's agent, the imposters' agent, the env and the seed."""

    env_id: str
    crew_agent: str
    imposter_agent: str
    seed: int

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.env_id, self.crew_agent, self.imposter_agent, self.seed)


def matchups(env_id: str, agents: Sequence[str], seeds: Iterable[int]) -> list[Matchup]:
    """Every ordered pair of ``agents`` (self-play included) on every seed: role-balanced."""
    seeds = list(seeds)
    if not agents:
        raise ConfigError("a league needs at least one agent")
    return [Matchup(env_id, c, i, s) for c in agents for i in agents for s in seeds]


def play_matchup(m: Matchup, env: Any | None = None, **env_kwargs: Any) -> dict[str, Any]:
    """Play one matchup and return its ``social_games`` row."""
    import rewardgym
    from rewardgym.agents.registry import make_agent
    from rewardgym.agents.social_agents import play_game

    env = env if env is not None else rewardgym.make_parallel(m.env_id, **env_kwargs)
    start = time.perf_counter()
    env.reset(seed=m.seed)
    imposters = set(env.true_imposters)
    agents = {
        a: make_agent(m.imposter_agent if a in imposters else m.crew_agent, env)
        for a in env.possible_agents
    }
    result = play_game(env, agents, m.seed)
    row: dict[str, Any] = {
        "env_id": m.env_id,
        "crew_agent": m.crew_agent,
        "imposter_agent": m.imposter_agent,
        "seed": m.seed,
        "winner": result.winner,
        "steps": result.steps,
        "invalid_actions": sum(result.invalid.values()),
        "wall_s": time.perf_counter() - start,
    }
    for side, seats in (
        ("crew", [a for a in env.possible_agents if a not in imposters]),
        ("imposter", sorted(imposters)),
    ):
        for comp in ("win", "task", "discussion"):
            row[f"{side}_{comp}"] = sum(result.components[a].get(comp, 0.0) for a in seats) / len(
                seats
            )
    return row


class SocialBoard:
    """This module's tables in the bench's SQLite file (created next to ``episodes``).

    The file is opened (and created, or checked to be a rewardgym results file) through
    ``ResultsStore`` first, so a foreign or damaged file raises ``StoreError`` untouched.
    """

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = path
        if readonly:  # the report reads a results file it must not change (or create)
            uri = pathlib.Path(path).resolve().as_uri() + "?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
            return
        from rewardgym.leaderboard.store import ResultsStore

        ResultsStore(path).close()
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.executescript(SCHEMA)

    def has_tables(self) -> bool:
        """Whether the file holds this module's tables (a read-only board may not)."""
        names = {
            r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        return {"social_games", "social_ratings"} <= names

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SocialBoard:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def done_keys(self) -> set[tuple[str, str, str, int]]:
        rows = self._conn.execute(
            "SELECT env_id, crew_agent, imposter_agent, seed FROM social_games"
        )
        return {tuple(r) for r in rows}  # type: ignore[misc]

    def add_games(self, rows: Iterable[dict[str, Any]]) -> int:
        """Store game rows (a stored key is ignored); returns how many were new."""
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        values = [tuple({**r, "created_at": now}[c] for c in _GAME_COLUMNS) for r in rows]
        before = self._conn.total_changes
        self._conn.execute("BEGIN")
        self._conn.executemany(
            f"INSERT OR IGNORE INTO social_games ({', '.join(_GAME_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _GAME_COLUMNS)})",
            values,
        )
        self._conn.execute("COMMIT")
        return self._conn.total_changes - before

    def games(self, env_id: str | None = None) -> list[dict[str, Any]]:
        """Stored games (of ``env_id``, or all) in id order."""
        cur = self._conn.execute(
            "SELECT * FROM social_games" + (" WHERE env_id = ?" if env_id else "") + " ORDER BY id",
            (env_id,) if env_id else (),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]

    def save_ratings(self, league: str, ratings: dict[str, dict[str, float]]) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self._conn.execute("BEGIN")
        self._conn.execute("DELETE FROM social_ratings WHERE league = ?", (league,))
        self._conn.executemany(
            "INSERT INTO social_ratings VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (league, a, r["mu"], r["sigma"], r["ordinal"], int(r["games"]), now)
                for a, r in ratings.items()
            ],
        )
        self._conn.execute("COMMIT")

    def ratings(self, league: str | None = None) -> list[dict[str, Any]]:
        cur = self._conn.execute(
            "SELECT * FROM social_ratings"
            + (" WHERE league = ?" if league else "")
            + " ORDER BY league, ordinal DESC",
            (league,) if league else (),
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]


def rate_league(games: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """openskill (Plackett-Luce) ratings: each game is a two-team match, the crew's agent
    against the imposters' agent; a truncated game is a draw; self-play games carry no
    information about relative skill and are skipped. Role-balanced matchups give every agent
    both sides equally often, so the crew's structural edge cancels out.

    Games are rated round by round (by seed, then in the order given), so that every matchup
    is seen once per round: a sequential rating of games stored matchup by matchup would weigh
    the first matchups most.

    Raises:
        DependencyNotInstalled: without ``openskill`` (``pip install 'rewardgym[social]'``).
    """
    try:
        from openskill.models import PlackettLuce
    except ImportError:
        raise DependencyNotInstalled("openskill", "social", "league ratings") from None
    model = PlackettLuce()
    players: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for g in sorted(games, key=lambda g: g.get("seed", 0)):  # stable: ties keep their order
        crew, imp = g["crew_agent"], g["imposter_agent"]
        for a in (crew, imp):
            players.setdefault(a, model.rating(name=a))
            counts.setdefault(a, 0)
        if crew == imp:
            continue
        ranks = {"crew": [0, 1], "imposters": [1, 0]}.get(g["winner"] or "", [0, 0])
        [[players[crew]], [players[imp]]] = model.rate(
            [[players[crew]], [players[imp]]], ranks=ranks
        )
        counts[crew] += 1
        counts[imp] += 1
    return {
        a: {"mu": p.mu, "sigma": p.sigma, "ordinal": p.ordinal(), "games": counts[a]}
        for a, p in players.items()
    }


def role_table(games: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (agent, role): games, wins, win rate with its Wilson 95% interval, and the mean
    speaking reward (``discussion`` per seat per game) and ``task`` reward of that side."""
    acc: dict[tuple[str, str], list[float]] = {}
    for g in games:
        for role, agent, won, speak, task in (
            ("crew", g["crew_agent"], g["winner"] == "crew", g["crew_discussion"], g["crew_task"]),
            (
                "imposter",
                g["imposter_agent"],
                g["winner"] == "imposters",
                g["imposter_discussion"],
                g["imposter_task"],
            ),
        ):
            a = acc.setdefault((agent, role), [0, 0, 0.0, 0.0])
            a[0] += 1
            a[1] += int(won)
            a[2] += speak
            a[3] += task
    table = []
    for (agent, role), (n, wins, speak, task) in sorted(acc.items()):
        lo, hi = wilson_ci(int(wins), int(n))
        table.append(
            {
                "agent": agent,
                "role": role,
                "games": int(n),
                "wins": int(wins),
                "win_rate": wins / n,
                "ci_low": lo,
                "ci_high": hi,
                "speaking_reward": speak / n,
                "task_reward": task / n,
            }
        )
    return table


def run_league(
    board: SocialBoard,
    env_id: str,
    agents: Sequence[str],
    seeds: Iterable[int],
    *,
    league: str | None = None,
    progress: Any = None,
    **env_kwargs: Any,
) -> dict[str, dict[str, float]]:
    """Play every role-balanced matchup not yet stored, then rate the league.

    Args:
        board: where games and ratings are stored.
        env_id: a registered social deduction id.
        agents: agent names (``rewardgym.agents.registry``), e.g. ``["bayes-listener",
            "task-crew", "lying-imposter"]``.
        seeds: the game seeds each matchup is played on.
        league: the ratings' name (default: ``env_id``).
        progress: called as ``progress(done, total)`` after each game, if given.
        **env_kwargs: passed to ``make_parallel``.

    Returns:
        The ratings, also saved in ``social_ratings``.
    """
    import rewardgym

    todo = [m for m in matchups(env_id, agents, seeds) if m.key not in board.done_keys()]
    env = rewardgym.make_parallel(env_id, **env_kwargs)
    batch: list[dict[str, Any]] = []
    for i, m in enumerate(todo):
        batch.append(play_matchup(m, env))
        if len(batch) >= 64:
            board.add_games(batch)
            batch = []
        if progress is not None:
            progress(i + 1, len(todo))
    board.add_games(batch)
    ratings = rate_league(board.games(env_id))
    board.save_ratings(league or env_id, ratings)
    return ratings


_TITLE = "Social deduction league"


def _stored(path: str | os.PathLike[str]) -> tuple[list[dict], list[dict]] | None:
    """The games and ratings stored in the results file at ``path``, read-only (None when the
    file has no league games)."""
    if not path or not os.path.isfile(path):
        return None
    with SocialBoard(path, readonly=True) as board:
        if not board.has_tables():
            return None
        games = board.games()
        return (games, board.ratings()) if games else None


def _tables(games: list[dict], ratings: list[dict]) -> list[tuple[list[str], list[list[str]]]]:
    roles = [
        [
            r["agent"], r["role"], str(r["games"]), f"{r['win_rate']:.3f}",
            f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]", f"{r['speaking_reward']:.3f}",
        ]
        for r in role_table(games)
    ]  # fmt: skip
    tables = [(["agent", "role", "games", "win rate", "95% CI", "speaking reward"], roles)]
    if ratings:
        rated = [
            [
                r["league"], r["agent"], f"{r['mu']:.2f}", f"{r['sigma']:.2f}",
                f"{r['ordinal']:.2f}", str(r["games"]),
            ]
            for r in ratings
        ]  # fmt: skip
        tables.append((["league", "agent", "mu", "sigma", "ordinal", "games"], rated))
    return tables


def _note(games: list[dict]) -> str:
    return (
        f"{len(games)} games; win rates with Wilson 95% intervals; speaking reward = mean "
        "discussion component per seat per game; openskill ratings from the league."
    )


def league_section(rows: Sequence[dict[str, Any]], source: str = "") -> str | None:
    """The page's section (``REPORT_SECTIONS``): the league stored beside the episodes."""
    return html_section(source)


def league_md(rows: Sequence[dict[str, Any]], source: str = "") -> str | None:
    """The Markdown report's section (``MD_SECTIONS``)."""
    stored = _stored(source)
    if stored is None:
        return None
    games, ratings = stored
    return md_table_section(_TITLE, _note(games), _tables(games, ratings))


def html_section(path: str | os.PathLike[str]) -> str | None:
    """The report's social deduction section from the file at ``path`` (None if no games)."""
    stored = _stored(path)
    if stored is None:
        return None
    games, ratings = stored
    return html_table_section("social", _TITLE, _note(games), _tables(games, ratings))
