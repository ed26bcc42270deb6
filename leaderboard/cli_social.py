"""``rewardgym league``: the social deduction league (role-balanced matchups, openskill ratings)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from rewardgym.errors import RewardGymError
from rewardgym.seeding import parse_seeds

app = typer.Typer(
    help="Social deduction league: role-balanced games between agents, win rates, ratings.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True, soft_wrap=True)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(2)


def _show(db: str, env_id: str | None) -> None:
    from rewardgym.leaderboard.social_board import SocialBoard, role_table

    with SocialBoard(db) as board:
        games = board.games(env_id)
        ratings = board.ratings(env_id)
    if not games:
        console.print(f"{db} holds no social deduction games; run `rewardgym league run` first")
        return
    table = Table(title=f"win rate per role ({len(games)} games)")
    for col in ("agent", "role", "games", "win rate", "95% CI", "speaking reward"):
        table.add_column(col)
    for r in role_table(games):
        table.add_row(
            r["agent"],
            r["role"],
            str(r["games"]),
            f"{r['win_rate']:.3f}",
            f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
            f"{r['speaking_reward']:+.4f}",
        )
    console.print(table)
    if ratings:
        rt = Table(title="openskill ratings (ordinal = mu - 3 sigma)")
        for col in ("league", "agent", "mu", "sigma", "ordinal", "games"):
            rt.add_column(col)
        for r in ratings:
            rt.add_row(
                r["league"],
                r["agent"],
                f"{r['mu']:.2f}",
                f"{r['sigma']:.2f}",
                f"{r['ordinal']:.2f}",
                str(r["games"]),
            )
        console.print(rt)


@app.command("run")
def run(
    agents: str = typer.Option(
        "bayes-listener,honest-reporter,task-crew,lying-imposter,social-random",
        help="Comma list of agent names; every ordered pair plays (each agent in each role).",
    ),
    env: str = typer.Option("rewardgym/SocialDeduction-v0", help="A social deduction env id."),
    seeds: str = typer.Option("0-19", help="Game seeds per matchup: '0-19', '0,3,5-7'."),
    db: str = typer.Option("runs/results.sqlite", help="The bench's results database."),
) -> None:
    """Play the missing matchups, store them, rate the league and show the tables."""
    from rewardgym.leaderboard.social_board import matchups, run_league

    try:
        names = [a.strip() for a in agents.split(",") if a.strip()]
        seed_list = parse_seeds(seeds)
        total = len(matchups(env, names, seed_list))
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"{env}: {total} matchups", total=total)
            from rewardgym.leaderboard.social_board import SocialBoard

            with SocialBoard(db) as board:
                done_before = len(board.done_keys())
                run_league(
                    board,
                    env,
                    names,
                    seed_list,
                    progress=lambda i, n: bar.update(task, completed=total - n + i),
                )
                console.print(
                    f"{len(board.done_keys()) - done_before} new games stored in {db}",
                    highlight=False,
                )
    except RewardGymError as exc:
        raise _fail(str(exc)) from None
    _show(db, env)


@app.command("show")
def show(
    db: str = typer.Option("runs/results.sqlite", help="The bench's results database."),
    env: str = typer.Option(None, help="Only this env id."),
) -> None:
    """Show win rates per role, speaking rewards and ratings stored in DB."""
    try:
        _show(db, env)
    except RewardGymError as exc:
        raise _fail(str(exc)) from None
