"""The ``rewardgym`` command line (typer + rich).

Sub-commands live beside this module (``cli_*.py``), one per feature, and are attached here.
Library code never prints; this module is where output to the terminal happens.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

import rewardgym
from rewardgym.leaderboard import cli_sandbox
from rewardgym.registry import ENTRIES, extra_available

app = typer.Typer(
    name="rewardgym",
    help="Agentic environments with decomposed, shaped and verifiable rewards.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
app.add_typer(cli_sandbox.app, name="sandbox")


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"rewardgym {rewardgym.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """rewardgym: agentic environments with rewards you can inspect, shape and trust."""


@app.command("list")
def list_envs(
    family: str | None = typer.Option(None, help="Only envs of this family (e.g. code, dungeon)."),
) -> None:
    """List every registered env id with its description and the extra it needs."""
    table = Table(title="rewardgym environments")
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("family")
    table.add_column("description", ratio=1)
    table.add_column("extra")
    shown = 0
    for entry in sorted(ENTRIES.values(), key=lambda e: (e.family, e.id)):
        if family and entry.family != family:
            continue
        ok = extra_available(entry.extra)
        table.add_row(
            entry.id,
            entry.family + (" (multi-agent)" if entry.multiagent else ""),
            entry.description,
            (entry.extra or "-") if ok else f"[yellow]{entry.extra} (not installed)[/]",
        )
        shown += 1
    console.print(table)
    console.print(f"{shown} environment ids")


from rewardgym.leaderboard import cli_bench  # noqa: E402 - attached after the app exists

cli_bench.register(app)

from rewardgym.leaderboard import cli_train  # noqa: E402

app.add_typer(cli_train.app, name="train")


def main() -> None:
    """Entry point of the ``rewardgym`` console script."""
    app()


if __name__ == "__main__":
    main()
