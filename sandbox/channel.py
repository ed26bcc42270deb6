"""The host's side of a running candidate, shared by every backend: output collection with caps
(:func:`collect_output`), the :class:`~rewardgym.sandbox.base.ExecResult` built from it
(:func:`make_result`), the length-prefixed frame channel to a candidate's guest
(:class:`FdChannel`: non-blocking, with an outbox, and a deadline that counts only the
candidate's time) and plain-language descriptions of how a run or a channel ended."""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import select
import selectors
import signal
import struct
import time
from collections.abc import Mapping
from typing import Any

from rewardgym.sandbox import _guest
from rewardgym.sandbox.base import (
    ExecResult,
    Limits,
)

logger = logging.getLogger("rewardgym.sandbox.channel")

_HEADER = struct.Struct(">I")


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
