"""``rewardgym bench`` and ``rewardgym leaderboard``: run agents on envs, then rank them.

The commands print (rich); the work happens in ``runner``, ``store``, ``scoring`` and
``report``.
"""

from __future__ import annotations

import logging
import os
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

from rewardgym.errors import ConfigError, RewardGymError
from rewardgym.leaderboard.checks import check_request, probe_pairs
from rewardgym.leaderboard.identity import agent_identity
from rewardgym.leaderboard.report import (
    FORMATS,
    build_report,
    render,
    rich_suite_table,
    rich_table,
)
from rewardgym.leaderboard.runner import EpisodeJob, close_actors, plan, run_bench
from rewardgym.leaderboard.store import ResultsStore
from rewardgym.leaderboard.suites import get_suite
from rewardgym.leaderboard.viewer import viewer_episodes
from rewardgym.seeding import parse_seeds

__all__ = ["bench", "leaderboard", "register"]

console = Console()
if not console.is_terminal:  # piped or captured (make, CI): do not squeeze tables into 80 columns
    console = Console(width=160)
err_console = Console(stderr=True, soft_wrap=True)  # messages are not cut into 80 columns


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


#: Report formats by file suffix.
SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".json": "json", ".csv": "csv"}


def output_format(out: str, fmt: str | None, option: str = "--out") -> str:
    """The report format for ``out``: ``fmt`` if given, else from the suffix.

    Raises:
        ConfigError: on an unknown format or suffix.
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown --format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = pathlib.Path(out).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        raise ConfigError(
            f"{option} {out}: cannot tell the report format from {suffix or 'no suffix'!r}; "
            f"name the file .html, .md, .json or .csv, or pass --format"
        )
    return SUFFIX_FORMATS[suffix]


def check_output(out: str, option: str = "--out") -> None:
    """Refuse an output path that cannot be written: a directory, or in a read-only folder.

    Raises:
        ConfigError: naming the problem.
    """
    path = pathlib.Path(out)
    if path.is_dir():
        raise ConfigError(
            f"{option} {out} is a directory; give a file path such as {path / 'x.html'}"
        )
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"{option} {out}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"{option} {out}: {folder} is not writable here; pick another path")


def _write_text(out: pathlib.Path, text: str) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RewardGymError(f"cannot write {out}: {exc.strerror or exc}") from None


def _write_report(db: str, out: pathlib.Path, fmt: str, recipe: str) -> None:
    with ResultsStore(db, readonly=True) as store:
        rows = list(store.rows(recipe=recipe))
        episodes = viewer_episodes(store, rows) if fmt == "html" else []
    if not rows:
        raise RewardGymError(
            f"{db} holds no episodes for recipe {recipe or '(none)'!r}; run `rewardgym bench` "
            "first (or pass the --recipe you benched with)"
        )
    report = build_report(rows, source=db, episodes=episodes)
    console.print(rich_suite_table(report))
    console.print(rich_table(report))
    _write_text(out, render(report, fmt))
    console.print(f"[bold]{fmt} report written to[/] {out.resolve()}")


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]error:[/] {exc}", markup=True, highlight=False)
    return typer.Exit(2)


def _prepare(
    *,
    agents: str | None,
    envs: str | None,
    seeds: str,
    episodes: int,
    suite: str | None,
    reward_recipe: str,
    workers: int,
    backend: str,
    max_steps: int | None,
    record_steps: bool,
    db: str,
    report: str | None,
) -> list[EpisodeJob]:
    """Every check of a bench request, and its jobs; nothing is written yet."""
    if report is not None:
        check_output(report, "--report")
        if output_format(report, None, "--report") != "html":
            raise ConfigError(f"--report writes an HTML page: name it .html, not {report}")
    if pathlib.Path(db).is_dir():
        raise ConfigError(f"--db {db} is a directory; give a file path such as {db}/results.sqlite")
    if suite:
        if agents or envs:
            raise ConfigError("give --suite, or --agents and --envs, not both")
        preset = get_suite(suite)
        pairs: list[tuple[str, str]] | None = list(preset.pairs)
        agent_list = list(dict.fromkeys(a for a, _ in preset.pairs))
        env_list = list(dict.fromkeys(e for _, e in preset.pairs))
        seed_list = list(parse_seeds(seeds)) if seeds != "0-9" else list(preset.seeds)
        episodes = episodes if episodes != 1 else preset.episodes
        max_steps = max_steps if max_steps is not None else preset.max_steps
    else:
        if not agents or not envs:
            raise ConfigError("give --agents and --envs, or a --suite (e.g. --suite quick)")
        pairs, agent_list, env_list = None, _split(agents), _split(envs)
        seed_list = parse_seeds(seeds)
    check_request(agent_list, env_list, recipe=reward_recipe, workers=workers, backend=backend)
    # the numbers first: identities may read model files or ask a server
    plan(agent_list, env_list, seed_list, episodes=episodes, max_steps=max_steps, pairs=pairs)
    identities = {a: agent_identity(a) for a in agent_list}
    return plan(
        agent_list,
        env_list,
        seed_list,
        episodes=episodes,
        recipe=reward_recipe,
        max_steps=max_steps,
        pairs=pairs,
        record_steps=record_steps,
        identities=identities,
    )


def _pending(jobs: list[EpisodeJob], db: str) -> list[EpisodeJob]:
    """The jobs not yet stored in ``db`` (all of them when it does not exist yet)."""
    path = pathlib.Path(db)
    if not path.is_file() or path.stat().st_size == 0:
        return jobs
    with ResultsStore(path, readonly=True) as store:
        done = store.done_keys()
    return [j for j in jobs if j.key not in done]


def bench(
    agents: str = typer.Option(None, help="Comma list of agent specs, e.g. random,code-oracle."),
    envs: str = typer.Option(None, help="Comma list of env ids, e.g. rewardgym/CodeExec-v0."),
    seeds: str = typer.Option("0-9", help="Env seeds (one task instance each): '0-9', '0,3,5-7'."),
    episodes: int = typer.Option(1, help="Samples per (agent, env, seed); >1 enables pass@k."),
    samples: int = typer.Option(
        None,
        help="Draw N >= 2 samples per task for the test-time selection track (the same as "
        "--episodes N): the report's 'Test-time selection' table gives each selector's accuracy.",
    ),
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
        help="Also store every step (action, reward, components, weights) for audits and the "
        "page's episode viewer; the default stores episode summaries, which is all scoring "
        "needs.",
    ),
    report: str = typer.Option(
        None, help="After the run, print the table and write this HTML report."
    ),
    check: bool = typer.Option(
        True,
        "--check/--no-check",
        help="Before the run, build each (agent, env) pair and play one step, so that a pair "
        "that cannot work fails at once.",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
) -> None:
    """Run agents x envs x seeds, storing every episode; re-running skips stored episodes.

    Everything is checked before any episode runs and before the database is created:
    agent names, env ids, the recipe, the numbers, the output paths, and (--check) that each
    agent can play each env.
    """
    if verbose:
        logging.basicConfig(level=logging.INFO)
    try:
        if samples is not None:
            if samples < 2 or episodes not in (1, samples):
                raise ConfigError(
                    f"--samples must be >= 2 (got {samples}) and agree with --episodes "
                    f"(got {episodes}); --samples N is --episodes N for the selection track"
                )
            episodes = samples
        jobs = _prepare(
            agents=agents,
            envs=envs,
            seeds=seeds,
            episodes=episodes,
            suite=suite,
            reward_recipe=reward_recipe,
            workers=workers,
            backend=backend,
            max_steps=max_steps,
            record_steps=record_steps,
            db=db,
            report=report,
        )
        if check:
            local = backend == "local" and workers == 1
            with console.status("checking that each agent can play each env"):
                probe_pairs(_pending(jobs, db), keep=local)
        store = ResultsStore(db)
    except RewardGymError as exc:
        close_actors()
        raise _fail(exc) from None
    if store.created_folder is not None:
        console.print(f"created the folder {store.created_folder} for the new database {db}")

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
            raise _fail(exc) from None
    console.print(
        f"planned {summary.planned}, skipped {summary.skipped}, ran {summary.ran}, "
        f"stored {summary.stored}, failed {len(summary.failed)} in {summary.wall_s:.1f}s -> {db}"
    )
    renamed = {j.agent: j.agent_key for j in jobs if j.agent_key and j.agent_key != j.agent}
    for spec, key in renamed.items():
        console.print(f"agent {spec} is stored as {key}")
    for job, error in summary.failed[:20]:
        err_console.print(f"[red]failed[/] {job.agent} on {job.env_id} seed {job.seed}: {error}")
    if report is not None:
        try:
            _write_report(db, pathlib.Path(report), "html", jobs[0].recipe)
        except RewardGymError as exc:
            raise _fail(exc) from None
    if summary.failed:
        raise typer.Exit(1)


def leaderboard(
    db: str = typer.Option("runs/results.sqlite", help="Results database written by bench."),
    out: str = typer.Option("runs/leaderboard.html", help="Output file (.html, .md, .json, .csv)."),
    format: str = typer.Option(
        None, "--format", help=f"One of {', '.join(FORMATS)} (default: from --out's suffix)."
    ),
    recipe: str = typer.Option("", help="Score the runs made under this reward recipe."),
) -> None:
    """Score the stored episodes: print a table and write an HTML/Markdown/JSON/CSV report.

    The database is opened read-only, so results on a read-only mount can be scored.
    """
    out_path = pathlib.Path(out)
    try:
        check_output(out)
        fmt = output_format(out, format)
        if pathlib.Path(db).is_dir():
            raise ConfigError(f"--db {db} is a directory; give the results file bench wrote")
        if not pathlib.Path(db).is_file():
            raise RewardGymError(f"no results database at {db}; run `rewardgym bench` first")
        _write_report(db, out_path, fmt, "" if recipe == "none" else recipe)
    except RewardGymError as exc:
        raise _fail(exc) from None


def register(app: typer.Typer) -> None:
    """Attach ``bench`` and ``leaderboard`` to the ``rewardgym`` CLI."""
    app.command("bench")(bench)
    app.command("leaderboard")(leaderboard)
