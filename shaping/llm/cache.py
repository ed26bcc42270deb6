"""A persistent label cache: SQLite, keyed by (model id, prompt hash).

Every label an annotator or judge obtains is stored with the prompt's hash, the model id and
the raw answer, so a rerun asks nothing twice and a result can say where each label came from.
LLM-written reward code is stored in the same file (:meth:`LabelCache.put_version`), one row
per version, with the hash of the prompt that produced it. ``":memory:"`` keeps a cache for the
life of the process only.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["LabelCache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS labels (
    model_id TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    label REAL,
    answer TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (model_id, prompt_hash)
);
CREATE TABLE IF NOT EXISTS reward_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (name, version)
);
"""


class LabelCache:
    """Labels by ``(model_id, prompt_hash)`` in one SQLite file; safe to share between threads.

    Args:
        path: the database file (created with its folder), or ``":memory:"``.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def get(self, model_id: str, prompt_hash: str) -> tuple[float | None, str] | None:
        """``(label, answer)`` stored for this model and prompt, or None if never asked."""
        with self._lock:
            row = self._db.execute(
                "SELECT label, answer FROM labels WHERE model_id = ? AND prompt_hash = ?",
                (model_id, prompt_hash),
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def put_many(self, model_id: str, rows: Iterable[tuple[str, float | None, str]]) -> None:
        """Store ``(prompt_hash, label, answer)`` rows in one transaction (last write wins)."""
        now = time.time()
        data = [(model_id, h, label, answer, now) for h, label, answer in rows]
        if not data:
            return
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO labels VALUES (?, ?, ?, ?, ?)", data)
            self._db.execute("COMMIT")

    def put(self, model_id: str, prompt_hash: str, label: float | None, answer: str) -> None:
        """Store one label."""
        self.put_many(model_id, [(prompt_hash, label, answer)])

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM labels").fetchone()[0])

    # -- written reward code -----------------------------------------------------------------

    def put_version(
        self,
        name: str,
        model_id: str,
        prompt_hash: str,
        code: str,
        status: str,
        reason: str = "",
    ) -> int:
        """Store one version of a generated reward function; returns its version number."""
        with self._lock:
            self._db.execute("BEGIN")
            row = self._db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM reward_versions WHERE name = ?", (name,)
            ).fetchone()
            version = int(row[0]) + 1
            self._db.execute(
                "INSERT INTO reward_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, version, model_id, prompt_hash, code, status, reason, time.time()),
            )
            self._db.execute("COMMIT")
        return version

    def versions(self, name: str) -> list[Mapping[str, Any]]:
        """Every stored version of the reward ``name``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT version, model_id, prompt_hash, code, status, reason FROM reward_versions "
                "WHERE name = ? ORDER BY version",
                (name,),
            ).fetchall()
        keys = ("version", "model_id", "prompt_hash", "code", "status", "reason")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def close(self) -> None:
        """Close the database; safe to call twice."""
        with self._lock:
            self._db.close()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]
