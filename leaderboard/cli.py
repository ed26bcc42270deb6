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


@app.command("agents")
def list_agents() -> None:
    """List the agent names `bench --agents` accepts, how to spell them, and what they are."""
    from rewardgym.agents.registry import describe_agents

    table = Table(title="rewardgym agents")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("spell it")
    table.add_column("what it is", ratio=1)
    infos = describe_agents()
    for info in infos:
        table.add_row(info.name, info.usage, info.description or "-")
    console.print(table)
    console.print(
        f"{len(infos)} agent names. Agents built from files or servers (ppo, llm-local, "
        "llm-openai) are stored under their model's identity (docs/leaderboard.md)."
    )


@app.command("recipes")
def list_recipes() -> None:
    """List the reward recipes `bench --reward-recipe` and `train ppo --shaping` accept."""
    from rewardgym.shaping.config import RECIPE_TRANSFORMS, RECIPES

    def call(item: dict) -> str:
        return (
            item["name"]
            + "("
            + ", ".join(f"{k}={v!r}" for k, v in item.items() if k != "name")
            + ")"
        )

    table = Table(title="rewardgym reward recipes")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("wrappers (innermost first)", ratio=1)
    table.add_column("group transform (GRPO trainers)", ratio=1)
    for name in sorted(RECIPES):
        stack = " -> ".join(call(item) for item in RECIPES[name]) or "(the env's own reward)"
        transform = RECIPE_TRANSFORMS.get(name)
        table.add_row(name, stack, call(transform) if transform else "-")
    console.print(table)
    console.print(
        f"{len(RECIPES)} recipes; a path to a YAML file with a wrapper list works too "
        "(docs/shaping.md). Recipes change what a learner sees, never the leaderboard score."
    )


from rewardgym.leaderboard import cli_bench  # noqa: E402 - attached after the app exists

cli_bench.register(app)

from rewardgym.leaderboard import cli_grpo, cli_train  # noqa: E402

app.add_typer(cli_train.app, name="train")
cli_train.app.command("grpo")(cli_grpo.grpo)

from rewardgym.leaderboard import cli_gui  # noqa: E402

app.add_typer(cli_gui.app, name="gui")

from rewardgym.leaderboard import cli_social  # noqa: E402

app.add_typer(cli_social.app, name="league")


def main() -> None:
    """Entry point of the ``rewardgym`` console script."""
    app()


if __name__ == "__main__":
    main()
