"""``rewardgym bench`` and ``rewardgym leaderboard``: run agents on envs, then rank them.

The commands print (rich); the work happens in ``runner``, ``store``, ``scoring`` and
``report``.
"""

from __future__ import annotations

import logging
import pathlib

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from rewardgym.errors import RewardGymError
from rewardgym.leaderboard.report import (
    FORMATS,
    build_report,
    render,
    rich_suite_table,
    rich_table,
)
from rewardgym.leaderboard.runner import plan, run_bench
from rewardgym.leaderboard.store import ResultsStore
from rewardgym.leaderboard.suites import get_suite
from rewardgym.seeding import parse_seeds

__all__ = ["bench", "leaderboard", "register"]

console = Console()
if not console.is_terminal:  # piped or captured (make, CI): do not squeeze tables into 80 columns
    console = Console(width=160)
err_console = Console(stderr=True)


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def _write_report(db: str, out: pathlib.Path, fmt: str, recipe: str) -> None:
    with ResultsStore(db) as store:
        rows = list(store.rows(recipe=recipe))
    if not rows:
        raise RewardGymError(
            f"{db} holds no episodes for recipe {recipe or '(none)'!r}; run `rewardgym bench` "
            "first (or pass the --recipe you benched with)"
        )
    report = build_report(rows, source=db)
    console.print(rich_suite_table(report))
    console.print(rich_table(report))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(report, fmt), encoding="utf-8")
    console.print(f"[bold]{fmt} report written to[/] {out.resolve()}")


def bench(
    agents: str = typer.Option(None, help="Comma list of agent specs, e.g. random,code-oracle."),
    envs: str = typer.Option(None, help="Comma list of env ids, e.g. rewardgym/CodeExec-v0."),
    seeds: str = typer.Option("0-9", help="Env seeds (one task instance each): '0-9', '0,3,5-7'."),
    episodes: int = typer.Option(1, help="Samples per (agent, env, seed); >1 enables pass@k."),
    suite: str = typer.Option(None, help="A preset instead of --agents/--envs: 'quick'."),
    reward_recipe: str = typer.Option(
        "", "--reward-recipe", help="Shaping recipe to wrap envs with (never changes scores)."
    ),
    db: str = typer.Option("runs/results.sqlite", help="Results database (SQLite)."),
    workers: int = typer.Option(1, help="Local worker processes (or Ray CPUs)."),
    backend: str = typer.Option("local", help="'local' or 'ray'."),
    ray_address: str = typer.Option(
        None, help="Ray cluster address ('auto', 'ray://head:10001'); default: a local Ray."
    ),
    max_steps: int = typer.Option(None, help="Cap on steps per episode (gym TimeLimit)."),
    record_steps: bool = typer.Option(
        False,
        "--record-steps/--no-record-steps",
        help="Also store every step (action, reward, components, weights) for audits; the "
        "default stores episode summaries, which is all scoring needs.",
    ),
    report: str = typer.Option(
        None, help="After the run, print the table and write this HTML report."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
) -> None:
    """Run agents x envs x seeds, storing every episode; re-running skips stored episodes."""
    if verbose:
        logging.basicConfig(level=logging.INFO)
    try:
        if suite:
            preset = get_suite(suite)
            jobs = plan(
                [],
                [],
                list(parse_seeds(seeds)) if seeds != "0-9" else list(preset.seeds),
                episodes=episodes if episodes != 1 else preset.episodes,
                recipe=reward_recipe,
                max_steps=max_steps or preset.max_steps,
                pairs=preset.pairs,
                record_steps=record_steps,
            )
        else:
            if not agents or not envs:
                raise typer.BadParameter("give --agents and --envs, or a --suite")
            jobs = plan(
                _split(agents),
                _split(envs),
                parse_seeds(seeds),
                episodes=episodes,
                recipe=reward_recipe,
                max_steps=max_steps,
                record_steps=record_steps,
            )
        store = ResultsStore(db)
    except RewardGymError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None

    columns = (
        TextColumn("[bold]bench[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with store, Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("bench", total=None, last="")

        def planned(todo: int, skipped: int) -> None:
            progress.update(task, total=todo)
            if skipped:
                progress.console.print(f"{skipped} episodes already stored: skipped")

        def episode(outcome) -> None:  # type: ignore[no-untyped-def]
            job = outcome.job
            mark = "ok" if outcome.row is not None else "[red]failed[/]"
            progress.update(task, advance=1, last=f"{job.agent} {job.env_id} s{job.seed} {mark}")

        try:
            summary = run_bench(
                jobs,
                store,
                workers=workers,
                backend=backend,
                ray_address=ray_address,
                on_planned=planned,
                on_episode=episode,
            )
        except RewardGymError as exc:
            err_console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
    console.print(
        f"planned {summary.planned}, skipped {summary.skipped}, ran {summary.ran}, "
        f"stored {summary.stored}, failed {len(summary.failed)} in {summary.wall_s:.1f}s -> {db}"
    )
    for job, error in summary.failed[:20]:
        err_console.print(f"[red]failed[/] {job.agent} on {job.env_id} seed {job.seed}: {error}")
    if report is not None:
        try:
            _write_report(db, pathlib.Path(report), "html", jobs[0].recipe)
        except RewardGymError as exc:
            err_console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
    if summary.failed:
        raise typer.Exit(1)


def leaderboard(
    db: str = typer.Option("runs/results.sqlite", help="Results database written by bench."),
    out: str = typer.Option("runs/leaderboard.html", help="Output file."),
    format: str = typer.Option(
        None, "--format", help=f"One of {', '.join(FORMATS)} (default: from --out's suffix)."
    ),
    recipe: str = typer.Option("", help="Score the runs made under this reward recipe."),
) -> None:
    """Score the stored episodes: print a table and write an HTML/Markdown/JSON/CSV report."""
    out_path = pathlib.Path(out)
    fmt = format or {".md": "md", ".json": "json", ".csv": "csv"}.get(out_path.suffix, "html")
    try:
        if not pathlib.Path(db).is_file():
            raise RewardGymError(f"no results database at {db}; run `rewardgym bench` first")
        _write_report(db, out_path, fmt, "" if recipe == "none" else recipe)
    except RewardGymError as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Attach ``bench`` and ``leaderboard`` to the ``rewardgym`` CLI."""
    app.command("bench")(bench)
    app.command("leaderboard")(leaderboard)
