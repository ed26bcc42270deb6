"""``close()`` of the process backend leaves no process, temp dir or mount behind."""

from __future__ import annotations

import os
from pathlib import Path

from proc_tree import (  # tests/sandbox/proc_tree.py
    alive,
    in_mount_namespace,
    start_busy_run,
    wait_for_descendants,
)

from rewardgym.errors import SandboxError
from rewardgym.sandbox import Limits, make


def test_close_stops_everything_and_removes_everything():
    box = make("process", limits=Limits(wall_s=60, cpu_s=60))
    session = box.open_session("import time\ndef nap(s):\n    time.sleep(s)", "nap")
    runner = start_busy_run(box)  # still running when the sandbox closes
    server = box._proc.pid
    # pid 1, the session's child, the run and its escaped child
    family = wait_for_descendants(server, 4, tries=200)
    assert len(family) >= 4, family
    (pid1,) = map(int, Path(f"/proc/{server}/task/{server}/children").read_text().split())
    ns = os.readlink(f"/proc/{pid1}/ns/mnt")
    assert ns != os.readlink("/proc/self/ns/mnt")  # the sandbox has its own mount namespace
    workroot = Path(box._workroot)
    assert workroot.is_dir()

    box.close()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert [p for p in {server, *family} if alive(p)] == []
    assert in_mount_namespace(ns) == []  # nobody is left in it, so its mounts are gone too
    assert not workroot.exists()
    session.close()  # closing a session of a closed sandbox is harmless
    box.close()  # idempotent


def test_a_closed_sandbox_refuses_work():
    box = make("process")
    box.close()
    try:
        box.run("print(1)")
    except SandboxError as exc:
        assert "closed" in str(exc)
    else:
        raise AssertionError("run() on a closed sandbox must raise SandboxError")
