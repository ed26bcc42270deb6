"""The ``process`` backend: a warm fork-server, one forked, contained child per program.

The fork-server (:mod:`rewardgym.sandbox._forkserver`) is started once per sandbox, already has
Python and everything a child needs imported, and lives in its own mount/pid/network namespaces.
The host keeps the pipes: it feeds stdin, reads (and truncates) output, enforces the wall-clock
limit and asks the fork-server to kill the run's whole uid when time is up.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import itertools
import json
import logging
import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rewardgym.errors import SandboxError, SandboxUnavailable
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

logger = logging.getLogger("rewardgym.sandbox.process")
_HEADER = struct.Struct(">I")
_SIGNAL_GRACE_S = 5.0
_EXIT_GRACE_S = 1.0  # a candidate that closed its channel gets this long to exit by itself


def default_hidden_paths(site_packages: bool = False) -> list[str]:
    """Host directories a sandboxed program must not see.

    Homes, temp dirs, ``/run``, the working dir and the project checkout; every task-data
    directory the project knows of (:func:`rewardgym.sandbox.hidden.task_data_paths`: HumanEval's
    tests and reference solutions, our task banks); and, unless ``site_packages``, every
    ``site-packages``/``dist-packages`` directory and the virtual env (programs get the standard
    library only).
    """
    paths = ["/root", "/home", "/tmp", "/var/tmp", "/dev/shm", "/run", "/var/run", os.getcwd()]
    if hidden.is_checkout():  # an editable checkout: hide the project
        paths.append(str(hidden.rewardgym_root()))
    paths += hidden.task_data_paths()
    if not site_packages:
        paths += hidden.package_dirs() + hidden.venv_roots()
    return list(dict.fromkeys(paths))


def seccomp_filter_bpf() -> bytes:
    """The seccomp filter of every sandboxed child, compiled to BPF (needs pyseccomp)."""
    try:
        from rewardgym.sandbox._forkserver import seccomp_bpf
    except ImportError as exc:  # pyseccomp missing
        raise SandboxUnavailable(
            f"the seccomp filter needs pyseccomp ({exc}); pip install pyseccomp, or pass seccomp=False"
        ) from exc
    return seccomp_bpf()


class _Waiter:
    __slots__ = ("event", "messages")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.messages: list[dict] = []


class ProcessSandbox(Sandbox):
    """Warm fork-server sandbox (the default). See ``docs/sandbox.md`` for what it contains.

    Args:
        limits: default limits of every run.
        uid_base: first of ``n_uids`` unprivileged uids (default: a random block above
            200000); each concurrent run owns one, so RLIMIT_NPROC and the final ``kill(-1)``
            apply to that run alone.
        n_uids: how many runs may be in flight at once.
        seccomp: install the seccomp filter in every child (on by default).
        site_packages: let programs import this Python's installed packages (off by default:
            programs get the base interpreter's standard library only). Task data inside
            site-packages stays hidden either way.
        hide: host directories covered by an empty tmpfs in the sandbox's mount namespace
            (default: :func:`default_hidden_paths`); they may lie inside kept (re-bound) dirs.
        extra_hide: more directories to hide on top of ``hide``.
    """

    kind = "process"

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        uid_base: int | None = None,
        n_uids: int = 64,
        seccomp: bool = True,
        site_packages: bool = False,
        hide: Sequence[str] | None = None,
        extra_hide: Sequence[str] = (),
    ) -> None:
        super().__init__(limits)
        if uid_base is None:  # a random block, so that sandboxes of other processes rarely share
            uid_base = 200_000 + n_uids * secrets.randbelow(4096)
        if sys.platform != "linux":
            raise SandboxUnavailable("the process sandbox needs Linux; use kind='docker'")
        self._ids = itertools.count(1)
        self._waiters: dict[int, _Waiter] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._workroot = tempfile.mkdtemp(prefix="rewardgym-sbx-")
        host, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        keep = hidden.stdlib_roots()
        if site_packages:
            keep += hidden.venv_roots() + hidden.package_dirs()
        hide_list = list(hide) if hide is not None else default_hidden_paths(site_packages)
        config = {
            "uid_base": uid_base,
            "n_uids": n_uids,
            "seccomp_bpf": seccomp_filter_bpf().hex() if seccomp else "",
            "sys_path": [p for p in sys.path if "-packages" in p] if site_packages else [],
            "hide": [*hide_list, *extra_hide],
            "keep": sorted(set(keep)),
            "workroot": self._workroot,
            "tmpfs_opts": "mode=0755,size=1g",
        }
        argv = [
            hidden.base_python() if not site_packages else sys.executable,
            "-I",
            "-S",
            str(Path(__file__).with_name("_forkserver.py")),
            str(child.fileno()),
            json.dumps(config),
        ]
        self._launch(argv, host, child)

    def _launch(self, argv: list[str], host: socket.socket, child: socket.socket) -> None:
        """Start the fork-server (``argv``, handed ``child``'s fd), wait for it to say it is
        ready, and start the reader thread on ``host``."""
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
        self._proc = subprocess.Popen(
            argv,
            pass_fds=[child.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd="/",
        )
        child.close()
        self._sock = host
        self._proc_stderr = self._proc.stderr
        ready = self._recv_blocking(timeout=30.0)
        if ready is None or not ready.get("ready"):
            err = self._proc_stderr.read().decode(errors="replace") if self._proc_stderr else ""
            self._kill_server()
            raise SandboxUnavailable(
                f"the process sandbox fork-server did not start: {err[-2000:]}"
            )
        self.features: dict[str, Any] = ready["features"]
        self._reader = threading.Thread(
            target=self._read_loop, name="rewardgym-forkserver", daemon=True
        )
        self._reader.start()

    # -- fork-server channel ------------------------------------------------------------
    def _recv_blocking(self, timeout: float) -> dict | None:
        self._sock.settimeout(timeout)
        try:
            header = self._recv_exact(_HEADER.size)
            if header is None:
                return None
            body = self._recv_exact(_HEADER.unpack(header)[0])
            return None if body is None else json.loads(body)
        except (TimeoutError, OSError):
            return None
        finally:
            self._sock.settimeout(None)

    def _recv_exact(self, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            chunk = self._sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _read_loop(self) -> None:
        while True:
            try:
                header = self._recv_exact(_HEADER.size)
                body = None if header is None else self._recv_exact(_HEADER.unpack(header)[0])
            except OSError:
                body = None
            if body is None:
                break
            message = json.loads(body)
            with self._lock:
                waiter = self._waiters.get(message["id"])
            if waiter is not None:
                waiter.messages.append(message)
                waiter.event.set()
        with self._lock:  # the fork-server is gone: wake everybody
            for waiter in self._waiters.values():
                waiter.messages.append({"dead": True})
                waiter.event.set()

    def _send(self, message: dict, fds: Sequence[int] = ()) -> None:
        body = json.dumps(message, separators=(",", ":")).encode()
        data = _HEADER.pack(len(body)) + body
        with self._send_lock:
            try:
                sent = socket.send_fds(self._sock, [data], list(fds)) if fds else 0
                if sent < len(data):
                    self._sock.sendall(data[sent:])
            except OSError as exc:
                raise SandboxError(
                    f"the process sandbox fork-server is gone ({exc}); make a new sandbox"
                ) from exc

    def _wait(self, waiter: _Waiter, key: str, timeout: float | None) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            for message in waiter.messages:
                if key in message or "dead" in message or "error" in message:
                    if "error" in message:
                        raise SandboxError(
                            f"the fork-server could not start the program: {message['error']}"
                        )
                    if "dead" in message:
                        raise SandboxError(
                            "the process sandbox fork-server died; make a new sandbox"
                        )
                    waiter.messages.remove(message)
                    return message
            waiter.event.clear()
            if any(key in m or "dead" in m or "error" in m for m in waiter.messages):
                continue
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise SandboxError(f"the fork-server did not answer ({key}) in time")
            waiter.event.wait(left)

    def _spawn(self, message: dict, fds: Sequence[int]) -> tuple[int, _Waiter]:
        self._check_open()
        rid = next(self._ids)
        waiter = _Waiter()
        with self._lock:
            self._waiters[rid] = waiter
        message["id"] = rid
        try:  # no wait for an answer: a failed start closes the fds and answers with an error
            self._send(message, fds)
        except BaseException:
            with self._lock:
                self._waiters.pop(rid, None)
            raise
        return rid, waiter

    def _finish(self, rid: int, waiter: _Waiter, timeout: float = _SIGNAL_GRACE_S) -> dict:
        try:
            return self._wait(waiter, "exited", timeout)
        except SandboxError:
            self._send({"op": "kill", "id": rid})
            return self._wait(waiter, "exited", _SIGNAL_GRACE_S)
        finally:
            with self._lock:
                self._waiters.pop(rid, None)

    def _forget(self, rid: int) -> None:
        with self._lock:
            self._waiters.pop(rid, None)

    # -- Sandbox API --------------------------------------------------------------------
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
        encoded = {k: base64.b64encode(v).decode() for k, v in validate_files(files).items()}
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        message = {
            "op": "spawn", "mode": "run", "program": program, "files": encoded,
            "limits": lim.model_dump(),
        }  # fmt: skip
        start = time.monotonic()
        try:
            rid, waiter = self._spawn(message, [in_r, out_w, err_w])
        except BaseException:
            for fd in (in_r, in_w, out_r, out_w, err_r, err_w):
                os.close(fd)
            raise
        finally:
            pass
        for fd in (in_r, out_w, err_w):
            os.close(fd)
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        out, err, truncated, timed_out = collect_output(
            {out_r: "out", err_r: "err"}, in_w, data, start + lim.wall_s, lim.max_output_bytes,
            on_timeout=lambda: self._send({"op": "kill", "id": rid}),
        )  # fmt: skip
        status = self._finish(rid, waiter)
        wall = time.monotonic() - start
        return make_result(out, err, truncated, timed_out, status, wall, lim, self.kind)

    def open_session(self, program: str, entry_point: str, limits: Limits | None = None) -> Session:
        """See :meth:`Sandbox.open_session`."""
        return _ProcessSession(self, program, entry_point, self._limits(limits))

    def stats(self) -> dict[str, int]:
        """What the fork-server holds now: ``free_uids`` (of ``n_uids``), live ``runs`` and
        work dirs (``workdirs``). With nothing running, every uid is free and no work dir is
        left; anything else is a leak."""
        rid, waiter = self._spawn({"op": "stats"}, [])
        try:
            return self._wait(waiter, "stats", _SIGNAL_GRACE_S)["stats"]
        finally:
            self._forget(rid)

    def _kill_server(self) -> None:
        # shutdown() (not just close()) so that the reader thread's blocked recv returns and the
        # fork-server sees EOF at once: it then exits, and as pid 1 of its namespace it takes
        # every sandboxed process (and the namespace's mounts) with it.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        for stop in (None, self._proc.terminate, self._proc.kill):
            if stop is not None:
                with contextlib.suppress(OSError):
                    stop()  # SIGTERM: the shim kills pid 1; SIGKILL: the shim itself
            try:
                self._proc.wait(timeout=2.0)
                break
            except subprocess.TimeoutExpired:
                continue
        reader = getattr(self, "_reader", None)
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=2.0)
        with contextlib.suppress(OSError):
            self._sock.close()
        if self._proc.stderr:
            self._proc.stderr.close()
        shutil.rmtree(self._workroot, ignore_errors=True)

    def _shutdown(self) -> None:
        self._kill_server()


class _ProcessSession(Session):
    pipelined = True

    def __init__(self, box: ProcessSandbox, program: str, entry_point: str, limits: Limits) -> None:
        self.box, self.limits = box, limits
        self.closed = False
        self.status: dict | None = None
        self.pending: collections.deque[tuple[int, float]] = collections.deque()  # (frame, sent)
        self.answered_at = 0.0
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        message = {
            "op": "spawn", "mode": "serve", "program": program, "entry_point": entry_point,
            "limits": limits.model_dump(),
        }  # fmt: skip
        try:
            self.rid, self.waiter = box._spawn(message, [null, null, null, req_r, resp_w])
        except BaseException:
            for fd in (req_r, req_w, resp_r, resp_w):
                os.close(fd)
            raise
        finally:
            os.close(null)
        os.close(req_r)
        os.close(resp_w)
        self.channel = FdChannel(resp_r, req_w, limits.max_frame_bytes, limits.max_values)
        self._await_loaded(self.channel, limits, self._death_reason)

    def _death_reason(self, exc: BaseException) -> str:
        """Why the channel broke, in words; the candidate is stopped (and reaped) first."""
        if isinstance(exc, (TimeoutError, _guest.FrameError)):
            self.box._send({"op": "kill", "id": self.rid})
            self.status = self.box._finish(self.rid, self.waiter)
            return describe_channel_error(exc)
        # the candidate closed its end: it is exiting, or is killed after a short grace
        self.status = self.box._finish(self.rid, self.waiter, timeout=_EXIT_GRACE_S)
        return describe_exit(self.status)

    def call(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], timeout: float
    ) -> dict[str, Any]:
        if self.pending:
            raise SandboxError("call() while submitted calls are unanswered; receive() them")
        self.submit(args, kwargs)
        return self.receive(timeout)

    def submit(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        """See :meth:`Session.submit`: the request is written now (or as the pipe drains)."""
        if self.closed:
            raise CandidateDied("the candidate process is not running")
        request = {"args": _guest.encode(tuple(args)), "kwargs": _guest.encode(dict(kwargs))}
        self.pending.append((self.channel.send(request), time.monotonic()))

    def receive(self, timeout: float) -> dict[str, Any]:
        """See :meth:`Session.receive`."""
        if not self.pending:
            raise SandboxError("receive() without a submitted call")
        frame, sent_at = self.pending.popleft()
        if self.closed:
            raise CandidateDied("the candidate process is not running")
        try:
            answer = self.channel.recv(timeout, start=max(sent_at, self.answered_at), frame=frame)
        except (TimeoutError, EOFError, OSError) as exc:  # EOFError includes FrameError
            self.pending.clear()
            try:
                reason = self._death_reason(exc)
            finally:
                self.close()
            raise CandidateDied(reason) from None
        except BaseException:
            self.pending.clear()
            self.close()
            raise
        self.answered_at = time.monotonic()
        self._collect(answer, self.limits.max_output_bytes)
        return answer

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.channel.close() if hasattr(self, "channel") else None
        if self.status is None:  # no wait: the fork-server kills the uid and cleans up alone
            with contextlib.suppress(SandboxError):
                self.box._send({"op": "kill", "id": self.rid})
            self.box._forget(self.rid)
