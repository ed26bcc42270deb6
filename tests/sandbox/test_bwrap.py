"""The warm bwrap backend: runs sharing one container stay apart; ``close()`` leaves nothing.

Skipped where bubblewrap cannot run, and (warm container) where we are not root.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from proc_tree import (  # tests/sandbox/proc_tree.py
    alive,
    in_mount_namespace,
    start_busy_run,
    wait_for_descendants,
)

from rewardgym.sandbox import Limits, make
from rewardgym.sandbox.bwrap import bwrap_problem
from rewardgym.sandbox.grading import TestCase, grade

pytestmark = pytest.mark.skipif(bwrap_problem() is not None, reason=str(bwrap_problem()))
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="a warm bwrap container needs root")

VICTIM = """
import os
open("secret.txt", "w").write("victim data")
os.makedirs("sub", exist_ok=True)
def who():
    return [os.getpid(), os.getcwd(), sorted(os.listdir("."))]
"""

SNOOP = """
import os, signal, sys
victim_pid, victim_dir = int(sys.argv_pid), sys.argv_dir
found = []
for path in ["/work", victim_dir, victim_dir + "/sub"]:
    try:
        found.append(("list", path, os.listdir(path)))
    except OSError:
        pass
try:
    found.append(("read", open(victim_dir + "/secret.txt").read()))
except OSError:
    pass
me = str(os.getpid())
found += [("proc", p) for p in os.listdir("/proc") if p.isdigit() and p != me]
for sig in (0, signal.SIGSTOP, signal.SIGKILL):
    try:
        os.kill(victim_pid, sig)
        found.append(("signal", sig))
    except OSError:
        pass
for sig in (signal.SIGSTOP, signal.SIGKILL):  # "success" only says some process exists
    try:
        os.kill(-1, sig)
    except OSError:
        pass
print(found)
"""


@needs_root
def test_runs_sharing_the_container_cannot_see_or_signal_each_other():
    with make("bwrap", limits=Limits(wall_s=10, cpu_s=10)) as box:
        assert box.features.get("container")
        with box.open_session(VICTIM, "who") as victim:
            assert victim.load_error is None, victim.load_error
            pid, workdir, names = victim.call((), {}, 5.0)["value"]
            assert names == ["secret.txt", "sub"]
            snoop = SNOOP.replace("sys.argv_pid", repr(pid)).replace("sys.argv_dir", repr(workdir))
            result = box.run(snoop)
            assert result.ok, result
            # /work itself may be listed only as "permission denied": nothing is found
            assert result.stdout.strip() == "[]", result.stdout
            # the victim is alive, unstopped and its files are untouched
            again = victim.call((), {}, 5.0)
            assert again.get("ok") is True and again["value"] == [pid, workdir, names]


@needs_root
def test_each_run_has_its_own_uid_and_work_dir_and_no_capabilities():
    probe = (
        "import os\nstatus = open('/proc/self/status').read()\n"
        "caps = ''.join(status.split(k)[1].split()[0] for k in ('CapInh:', 'CapPrm:', 'CapEff:'))\n"
        "print(os.getuid(), os.getcwd(), caps, sorted(os.listdir('.')))"
    )
    with make("bwrap") as box:
        results = box.run_many([probe] * 4)
    fields = [r.stdout.strip().split(maxsplit=3) for r in results]
    assert all(r.ok for r in results), results
    assert all(int(uid) >= 60000 for uid, *_ in fields)
    assert len({cwd for _, cwd, *_ in fields}) == 4  # a private work dir each
    assert [(caps, rest) for _, _, caps, rest in fields] == [("0" * 48, "[]")] * 4


@needs_root
def test_close_stops_the_container_and_removes_everything():
    box = make("bwrap", limits=Limits(wall_s=60, cpu_s=60))
    session = box.open_session("import time\ndef nap(s):\n    time.sleep(s)", "nap")
    runner = start_busy_run(box)  # with an escaped child, still running at close()
    outer = box._proc.pid  # the bwrap process on the host
    # pid 1 (the fork-server), the session, the run and its child
    family = wait_for_descendants(outer, 4)
    assert len(family) >= 4, family
    pid1 = min(family)
    ns = os.readlink(f"/proc/{pid1}/ns/mnt")
    assert ns != os.readlink("/proc/self/ns/mnt")
    assert os.readlink(f"/proc/{pid1}/ns/pid") != os.readlink("/proc/self/ns/pid")
    root = Path(box._workroot)
    assert root.is_dir()

    box.close()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert [p for p in {outer, *family} if alive(p)] == []
    # nobody is left in the container, so its mounts are gone too
    assert in_mount_namespace(ns) == []
    assert not root.exists()
    session.close()
    box.close()  # idempotent


def test_one_container_per_run_still_works():
    with make("bwrap", warm=False, limits=Limits(wall_s=5)) as box:
        assert box.run("print(input()[::-1])", stdin="abc\n").stdout == "cba\n"
        report = grade(
            "def add(a, b):\n    return a + b",
            "add",
            [TestCase("add#1", "assert candidate(2, 3) == 5")],
            sandbox=box,
        )
        assert report.all_passed, report
