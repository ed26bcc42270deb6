"""``rewardgym sandbox``: run a file in a sandbox, and check which backends work here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rewardgym.sandbox import BACKENDS, Limits, make

app = typer.Typer(help="Run untrusted code in a sandbox; check which backends work here.")
console = Console()


@app.command("run")
def run(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Python file to run.")],
    backend: str = typer.Option("process", help=f"One of: {', '.join(BACKENDS)}."),
    timeout: float = typer.Option(10.0, help="Wall-clock limit in seconds."),
    memory_mb: int = typer.Option(512, help="Memory limit in MB."),
) -> None:
    """Run FILE in a sandbox and print its output and verdict."""
    limits = Limits(wall_s=timeout, cpu_s=timeout, memory_mb=memory_mb)
    with make(backend, limits=limits) as box:
        result = box.run(file.read_text())
    console.print(result.stdout, end="", markup=False, highlight=False)
    if result.stderr:
        console.print(result.stderr, end="", style="red", markup=False, highlight=False)
    console.print(
        f"[bold]{backend}[/]: exit={result.exit_code} signal={result.signal} "
        f"timed_out={result.timed_out} memory_exceeded={result.memory_exceeded} "
        f"truncated={result.truncated} wall={result.wall_s * 1000:.1f} ms"
    )
    raise typer.Exit(0 if result.ok else 1)


@app.command("doctor")
def doctor() -> None:
    """Say which sandbox backends work on this machine, and why not."""
    table = Table(title="rewardgym sandbox backends")
    table.add_column("backend", style="bold")
    table.add_column("works")
    table.add_column("details")
    for kind in BACKENDS:
        try:
            with make(kind) as box:
                result = box.run("print(6 * 7)")
                ok = result.stdout == "42\n"
                detail = getattr(box, "features", None) or f"{result.wall_s * 1000:.1f} ms"
                table.add_row(kind, "[green]yes[/]" if ok else "[red]no[/]", str(detail))
        except Exception as exc:
            table.add_row(kind, "[red]no[/]", f"{type(exc).__name__}: {exc}")
    console.print(table)
