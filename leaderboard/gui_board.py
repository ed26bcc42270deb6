"""The GUI track of the leaderboard: UI-S1's SOP beside online success, per agent.

For every agent with stored GUI episodes the table shows, each with a 95% bootstrap CI:

* **online success** — mean ``success`` on ``rewardgym/GUI-Online-v0`` (the live phone);
* **SOP TSR** — mean ``task`` on ``rewardgym/GUI-SemiOnline-v0`` (every step matched);
* **SOP PG** — mean summed ``progress`` there (the fraction of a trajectory matched before
  the first miss);
* **single-step accuracy** — mean ``task`` on ``rewardgym/GUI-Offline-v0``.

SOP as UI-S1 defines it replays without patches: rows of semi-online runs with
``patch_threshold > 0`` (a recipe) should be benched under another recipe name; the table
groups by (agent, recipe). When at least three agents have online success and an offline
metric, the section also gives Spearman's rank correlation of each offline metric with
online success across agents — the comparison behind UI-S1's claim that SOP tracks online
performance better than single-step accuracy (``benchmarks/bench_gui.py --claim`` measures
it at scale). Registered in ``rewardgym.leaderboard.report`` (``REPORT_SECTIONS``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rewardgym.leaderboard.scoring import bootstrap_ci
from rewardgym.leaderboard.sections import html_table_section, md_table_section

__all__ = ["GUI_ENVS", "GuiAgentScore", "gui_md", "gui_scores", "gui_section", "spearman"]

#: The stored env ids of the three phone modes, by the metric each gives.
GUI_ENVS = {
    "online": "rewardgym/GUI-Online-v0",
    "semi": "rewardgym/GUI-SemiOnline-v0",
    "offline": "rewardgym/GUI-Offline-v0",
}
METRICS = ("online success", "SOP TSR", "SOP PG", "single-step accuracy")


@dataclass
class GuiAgentScore:
    """One agent's GUI metrics: ``metric -> (mean, ci_low, ci_high, episodes)``."""

    agent: str
    recipe: str
    metrics: dict[str, tuple[float, float, float, int]] = field(default_factory=dict)


def _component(row: Mapping[str, Any], name: str) -> float:
    """A component's episode sum from a stored row (``components``) or a runner row
    (``components_json``)."""
    comps = row.get("components")
    if comps is None:
        raw = row.get("components_json") or "{}"
        comps = json.loads(raw) if isinstance(raw, str) else raw
    return float(comps.get(name, 0.0))


def _summary(values: Sequence[float]) -> tuple[float, float, float, int]:
    lo, hi = bootstrap_ci(values)
    return float(np.mean(values)), lo, hi, len(values)


def gui_scores(rows: Sequence[Mapping[str, Any]]) -> list[GuiAgentScore]:
    """Per (agent, recipe), the GUI metrics its stored rows give (sorted by agent)."""
    values: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        env_id = row.get("env_id")
        key = (str(row.get("agent", "")), str(row.get("recipe", "") or ""))
        if env_id == GUI_ENVS["online"]:
            values[key]["online success"].append(float(bool(row.get("success"))))
        elif env_id == GUI_ENVS["semi"]:
            values[key]["SOP TSR"].append(float(row.get("task_return", 0.0)))
            values[key]["SOP PG"].append(_component(row, "progress"))
        elif env_id == GUI_ENVS["offline"]:
            values[key]["single-step accuracy"].append(float(row.get("task_return", 0.0)))
    scores = []
    for (agent, recipe), metrics in sorted(values.items()):
        score = GuiAgentScore(agent, recipe)
        for name in METRICS:
            if metrics.get(name):
                score.metrics[name] = _summary(metrics[name])
        scores.append(score)
    return scores


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN if either side is constant."""
    if len(x) != len(y) or len(x) < 2:
        raise ValueError("spearman needs two sequences of the same length >= 2")

    def ranks(v: Sequence[float]) -> np.ndarray:
        a = np.asarray(v, dtype=float)
        order = np.argsort(a, kind="mergesort")
        r = np.empty(len(a))
        r[order] = np.arange(len(a), dtype=float)
        for value in np.unique(a):  # ties share their mean rank
            tied = a == value
            r[tied] = r[tied].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def _correlations(scores: Sequence[GuiAgentScore]) -> dict[str, tuple[float, int]]:
    out = {}
    for metric in ("SOP TSR", "SOP PG", "single-step accuracy"):
        pairs = [
            (s.metrics[metric][0], s.metrics["online success"][0])
            for s in scores
            if metric in s.metrics and "online success" in s.metrics
        ]
        if len(pairs) >= 3:
            xs, ys = zip(*pairs)
            out[metric] = (spearman(xs, ys), len(pairs))
    return out


def _cell(value: tuple[float, float, float, int] | None) -> str:
    if value is None:
        return "–"
    mean, lo, hi, n = value
    return f"{mean:.3f} [{lo:.2f}, {hi:.2f}] (n={n})"


_TITLE = "GUI: SOP and online success"
_NOTE = (
    "Online success on the live phone beside UI-S1's semi-online performance (SOP: TSR = all "
    "steps matched, PG = fraction matched before the first miss; no patches) and single-step "
    "accuracy on the same expert trajectories. Brackets: 95% bootstrap CI."
)


def _table(scores: Sequence[GuiAgentScore]) -> list[tuple[list[str], list[list[str]]]]:
    rows = [[s.agent, s.recipe or "-", *(_cell(s.metrics.get(m)) for m in METRICS)] for s in scores]
    return [(["agent", "recipe", *METRICS], rows)]


def _correlation_lines(scores: Sequence[GuiAgentScore]) -> list[str]:
    return [
        f"Spearman({metric}, online success) = {r:.3f} over {n} agents"
        for metric, (r, n) in _correlations(scores).items()
    ]


def gui_section(rows: Sequence[Mapping[str, Any]], source: str = "") -> str | None:
    """The HTML section of the GUI track; None when the rows hold no GUI episode."""
    scores = gui_scores(rows)
    if not scores:
        return None
    return html_table_section(
        "gui", _TITLE, _NOTE, _table(scores), after=_correlation_lines(scores)
    )


def gui_md(rows: Sequence[Mapping[str, Any]], source: str = "") -> str | None:
    """The Markdown form of :func:`gui_section`."""
    scores = gui_scores(rows)
    if not scores:
        return None
    return md_table_section(_TITLE, _NOTE, _table(scores), after=_correlation_lines(scores))
