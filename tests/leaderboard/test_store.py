"""The results store: idempotent writes, and foreign or damaged files refused, never touched."""

from __future__ import annotations

import datetime
import json
import sqlite3
import time

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
        store.add(_row(0))
        store.add(_row(0, task_return=5.0))  # same key: ignored
        assert store.flush() == 1
        store.add(_row(1))
        store.add(_row(0, task_return=5.0))  # already stored: ignored
        assert store.count() == 2 and store.stored == 2  # reads write what is pending first
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
        # created_at: when the row's group was written, in the column DEFAULT's format
        stamp = datetime.datetime.strptime(rows[0]["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        age = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - stamp
        assert datetime.timedelta(0) <= age < datetime.timedelta(minutes=5)
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


def test_rows_are_written_in_groups_and_committed_within_the_interval(tmp_path):
    """A row reaches the file (for any other reader) at most commit_interval_s after it was
    added, at flush, or at close; never half a group."""
    path = tmp_path / "r.sqlite"

    def on_disk():
        conn = sqlite3.connect(path)
        try:
            return conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
        finally:
            conn.close()

    with ResultsStore(path, commit_interval_s=0.3) as store:
        store.add(_row(0))
        store.add(_row(1))
        assert on_disk() == 0  # pending, in this process only
        time.sleep(0.35)
        store.add(_row(2))  # the interval has passed: the group of three is written
        assert on_disk() == 3
        store.add(_row(3))
    assert on_disk() == 4  # close writes the rest


def test_a_row_sqlite_cannot_hold_fails_clearly_and_its_group_is_still_stored(tmp_path):
    with ResultsStore(tmp_path / "r.sqlite") as store:
        store.add(_row(0))
        store.add(_row(1, cost_json={"not": "text"}))  # a dict where a JSON string belongs
        store.add(_row(2))
        with pytest.raises(StoreError, match=r"1 episode row\(s\) could not be stored.*, 1, 0"):
            store.flush()
        assert store.stored == 2
        assert {k.seed for k in store.done_keys()} == {0, 2}


def test_a_row_breaking_not_null_is_an_error_not_silently_skipped(tmp_path):
    with ResultsStore(tmp_path / "r.sqlite") as store:
        store.add(_row(0, task_id=None))
        store.add(_row(1))
        with pytest.raises(StoreError, match="NOT NULL"):
            store.flush()
        assert {k.seed for k in store.done_keys()} == {1}
        store.add(_row(1, task_return=0.5))  # the same key again: skipped, not an error
        assert store.flush() == 0


def test_other_tables_in_the_file_are_kept(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store:
        store.add(_row(0))
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE votes (game TEXT, voter TEXT)")
    conn.execute("INSERT INTO votes VALUES ('g1', 'alice')")
    conn.commit()
    conn.close()
    with ResultsStore(path) as store:
        store.add(_row(1))
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT * FROM votes").fetchall() == [("g1", "alice")]
    conn.close()


def test_read_only_store_reads_and_refuses_writes(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultsStore(path) as store:
        store.add(_row(0))
    before = path.read_bytes()
    with ResultsStore(path, readonly=True) as store:
        assert [r["seed"] for r in store.rows()] == [0]
        with pytest.raises(StoreError, match="read-only"):
            store.add(_row(1))
    assert path.read_bytes() == before
    with pytest.raises(StoreError, match="no results database"):
        ResultsStore(tmp_path / "none.sqlite", readonly=True)
    assert not (tmp_path / "none.sqlite").exists()


def test_a_directory_is_not_a_store_and_a_missing_folder_is_created_and_reported(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        ResultsStore(tmp_path)
    with ResultsStore(tmp_path / "a" / "b" / "r.sqlite") as store:
        assert store.created_folder == tmp_path / "a"
    with ResultsStore(tmp_path / "a" / "b" / "r.sqlite") as store:
        assert store.created_folder is None
    (tmp_path / "notes.txt").write_text("a file")
    with pytest.raises(StoreError, match=r"notes\.txt is a file, not a folder"):
        ResultsStore(tmp_path / "notes.txt" / "x" / "r.sqlite")
