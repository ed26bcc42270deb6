"""Rank two agents on the dungeon from Python (what ``rewardgym bench`` does), then report.

Run: ``.venv/bin/python examples/bench_api.py`` (writes runs/example.sqlite and
runs/example_leaderboard.md).
"""

from __future__ import annotations

import pathlib

from rewardgym.leaderboard.report import build_report, render
from rewardgym.leaderboard.runner import plan, run_bench
from rewardgym.leaderboard.store import ResultsStore

ENV = "rewardgym/Dungeon-Staircase-v0"

jobs = plan(["random", "dungeon-expert"], [ENV], seeds=range(10), episodes=2)
with ResultsStore("runs/example.sqlite") as store:
    summary = run_bench(jobs, store)  # re-running skips the stored episodes
    report = build_report(store.rows(), source="runs/example.sqlite")
print(f"ran {summary.ran}, skipped {summary.skipped}")
for score in report.scores:
    print(
        f"{score.agent:16s} return {score.mean_return:.3f} "
        f"[{score.ci_low:.3f}, {score.ci_high:.3f}] pass@k {score.pass_at}"
    )
out = pathlib.Path("runs/example_leaderboard.md")
out.write_text(render(report, "md"))
print(f"wrote {out}")
