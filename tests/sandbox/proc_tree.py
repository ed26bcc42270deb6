"""Process-tree helpers for the sandbox lifecycle tests (imported as ``proc_tree``)."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from rewardgym.errors import SandboxError
from rewardgym.sandbox import Sandbox


def descendants(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc's children lists)."""
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        for kid in map(int, kids):
            if kid not in out:
                out.add(kid)
                todo.append(kid)
    return out


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def in_mount_namespace(ns: str) -> list[int]:
    """Host pids whose mount namespace is ``ns`` (an ``mnt:[...]`` link)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/ns/mnt") == ns:
                    found.append(int(entry))
            except OSError:
                continue
    return found


def start_busy_run(box: Sandbox) -> threading.Thread:
    """Start, in a thread, a run whose child escapes with ``setsid`` and sleeps: what a
    sandbox's ``close()`` must stop. The run ends with a SandboxError when it is stopped."""

    def busy() -> None:
        with contextlib.suppress(SandboxError):
            box.run("import os, time\nif os.fork() == 0:\n    os.setsid()\ntime.sleep(60)")

    runner = threading.Thread(target=busy)
    runner.start()
    return runner


def wait_for_descendants(pid: int, count: int, tries: int = 300) -> set[int]:
    """The descendants of ``pid`` once there are at least ``count`` (or after ``tries``)."""
    family: set[int] = set()
    for _ in range(tries):
        family = descendants(pid)
        if len(family) >= count:
            break
        threading.Event().wait(0.01)
    return family
