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
import select
import selectors
import shutil
import signal
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


def collect_output(
    readers: Mapping[int, str],
    stdin_fd: int | None,
    stdin_data: bytes,
    deadline: float,
    cap: int,
    on_timeout: Any,
    grace_s: float = 2.0,
) -> tuple[bytes, bytes, bool, bool]:
    """Pump stdin and read the output pipes until EOF, keeping ``cap`` bytes of each.

    At ``deadline`` calls ``on_timeout()`` (which must kill the program) and keeps draining for
    at most ``grace_s`` more seconds. Closes every fd it was given.
    """
    bufs = {name: bytearray() for name in readers.values()}
    truncated = timed_out = False
    sel = selectors.DefaultSelector()
    for fd, name in readers.items():
        sel.register(fd, selectors.EVENT_READ, name)
    pending = memoryview(stdin_data)
    if stdin_fd is not None:
        if pending:
            os.set_blocking(stdin_fd, False)
            sel.register(stdin_fd, selectors.EVENT_WRITE, None)
        else:
            os.close(stdin_fd)
            stdin_fd = None
    open_readers = len(readers)
    hard_deadline = deadline + grace_s
    try:
        while open_readers:
            now = time.monotonic()
            if not timed_out and now >= deadline:
                timed_out = True
                on_timeout()
            if now >= hard_deadline:
                break
            events = sel.select(
                timeout=max(0.0, (deadline if not timed_out else hard_deadline) - now)
            )
            for key, _ in events:
                if key.data is None:  # stdin writable
                    try:
                        n = os.write(key.fd, pending[:65536])
                        pending = pending[n:]
                    except (BrokenPipeError, BlockingIOError) as exc:
                        if isinstance(exc, BlockingIOError):
                            continue
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(key.fd)
                        os.close(key.fd)
                        stdin_fd = None
                    continue
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    sel.unregister(key.fd)
                    open_readers -= 1
                    continue
                buf = bufs[key.data]
                room = cap - len(buf)
                if len(chunk) > room:
                    truncated = True
                    chunk = chunk[: max(room, 0)]
                buf += chunk
    finally:
        sel.close()
        for fd in [*readers, *([stdin_fd] if stdin_fd is not None else [])]:
            with contextlib.suppress(OSError):
                os.close(fd)
    return bytes(bufs.get("out", b"")), bytes(bufs.get("err", b"")), truncated, timed_out


def make_result(
    out: bytes,
    err: bytes,
    truncated: bool,
    timed_out: bool,
    status: Mapping[str, Any],
    wall: float,
    limits: Limits,
    backend: str,
) -> ExecResult:
    """Build an :class:`ExecResult`, deciding ``memory_exceeded`` from the exit evidence."""
    stderr = err.decode("utf-8", errors="replace")
    last = stderr.rstrip().rsplit("\n", 1)[-1] if stderr else ""
    sig = status.get("signal")
    memory = last.startswith("MemoryError") or status.get("oom", False)
    if (
        sig == signal.SIGKILL
        and not timed_out
        and status.get("maxrss_kb", 0) > limits.memory_mb * 900
    ):
        memory = True
    if sig == signal.SIGXCPU:
        timed_out = True
    return ExecResult(
        stdout=out.decode("utf-8", errors="replace"),
        stderr=stderr,
        truncated=truncated,
        exit_code=status.get("exit_code"),
        signal=sig,
        timed_out=timed_out,
        memory_exceeded=bool(memory),
        wall_s=wall,
        cpu_s=float(status.get("cpu_s", 0.0)),
        backend=backend,
    )


#: after its deadline, how long a reader keeps taking an answer that is already arriving
_DRAIN_S = 0.5


class FdChannel:
    """Framed plain-data messages over a pair of pipe fds, with per-read deadlines.

    Writes never block: a frame the pipe cannot take at once waits in an outbox and is written
    while :meth:`recv` waits for answers. The host can therefore send many requests ahead (see
    :meth:`Session.submit`) without a deadlock, even when the guest, blocked on writing answers
    nobody reads yet, has stopped reading requests. Frames read are checked against
    ``max_frame_bytes`` and ``max_values`` (:func:`_guest.parse_frame`) before they are parsed.
    """

    def __init__(
        self,
        rfd: int,
        wfd: int,
        max_frame_bytes: int = _guest.MAX_MESSAGE_BYTES,
        max_values: int = 0,
    ) -> None:
        self.rfd, self.wfd = rfd, wfd
        self.max_frame_bytes, self.max_values = max_frame_bytes, max_values
        self.buf = bytearray()
        self.outbox: collections.deque[memoryview] = collections.deque()
        self.sent = 0  # frames queued by send()
        self.flushed = 0  # frames written in full (the oldest ones)
        self.polling_out = False
        os.set_blocking(wfd, False)
        self.poll = select.poll()  # one per channel: a call then costs a single poll() syscall
        self.poll.register(rfd, select.POLLIN)

    def send(self, message: dict) -> int:
        """Queue ``message``, write what the pipe takes now; return its frame number (from 0)."""
        body = json.dumps(message, separators=(",", ":")).encode()
        self.outbox.append(memoryview(_HEADER.pack(len(body)) + body))
        self.sent += 1
        self._flush()
        return self.sent - 1

    def _flush(self) -> None:
        try:
            while self.outbox:
                head = self.outbox[0]
                n = os.write(self.wfd, head)
                if n < len(head):  # the pipe is full
                    self.outbox[0] = head[n:]
                    break
                self.outbox.popleft()
                self.flushed += 1
        except BlockingIOError:
            pass
        except OSError:  # the guest is gone; the answers it left say how far it got
            self.outbox.clear()
        if self.polling_out != bool(self.outbox):  # poll for room only while frames wait
            self.polling_out = not self.polling_out
            if self.polling_out:
                self.poll.register(self.wfd, select.POLLOUT)
            else:
                self.poll.unregister(self.wfd)

    def recv(self, timeout: float, *, start: float | None = None, frame: int = -1) -> dict:
        """Read one message; raise ``TimeoutError``, ``EOFError`` or :class:`_guest.FrameError`.

        The ``timeout`` counts from ``start`` (default: now); while frame number ``frame`` is
        still (partly) in the outbox, it counts from when that frame is written in full if
        that is later, as a blocking write followed by a read would. A deadline is never
        declared without looking at the pipe: if the reader comes late (it was busy past the
        deadline) an answer that is there, or arriving, is still taken (for at most
        ``_DRAIN_S`` more), so a slow reader never fails a candidate that answered in time.
        """
        deadline = (time.monotonic() if start is None else start) + timeout
        unwritten = self.flushed <= frame
        need = _HEADER.size
        size = None
        drain_until = None  # once past the deadline: the answer is arriving, read it until then
        while True:
            if size is None and len(self.buf) >= _HEADER.size:
                size = _HEADER.unpack(self.buf[: _HEADER.size])[0]
                if size > self.max_frame_bytes:
                    raise _guest.FrameError(
                        f"a message of {size} bytes (the limit is {self.max_frame_bytes})"
                    )
                need = _HEADER.size + size
            if size is not None and len(self.buf) >= need:
                body = bytes(self.buf[_HEADER.size : need])
                del self.buf[:need]
                return _guest.parse_frame(body, self.max_values)
            now = time.monotonic()
            if unwritten and self.flushed > frame:
                unwritten = False
                deadline = max(deadline, now + timeout)
                drain_until = None  # the call starts now: a later deadline gets its own look
            left = deadline - now
            if left <= 0:  # late: take only what is there (or arriving) now
                if drain_until is None:
                    drain_until, left = now + _DRAIN_S, 0.0
                else:
                    left = drain_until - now
                    if left <= 0:
                        raise TimeoutError
            events = self.poll.poll(left * 1000)
            if not events:
                raise TimeoutError
            for fd, _ in events:
                if fd == self.wfd:
                    self._flush()
                    continue
                chunk = os.read(self.rfd, 1 << 16)  # 1 MiB: an mmap/munmap per small read
                if not chunk:
                    raise EOFError("channel closed")
                self.buf += chunk

    def close(self) -> None:
        for fd in (self.rfd, self.wfd):
            with contextlib.suppress(OSError):
                os.close(fd)


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


def describe_channel_error(exc: BaseException) -> str:
    """Say in words why a live candidate was stopped: a timeout or an unusable message."""
    if isinstance(exc, TimeoutError):
        return "the call exceeded its time limit and the candidate was killed"
    return f"the candidate sent an unusable message ({exc}) and was killed"


def describe_exit(status: Mapping[str, Any]) -> str:
    """Say in words how a candidate process ended (for test errors)."""
    if status.get("signal"):
        name = signal.Signals(status["signal"]).name
        hint = " (cpu time limit)" if status["signal"] == signal.SIGXCPU else ""
        return f"the candidate process was killed by {name}{hint}"
    return f"the candidate process exited with status {status.get('exit_code')}"
