"""``rewardgym sandbox``: run a file in a sandbox, and check which backends work here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from rewardgym.errors import RewardGymError
from rewardgym.sandbox import BACKENDS, Limits, make

app = typer.Typer(help="Run untrusted code in a sandbox; check which backends work here.")
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

#: How ``doctor`` names each isolation feature a backend reports.
_FEATURE_NAMES = {
    "netns": "own network namespace (no network)",
    "pidns": "own PID namespace",
    "mountns": "own mount namespace",
    "container": "inside a container",
}


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(2)


@app.command("run")
def run(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Python file to run.")],
    backend: str = typer.Option("process", help=f"One of: {', '.join(BACKENDS)}."),
    timeout: float = typer.Option(10.0, help="Wall-clock limit in seconds."),
    memory_mb: int = typer.Option(512, help="Memory limit in MB."),
) -> None:
    """Run FILE in a sandbox and print its output and verdict."""
    if backend not in BACKENDS:
        raise _fail(f"unknown --backend {backend!r}; use one of {', '.join(BACKENDS)}")
    try:
        source = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(
            f"{file} is not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        limits = Limits(wall_s=timeout, cpu_s=timeout, memory_mb=memory_mb)
    except (ValueError, RewardGymError) as exc:
        raise _fail(f"bad limits: {exc}") from None
    try:
        with make(backend, limits=limits) as box:
            result = box.run(source)
    except RewardGymError as exc:
        raise _fail(
            f"the {backend} backend cannot run here: {exc} (`rewardgym sandbox doctor`)"
        ) from None
    console.print(result.stdout, end="", markup=False, highlight=False)
    if result.stderr:
        console.print(result.stderr, end="", style="red", markup=False, highlight=False)
    console.print(
        f"[bold]{backend}[/]: exit={result.exit_code} signal={result.signal} "
        f"timed_out={result.timed_out} memory_exceeded={result.memory_exceeded} "
        f"truncated={result.truncated} wall={result.wall_s * 1000:.1f} ms"
    )
    raise typer.Exit(0 if result.ok else 1)


def describe_features(features: dict[str, Any]) -> str:
    """A backend's isolation features as lines of text (``doctor`` prints them)."""
    lines = []
    for key, label in _FEATURE_NAMES.items():
        if key in features:
            lines.append(f"{label}: {'yes' if features[key] else 'no'}")
    hidden = features.get("hidden") or []
    if hidden:
        shown = ", ".join(hidden[:4]) + (f" and {len(hidden) - 4} more" if len(hidden) > 4 else "")
        lines.append(f"hides {len(hidden)} host paths: {shown}")
    for key, value in features.items():
        if key not in _FEATURE_NAMES and key != "hidden":
            lines.append(f"{key.replace('_', ' ')}: {value}")
    return "\n".join(lines)


@app.command("doctor")
def doctor() -> None:
    """Say which sandbox backends work on this machine, and why not."""
    table = Table(title="rewardgym sandbox backends", show_lines=True)
    table.add_column("backend", style="bold")
    table.add_column("works")
    table.add_column("details", ratio=1)
    for kind in BACKENDS:
        try:
            with make(kind) as box:
                result = box.run("print(6 * 7)")
                ok = result.stdout == "42\n"
                details = [f"print(6 * 7) ran in {result.wall_s * 1000:.1f} ms"]
                features = getattr(box, "features", None)
                if isinstance(features, dict):
                    details.append(describe_features(features))
                elif features:
                    details.append(str(features))
                if not ok:
                    details.insert(
                        0, f"unexpected output {result.stdout!r} {result.stderr[-200:]!r}"
                    )
                table.add_row(kind, "[green]yes[/]" if ok else "[red]no[/]", "\n".join(details))
        except Exception as exc:
            table.add_row(kind, "[red]no[/]", f"{type(exc).__name__}: {exc}")
    console.print(table)
