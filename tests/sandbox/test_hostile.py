"""The hostile-program battery, run against every backend available here.

Each program has an expected verdict, must finish within its wall limit + 1 s, and must leave the
host unchanged: no new processes, no new files in the watched directories.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from rewardgym.sandbox import Limits
from rewardgym.sandbox.grading import TestCase, grade

LIMITS = Limits(wall_s=2.0, cpu_s=2.0, memory_mb=256, max_processes=32, max_file_bytes=1 << 20,
                max_output_bytes=1 << 16)  # fmt: skip
PROJECT = Path(__file__).resolve().parents[2]
WATCHED = [Path("/tmp"), Path.home(), PROJECT, Path("/dev/shm")]
SECRET_ENV = "REWARDGYM_TEST_SECRET"


def _snapshot() -> tuple[set[int], set[str]]:
    pids = {int(p) for p in os.listdir("/proc") if p.isdigit()}
    files = {str(p) for d in WATCHED if d.exists() for p in d.iterdir()}
    return pids, files


HOSTILE = {
    "infinite_loop": ("while True: pass", lambda r: r.timed_out),
    "sleep_past_wall": ("import time; time.sleep(30)", lambda r: r.timed_out),
    "alloc_4gb": ("x = bytearray(4 * 1024**3)", lambda r: r.memory_exceeded and not r.ok),
    "fork_bomb": (
        "import os\nfor _ in range(300):\n    try:\n        os.fork()\n    except OSError:\n        pass\nimport time; time.sleep(30)",
        lambda r: not r.ok,
    ),
    "thread_storm": (
        "import threading, time\nts=[threading.Thread(target=time.sleep, args=(30,)) for _ in range(500)]\n"
        "[t.start() for t in ts]",
        lambda r: not r.ok,
    ),
    "stdout_100mb": (
        "import sys\nfor _ in range(100): sys.stdout.write('x' * 1024 * 1024)",
        lambda r: r.truncated and len(r.stdout) <= LIMITS.max_output_bytes,
    ),
    "disk_fill": ("open('big', 'wb').write(b'x' * (64 << 20))", lambda r: not r.ok),
    "write_outside": (
        "import os\nbad = []\nfor p in ['/tmp/rg-escape', os.path.expanduser('~/rg-escape'), "
        f"{str(PROJECT / 'rg-escape')!r}, '/root/rg-escape', '/dev/shm/rg-escape']:\n"
        "    try:\n        open(p, 'w').write('x')\n        bad.append(p)\n    except OSError:\n        pass\n"
        "print(bad)",
        lambda r: True,  # the host check below decides: none of these may appear on the host
    ),
    "read_secrets": (
        "import os\nleak = [k for k in os.environ if 'SECRET' in k]\n"
        "for p in ['/root/.ssh', '/root/.bashrc', "
        f"{str(PROJECT / 'pyproject.toml')!r}, '/etc/shadow']:\n"
        "    try:\n        open(p).read(); leak.append(p)\n    except OSError:\n        pass\nprint(leak)",
        lambda r: r.ok and r.stdout.strip() == "[]",
    ),
    "connect_loopback": (
        "import socket\ns = socket.socket(); s.settimeout(1); s.connect(('127.0.0.1', 22))",
        lambda r: not r.ok,
    ),
    "connect_external": (
        "import socket\ns = socket.socket(); s.settimeout(1); s.connect(('1.1.1.1', 80))",
        lambda r: not r.ok,
    ),
    "signal_parent": (
        "import os, signal\nfor pid in [os.getppid(), 1]:\n    try:\n        os.kill(pid, signal.SIGKILL)\n"
        "    except OSError:\n        pass\nprint('alive')",
        lambda r: True,  # the sandbox must survive and go on working (checked below)
    ),
    "zombies": (
        "import os\nfor _ in range(20):\n    if os.fork() == 0:\n        os._exit(0)\nprint('done')",
        lambda r: r.ok,
    ),
    "escape_session": (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint('parent done')",
        lambda r: r.ok,
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_program_is_contained(sandbox, name, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "hunter2")
    program, verdict = HOSTILE[name]
    pids_before, files_before = _snapshot()
    start = time.monotonic()
    result = sandbox.run(program)
    elapsed = time.monotonic() - start
    assert verdict(result), result
    assert elapsed <= LIMITS.wall_s + 1.0 + (1.0 if sandbox.kind == "docker" else 0.0), elapsed
    # the sandbox still works afterwards
    assert sandbox.run("print(6 * 7)").stdout == "42\n"
    time.sleep(0.05)
    pids_after, files_after = _snapshot()
    leftover = [p for p in pids_after - pids_before if Path(f"/proc/{p}").exists()]
    # the sandbox's own fork-server and its shim are not leftovers
    leftover = [p for p in leftover if b"_forkserver" not in _read_bytes(f"/proc/{p}/cmdline")]
    leftover = [p for p in leftover if _is_ours(p, sandbox)]
    assert leftover == []
    # other work on this machine may create files meanwhile: ours are named rg-escape or owned
    # by a sandbox uid (>= 60000)
    assert [f for f in files_after - files_before if _written_by_sandbox(f)] == []


def _written_by_sandbox(path: str) -> bool:
    try:
        owner = os.lstat(path).st_uid
    except OSError:
        return False
    return "rg-escape" in path or owner >= 60000


def _read_bytes(path: str) -> bytes:
    """A /proc file's bytes, or b"" once the process is gone (it may exit while we look)."""
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _is_ours(pid: int, sandbox) -> bool:
    """A process of this test's sandbox: a descendant of this test process (process, bwrap),
    or a process in one of this sandbox's containers other than its ``sleep infinity``
    (docker; other work on the machine may run containers of its own meanwhile)."""
    kind = sandbox.kind
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        cgroup = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    if "Z" in fields["State"]:
        return False if kind == "docker" else _descends_from_us(pid)
    if kind == "docker":
        in_ours = any(cid in cgroup for cid in getattr(sandbox, "_all", {}))
        return in_ours and not cmdline.startswith(b"sleep")
    return _descends_from_us(pid)


def _descends_from_us(pid: int) -> bool:
    me = os.getpid()
    while pid > 1:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        pid = int(next(x for x in status.splitlines() if x.startswith("PPid:")).split()[1])
        if pid == me:
            return True
    return False


TASK = TestCase("add#1", "assert candidate(2, 3) == 5")
TESTS = [TASK, TestCase("add#2", "assert candidate(-1, 1) == 0"),
         TestCase("add#3", "assert candidate(10, 5) == 15")]  # fmt: skip
CHEATS = {
    "exit0_at_load": "import sys\nsys.exit(0)\ndef add(a, b): return 0",
    "exit0_in_call": "def add(a, b):\n    raise SystemExit(0)",
    "os_exit_in_call": "import os\ndef add(a, b):\n    os._exit(0)",
    "always_equal": "class E:\n    def __eq__(self, o): return True\n    __hash__ = object.__hash__\n"
    "def add(a, b): return E()",
    "int_subclass": "class I(int):\n    def __eq__(self, o): return True\ndef add(a, b): return I(0)",
    "patch_builtins": "import builtins\nbuiltins.AssertionError = type('X', (BaseException,), {})\n"
    "def add(a, b): return 0",
    "patch_time": "import time\ntime.time = lambda: 0\ntime.perf_counter = lambda: 0\ndef add(a, b): return 0",
    "print_passed": "print('PASSED' * 3)\nimport sys; sys.stderr.write('OK 3 passed')\ndef add(a, b): return 0",
    "write_conftest": "open('conftest.py', 'w').write('def pytest_runtest_makereport(): pass')\n"
    "def add(a, b): return 0",
    "edit_tests": "import glob, os\nfor f in glob.glob('**/test*.py', recursive=True):\n    try:\n        os.remove(f)\n"
    "    except OSError:\n        pass\ndef add(a, b): return 0",
    "frame_introspection": "import sys\ndef add(a, b):\n    f = sys._getframe(1)\n    while f:\n"
    "        f.f_globals['AssertionError'] = Exception\n        f = f.f_back\n    return 0",
    "patch_unittest_pytest": "import unittest\nunittest.TestCase.assertEqual = lambda *a: None\n"
    "def add(a, b): return 0",
    # issue 12: hanging on every call costs one attempt cap, not tests x call limit
    "hang_every_call": "def add(a, b):\n    while True:\n        pass",
    "slow_load_then_hang": "import time\ntime.sleep(1.5)\ndef add(a, b):\n    time.sleep(60)",
    # returning None passes only where asserts vanish (python -O): tests keep them
    "return_none": "def add(a, b):\n    return None",
}
# More of the battery: answers forged into the channel (deep nesting, oversized frames,
# hash-colliding sets, ...) are in test_hardening.FORGED, run against every backend too.


def test_honest_solution_passes(sandbox):
    report = grade("def add(a, b):\n    return a + b", "add", TESTS, sandbox=sandbox)
    assert report.all_passed, report


@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheat_gets_failing_verdict(sandbox, name):
    start = time.monotonic()
    report = grade(
        CHEATS[name], "add", TESTS, sandbox=sandbox, call_timeout_s=2.0, attempt_timeout_s=8.0
    )
    assert not report.all_passed, report
    assert report.passed_fraction < 1.0
    assert time.monotonic() - start < 10.0
