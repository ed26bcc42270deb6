"""The test-time selection table: selector accuracies from stored samples, on the report page,
and ``rewardgym bench --samples N`` end to end with the tiny local model."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rewardgym.leaderboard.cli import app
from rewardgym.leaderboard.report import build_report, render
from rewardgym.leaderboard.selection_board import selection_scores, selection_section
from rewardgym.leaderboard.store import ResultsStore


def _row(seed, i, answer, certainty, success, agent="llm", env="E-v0"):
    return {
        "agent": agent,
        "env_id": env,
        "seed": seed,
        "episode_index": i,
        "success": success,
        "cost": {
            "answer_fingerprint": float(answer),
            "llm_self_certainty_sum": certainty * 10,
            "llm_logprob_tokens": 10.0,
        },
    }


# Task 0: answers 1,2,2,3; certainty ranks 1 (r=1), 2 (r=4), 2 (r=2), 3 (r=3); answer 1 is right.
#   majority -> 2 (wrong); Borda p=.5 -> 2 (1.732 + 1 > 2); BoM alpha .3 -> {2} (wrong);
#   oracle -> right; pass@1 = 1/4.
# Task 1: answers 5,5,6,6 with 6 right; majority tie -> 5 (first seen, wrong); certainty ranks
#   6 first (r=1, 2) -> Borda 6 (2 + 1.732 > 1.414 + 1, right); BoM keeps 5 and 6, mean
#   certainty 6 higher (right); oracle right; pass@1 = 2/4.
ROWS = [
    _row(0, 0, 1, 0.9, True),
    _row(0, 1, 2, 0.1, False),
    _row(0, 2, 2, 0.5, False),
    _row(0, 3, 3, 0.3, False),
    _row(1, 0, 5, 0.2, False),
    _row(1, 1, 5, 0.1, False),
    _row(1, 2, 6, 0.8, True),
    _row(1, 3, 6, 0.7, True),
    # a single sample and an agent without answers: no task for the table
    _row(2, 0, 9, 0.5, True),
    {
        "agent": "random",
        "env_id": "E-v0",
        "seed": 0,
        "episode_index": 0,
        "success": True,
        "cost": {},
    },
]


def test_selector_accuracies_from_stored_samples():
    (score,) = selection_scores(ROWS)
    assert (score.env_id, score.agent, score.tasks, score.samples) == ("E-v0", "llm", 2, 4)
    assert score.accuracy == {
        "pass@1": pytest.approx((1 / 4 + 2 / 4) / 2),
        "majority": 0.0,
        "self-certainty (Borda)": 0.5,
        "Best-of-Majority": 0.5,
        "oracle pass@N": 1.0,
    }


def test_the_same_answer_with_mixed_verdicts_scores_its_success_rate():
    rows = [_row(0, 0, 7, 0.5, True), _row(0, 1, 7, 0.5, False), _row(0, 2, 8, 0.1, False)]
    (score,) = selection_scores(rows)
    assert score.accuracy["majority"] == 0.5  # answer 7: one of its two samples succeeded


def test_the_section_is_on_the_page_and_absent_without_samples():
    html = selection_section(ROWS)
    assert html.startswith('<section id="selection">') and "<td>0.500</td>" in html
    assert selection_section(ROWS[-2:]) is None


@pytest.mark.slow
def test_bench_samples_fills_the_selection_table(tmp_path, toy_envs):
    pytest.importorskip("transformers")
    from rewardgym.llm.tiny import build_tiny_model

    model = build_tiny_model(tmp_path / "tiny")
    db, page = tmp_path / "r.sqlite", tmp_path / "page.html"
    args = ["bench", "--agents", f"llm-local:{model}", "--envs",
            "lb_toy_envs:rewardgym-test/Count-v0", "--seeds", "0-1", "--samples", "3",
            "--max-steps", "2", "--db", str(db), "--report", str(page)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with ResultsStore(db) as store:
        rows = list(store.rows())
    assert len(rows) == 6
    assert all(r["cost"]["llm_logprob_tokens"] > 0 for r in rows)
    assert all(r["cost"]["llm_self_certainty_sum"] > 0 for r in rows)
    (score,) = selection_scores(rows)
    assert (score.tasks, score.samples) == (2, 3)
    assert 'id="selection"' in page.read_text()
    report = build_report(rows, source=str(db))
    assert "## Test-time selection" in render(report, "md")
    bad = CliRunner().invoke(app, [*args[:-4], "--samples", "1", "--db", str(db)])
    assert bad.exit_code == 2 and "--samples must be >= 2" in bad.output
