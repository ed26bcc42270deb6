"""`rewardgym bench` / `leaderboard` with ordinary mistakes: a clear message, exit code 2, no
traceback, no work done and no database created."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rewardgym.leaderboard.cli import app
from rewardgym.leaderboard.store import ResultsStore

COUNT = "lb_toy_envs:rewardgym-test/Count-v0"
STAIRS = "rewardgym/Dungeon-Staircase-v0"


def _bench(tmp_path, *args: str):
    db = tmp_path / "r.sqlite"
    res = CliRunner().invoke(app, ["bench", *args, "--db", str(db)])
    return res, db


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agents", "ranodm", "--envs", STAIRS], "unknown agent 'ranodm' (did you mean 'random'?)"),
        (["--agents", "random", "--envs", "rewardgym/Stairs-v0"], "unknown env id 'rewardgym/Stairs-v0'"),
        (["--agents", "random", "--envs", STAIRS, "--reward-recipe", "nope"], "unknown reward recipe 'nope'"),
        (["--suite", "nope"], "unknown suite 'nope'"),
        (["--agents", "random", "--envs", STAIRS, "--seeds", "-1"], "seeds must be >= 0"),
        (["--agents", "random", "--envs", STAIRS, "--seeds=-3-2"], "bad seed list"),
        (["--agents", "random", "--envs", STAIRS, "--max-steps", "0"], "--max-steps must be >= 1"),
        (["--agents", "random", "--envs", STAIRS, "--workers", "0"], "--workers must be >= 1"),
        (["--agents", "random", "--envs", STAIRS, "--episodes", "0"], "--episodes must be >= 1"),
        (["--agents", "random", "--envs", STAIRS, "--backend", "slurm"], "unknown --backend 'slurm'"),
        (["--agents", "random", "--envs", STAIRS, "--report", "x.xml"], "cannot tell the report format"),
        (["--agents", "ppo:no/such/model", "--envs", STAIRS], "no PPO model at no/such/model"),
        (["--agents", "dungeon-expert", "--envs", "rewardgym/CodeExec-v0"],
         "dungeon-expert cannot play rewardgym/CodeExec-v0: KeyError: 'glyphs'"),
    ],
)  # fmt: skip
def test_a_bad_request_fails_before_any_work_and_creates_no_database(tmp_path, args, message):
    res, db = _bench(tmp_path, *args)
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split()), res.output
    assert "Traceback" not in res.output
    assert not db.exists()


def test_every_problem_is_named_at_once(tmp_path):
    res, db = _bench(tmp_path, "--agents", "nope,ranodm", "--envs", f"{STAIRS},rewardgym/X-v0")
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "3 problems" in text and "'nope'" in text and "'ranodm'" in text and "X-v0" in text
    assert not db.exists()


def test_db_or_out_naming_a_directory_is_refused(tmp_path):
    res = CliRunner().invoke(
        app,
        ["bench", "--agents", "random", "--envs", STAIRS, "--seeds", "0", "--db", str(tmp_path)],
    )
    assert res.exit_code == 2 and "is a directory" in res.output
    res, db = _bench(tmp_path, "--agents", "random", "--envs", STAIRS, "--seeds", "0-1")
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["leaderboard", "--db", str(db), "--out", str(tmp_path)])
    assert res.exit_code == 2 and "is a directory" in res.output
    res = CliRunner().invoke(app, ["leaderboard", "--db", str(tmp_path), "--out", "x.html"])
    assert res.exit_code == 2 and "is a directory" in res.output
    res = CliRunner().invoke(
        app, ["leaderboard", "--db", str(db), "--out", str(tmp_path / "x.xml")]
    )
    assert res.exit_code == 2 and "cannot tell the report format" in res.output
    assert not (tmp_path / "x.xml").exists()
    res = CliRunner().invoke(
        app, ["leaderboard", "--db", str(db), "--out", str(tmp_path / "x.txt"), "--format", "pdf"]
    )
    assert res.exit_code == 2 and "unknown --format 'pdf'" in res.output


def test_a_new_db_in_a_missing_folder_says_it_created_the_folder(tmp_path):
    db = tmp_path / "new" / "deeper" / "r.sqlite"
    res = CliRunner().invoke(
        app, ["bench", "--agents", "random", "--envs", STAIRS, "--seeds", "0", "--db", str(db)]
    )
    assert res.exit_code == 0, res.output
    assert f"created the folder {tmp_path / 'new'}" in " ".join(res.output.split())
    assert db.is_file()


def test_truncated_episodes_count_as_failures(tmp_path):
    """Random on Staircase cut at 5 steps: no episode can succeed, and the rate says 0."""
    res, db = _bench(tmp_path, "--agents", "random", "--envs", STAIRS, "--seeds", "0-5",
                     "--max-steps", "5")  # fmt: skip
    assert res.exit_code == 0, res.output
    with ResultsStore(db) as store:
        rows = list(store.rows())
    assert len(rows) == 6 and all(r["success"] is False for r in rows)
    out = tmp_path / "lb.json"
    res = CliRunner().invoke(app, ["leaderboard", "--db", str(db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    import json

    (score,) = json.loads(out.read_text())["scores"]
    assert score["success_rate"] == 0.0


UNSHARE = shutil.which("unshare")


def _can_mount_read_only(tmp_path) -> bool:
    if UNSHARE is None:
        return False
    probe = subprocess.run(
        [UNSHARE, "-m", "sh", "-c", f"mount --bind {tmp_path} {tmp_path} && "
         f"mount -o remount,bind,ro {tmp_path}"],
        capture_output=True,
    )  # fmt: skip
    return probe.returncode == 0


def test_a_database_on_a_read_only_mount_is_scored_and_bench_says_why_not(tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    res = CliRunner().invoke(app, ["bench", "--agents", "random", "--envs", STAIRS, "--seeds",
                                   "0-2", "--db", str(src / "r.sqlite")])  # fmt: skip
    assert res.exit_code == 0, res.output
    if not _can_mount_read_only(src):
        pytest.skip("needs `unshare -m` and bind mounts (root in a mount namespace)")
    exe = f"{sys.executable} -m rewardgym.leaderboard.cli"
    out = tmp_path / "lb.md"
    script = (
        f"mount --bind {src} {src} && mount -o remount,bind,ro {src} && "
        f"{exe} leaderboard --db {src / 'r.sqlite'} --out {out}; echo rc=$?; "
        f"{exe} bench --agents random --envs {STAIRS} --seeds 3 --db {src / 'r.sqlite'}; "
        f"echo rc=$?; {exe} leaderboard --db {src / 'r.sqlite'} --out {src / 'x.html'}; echo rc=$?"
    )
    run = subprocess.run([UNSHARE, "-m", "sh", "-c", script], capture_output=True, text=True,
                         env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})  # fmt: skip
    text = " ".join((run.stdout + run.stderr).split())
    assert "Traceback" not in text, text
    assert text.count("rc=0") == 1 and text.count("rc=2") == 2, text
    assert "| rewardgym/Dungeon-Staircase-v0 | random |" in out.read_text()
    assert "is read-only here" in text and "is not writable here" in text
