"""The leaderboard report: one static HTML page (plots embedded), Markdown, JSON or CSV.

:func:`build_report` scores stored rows (``rewardgym.leaderboard.scoring``); ``render_*`` turn
the result into text. The HTML page (``report_html``) is self-contained: plots embedded as
base64 PNGs, sortable tables, per-env and per-agent drill-down and the episode viewer
(``viewer``) run on inline JavaScript, so the file can be mailed or published as is.
Families add sections to the page through :data:`REPORT_SECTIONS`.
"""

from __future__ import annotations

import csv
import html
import importlib
import io
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rewardgym
from rewardgym.errors import ConfigError
from rewardgym.leaderboard import report_html
from rewardgym.leaderboard.scoring import AgentEnvScore, SuiteScore, score_rows, suite_scores

__all__ = [
    "FORMATS",
    "MD_SECTIONS",
    "REPORT_SECTIONS",
    "Report",
    "build_report",
    "render",
    "rich_table",
]

log = logging.getLogger("rewardgym.leaderboard.report")

FORMATS = ("html", "md", "json", "csv")

#: Extra sections of the HTML page: section name -> ``"module:function"``. Each function is
#: called as ``fn(rows, source=...) -> str | None`` with the stored rows (``ResultsStore.rows()``,
#: the rows :func:`build_report` got) and the results file they came from (``""`` when none; for
#: sections that read tables of their own, like the social league), and returns an HTML fragment
#: (a ``<section>`` with an ``<h2>``), or None when there is nothing for it. Sections render after the main tables, in name
#: order; one that raises is logged and replaced by an error note (the page is never lost).
#: Families add one line each here.
REPORT_SECTIONS: dict[str, str] = {
    "gui": "rewardgym.leaderboard.gui_board:gui_section",
    "search": "rewardgym.leaderboard.search_board:search_section",
    "selection": "rewardgym.leaderboard.selection_board:selection_section",
    "social": "rewardgym.leaderboard.social_board:league_section",
}

#: The same for the Markdown report: ``fn(rows, source=...) -> str | None`` returns Markdown (starting with
#: a ``## `` heading), rendered after the main tables in name order.
MD_SECTIONS: dict[str, str] = {
    "gui": "rewardgym.leaderboard.gui_board:gui_md",
    "search": "rewardgym.leaderboard.search_board:search_md",
    "selection": "rewardgym.leaderboard.selection_board:selection_md",
    "social": "rewardgym.leaderboard.social_board:league_md",
}


@dataclass
class Report:
    """Scores of every (agent, env), the suite scores, and where they came from."""

    scores: list[AgentEnvScore]
    suite: list[SuiteScore]
    episodes: int
    source: str
    cost_key: str = "wall_s"
    #: The stored rows the report was built from (the extra sections read them).
    rows: list[dict[str, Any]] = field(default_factory=list, repr=False)
    #: Replayed episodes for the page's viewer (``viewer.viewer_episodes``).
    episodes_shown: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def envs(self) -> list[str]:
        return sorted({s.env_id for s in self.scores})

    @property
    def agents(self) -> list[str]:
        return [s.agent for s in self.suite]


def build_report(
    rows: Iterable[Mapping[str, Any]],
    *,
    source: str = "",
    seed: int = 0,
    cost_key: str = "wall_s",
    episodes: list[dict[str, Any]] | None = None,
) -> Report:
    """Score ``rows`` (from ``ResultsStore.rows()``) into a :class:`Report`.

    ``episodes`` are the replayed episodes the HTML page's viewer shows
    (:func:`rewardgym.leaderboard.viewer.viewer_episodes`).
    """
    rows = [dict(r) for r in rows]
    scores = score_rows(rows, seed=seed)
    return Report(
        scores, suite_scores(scores), len(rows), source, cost_key, rows, list(episodes or [])
    )


def _load_section(entry: str) -> Callable[[list[dict[str, Any]]], str | None]:
    module_name, _, attr = entry.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"report section entry point {entry!r} is not 'module:function'")
    return getattr(importlib.import_module(module_name), attr)


def extra_sections(
    rows: list[dict[str, Any]], sections: Mapping[str, str], *, fmt: str = "html", source: str = ""
) -> list[str]:
    """Render the registered extra ``sections`` (name -> ``"module:function"``) on ``rows``
    (``source``: the results file they came from, for sections that read their own tables).

    Sections come in name order; those returning None are left out. A section that raises
    (or returns something other than a string) is logged and replaced by an error note that
    names it, so one broken section never costs the page.
    """
    out: list[str] = []
    for name in sorted(sections):
        try:
            fragment = _load_section(sections[name])(rows, source=source)
            if fragment is not None and not isinstance(fragment, str):
                raise TypeError(f"returned {type(fragment).__name__}, not str or None")
        except Exception as exc:  # a section must never lose the page
            log.exception("report section %r (%s) failed", name, sections[name])
            reason = f"{type(exc).__name__}: {exc}"
            if fmt == "md":
                fragment = (
                    f"## {name}\n\n> this section failed to render ({reason}); see the log.\n"
                )
            else:
                fragment = (
                    f'<section class="section-error" id="section-{html.escape(name)}">'
                    f'<h2>{html.escape(name)}</h2><p class="error">This section failed to render '
                    f"({html.escape(reason)}); see the log.</p></section>"
                )
        if fragment is not None:
            out.append(fragment)
    return out


def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    return f"{x:.{digits}f}"


def _cost_per_solved(s: AgentEnvScore) -> str:
    parts = []
    for key in sorted(s.cost_per_solved):
        v = s.cost_per_solved[key]
        if v is not None and key in ("wall_s", "llm_tokens", "searches", "tool_calls", "sandbox_s"):
            parts.append(f"{key}={v:.3g}")
    return ", ".join(parts) if parts else "-"


def _pass(s: AgentEnvScore) -> str:
    return ", ".join(f"pass@{k}={v:.3f}" for k, v in sorted(s.pass_at.items())) or "-"


def table_rows(report: Report) -> list[list[str]]:
    """The per (agent, env) table: one list of cells per row (the column names are HEADER)."""
    return [
        [
            s.env_id,
            s.agent,
            _fmt(s.mean_return),
            f"[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]",
            _fmt(s.success_rate),
            str(s.episodes),
            str(s.tasks),
            _cost_per_solved(s),
            _pass(s),
            _fmt(s.invalid_rate),
        ]
        for s in report.scores
    ]


HEADER = [
    "env",
    "agent",
    "task return",
    "95% CI",
    "success",
    "episodes",
    "tasks",
    "cost / solved",
    "pass@k",
    "invalid rate",
]
SUITE_HEADER = ["agent", "suite score", "envs normalised", "envs missing"]


def suite_rows(report: Report) -> list[list[str]]:
    return [
        [s.agent, _fmt(s.score), str(len(s.per_env)), ", ".join(s.envs_missing) or "-"]
        for s in report.suite
    ]


# -- formats -----------------------------------------------------------------------------------


def render_json(report: Report) -> str:
    return json.dumps(
        {
            "rewardgym_version": rewardgym.__version__,
            "source": report.source,
            "episodes": report.episodes,
            "scores": [s.as_dict() for s in report.scores],
            "suite": [s.__dict__ for s in report.suite],
        },
        indent=2,
        sort_keys=True,
    )


def render_csv(report: Report) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "env_id",
            "agent",
            "mean_return",
            "ci_low",
            "ci_high",
            "success_rate",
            "episodes",
            "tasks",
            "solved",
            "invalid_rate",
            "cost_json",
            "pass_at_json",
        ]
    )
    for s in report.scores:
        writer.writerow(
            [
                s.env_id,
                s.agent,
                repr(s.mean_return),
                repr(s.ci_low),
                repr(s.ci_high),
                "" if s.success_rate is None else repr(s.success_rate),
                s.episodes,
                s.tasks,
                s.solved,
                repr(s.invalid_rate),
                json.dumps(s.cost, sort_keys=True),
                json.dumps({str(k): v for k, v in s.pass_at.items()}),
            ]
        )
    return buf.getvalue()


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    def esc(c: str) -> str:
        return c.replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_md(report: Report) -> str:
    return (
        f"# rewardgym leaderboard\n\n{report.episodes} episodes from `{report.source}`; "
        "score = raw task return (mean over tasks, bootstrap 95% CI over tasks).\n\n"
        "## Suite\n\n"
        + _md_table(SUITE_HEADER, suite_rows(report))
        + "\n\n## Per environment\n\n"
        + _md_table(HEADER, table_rows(report))
        + "\n"
        + "".join(
            "\n" + part.rstrip("\n") + "\n"
            for part in extra_sections(report.rows, MD_SECTIONS, fmt="md", source=report.source)
        )
    )


def render_html(report: Report) -> str:
    """The self-contained HTML page (``report_html``), with the registered extra sections."""
    return report_html.render_html(
        report,
        header=HEADER,
        table_rows=table_rows(report),
        suite_header=SUITE_HEADER,
        suite_rows=suite_rows(report),
        sections=extra_sections(report.rows, REPORT_SECTIONS, source=report.source),
    )


def render(report: Report, fmt: str) -> str:
    """Render ``report`` as ``html``, ``md``, ``json`` or ``csv``.

    Raises:
        ConfigError: on another format.
    """
    renderers = {"html": render_html, "md": render_md, "json": render_json, "csv": render_csv}
    if fmt not in renderers:
        raise ConfigError(f"unknown report format {fmt!r}; use one of {list(FORMATS)}")
    return renderers[fmt](report)


def rich_table(report: Report) -> Any:
    """The per-env table as a ``rich.table.Table`` for the terminal (the CLI prints it)."""
    from rich.table import Table

    table = Table(title=f"rewardgym leaderboard ({report.episodes} episodes)")
    for h in HEADER:
        table.add_column(h, overflow="fold")
    rows = table_rows(report)
    for row in rows:
        row[0] = row[0].removeprefix("rewardgym/")
    for i, row in enumerate(rows):
        # a rule between envs keeps each env's ranking visually apart
        table.add_row(*row, end_section=i + 1 < len(rows) and rows[i + 1][0] != row[0])
    return table


def rich_suite_table(report: Report) -> Any:
    """The suite scores as a ``rich.table.Table``."""
    from rich.table import Table

    table = Table(title="suite score (normalised: random = 0, best scripted = 1)")
    for h in SUITE_HEADER:
        table.add_column(h)
    for row in suite_rows(report):
        table.add_row(*row)
    return table
