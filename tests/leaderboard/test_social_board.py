"""The social deduction league: role-balanced matchups, storage beside the bench, ratings, CLI."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from rewardgym.errors import StoreError
from rewardgym.leaderboard.cli import app
from rewardgym.leaderboard.social_board import (
    SocialBoard,
    html_section,
    matchups,
    rate_league,
    role_table,
    run_league,
    wilson_ci,
)

ENV = "rewardgym/SocialDeduction-Small-v0"


def test_wilson_interval_reference_values():
    lo, hi = wilson_ci(81, 263)  # Wilson's textbook example: 0.2553 .. 0.3662
    assert lo == pytest.approx(0.2553, abs=1e-4) and hi == pytest.approx(0.3662, abs=1e-4)
    assert wilson_ci(0, 10)[0] == 0.0 and wilson_ci(10, 10)[1] == pytest.approx(1.0)
    assert wilson_ci(0, 0) == (0.0, 1.0)


def test_matchups_are_role_balanced():
    ms = matchups(ENV, ["a", "b", "c"], [0, 1])
    assert len(ms) == 3 * 3 * 2
    for agent in "abc":
        assert sum(m.crew_agent == agent for m in ms) == sum(m.imposter_agent == agent for m in ms)


def test_league_stores_games_beside_the_bench_resumes_and_rates(tmp_path):
    db = tmp_path / "results.sqlite"
    agents = ["bayes-listener", "lying-imposter"]
    with SocialBoard(db) as board:
        ratings = run_league(board, ENV, agents, range(3))
        assert len(board.games()) == 12
        again = run_league(board, ENV, agents, range(4))  # only the new seed is played
        assert len(board.games()) == 16
        stored = board.ratings(ENV)
    assert set(ratings) == set(again) == set(agents)
    assert {r["agent"] for r in stored} == set(agents)
    assert all(r["games"] == 8 for r in stored)  # self-play games do not count
    tables = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert {"episodes", "social_games", "social_ratings"} <= tables
    section = html_section(db)
    assert "Social deduction league" in section and "lying-imposter" in section


def test_role_table_and_ratings_from_known_games():
    def game(crew, imp, winner):
        return {"crew_agent": crew, "imposter_agent": imp, "winner": winner,
                "crew_discussion": 0.1, "crew_task": 1.0, "imposter_discussion": -0.1,
                "imposter_task": 0.5}  # fmt: skip

    games = [game("a", "b", "crew")] * 6 + [game("b", "a", "imposters")] * 6
    table = {(r["agent"], r["role"]): r for r in role_table(games)}
    assert table[("a", "crew")]["win_rate"] == 1.0 and table[("a", "imposter")]["win_rate"] == 1.0
    assert table[("b", "crew")]["win_rate"] == 0.0
    assert table[("a", "crew")]["speaking_reward"] == pytest.approx(0.1)
    ratings = rate_league(games)
    assert ratings["a"]["mu"] > ratings["b"]["mu"]
    assert rate_league(games) == ratings  # deterministic


def test_ratings_are_rated_round_by_round_whatever_the_storage_order():
    def game(crew, imp, winner, seed):
        return {"crew_agent": crew, "imposter_agent": imp, "winner": winner, "seed": seed}

    by_matchup = [game("a", "b", "crew", s) for s in range(5)] + [
        game("b", "a", "crew", s) for s in range(5)
    ]
    by_seed = [g for s in range(5) for g in by_matchup if g["seed"] == s]
    assert rate_league(by_matchup) == rate_league(by_seed)
    even = rate_league(by_matchup)  # each side won its crew games: equal skill
    assert even["a"]["mu"] == pytest.approx(even["b"]["mu"], abs=2.0)  # later games weigh more


def test_foreign_database_is_refused_untouched(tmp_path):
    db = tmp_path / "other.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE x (y)").connection.commit()
    sqlite3.connect(db).execute("PRAGMA application_id = 1234").connection.commit()
    with pytest.raises(StoreError):
        SocialBoard(db)


def test_cli_league_run_and_show(tmp_path):
    db = str(tmp_path / "r.sqlite")
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["league", "run", "--agents", "task-crew,lying-imposter", "--seeds", "0-1",
         "--env", ENV, "--db", db],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "8 new games stored" in out.output and "win rate per role" in out.output
    out = runner.invoke(app, ["league", "show", "--db", db], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "openskill ratings" in out.output
    out = runner.invoke(
        app, ["league", "run", "--agents", "nobody", "--seeds", "0", "--db", db, "--env", ENV]
    )
    assert out.exit_code == 2 and "unknown agent" in out.output


def test_the_league_shows_on_the_page_and_in_markdown(tmp_path):
    """The league is stored beside the episodes; the report reads it read-only from there."""
    import os
    import stat

    from rewardgym.leaderboard.report import build_report, render
    from rewardgym.leaderboard.store import ResultsStore

    db = tmp_path / "runs.sqlite"
    with SocialBoard(db) as board:
        run_league(board, ENV, ["bayes-listener", "lying-imposter"], range(2))
    os.chmod(db, stat.S_IRUSR)  # the report must not need to write
    with ResultsStore(db, readonly=True) as store:
        report = build_report(store.rows(), source=str(db))
    page, md = render(report, "html"), render(report, "md")
    assert "Social deduction league" in page and "bayes-listener" in page
    assert "## Social deduction league" in md and "lying-imposter" in md
    assert "failed to render" not in page + md
