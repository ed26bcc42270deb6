"""Run every ``benchmarks/bench_*.py`` script in turn: ``python -m benchmarks [NAME ...]``."""

from __future__ import annotations

import pathlib
import runpy
import sys

HERE = pathlib.Path(__file__).parent


def main(argv: list[str]) -> None:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(name in s.stem for name in argv)]
    for script in scripts:
        print(f"== {script.stem} ==", flush=True)
        runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
