"""The leaderboard's HTML page: one self-contained file, readable at a glance.

Everything is inline — the plots are PNGs in ``data:`` URIs, the few lines of JavaScript that
sort tables, open the drill-down sections and play episodes are in the page — so it opens
from disk, mails as one file, and fetches nothing (no CDN).

The page: the suite table and the per (agent, env) table (click a header to sort; env and
agent names link to their drill-down), the plots (legend beside the axes, never over the
bars: one panel per env), one drill-down per env (its agents, and each task's return per agent) and per agent
(its envs with normalised scores), the families' extra sections (``REPORT_SECTIONS``), and
the episode viewer (``viewer.render_viewer``) for episodes stored with their steps.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
from collections import defaultdict
from typing import Any

import rewardgym
from rewardgym.errors import DependencyNotInstalled
from rewardgym.leaderboard.identity import spec_of_identity
from rewardgym.leaderboard.viewer import episode_anchor, render_viewer

__all__ = ["plot_pngs", "render_html", "slug"]

#: At most this many tasks in an env's per-task table (the rest are counted, not listed).
MAX_TASK_ROWS = 200


def slug(text: str) -> str:
    """An HTML id fragment for ``text`` (letters, digits and dashes)."""
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def plot_pngs(report: Any) -> dict[str, str]:
    """The report's plots as base64 PNGs: ``scores`` and ``cost``.

    ``scores`` is one small panel per env with a horizontal bar per agent (best on top, 95% CI
    whiskers, the agent's name on the axis): no legend to hide a bar, and readable with many
    envs and agents. ``cost`` puts each (agent, env) at its cost per episode and score; its
    legend sits to the right of the axes. An agent keeps its colour in both.
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib is a core dependency
        raise DependencyNotInstalled("matplotlib", "all", "the HTML report") from exc
    envs, agents = report.envs, sorted({s.agent for s in report.scores})
    colour = {a: f"C{i % 10}" for i, a in enumerate(agents)}
    marker = {a: "os^Dv<>ph*"[(i // 10) % 10] for i, a in enumerate(agents)}

    per_env = {
        e: sorted((s for s in report.scores if s.env_id == e), key=lambda s: s.mean_return)
        for e in envs
    }
    ncols = min(3, max(1, len(envs)))
    nrows = max(1, math.ceil(len(envs) / ncols))
    tallest = max((len(v) for v in per_env.values()), default=1)
    fig = Figure(figsize=(4.8 * ncols, (0.3 * tallest + 1.2) * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, env in zip(axes.flat, envs, strict=False):
        ss = per_env[env]
        ys = range(len(ss))
        ax.barh(
            ys,
            [s.mean_return for s in ss],
            xerr=[
                [max(0.0, s.mean_return - s.ci_low) for s in ss],
                [max(0.0, s.ci_high - s.mean_return) for s in ss],
            ],
            color=[colour[s.agent] for s in ss],
            capsize=2,
            height=0.7,
        )
        # the value beside each bar, past its whisker: a score of 0 has no bar to see
        for y, sc in zip(ys, ss, strict=True):
            ax.annotate(
                f"{sc.mean_return:.2f}",
                (max(sc.mean_return, sc.ci_high, 0.0), y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize="x-small",
            )
        low = min([0.0, *(s.ci_low for s in ss)])
        high = max([0.0, *(s.ci_high for s in ss)])
        if low >= 0.0 and high <= 1.0:
            high = 1.0  # returns in [0, 1] (most tasks): the same scale in every panel
        pad = 0.12 * (high - low or 1.0)
        ax.set_xlim(low - (pad if low < 0 else 0.0), high + pad)
        ax.set_yticks(list(ys), [s.agent for s in ss], fontsize="small")
        ax.set_title(env.removeprefix("rewardgym/"), fontsize="medium")
        ax.axvline(0, color="black", linewidth=0.5)
        ax.tick_params(axis="x", labelsize="small")
    for ax in list(axes.flat)[len(envs) :]:
        ax.set_visible(False)
    if not envs:
        axes.flat[0].set_visible(True)
        axes.flat[0].text(0.5, 0.5, "no episodes", ha="center", va="center")
    fig.suptitle("Mean task return per environment (whiskers: 95% CI over tasks)")
    scores_png = _png(fig)

    fig = Figure(figsize=(7.5, 4.0), layout="constrained")
    ax = fig.subplots()
    key = report.cost_key
    for agent in agents:
        pts = [
            (s.cost.get(key, 0.0) / max(1, s.episodes), s.mean_return)
            for s in report.scores
            if s.agent == agent
        ]
        ax.scatter(
            [p[0] for p in pts],
            [p[1] for p in pts],
            label=agent,
            color=colour[agent],
            marker=marker[agent],
            alpha=0.8,
        )
    ax.set_xlabel(f"{key} per episode")
    ax.set_ylabel("mean task return")
    ax.set_title("Cost vs score (one point per agent and env)")
    if any(s.cost.get(key, 0.0) > 0 for s in report.scores):
        ax.set_xscale("symlog", linthresh=1e-3)
    if agents:
        ax.legend(
            fontsize="small" if len(agents) <= 12 else "x-small",
            title="agent",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
        )
    cost_png = _png(fig)
    return {"scores": scores_png, "cost": cost_png}


# -- tables ------------------------------------------------------------------------------------


def _short(env_id: str) -> str:
    """An env id as the tables show it (the ``rewardgym/`` namespace is implied)."""
    return env_id.removeprefix("rewardgym/")


def _cell(
    value: str,
    *,
    link: str | None = None,
    sort: float | None = None,
    title: str | None = None,
    wrap: bool = False,
    after: str = "",
) -> str:
    attrs = "" if sort is None else f' data-sort="{sort!r}"'
    if title is not None:
        attrs += f' title="{html.escape(title)}"'
    if wrap:
        attrs += ' class="wrap"'
    body = html.escape(value)
    if link is not None:
        body = f'<a href="#{link}" class="drill">{body}</a>'
    return f"<td{attrs}>{body}{after}</td>"


def superseded(report: Any) -> dict[str, str]:
    """Agents whose spec was benched later with another model: old identity -> newest one.

    A retrained ``ppo:runs/x`` is a new identity; the old one's results stay in the store and
    on the page, marked as an older model.
    """
    latest: dict[str, str] = {}
    for r in report.rows:
        stamp = str(r.get("created_at") or "")
        if stamp > latest.get(r["agent"], ""):
            latest[r["agent"]] = stamp
    by_spec: dict[str, list[str]] = defaultdict(list)
    for agent in latest:
        by_spec[spec_of_identity(agent)].append(agent)
    out: dict[str, str] = {}
    for spec, identities in by_spec.items():
        if len(identities) > 1 and spec not in identities:
            newest = max(identities, key=lambda a: latest[a])
            out |= {a: newest for a in identities if a != newest}
    return out


def _older(older: dict[str, str], agent: str) -> str:
    newer = older.get(agent)
    if newer is None:
        return ""
    return f' <span class="note" title="superseded by {html.escape(newer)}">(older model)</span>'


def _table(table_id: str, header: list[str], rows: list[str], caption: str = "") -> str:
    head = "".join(f'<th scope="col" title="click to sort">{html.escape(h)}</th>' for h in header)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<table id="{table_id}" class="sortable">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _env_link(env_id: str) -> str:
    return f"env-{slug(env_id)}"


def _agent_link(agent: str) -> str:
    return f"agent-{slug(agent)}"


def _scores_table(
    report: Any, table_rows: list[list[str]], header: list[str], older: dict[str, str]
) -> str:
    rows = []
    for s, cells in zip(report.scores, table_rows, strict=True):
        tds = [
            _cell(_short(cells[0]), link=_env_link(s.env_id), title=s.env_id),
            _cell(cells[1], link=_agent_link(s.agent), after=_older(older, s.agent)),
            _cell(cells[2], sort=s.mean_return),
            _cell(cells[3], sort=s.ci_low),
            _cell(cells[4], sort=s.success_rate),
            *(_cell(c, wrap=i in (2, 3)) for i, c in enumerate(cells[5:])),
        ]
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return _table("scores", header, rows)


def _suite_table(
    report: Any, suite_rows: list[list[str]], header: list[str], older: dict[str, str]
) -> str:
    rows = []
    for s, cells in zip(report.suite, suite_rows, strict=True):
        tds = [
            _cell(cells[0], link=_agent_link(s.agent), after=_older(older, s.agent)),
            _cell(cells[1], sort=s.score),
            _cell(cells[2]),
            _cell(", ".join(_short(e) for e in s.envs_missing) or "-", wrap=True),
        ]
        rows.append("<tr>" + "".join(tds) + "</tr>")
    return _table("suite", header, rows)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _episode_links(episodes: list[dict[str, Any]], *, env_id: str | None, agent: str | None) -> str:
    links = [
        f'<a href="#{episode_anchor(ep)}" class="drill">'
        f"{html.escape(ep['agent'] if env_id else ep['env_id'])} seed {ep['seed']}"
        f" ({'solved' if ep['success'] else 'not solved'})</a>"
        for ep in episodes
        if (env_id is None or ep["env_id"] == env_id) and (agent is None or ep["agent"] == agent)
    ]
    return f'<p class="note">Episodes to watch: {", ".join(links)}</p>' if links else ""


def _env_drill(report: Any, env_id: str) -> str:
    scores = [s for s in report.scores if s.env_id == env_id]
    rows = [
        "<tr>"
        + _cell(s.agent, link=_agent_link(s.agent))
        + _cell(_fmt(s.mean_return), sort=s.mean_return)
        + _cell(f"[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]", sort=s.ci_low)
        + _cell(_fmt(s.success_rate), sort=s.success_rate)
        + _cell(str(s.episodes), sort=s.episodes)
        + _cell(str(s.tasks), sort=s.tasks)
        + "</tr>"
        for s in scores
    ]
    agents_table = _table(
        f"{_env_link(env_id)}-agents",
        ["agent", "task return", "95% CI", "success", "episodes", "tasks"],
        rows,
    )
    # each task's mean return per agent (the numbers the score averages)
    per_task: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    solved: dict[tuple[str, str], int] = defaultdict(int)
    for r in report.rows:
        if r["env_id"] == env_id:
            per_task[str(r["task_id"])][r["agent"]].append(float(r["task_return"]))
            solved[(str(r["task_id"]), r["agent"])] += bool(r["success"])
    agents = [s.agent for s in scores]
    task_rows = []
    for task in sorted(per_task)[:MAX_TASK_ROWS]:
        cells = [_cell(task)]
        for a in agents:
            vals = per_task[task].get(a)
            if not vals:
                cells.append(_cell("-"))
                continue
            mean = sum(vals) / len(vals)
            mark = f" ({solved[(task, a)]}/{len(vals)} solved)" if len(vals) > 1 else ""
            cells.append(_cell(f"{mean:.3f}{mark}", sort=mean))
        task_rows.append("<tr>" + "".join(cells) + "</tr>")
    more = len(per_task) - MAX_TASK_ROWS
    tasks_table = _table(
        f"{_env_link(env_id)}-tasks",
        ["task", *agents],
        task_rows,
        caption="mean task return per task"
        + (f" (first {MAX_TASK_ROWS}; {more} more)" if more > 0 else ""),
    )
    return (
        f'<details class="drill" id="{_env_link(env_id)}"><summary>{html.escape(env_id)}'
        f" — {_n(len(scores), 'agent')}, {_n(len(per_task), 'task')}</summary>"
        f"{agents_table}{tasks_table}"
        f"{_episode_links(report.episodes_shown, env_id=env_id, agent=None)}</details>"
    )


def _agent_drill(report: Any, agent: str, older: dict[str, str]) -> str:
    scores = [s for s in report.scores if s.agent == agent]
    suite = next((s for s in report.suite if s.agent == agent), None)
    per_env = suite.per_env if suite is not None else {}
    rows = [
        "<tr>"
        + _cell(_short(s.env_id), link=_env_link(s.env_id), title=s.env_id)
        + _cell(_fmt(s.mean_return), sort=s.mean_return)
        + _cell(f"[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]", sort=s.ci_low)
        + _cell(_fmt(s.success_rate), sort=s.success_rate)
        + _cell(_fmt(per_env.get(s.env_id)), sort=per_env.get(s.env_id))
        + _cell(str(s.episodes), sort=s.episodes)
        + "</tr>"
        for s in scores
    ]
    spec = spec_of_identity(agent)
    newer = older.get(agent)
    identity = (
        f'<p class="note">Identity: <code>{html.escape(agent)}</code> — the spec '
        f"<code>{html.escape(spec)}</code> with a hash of its model, so results of a "
        "retrained model are never mixed with the old ones."
        + (
            f" An older model: <code>{html.escape(newer)}</code> was benched later."
            if newer
            else ""
        )
        + "</p>"
        if spec != agent
        else ""
    )
    return (
        f'<details class="drill" id="{_agent_link(agent)}"><summary>{html.escape(agent)}'
        f" — {_n(len(scores), 'env')}, suite score {_fmt(suite.score if suite else None)}</summary>"
        f"{identity}"
        + _table(
            f"{_agent_link(agent)}-envs",
            ["env", "task return", "95% CI", "success", "normalised", "episodes"],
            rows,
        )
        + f"{_episode_links(report.episodes_shown, env_id=None, agent=agent)}</details>"
    )


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 1em 0; }
caption { text-align: left; font-size: 13px; color: #555; padding-bottom: 4px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 14px; }
td { white-space: nowrap; }
td.wrap { white-space: normal; min-width: 12em; }
th { background: #f3f3f3; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
tbody tr:nth-child(even) { background: #fafafa; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.note { color: #555; font-size: 13px; }
.error { color: #a00; }
a.drill { color: #0645ad; text-decoration: none; }
a.drill:hover { text-decoration: underline; }
details.drill { margin: 0.4em 0; border: 1px solid #ddd; border-radius: 4px; padding: 0.3em 0.8em; }
details.drill > summary { cursor: pointer; font-weight: 600; }
details.drill:target, .episode:target { outline: 3px solid #f5c542; }
.episode { border: 1px solid #ddd; border-radius: 4px; padding: 0.5em 1em; margin: 1em 0; }
.episode h3 { font-size: 15px; margin: 0.3em 0; }
.episode .controls { display: flex; gap: 0.5em; align-items: center; }
.episode input.step { flex: 1; max-width: 500px; }
.episode .panes { display: flex; gap: 1em; flex-wrap: wrap; }
.episode .panes > div { flex: 1; min-width: 320px; }
.episode pre { background: #f7f7f7; border: 1px solid #e3e3e3; padding: 0.5em; overflow: auto;
  max-height: 420px; font-size: 13px; line-height: 1.2; white-space: pre; }
.episode pre.action, .episode.wrap pre.frame { white-space: pre-wrap; overflow-wrap: anywhere; }
"""

# Sorting: click a header; numbers sort by their data-sort value (or the cell's number),
# text alphabetically; "-" (no value) always last. Drill-down: following a link to a
# <details> opens it.
_JS = """
(function () {
  function key(td) {
    if (!td) return null;
    const raw = td.hasAttribute('data-sort') ? td.getAttribute('data-sort') : td.textContent.trim();
    if (raw === '-' || raw === 'None' || raw === '') return null;
    const num = Number(raw);
    return isNaN(num) ? raw.toLowerCase() : num;
  }
  function sortBy(table, col, th) {
    const asc = th.getAttribute('aria-sort') !== 'ascending';
    for (const h of table.tHead.rows[0].cells) h.removeAttribute('aria-sort');
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort(function (a, b) {
      const x = key(a.cells[col]), y = key(b.cells[col]);
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
      const c = x < y ? -1 : x > y ? 1 : 0;
      return asc ? c : -c;
    });
    for (const r of rows) body.appendChild(r);
  }
  for (const table of document.querySelectorAll('table.sortable')) {
    if (!table.tHead) continue;
    Array.from(table.tHead.rows[0].cells).forEach(function (th, col) {
      th.addEventListener('click', function () { sortBy(table, col, th); });
    });
  }
  function openTarget() {
    const id = decodeURIComponent(location.hash.slice(1));
    openId(id);
    const el = id && document.getElementById(id);
    if (el) el.scrollIntoView();
  }
  function openId(id) {
    const el = id && document.getElementById(id);
    if (!el) return;
    for (let p = el; p; p = p.parentElement) if (p.tagName === 'DETAILS') p.open = true;
  }
  // open on the click itself (hashchange comes later, and not at all for the same hash)
  document.addEventListener('click', function (ev) {
    const a = ev.target.closest && ev.target.closest('a.drill');
    if (a) openId(decodeURIComponent(a.getAttribute('href').slice(1)));
  });
  window.addEventListener('hashchange', openTarget);
  openTarget();
})();
"""


def render_html(
    report: Any,
    *,
    header: list[str],
    table_rows: list[list[str]],
    suite_header: list[str],
    suite_rows: list[list[str]],
    sections: list[str],
) -> str:
    """The page (see the module docstring); the report module passes its tables and sections."""
    pngs = plot_pngs(report)
    older = superseded(report)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    agents = sorted({s.agent for s in report.scores})
    envs = report.envs
    recorded_note = (
        ""
        if report.episodes_shown
        else '<p class="note">No episodes were stored with their steps: bench with '
        "<code>--record-steps</code> to watch them here.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rewardgym leaderboard</title><style>{_CSS}</style></head>
<body>
<h1>rewardgym leaderboard</h1>
<p class="note">{report.episodes} episodes from <code>{html.escape(report.source)}</code>,
rewardgym {html.escape(rewardgym.__version__)}, generated {when}. Score = raw
<code>task</code> return (shaping never counts), mean over tasks with a bootstrap 95% CI over
tasks; an episode cut short without success is a failure. Suite score: per env,
(score &minus; random) / (best scripted &minus; random), averaged. Click a column header to
sort; click an env or an agent for its details. Agents built from a model file or a server
are named by what they are (<code>spec@model-hash</code>).</p>
<h2>Suite</h2>
{_suite_table(report, suite_rows, suite_header, older)}
<h2>Per environment</h2>
{_scores_table(report, table_rows, header, older)}
<h2>Plots</h2>
<img id="plot-scores" alt="score per environment with 95% CIs"
 src="data:image/png;base64,{pngs["scores"]}">
<img id="plot-cost" alt="cost versus score" src="data:image/png;base64,{pngs["cost"]}">
<section id="by-env"><h2>By environment</h2>
{"".join(_env_drill(report, e) for e in envs)}
</section>
<section id="by-agent"><h2>By agent</h2>
{"".join(_agent_drill(report, a, older) for a in agents)}
</section>
{"".join(sections)}
{render_viewer(report.episodes_shown)}
{recorded_note}
<script>{_JS}</script>
</body></html>
"""
