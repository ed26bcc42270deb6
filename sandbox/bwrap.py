"""The ``bwrap`` backend: programs in a bubblewrap container.

By default (as root) each sandbox starts ONE long-lived container: ``bwrap`` with new pid,
network, mount, ipc, uts and cgroup namespaces, an empty tmpfs root with ``/usr`` (and the Python
installation) bound read-only, their ``site-packages``/``dist-packages`` and task-data dirs covered
by empty tmpfs mounts, a read-only ``/tmp``, and ``/proc`` mounted with ``hidepid=2``. Inside it
runs the process backend's fork-server (:mod:`rewardgym.sandbox._forkserver`) as pid 1, with its
own namespace set-up turned off; each run is a forked child with its own unprivileged uid,
rlimits, seccomp filter and private work dir (``/work/run-N``, mode 0700), so a run pays a fork
instead of a bwrap + interpreter start (:class:`BwrapSandbox`).

Without root, or with ``warm=False``, every program gets its own container instead
(:class:`ColdBwrapSandbox`): ``bwrap --unshare-all`` runs as a per-run unprivileged uid with
rlimits set, the seccomp filter is passed in as BPF, and killing ``bwrap`` (``--die-with-parent``)
tears down the whole pid namespace.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rewardgym.errors import SandboxUnavailable
from rewardgym.sandbox import _guest, hidden
from rewardgym.sandbox.base import (
    CandidateDied,
    ExecResult,
    Files,
    Limits,
    Sandbox,
    Session,
    validate_files,
)
from rewardgym.sandbox.channel import (
    FdChannel,
    collect_output,
    describe_channel_error,
    describe_exit,
    make_result,
)
from rewardgym.sandbox.process import ProcessSandbox, seccomp_filter_bpf

GUEST_SOURCE = Path(_guest.__file__).read_text()


def bwrap_problem() -> str | None:
    """Why bubblewrap cannot run here, or None when it works."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    try:
        proc = subprocess.run(
            [exe, "--unshare-all", "--ro-bind", "/", "/", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start: {exc}"
    if proc.returncode != 0:
        return f"bwrap cannot create namespaces: {proc.stderr.decode(errors='replace').strip()}"
    return None


class ColdBwrapSandbox(Sandbox):
    """Bubblewrap sandbox with a fresh container for each program (~10 ms a run).

    Args:
        limits: default limits of every run.
        uid_base: first of ``n_uids`` unprivileged uids (one per concurrent run).
        n_uids: how many runs may be in flight at once.
        seccomp: pass the seccomp filter to bwrap (on by default).
        python: the interpreter inside (default: /usr/bin/python3, else this Python).
    """

    kind = "bwrap"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        uid_base: int = 62000,
        n_uids: int = 64,
        seccomp: bool = True,
        python: str | None = None,
    ) -> None:
        super().__init__(limits)
        problem = bwrap_problem()
        if problem:
            raise SandboxUnavailable(f"{problem}; use kind='process' instead")
        self._bwrap = shutil.which("bwrap")
        self._bpf = seccomp_filter_bpf() if seccomp else b""
        self._root = tempfile.mkdtemp(prefix="rewardgym-bwrap-")
        os.chmod(self._root, 0o711)
        self._guest_dir = os.path.join(self._root, "guest")
        os.mkdir(self._guest_dir, 0o755)
        self._guest = os.path.join(self._guest_dir, "guest.py")
        Path(self._guest).write_text(GUEST_SOURCE)
        os.chmod(self._guest, 0o644)
        self._uids = list(range(uid_base, uid_base + n_uids))
        self._uid_lock = threading.Lock()
        self._ids = itertools.count()
        self._live: set[subprocess.Popen] = set()
        # The guest code is stdlib-only: prefer the system Python under /usr, because bwrap runs
        # as an unprivileged uid that may not reach a Python under a private home (pyenv).
        system = python or shutil.which("python3", path="/usr/bin")
        if system:
            self._python, self._python_root = system, ""
        else:
            self._python = hidden.base_python()
            self._python_root = str(Path(sys.base_prefix).resolve())
        self._prlimit = shutil.which("prlimit")
        self._setpriv = shutil.which("setpriv")
        self._guest_entry = "/sandbox/guest.py"
        if self._compile_guest():  # a .pyc spares every session compiling the guest source
            self._guest_entry = "/sandbox/guest.pyc"
        # Only /usr (and the Python root) are bound: cover the package and task-data dirs that
        # lie inside them, so programs get the standard library and no task data.
        roots = ["/usr", *([self._python_root] if self._python_root else [])]
        self._hidden = [
            p
            for p in dict.fromkeys([*hidden.package_dirs(), *hidden.task_data_paths()])
            if any(p == r or p.startswith(r + "/") for r in roots)
        ]

    def _drop_argv(self, limits: dict[str, Any], uid: int) -> list[str]:
        """``prlimit ... setpriv ... --``: the rlimits of :func:`_guest.apply_limits`, then the
        unprivileged uid, applied by exec'd helpers (util-linux)."""
        cpu = int(limits["cpu_s"] + 0.999)
        return [
            self._prlimit, f"--cpu={cpu}:{cpu + 1}", f"--as={limits['memory_mb'] << 20}",
            f"--fsize={limits['max_file_bytes']}", f"--nofile={limits['max_open_files']}",
            f"--nproc={limits['max_processes']}", "--core=0",
            self._setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--",
        ]  # fmt: skip

    def _compile_guest(self) -> bool:
        """Byte-compile the guest with the interpreter that runs it; False if that fails."""
        target = os.path.join(self._guest_dir, "guest.pyc")
        code = "import py_compile, sys; py_compile.compile(sys.argv[1], sys.argv[2], doraise=True)"
        try:
            done = subprocess.run(
                [self._python, "-I", "-S", "-c", code, self._guest, target],
                capture_output=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        if done.returncode != 0 or not os.path.isfile(target):
            return False
        os.chmod(target, 0o644)
        return True

    def _argv(self, workdir: str, seccomp_fd: int | None, tail: Sequence[str]) -> list[str]:
        argv = [
            self._bwrap, "--unshare-all", "--die-with-parent", "--new-session",
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
            *(["--ro-bind", self._python_root, self._python_root] if self._python_root else []),
            *[arg for path in self._hidden for arg in ("--tmpfs", path, "--remount-ro", path)],
            "--ro-bind", self._guest_dir, "/sandbox",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--bind", workdir, "/work", "--chdir", "/work", "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
            "--setenv", "HOME", "/work", "--setenv", "TMPDIR", "/work",
        ]  # fmt: skip
        if seccomp_fd is not None:
            argv += ["--seccomp", str(seccomp_fd)]
        return [*argv, "--", self._python, "-I", "-S", *tail]

    def _start(
        self, limits: Limits, files: dict[str, bytes], tail: Sequence[str], **popen: Any
    ) -> tuple[subprocess.Popen, str, int]:
        self._check_open()
        with self._uid_lock:
            if not self._uids:
                raise SandboxUnavailable("too many concurrent bwrap runs; raise n_uids")
            uid = self._uids.pop(0)
        workdir = os.path.join(self._root, f"run-{next(self._ids)}")
        os.mkdir(workdir, 0o700)
        for name, content in files.items():
            path = os.path.join(workdir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Path(path).write_bytes(content)
        for root, dirs, names in os.walk(workdir):
            for name in [*dirs, *names]:
                os.lchown(os.path.join(root, name), uid, uid)
        os.chown(workdir, uid, uid)
        seccomp_fd = None
        if self._bpf:
            seccomp_fd = os.memfd_create("rewardgym-seccomp", 0)
            os.write(seccomp_fd, self._bpf)
            os.lseek(seccomp_fd, 0, os.SEEK_SET)
        limit_dict = limits.model_dump()
        root = os.geteuid() == 0
        argv = self._argv(workdir, seccomp_fd, tail)
        try:
            if root and self._prlimit and self._setpriv:
                # prlimit + setpriv exec'd in front of bwrap: no preexec_fn and no uid change
                # in Popen, so Python can vfork() instead of copying this (big) process
                proc = subprocess.Popen(
                    [*self._drop_argv(limit_dict, uid), *argv],
                    pass_fds=[seccomp_fd] if seccomp_fd is not None else [],
                    env={},
                    cwd="/",
                    **popen,
                )
            else:
                proc = subprocess.Popen(
                    argv,
                    pass_fds=[seccomp_fd] if seccomp_fd is not None else [],
                    user=uid if root else None,
                    group=uid if root else None,
                    extra_groups=[] if root else None,
                    preexec_fn=lambda: _guest.apply_limits(limit_dict),
                    env={},
                    cwd="/",
                    **popen,
                )
        except BaseException:
            self._release(uid, workdir)
            raise
        finally:
            if seccomp_fd is not None:
                os.close(seccomp_fd)
        self._live.add(proc)
        return proc, workdir, uid

    def _release(self, uid: int, workdir: str) -> None:
        shutil.rmtree(workdir, ignore_errors=True)
        with self._uid_lock:
            self._uids.append(uid)

    def _reap(self, proc: subprocess.Popen, uid: int, workdir: str) -> dict[str, Any]:
        usage = None
        try:  # Popen.kill() polls first and may have reaped it already (then returncode is set)
            if proc.returncode is None:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid == 0:
                    os.kill(proc.pid, signal.SIGKILL)  # not proc.kill(): that may reap it
                    _pid, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            if proc.returncode is None:
                proc.wait()
        self._live.discard(proc)
        self._release(uid, workdir)
        code = proc.returncode
        return {
            "exit_code": code if code >= 0 else None,
            "signal": -code if code < 0 else None,
            "cpu_s": (usage.ru_utime + usage.ru_stime) if usage else 0.0,
            "maxrss_kb": usage.ru_maxrss if usage else 0,
        }

    def run(
        self,
        program: str,
        *,
        stdin: str | bytes | None = None,
        files: Files | None = None,
        limits: Limits | None = None,
    ) -> ExecResult:
        """See :meth:`Sandbox.run`."""
        lim = self._limits(limits)
        content = validate_files(files)
        start = time.monotonic()
        proc, workdir, uid = self._start(
            lim, content, ["-c", program],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        fds = [os.dup(f.fileno()) for f in (proc.stdin, proc.stdout, proc.stderr)]
        for f in (proc.stdin, proc.stdout, proc.stderr):
            f.close()
        out, err, truncated, timed_out = collect_output(
            {fds[1]: "out", fds[2]: "err"}, fds[0], data, start + lim.wall_s,
            lim.max_output_bytes, on_timeout=proc.kill,
        )  # fmt: skip
        status = self._reap(proc, uid, workdir)
        return make_result(
            out, err, truncated, timed_out, status, time.monotonic() - start, lim, self.kind
        )

    def open_session(self, program: str, entry_point: str, limits: Limits | None = None) -> Session:
        """See :meth:`Sandbox.open_session`."""
        return _PopenSession(self, program, entry_point, self._limits(limits))

    def _shutdown(self) -> None:
        for proc in list(self._live):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(self._root, ignore_errors=True)


class _PopenSession(Session):
    """A candidate server in a bwrap container, talking over its stdin/stdout."""

    def __init__(
        self, box: ColdBwrapSandbox, program: str, entry_point: str, limits: Limits
    ) -> None:
        self.box, self.limits, self.closed = box, limits, False
        self.proc, self.workdir, self.uid = box._start(
            limits, {}, [box._guest_entry, "serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.channel = FdChannel(
            os.dup(self.proc.stdout.fileno()), os.dup(self.proc.stdin.fileno()),
            limits.max_frame_bytes, limits.max_values,
        )  # fmt: skip
        self.proc.stdout.close()
        self.proc.stdin.close()
        setup = {"program": program, "entry_point": entry_point, "limits": limits.model_dump()}
        self._await_loaded(self.channel, limits, self._death, {**setup, "workdir": "/work"})

    def _death(self, exc: BaseException) -> str:
        status = self._stop()  # kills the container if it still runs
        if isinstance(exc, (TimeoutError, _guest.FrameError)):
            return describe_channel_error(exc)
        return describe(status)

    def _stop(self) -> Mapping[str, Any]:
        if self.closed:
            return {}
        self.closed = True
        self.channel.close()
        return self.box._reap(self.proc, self.uid, self.workdir)

    def call(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], timeout: float
    ) -> dict[str, Any]:
        if self.closed:
            raise CandidateDied("the candidate process is not running")
        try:
            self.channel.send(
                {"args": _guest.encode(tuple(args)), "kwargs": _guest.encode(dict(kwargs))}
            )
            answer = self.channel.recv(timeout)
        except (TimeoutError, EOFError, OSError) as exc:  # EOFError includes FrameError
            raise CandidateDied(self._death(exc)) from None
        except BaseException:
            self._stop()
            raise
        self._collect(answer, self.limits.max_output_bytes)
        return answer

    def close(self) -> None:
        self._stop()


def describe(status: Mapping[str, Any]) -> str:
    """Say in words how a candidate process ended."""
    return describe_exit(status)


#: what the fork-server needs inside the container: switch to run uids, hand them their work
#: dirs, remove them afterwards, and mount ``/proc`` with ``hidepid``; every child drops them all.
_SERVER_CAPS = (
    "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SYS_ADMIN",
)  # fmt: skip


class BwrapSandbox(ProcessSandbox):
    """Warm bubblewrap sandbox: one container per sandbox, one forked child per run (needs root).

    The container is made once; inside it the fork-server of the process backend forks each run
    (see the module docstring), so runs sharing the container are kept apart by uid: each has its
    own uid, rlimits (RLIMIT_NPROC binds per uid), a 0700 work dir, and sees only its own
    processes (``hidepid=2``). ``close()`` ends the fork-server (pid 1 of the container), which
    takes every process and mount of the container with it, and removes the host temp dir.

    Args:
        limits: default limits of every run.
        uid_base: first of ``n_uids`` unprivileged uids (default: a random block above 200000).
        n_uids: how many runs may be in flight at once.
        seccomp: install the seccomp filter in every child (on by default).
        python: the interpreter inside (default: /usr/bin/python3, else the base Python).
    """

    kind = "bwrap"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        uid_base: int | None = None,
        n_uids: int = 64,
        seccomp: bool = True,
        python: str | None = None,
    ) -> None:
        Sandbox.__init__(self, limits)
        problem = bwrap_problem()
        if problem:
            raise SandboxUnavailable(f"{problem}; use kind='process' instead")
        if os.geteuid() != 0:
            raise SandboxUnavailable(
                "a warm bwrap sandbox needs root (to give each run its own uid); "
                "use make('bwrap', warm=False) for one container per run"
            )
        if uid_base is None:
            uid_base = 200_000 + n_uids * secrets.randbelow(4096)
        self._ids = itertools.count(1)
        self._waiters = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._workroot = tempfile.mkdtemp(prefix="rewardgym-bwrap-")
        os.chmod(self._workroot, 0o711)
        server_dir = os.path.join(self._workroot, "server")
        work = os.path.join(self._workroot, "work")
        os.mkdir(server_dir, 0o755)
        os.mkdir(work, 0o711)
        here = Path(__file__).parent
        for name in ("_forkserver.py", "_guest.py"):
            shutil.copyfile(here / name, os.path.join(server_dir, name))
            os.chmod(os.path.join(server_dir, name), 0o644)
        system = python or shutil.which("python3", path="/usr/bin")
        python_root = ""
        if not system:
            system, python_root = hidden.base_python(), str(Path(sys.base_prefix).resolve())
        roots = ["/usr", *([python_root] if python_root else [])]
        covered = [
            p
            for p in dict.fromkeys([*hidden.package_dirs(), *hidden.task_data_paths()])
            if any(p == r or p.startswith(r + "/") for r in roots)
        ]
        host, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        config = {
            "container": True,
            "hidepid": True,
            "uid_base": uid_base,
            "n_uids": n_uids,
            "seccomp_bpf": seccomp_filter_bpf().hex() if seccomp else "",
            "sys_path": [],
            "workroot": "/work",
        }
        argv = [
            shutil.which("bwrap"),
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--as-pid-1",
            *[arg for cap in _SERVER_CAPS for arg in ("--cap-add", cap)],
            "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib",
            "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin",
            *(["--ro-bind", python_root, python_root] if python_root else []),
            *[arg for path in covered for arg in ("--tmpfs", path, "--remount-ro", path)],
            "--ro-bind", server_dir, "/sandbox",
            "--proc", "/proc", "--dev", "/dev", "--perms", "0755", "--tmpfs", "/tmp",
            "--bind", work, "/work", "--chdir", "/", "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
            "--", system, "-I", "-S", "/sandbox/_forkserver.py", str(child.fileno()),
            json.dumps(config),
        ]  # fmt: skip
        try:
            self._launch(argv, host, child)
        except BaseException:
            shutil.rmtree(self._workroot, ignore_errors=True)
            raise


def make_bwrap(*, warm: bool | None = None, **opts: Any) -> Sandbox:
    """Build a bwrap sandbox: warm (:class:`BwrapSandbox`) where it can run (root), else one
    container per run (:class:`ColdBwrapSandbox`).

    Args:
        warm: True: warm or raise; False: one container per run; None (default): warm as root.
        **opts: the options of the chosen class.
    """
    if warm is None:
        warm = os.geteuid() == 0
    return BwrapSandbox(**opts) if warm else ColdBwrapSandbox(**opts)
