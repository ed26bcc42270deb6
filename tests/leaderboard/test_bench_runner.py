"""The bench runner: every episode stored once, resumable after SIGKILL, scores free of shaping."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import gymnasium as gym
import pytest

from rewardgym.agents import make_agent
from rewardgym.errors import AgenticEnvCheckError, ConfigError
from rewardgym.leaderboard.runner import EpisodeJob, agent_seed, plan, run_bench, run_episode
from rewardgym.leaderboard.scoring import score_rows
from rewardgym.leaderboard.store import ResultsStore
from rewardgym.records import EpisodeRecord, StepRecord

COUNT = "lb_toy_envs:rewardgym-test/Count-v0"
SLOW = "lb_toy_envs:rewardgym-test/SlowCount-v0"


def _by_key(store):
    return {(r["agent"], r["env_id"], r["seed"], r["episode_index"]): r for r in store.rows()}


def test_bench_stores_each_episode_once_and_a_rerun_skips_them(tmp_path, with_expert):
    jobs = plan(["random", with_expert], [COUNT], range(5), episodes=2, record_steps=True)
    assert len(jobs) == 20
    with ResultsStore(tmp_path / "r.sqlite") as store:
        first = run_bench(jobs, store)
        assert (first.ran, first.stored, first.skipped, first.failed) == (20, 20, 0, [])
        again = run_bench(jobs, store)
        assert (again.ran, again.skipped) == (0, 20)
        rows = list(store.rows())
        key = next(iter(store.done_keys()))
        record = EpisodeRecord.from_json(store.record_json(key))
    assert len(rows) == 20
    row = rows[0]
    assert row["env_id"] == "rewardgym-test/Count-v0" and row["env_version"] == 0
    assert row["rewardgym_version"] and row["recipe_spec"] == {"name": "", "wrappers": []}
    assert row["components"]["task"] == row["task_return"]
    assert row["cost"]["tries"] == row["length"]
    assert record.env_id == "rewardgym-test/Count-v0"
    assert record.task_return == pytest.approx(
        sum(s.reward_components["task"] for s in record.steps)
    )
    scores = {s.agent: s for s in score_rows(rows)}
    assert scores[with_expert].mean_return == 1.0 and scores[with_expert].success_rate == 1.0
    assert scores["random"].mean_return < 1.0
    # two samples per task (same env seed): pass@k is estimated
    assert set(scores["random"].pass_at) == {1, 2}


def test_episodes_of_one_seed_share_the_task_and_vary_the_agent(tmp_path, toy_envs):
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_bench(plan(["random"], [COUNT], [7], episodes=3), store)
        rows = list(store.rows())
    assert len({r["task_id"] for r in rows}) == 1
    assert agent_seed(7, 0) == 7 and len({agent_seed(7, i) for i in range(3)}) == 3


def test_a_shaping_recipe_never_changes_the_scores(tmp_path, with_expert):
    jobs = plan(["random", with_expert], [COUNT], range(6))
    shaped_jobs = plan(["random", with_expert], [COUNT], range(6), recipe="efficient")
    with ResultsStore(tmp_path / "r.sqlite") as store:
        run_bench(jobs + shaped_jobs, store)
        plain = list(store.rows(recipe=""))
        shaped = list(store.rows(recipe="efficient"))
    assert len(plain) == len(shaped) == 12
    key = lambda r: (r["agent"], r["seed"])  # noqa: E731
    plain_returns = {key(r): r["task_return"] for r in plain}
    assert {key(r): r["task_return"] for r in shaped} == plain_returns
    # the recipe did act on the reward the agent saw, and the row says which recipe it was
    assert any(r["total_reward"] != r["task_return"] for r in shaped)
    assert all(r["total_reward"] == r["task_return"] for r in plain)
    names = [w["name"] for w in shaped[0]["recipe_spec"]["wrappers"]]
    assert names == ["StepPenalty", "InvalidActionPenalty"]
    plain_scores = [(s.agent, s.mean_return, s.ci_low, s.ci_high) for s in score_rows(plain)]
    shaped_scores = [(s.agent, s.mean_return, s.ci_low, s.ci_high) for s in score_rows(shaped)]
    assert plain_scores == shaped_scores


def test_failing_episodes_are_reported_and_not_stored(tmp_path, toy_envs, monkeypatch):
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_bench(plan(["no-such-agent"], [COUNT], [0, 1]), store)
        assert store.count() == 0
    assert len(summary.failed) == 2 and "unknown agent" in summary.failed[0][1]


def test_bad_requests_fail_up_front(tmp_path):
    with pytest.raises(ConfigError):
        plan(["random"], [COUNT], [0], episodes=0)
    with pytest.raises(ConfigError):
        plan([], [COUNT], [0])
    with ResultsStore(tmp_path / "r.sqlite") as store, pytest.raises(ConfigError):
        run_bench([EpisodeJob("random", COUNT, 0)], store, backend="slurm")


@pytest.mark.slow
def test_worker_processes_give_the_same_results_as_one_process(tmp_path, toy_envs):
    jobs = plan(["random"], [COUNT], range(12))
    with ResultsStore(tmp_path / "a.sqlite") as a, ResultsStore(tmp_path / "b.sqlite") as b:
        run_bench(jobs, a)
        summary = run_bench(jobs, b, workers=2)
        assert summary.stored == 12
        ra, rb = _by_key(a), _by_key(b)
    assert {k: v["task_return"] for k, v in ra.items()} == {
        k: v["task_return"] for k, v in rb.items()
    }
    assert {k: v["episode_id"] for k, v in ra.items()} == {
        k: v["episode_id"] for k, v in rb.items()
    }


def _count(db):
    if not os.path.exists(db):
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_completes_with_no_duplicates_and_no_loss(tmp_path, toy_envs):
    db = str(tmp_path / "r.sqlite")
    cmd = [
        sys.executable,
        "-m",
        "rewardgym.leaderboard.cli",
        "bench",
        "--agents",
        "random",
        "--envs",
        SLOW,
        "--seeds",
        "0-39",
        "--db",
        db,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while _count(db) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "bench stored nothing in 90 s"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with ResultsStore(db) as store:
        before = _by_key(store)
    assert 3 <= len(before) < 40, "the run should have been killed mid-way"

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert f"{len(before)} episodes already stored" in done.stdout
    with ResultsStore(db) as store:
        after = _by_key(store)
        raw = store._conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT agent || env_id || seed || episode_index) "
            "FROM episodes"
        ).fetchone()
    assert raw == (40, 40)  # every episode, none twice
    assert set(after) == {("random", "rewardgym-test/SlowCount-v0", s, 0) for s in range(40)}
    for k, row in before.items():  # nothing stored before the kill was lost or rewritten
        assert after[k] == row


def _loopback_only_network() -> bool:
    """Whether this process sees no network interface but loopback (a ``unshare -n`` netns)."""
    import socket

    return [name for _, name in socket.if_nameindex()] == ["lo"]


@pytest.mark.slow
def test_ray_backend_matches_the_local_backend(tmp_path, toy_envs):
    pytest.importorskip("ray")
    if not _loopback_only_network():
        pytest.skip(
            "skipped here: runs inside a loopback-only network namespace under strace, from "
            "tests/leaderboard/test_local_only.py"
        )
    jobs = plan(["random"], [COUNT], range(6))
    with ResultsStore(tmp_path / "a.sqlite") as a, ResultsStore(tmp_path / "b.sqlite") as b:
        run_bench(jobs, a)
        summary = run_bench(jobs, b, backend="ray", workers=2)
        assert (summary.stored, summary.failed) == (6, [])
        ra, rb = _by_key(a), _by_key(b)
    assert {k: v["task_return"] for k, v in ra.items()} == {
        k: v["task_return"] for k, v in rb.items()
    }


def test_summary_only_runs_score_the_same_and_store_no_steps(tmp_path, with_expert):
    """The default (no --record-steps) keeps the episode summary, all scoring needs."""
    agents = ["random", with_expert]
    with ResultsStore(tmp_path / "full.sqlite") as full:
        run_bench(plan(agents, [COUNT], range(4), record_steps=True), full)
        full_rows = _by_key(full)
    with ResultsStore(tmp_path / "lean.sqlite") as lean:
        run_bench(plan(agents, [COUNT], range(4)), lean)
        lean_rows = _by_key(lean)
        stored = next(iter(lean.done_keys()))
        record = EpisodeRecord.from_json(lean.record_json(stored))
    assert lean_rows.keys() == full_rows.keys()
    for key, row in lean_rows.items():
        for column in ("task_return", "total_reward", "success", "length", "components", "cost"):
            assert row[column] == full_rows[key][column], (key, column)
    # the stepless record is rebuilt from the row: the same episode, no steps
    assert record.steps == [] and record.metadata["steps_recorded"] is False
    row = lean_rows[(stored.agent, stored.env_id, stored.seed, stored.episode_index)]
    assert record.metadata["length"] == row["length"] > 0
    assert (record.seed, record.task_id, record.cost) == (stored.seed, row["task_id"], row["cost"])

    def scores(rows):  # wall time differs between any two runs; the scores may not
        return [
            (s.agent, s.mean_return, s.ci_low, s.ci_high, s.success_rate, s.solved, s.pass_at)
            for s in score_rows(list(rows.values()))
        ]

    assert scores(lean_rows) == scores(full_rows)


def _replay(env_id, seed, agent_name):
    """The steps of one episode, from a plain loop building ``StepRecord`` s itself."""
    env = gym.make(env_id)
    agent = make_agent(agent_name, env)
    agent.reset(seed=agent_seed(seed, 0))
    obs, info = env.reset(seed=seed)
    steps, done = [], False
    while not done:
        action = agent.act(obs, info)
        obs, reward, term, trunc, info = env.step(action)
        steps.append(StepRecord.from_step(len(steps) + 1, action, reward, term, trunc, info))
        done = term or trunc
    env.close()
    return steps


@pytest.mark.parametrize("env_id", ["rewardgym/Dungeon-Staircase-v0", COUNT])
def test_recorded_steps_are_the_steps_a_plain_loop_sees(tmp_path, toy_envs, env_id):
    """--record-steps stores every step packed; read back, they equal a replay's records."""
    with ResultsStore(tmp_path / "r.sqlite") as store:
        summary = run_bench(plan(["random"], [env_id], [3, 4], record_steps=True), store)
        assert summary.failed == []
        for key in sorted(store.done_keys()):
            record = EpisodeRecord.from_json(store.record_json(key))
            assert record.metadata["steps_recorded"] is True
            assert record.steps == _replay(env_id, key.seed, "random")
            row = _by_key(store)[(key.agent, key.env_id, key.seed, key.episode_index)]
            assert record.task_return == row["task_return"] and record.length == row["length"]


class _NoInvalidKey(gym.Wrapper):
    """Drops ``invalid_action`` from every step's info (a broken third-party env)."""

    def step(self, action):
        obs, reward, term, trunc, info = self.env.step(action)
        return obs, reward, term, trunc, {k: v for k, v in info.items() if k != "invalid_action"}


class _VaryingComponents(gym.Wrapper):
    """Adds a ``bonus`` component on the first step only (legal: components may vary)."""

    def step(self, action):
        obs, reward, term, trunc, info = self.env.step(action)
        comps = dict(info["reward_components"])
        if info["step"] == 1:
            comps["bonus"] = 0.25
        return obs, reward, term, trunc, info | {"reward_components": comps}


def test_a_step_info_without_the_contract_keys_fails_the_episode_clearly(toy_envs):
    env = _NoInvalidKey(gym.make(COUNT))
    for record_steps in (False, True):
        job = EpisodeJob("random", COUNT, 0, record_steps=record_steps)
        with pytest.raises(AgenticEnvCheckError, match=r"lacks \['invalid_action'\]"):
            run_episode(job, env, make_agent("random", env), [])


@pytest.mark.parametrize("record_steps", [False, True])
def test_components_that_vary_between_steps_are_summed_and_recorded(toy_envs, record_steps):
    env = _VaryingComponents(gym.make(COUNT))
    job = EpisodeJob("random", COUNT, 5, record_steps=record_steps)
    row = run_episode(job, env, make_agent("random", env), [])
    comps = json.loads(row["components_json"])
    assert comps["bonus"] == 0.25 and comps["task"] == row["task_return"]
    if record_steps:
        record = EpisodeRecord.from_json(row["record_json"])
        assert record.steps[0].reward_components["bonus"] == 0.25
        assert all("bonus" not in s.reward_components for s in record.steps[1:])
        assert record.length == row["length"]


def test_a_key_error_of_the_agent_is_not_blamed_on_the_env(toy_envs):
    class Broken:
        def reset(self, seed=None):
            pass

        def act(self, observation, info):
            return {}["no such key"]

    env = gym.make(COUNT)
    with pytest.raises(KeyError, match="no such key") as caught:
        run_episode(EpisodeJob("random", COUNT, 0), env, Broken(), [])
    assert not isinstance(caught.value, AgenticEnvCheckError)
