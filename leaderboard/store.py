"""The results store: every bench episode in one SQLite file (WAL mode), resumable.

One row per episode, unique on ``(agent, env_id, env_version, seed, episode_index, recipe)``:
writing the same episode twice is a no-op, so a killed run re-run with the same arguments skips
what is stored and completes the rest. Rows commit in groups spanning at most
``commit_interval_s`` (WAL, ``synchronous=NORMAL``), so a SIGKILL loses at most the episodes of
that last fraction of a second (a re-run runs them again), never a committed one.

The file is marked as ours with ``PRAGMA application_id`` and versioned with
``PRAGMA user_version``. A file that is not SQLite, is damaged, carries another application's
marker or a newer schema raises :class:`rewardgym.errors.StoreError` and is never modified.

Schema (table ``episodes``): see ``SCHEMA`` below and docs/leaderboard.md.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import pathlib
import sqlite3
import time
from collections.abc import Iterator, Mapping
from operator import itemgetter
from typing import Any, NamedTuple

from rewardgym.errors import StoreError

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "EpisodeKey",
    "ResultsStore",
    "summary_record",
]

log = logging.getLogger("rewardgym.leaderboard.store")

#: ``PRAGMA application_id`` of a rewardgym results file: ASCII "RGLB".
APPLICATION_ID = 0x52474C42
SCHEMA_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE IF NOT EXISTS episodes (
    id INTEGER PRIMARY KEY,
    agent TEXT NOT NULL,
    env_id TEXT NOT NULL,
    env_version INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    episode_index INTEGER NOT NULL,
    recipe TEXT NOT NULL,
    task_id TEXT NOT NULL,
    episode_id TEXT NOT NULL,
    task_return REAL NOT NULL,
    total_reward REAL NOT NULL,
    success INTEGER,
    length INTEGER NOT NULL,
    invalid_actions INTEGER NOT NULL,
    components_json TEXT NOT NULL,
    cost_json TEXT NOT NULL,
    wall_s REAL NOT NULL,
    rewardgym_version TEXT NOT NULL,
    recipe_spec_json TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    record_json TEXT NOT NULL,
    UNIQUE (agent, env_id, env_version, seed, episode_index, recipe)
);
"""

_COLUMNS = (
    "agent",
    "env_id",
    "env_version",
    "seed",
    "episode_index",
    "recipe",
    "task_id",
    "episode_id",
    "task_return",
    "total_reward",
    "success",
    "length",
    "invalid_actions",
    "components_json",
    "cost_json",
    "wall_s",
    "rewardgym_version",
    "recipe_spec_json",
    "record_json",
)

# created_at is bound once per group (when the group is written) rather than left to the
# column's DEFAULT, which SQLite would evaluate row by row.
# ON CONFLICT names the unique key: only an episode already stored is skipped. (INSERT OR
# IGNORE would also skip, silently, a row that breaks a NOT NULL constraint.)
_INSERT = (
    f"INSERT INTO episodes ({', '.join(_COLUMNS)}, created_at) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}, ?) "
    "ON CONFLICT (agent, env_id, env_version, seed, episode_index, recipe) DO NOTHING"
)
_ROW_VALUES = itemgetter(*_COLUMNS)


def summary_record(
    row: Mapping[str, Any],
    *,
    cost: dict[str, float] | None = None,
    recipe_spec: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``EpisodeRecord`` fields of a stored episode row, without steps.

    An episode run without ``record_steps`` is stored with an empty ``record_json``: everything
    its record holds is in the row's columns, and :meth:`ResultsStore.record_json` rebuilds it.
    ``cost`` and ``recipe_spec``, when the caller has them, spare decoding the row's JSON.
    """
    if cost is None:
        cost = json.loads(row["cost_json"])
    if recipe_spec is None:
        recipe_spec = json.loads(row["recipe_spec_json"]).get("wrappers", [])
    return {
        "env_id": row["env_id"],
        "task_id": row["task_id"],
        "episode_id": row["episode_id"],
        "seed": row["seed"],
        "agent": row["agent"],
        "steps": [],
        "cost": cost,
        "success": None if row["success"] is None else bool(row["success"]),
        "wall_s": row["wall_s"],
        "metadata": {
            "episode_index": row["episode_index"],
            "recipe": row["recipe"],
            "recipe_spec": recipe_spec,
            "steps_recorded": False,
            "length": row["length"],
        },
    }


class EpisodeKey(NamedTuple):
    """What makes an episode unique in the store (and skippable when re-running).

    A named tuple: hashed and compared in C, which matters when a run checks every planned
    episode against the stored ones.
    """

    agent: str
    env_id: str
    env_version: int
    seed: int
    episode_index: int
    recipe: str = ""


class ResultsStore:
    """A results database file; create it, or open one we made earlier.

    Args:
        path: the SQLite file (parent folders are created).

    Raises:
        StoreError: if the file exists and is not a rewardgym results database (not SQLite,
            corrupted, another application's, or a newer schema). The file is left untouched.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        commit_interval_s: float = 0.2,
        readonly: bool = False,
    ) -> None:
        self.path = pathlib.Path(path)
        self.readonly = readonly
        # Rows are written in groups: ``add`` keeps the row, and every ``commit_interval_s`` the
        # group is inserted with one ``executemany`` in one transaction. A commit costs about as
        # much as a short dungeon episode, and even a lone INSERT between two episodes runs
        # with SQLite's code and pages evicted from the CPU caches by the env (and evicts the
        # env's in turn), several times slower than inside a batch. A SIGKILL loses at most the
        # last ``commit_interval_s`` of episodes, which a re-run simply runs again.
        self.commit_interval_s = float(commit_interval_s)
        self._pending: list[tuple[Any, ...]] = []
        self._first_pending = 0.0
        #: Rows this object has stored (new keys; rows whose key was already there are ignored).
        self.stored = 0
        #: The folder this object created for a new file (None if it was there already).
        self.created_folder: pathlib.Path | None = None
        self._conn: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise StoreError(
                f"{self.path} is a directory, not a results database; pass a file path such as "
                f"{self.path / 'results.sqlite'}"
            )
        existing = self.path.exists() and self.path.stat().st_size > 0
        if existing:
            self._check_header()
            # WAL needs to write beside the file too (its -wal and -shm files)
            if not readonly and not (
                os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)
            ):
                raise StoreError(
                    f"{self.path} is read-only here (a read-only mount or folder); "
                    "`rewardgym leaderboard` can still score it, but `bench` needs a writable --db"
                )
        elif readonly:
            raise StoreError(f"no results database at {self.path}; run `rewardgym bench` first")
        else:
            self._make_parent()
        try:
            if readonly:
                self._conn = self._connect_readonly()
                self._check_ours()
            elif existing:
                # mode=rw: never create or truncate an existing file by accident.
                self._conn = sqlite3.connect(
                    f"file:{self.path}?mode=rw", uri=True, isolation_level=None, timeout=30
                )
                self._check_ours()
            else:
                self._conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
                self._conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if not readonly:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
                # CREATE ... IF NOT EXISTS: tables other modules keep in this file stay as they are
                self._conn.executescript(SCHEMA)
        except sqlite3.OperationalError as exc:
            self._close_quietly()
            if existing and "readonly" in str(exc).lower():
                raise StoreError(
                    f"{self.path} is read-only ({exc}); `rewardgym leaderboard` can still score "
                    "it, but `bench` needs a writable --db"
                ) from None
            raise StoreError(f"cannot open {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise StoreError(
                f"{self.path} is not a usable SQLite database ({exc}); it was left untouched. "
                "Pass another --db path, or move the file away if you want a fresh store."
            ) from None

    def _make_parent(self) -> None:
        parent = self.path.parent
        if parent.is_dir():
            return
        missing = parent
        while not missing.parent.exists() and missing.parent != missing:
            missing = missing.parent
        if missing.exists() or not missing.parent.is_dir():
            blocker = missing if missing.exists() else missing.parent
            raise StoreError(
                f"{blocker} is a file, not a folder, so {self.path} cannot be created there; "
                "pass another --db path"
            )
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"the folder {parent} for {self.path.name} does not exist and cannot be created "
                f"({exc.strerror or exc}); pass a --db path in a writable folder"
            ) from None
        self.created_folder = missing
        log.info("created %s for the results database %s", missing, self.path)

    def _connect_readonly(self) -> sqlite3.Connection:
        """A read-only connection, also on a read-only mount.

        ``mode=ro`` reads a WAL database when SQLite can reach its shared-memory file; on
        read-only media it cannot create one, so the file is opened ``immutable`` instead
        (nothing can change it there).
        """
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=30)
        try:
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
            log.info("%s cannot be opened mode=ro; opening it immutable", self.path)
            return sqlite3.connect(
                f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, timeout=30
            )

    def _close_quietly(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- checks ------------------------------------------------------------------------------

    def _check_header(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                head = fh.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if head != _SQLITE_MAGIC:
            raise StoreError(
                f"{self.path} is not an SQLite database (bad header); refusing to touch it. "
                "Pass another --db path, or move the file away if you want a fresh store."
            )

    def _check_ours(self) -> None:
        app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID:
            self._conn.close()
            raise StoreError(
                f"{self.path} is an SQLite database of another application "
                f"(application_id={app_id:#x}, rewardgym uses {APPLICATION_ID:#x}); refusing to "
                "touch it. Pass another --db path."
            )
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            self._conn.close()
            raise StoreError(
                f"{self.path} has results schema v{version}, newer than this rewardgym's "
                f"v{SCHEMA_VERSION}; upgrade rewardgym to read it."
            )
        problems = self._conn.execute("PRAGMA quick_check").fetchall()
        if problems != [("ok",)]:
            self._conn.close()
            raise StoreError(
                f"{self.path} is corrupted ({problems[0][0]}); it was left untouched. Restore it "
                "from a backup or pass another --db path."
            )

    # -- writing -----------------------------------------------------------------------------

    def _writable(self) -> None:
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only; it cannot store episodes")

    def add(self, row: Mapping[str, Any]) -> None:
        """Store one episode row (the runner builds it); a row whose key is already stored is
        ignored. Rows are written in groups: at most ``commit_interval_s`` after the first row
        of a group, at :meth:`flush`, before any read and at :meth:`close`.

        Raises:
            StoreError: if a column is missing.
        """
        if self.readonly:
            self._writable()
        try:
            values = _ROW_VALUES(row)
        except KeyError:
            missing = [c for c in _COLUMNS if c not in row]
            raise StoreError(f"episode row lacks columns {missing}") from None
        now = time.monotonic()
        if not self._pending:
            self._first_pending = now
        self._pending.append(values)
        if now - self._first_pending >= self.commit_interval_s or len(self._pending) >= 4096:
            self.flush()

    def flush(self) -> int:
        """Write and commit the rows added since the last flush; returns how many were new.

        Raises:
            StoreError: if some rows cannot be stored (a value SQLite cannot hold); every other
                row of the group is stored.
        """
        if not self._pending:
            return 0
        rows, self._pending = self._pending, []
        try:
            new = self._insert(rows)
        except sqlite3.Error:  # find the bad rows: store the rest one by one
            new, failed = 0, []
            for values in rows:
                try:
                    new += self._insert([values])
                except sqlite3.Error as exc:
                    failed.append(f"{values[:6]}: {exc}")
            self.stored += new
            raise StoreError(
                f"{len(failed)} episode row(s) could not be stored (the other {len(rows) - len(failed)} "
                f"were): {'; '.join(failed[:3])}"
            ) from None
        self.stored += new
        return new

    def _insert(self, rows: list[tuple[Any, ...]]) -> int:
        """Insert ``rows`` in one transaction (all or none); returns how many keys were new."""
        now = datetime.datetime.now(datetime.UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # the DEFAULT's format
        self._conn.execute("BEGIN")
        try:
            new = self._conn.executemany(_INSERT, [(*values, stamp) for values in rows]).rowcount
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        return max(new, 0)

    # -- reading -----------------------------------------------------------------------------

    def done_keys(self) -> set[EpisodeKey]:
        """The keys of every stored episode."""
        self.flush()
        rows = self._conn.execute(
            "SELECT agent, env_id, env_version, seed, episode_index, recipe FROM episodes"
        )
        return {EpisodeKey(*r) for r in rows}

    def recorded_keys(self) -> set[tuple[Any, ...]]:
        """The keys (as plain tuples) of the episodes stored with their steps (``record_steps``)."""
        self.flush()
        rows = self._conn.execute(
            "SELECT agent, env_id, env_version, seed, episode_index, recipe FROM episodes "
            "WHERE record_json != ''"
        )
        return {tuple(r) for r in rows}

    def count(self) -> int:
        self.flush()
        return int(self._conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0])

    def rows(self, *, recipe: str | None = None) -> Iterator[dict[str, Any]]:
        """Every stored episode as a dict (``components``/``cost`` decoded; no record JSON).

        Args:
            recipe: only rows run under this recipe name (``""`` = unshaped); None = all.
        """
        self.flush()
        cols = [c for c in _COLUMNS if c != "record_json"] + ["created_at"]
        query = f"SELECT {', '.join(cols)} FROM episodes"
        args: list[Any] = []
        if recipe is not None:
            query += " WHERE recipe = ?"
            args.append(recipe)
        query += " ORDER BY agent, env_id, seed, episode_index, recipe"
        for values in self._conn.execute(query, args):
            row = dict(zip(cols, values))
            row["components"] = json.loads(row.pop("components_json"))
            row["cost"] = json.loads(row.pop("cost_json"))
            row["recipe_spec"] = json.loads(row.pop("recipe_spec_json"))
            row["success"] = None if row["success"] is None else bool(row["success"])
            yield row

    def record_json(self, key: EpisodeKey) -> str | None:
        """The ``EpisodeRecord`` JSON of one episode (``EpisodeRecord.from_json`` reads it), or
        None if it is not stored. Episodes run without step records get theirs rebuilt from
        the row (:func:`summary_record`)."""
        self.flush()
        found = self._conn.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM episodes WHERE agent=? AND env_id=? "
            "AND env_version=? AND seed=? AND episode_index=? AND recipe=?",
            (key.agent, key.env_id, key.env_version, key.seed, key.episode_index, key.recipe),
        ).fetchone()
        if found is None:
            return None
        row = dict(zip(_COLUMNS, found))
        return row["record_json"] or json.dumps(summary_record(row))

    def close(self) -> None:
        """Close the connection (checkpointing the WAL); safe to call twice."""
        conn = getattr(self, "_conn", None)
        if conn is not None:
            try:
                self.flush()
            finally:
                conn.close()
                self._conn = None

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
