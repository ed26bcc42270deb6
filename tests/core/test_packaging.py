"""The built wheel holds every module of every layer, and each imports from it."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

import rewardgym

REPO = pathlib.Path(__file__).resolve().parents[2]


def _walk_and_import(python: str, env: dict[str, str] | None = None) -> list[str]:
    code = (
        "import importlib, pkgutil, rewardgym\n"
        "names = ['rewardgym']\n"
        "for m in pkgutil.walk_packages(rewardgym.__path__, 'rewardgym.'):\n"
        "    names.append(m.name)\n"
        "for sub in ('sandbox', 'envs', 'shaping', 'agents', 'leaderboard'):\n"
        "    mod = importlib.import_module('rewardgym.' + sub)\n"
        "    names.append(mod.__name__)\n"
        "    for m in pkgutil.walk_packages(mod.__path__, mod.__name__ + '.'):\n"
        "        names.append(m.name)\n"
        "for n in sorted(set(names)):\n"
        "    mod = importlib.import_module(n)\n"
        "    print(n, mod.__file__)\n"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, cwd="/")
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_every_module_imports_from_the_install():
    lines = _walk_and_import(sys.executable)
    names = {line.split()[0] for line in lines}
    for layer in ("sandbox", "envs", "shaping", "agents", "leaderboard"):
        assert f"rewardgym.{layer}" in names
    assert "rewardgym.envs.checker" in names
    assert "rewardgym.leaderboard.cli" in names


@pytest.mark.slow
def test_built_wheel_contains_every_module(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("rewardgym-*.whl"))
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    assert (target / "rewardgym" / "py.typed").exists()
    # Task data ships inside the package (the code env's bank sits in a plain data folder).
    assert (target / "rewardgym" / "envs" / "code" / "data" / "bank.jsonl").stat().st_size > 0
    # PYTHONPATH comes before the editable install's finder, so imports resolve in the wheel.
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    lines = _walk_and_import(sys.executable, env)
    from_wheel = [line for line in lines if str(target) in line]
    assert len(from_wheel) == len(lines), "some modules were not imported from the wheel"
    installed = {line.split()[0] for line in _walk_and_import(sys.executable)}
    assert {line.split()[0] for line in lines} == installed
    assert rewardgym.__version__ in wheel.name
