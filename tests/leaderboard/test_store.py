"""The results store: idempotent writes, and foreign or damaged files refused, never touched."""

from __future__ import annotations

import json
import sqlite3

import pytest

from rewardgym.errors import StoreError
from rewardgym.leaderboard.store import APPLICATION_ID, EpisodeKey, ResultsStore


def _row(seed=0, **over):
    row = {
        "agent": "random",
        "env_id": "rewardgym/X-v1",
        "env_version": 1,
        "seed": seed,
        "episode_index": 0,
        "recipe": "",
        "task_id": f"t{seed}",
        "episode_id": "e",
        "task_return": 1.0,
        "total_reward": 1.0,
        "success": 1,
        "length": 3,
        "invalid_actions": 0,
        "components_json": json.dumps({"task": 1.0}),
        "cost_json": json.dumps({"tries": 3.0}),
        "wall_s": 0.1,
        "rewardgym_version": "0",
        "recipe_spec_json": json.dumps({"name": "", "wrappers": []}),
        "record_json": "{}",
    }
    row.update(over)
    return row


def test_store_round_trip_is_idempotent_and_marked_as_ours(tmp_path):
    path = tmp_path / "sub" / "r.sqlite"
    with ResultsStore(path) as store:
        assert store.add(_row(0)) is True
        assert store.add(_row(0, task_return=5.0)) is False  # same key: ignored
        assert store.add(_row(1)) is True
        assert store.count() == 2
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with ResultsStore(path) as store:  # reopen
        assert store.done_keys() == {
            EpisodeKey("random", "rewardgym/X-v1", 1, 0, 0, ""),
            EpisodeKey("random", "rewardgym/X-v1", 1, 1, 0, ""),
        }
        rows = list(store.rows())
        assert [r["task_return"] for r in rows] == [1.0, 1.0]
        assert rows[0]["cost"] == {"tries": 3.0} and rows[0]["success"] is True
        assert list(store.rows(recipe="other")) == []
        assert store.record_json(EpisodeKey("random", "rewardgym/X-v1", 1, 0, 0, "")) == "{}"


def test_a_foreign_sqlite_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "foreign.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE accounts (id INTEGER, balance REAL)")
    conn.execute("INSERT INTO accounts VALUES (1, 100.0)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another application"):
        ResultsStore(path)
    assert path.read_bytes() == before
    assert not (tmp_path / "foreign.sqlite-wal").exists()


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "results.sqlite"
    path.write_text("name,score\nalice,3\n")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not an SQLite database"):
        ResultsStore(path)
    assert path.read_bytes() == before


def test_a_corrupted_results_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store:
        for seed in range(200):
            store.add(_row(seed, record_json="x" * 500))
    data = bytearray(path.read_bytes())
    assert len(data) > 8192
    data[4096:8192] = b"\xff" * 4096  # smash the pages after the header page
    path.write_bytes(bytes(data))
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"corrupted|not a usable"):
        ResultsStore(path)
    assert path.read_bytes() == before


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "r.sqlite"
    ResultsStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        ResultsStore(path)


def test_a_row_missing_columns_is_an_error(tmp_path):
    with ResultsStore(tmp_path / "r.sqlite") as store:
        row = _row()
        del row["task_return"]
        with pytest.raises(StoreError, match="task_return"):
            store.add(row)
