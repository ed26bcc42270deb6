"""The GUI track: SOP (TSR, PG) beside online success per agent, from stored bench rows."""

from __future__ import annotations

import gymnasium as gym
import pytest

import rewardgym  # noqa: F401 - registers the ids
from rewardgym.agents import make_agent
from rewardgym.leaderboard.gui_board import gui_md, gui_scores, gui_section, spearman
from rewardgym.leaderboard.report import MD_SECTIONS, REPORT_SECTIONS
from rewardgym.leaderboard.runner import EpisodeJob, run_episode
from rewardgym.leaderboard.store import ResultsStore

ENVS = ("rewardgym/GUI-Online-v0", "rewardgym/GUI-SemiOnline-v0", "rewardgym/GUI-Offline-v0")


@pytest.fixture(scope="module")
def rows():
    out = []
    for env_id in ENVS:
        env = gym.make(env_id, observation="a11y")
        for spec in ("gui-expert", "gui-noisy:0.3", "gui-noisy:type=1"):
            agent = make_agent(spec, env)
            out += [run_episode(EpisodeJob(spec, env_id, seed=s), env, agent, []) for s in range(8)]
        env.close()
    return out


@pytest.fixture(scope="module")
def stored(rows, tmp_path_factory):
    """The same rows as the report reads them back from the results store."""
    store = ResultsStore(tmp_path_factory.mktemp("db") / "results.sqlite")
    for row in rows:
        store.add(row)
    store.flush()
    out = list(store.rows())
    store.close()
    return out


@pytest.mark.parametrize("source", ["rows", "stored"])
def test_scores_per_agent(source, request):
    scores = {s.agent: s.metrics for s in gui_scores(request.getfixturevalue(source))}
    expert = scores["gui-expert"]
    for metric in ("online success", "SOP TSR", "SOP PG", "single-step accuracy"):
        assert expert[metric][0] == 1.0 and expert[metric][3] == 8
    always_wrong = scores["gui-noisy:type=1"]
    assert always_wrong["SOP TSR"][0] == 0.0 and always_wrong["SOP PG"][0] == 0.0
    assert always_wrong["single-step accuracy"][0] == 0.0
    noisy = scores["gui-noisy:0.3"]
    assert 0.0 < noisy["SOP PG"][0] < 1.0  # partial progress before the first miss
    assert noisy["SOP TSR"][0] <= noisy["SOP PG"][0]
    mean, lo, hi, _ = noisy["SOP PG"]
    assert lo <= mean <= hi


def test_the_section_renders_and_is_registered(rows):
    page = gui_section(rows)
    assert page.startswith('<section id="gui">') and "gui-noisy:0.3" in page
    assert "Spearman(SOP TSR, online success)" in page  # three agents with both metrics
    assert "| gui-expert | - | 1.000" in gui_md(rows)
    assert gui_section([{"env_id": "rewardgym/Dungeon-Staircase-v0", "agent": "x"}]) is None
    assert REPORT_SECTIONS["gui"].endswith("gui_board:gui_section")
    assert MD_SECTIONS["gui"].endswith("gui_board:gui_md")


def test_spearman_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    cases = [([1, 2, 3, 4], [10, 20, 30, 40]), ([1, 2, 3, 4], [4, 3, 2, 1]),
             ([0.1, 0.5, 0.5, 0.9, 0.2], [0.3, 0.2, 0.6, 0.9, 0.1])]  # fmt: skip
    for x, y in cases:
        assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert spearman([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
