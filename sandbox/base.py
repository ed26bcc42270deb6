"""The one sandbox interface: :class:`Limits`, :class:`ExecResult`, :class:`Sandbox`, sessions.

Every backend (``process``, ``bwrap``, ``docker``) implements :class:`Sandbox`; callers build one
with :func:`rewardgym.sandbox.make` and never depend on which backend they got.
"""

from __future__ import annotations

import abc
import collections
import concurrent.futures
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rewardgym.errors import SandboxError

Files = Mapping[str, "str | bytes"]


class Limits(BaseModel):
    """Resource limits of one sandboxed program (every field has a safe default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_s: float = Field(10.0, gt=0, description="CPU seconds before SIGXCPU/SIGKILL.")
    wall_s: float = Field(10.0, gt=0, description="Wall-clock seconds before the group is killed.")
    memory_mb: int = Field(512, ge=32, description="Address-space (process) / cgroup (docker) cap.")
    max_processes: int = Field(64, ge=1, description="Processes and threads the program may own.")
    max_output_bytes: int = Field(1 << 20, ge=0, description="Kept bytes of stdout and of stderr.")
    max_file_bytes: int = Field(16 << 20, ge=0, description="Largest file the program may write.")
    max_open_files: int = Field(64, ge=8, description="Open file descriptors.")
    network: bool = Field(False, description="Network access; no backend grants it yet.")
    # Caps on the trusted side's work for what a candidate server sends back (grading): over a
    # cap, the candidate is stopped and the call fails with the reason; the grader never stalls.
    max_frame_bytes: int = Field(
        16 << 20, ge=1024, le=64 << 20, description="Largest message a candidate may send."
    )
    max_values: int = Field(
        2_000_000, ge=16, description="JSON values (scalars and containers) in one message."
    )
    max_depth: int = Field(200, ge=1, le=200, description="Nesting depth of a returned value.")
    max_hash_collisions: int = Field(
        64, ge=0, description="Members of a returned set or dict that share a hash with another."
    )


class ExecResult(BaseModel):
    """What a sandboxed run produced. ``ok`` is true iff it exited 0 within its limits."""

    model_config = ConfigDict(extra="forbid")

    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    memory_exceeded: bool = False
    wall_s: float = 0.0
    cpu_s: float = 0.0
    backend: str = ""

    @property
    def ok(self) -> bool:
        """True iff the program exited with status 0, was not killed and hit no limit."""
        return self.exit_code == 0 and not self.timed_out and not self.memory_exceeded


class CandidateDied(SandboxError):
    """The candidate's process exited, was killed or timed out during a session call."""


class Session(abc.ABC):
    """A persistent candidate process: load a program once, then call its entry point.

    Arguments and return values cross the boundary as plain data only (see
    :mod:`rewardgym.sandbox._guest`).
    """

    load_error: tuple[str, str, str] | None = None  # (phase, type name, message)
    stdout: str = ""
    stderr: str = ""
    #: True when :meth:`submit` sends the request at once, so the candidate works through
    #: submitted calls while the caller is busy; False: :meth:`receive` makes the call.
    pipelined: bool = False
    _queued: collections.deque[tuple[Sequence[Any], Mapping[str, Any]]] | None = None

    @abc.abstractmethod
    def call(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], timeout: float
    ) -> dict[str, Any]:
        """Call the entry point; return the raw answer (``ok``, ``value`` or ``etype``/``emsg``).

        Raises:
            CandidateDied: the process died, or the call took longer than ``timeout`` (the
                process is then killed).
        """

    def submit(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
        """Queue a call of the entry point; :meth:`receive` returns the answers in order.

        A pipelining backend sends the request now, so that many calls cross the boundary
        without a round trip each; this default keeps it and makes the call in :meth:`receive`.
        Do not mix with :meth:`call` while submitted calls are unanswered. A pipelining backend
        raises :class:`CandidateDied` here when the process is not running.
        """
        if self._queued is None:
            self._queued = collections.deque()
        self._queued.append((args, kwargs))

    def receive(self, timeout: float) -> dict[str, Any]:
        """The answer of the oldest submitted call (as :meth:`call` returns it).

        ``timeout`` counts from the later of: the request was written, the previous answer was
        received. A pipelining candidate may have started the call before that (as soon as it
        sent the previous answer), so it gets up to the time that answer waited to be received
        on top of ``timeout``.

        Raises:
            CandidateDied: as :meth:`call`; later answers are then lost with the process.
        """
        if not self._queued:
            raise SandboxError("receive() without a submitted call")
        args, kwargs = self._queued.popleft()
        return self.call(args, kwargs, timeout)

    @abc.abstractmethod
    def close(self) -> None:
        """Kill the candidate process and release everything; idempotent."""

    def _await_loaded(
        self,
        channel: Any,
        limits: Limits,
        died: Callable[[BaseException], str],
        setup: dict[str, Any] | None = None,
    ) -> None:
        """Send ``setup`` (if the guest reads it from ``channel``) and read the load answer.

        A program that did not load (syntax error, exit at import, a dead or silent guest) is
        recorded in :attr:`load_error` as ``(phase, type name, message)`` and the session is
        closed; ``died(exc)`` says why the guest stopped answering.
        """
        try:
            if setup is not None:
                channel.send(setup)
            first = channel.recv(limits.wall_s)
        except (EOFError, OSError) as exc:  # TimeoutError, BrokenPipeError, FrameError
            try:
                self.load_error = ("load", "CandidateDied", died(exc))
            finally:
                self.close()
            return
        except BaseException:  # never leave a started candidate behind
            self.close()
            raise
        self._collect(first, limits.max_output_bytes)
        if not first.get("ok"):
            self.load_error = (
                str(first.get("phase", "load")),
                str(first.get("etype")),
                str(first.get("emsg")),
            )
            self.close()

    def _collect(self, answer: dict[str, Any], cap: int) -> None:
        for name in ("stdout", "stderr"):
            text = answer.get(name)
            if type(text) is str and text:
                setattr(self, name, (getattr(self, name) + text)[:cap])

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Sandbox(abc.ABC):
    """Runs untrusted Python programs. Use as a context manager; :meth:`close` is idempotent."""

    kind: str = "abstract"

    def __init__(self, limits: Limits | None = None) -> None:
        self.default_limits = limits or Limits()
        self._closed = False
        self._close_lock = threading.Lock()

    @abc.abstractmethod
    def run(
        self,
        program: str,
        *,
        stdin: str | bytes | None = None,
        files: Files | None = None,
        limits: Limits | None = None,
    ) -> ExecResult:
        """Run the Python source ``program`` in a fresh, contained process.

        Args:
            program: Python source, executed as ``__main__`` in a private, empty work dir.
            stdin: data fed to the program's standard input.
            files: relative path -> content, written into the work dir before the run.
            limits: overrides the sandbox's default limits for this run.

        Returns:
            The outcome; limit violations are reported in it, never raised.
        """

    def run_many(
        self,
        programs: Iterable[str],
        *,
        limits: Limits | None = None,
        concurrency: int | None = None,
    ) -> list[ExecResult]:
        """Run many programs concurrently (default: one per CPU); results keep input order."""
        programs = list(programs)
        workers = concurrency or max(1, os.cpu_count() or 1)
        if workers == 1 or len(programs) <= 1:
            return [self.run(p, limits=limits) for p in programs]
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda p: self.run(p, limits=limits), programs))

    @abc.abstractmethod
    def open_session(self, program: str, entry_point: str, limits: Limits | None = None) -> Session:
        """Start a candidate process that loads ``program`` and serves calls to ``entry_point``."""

    def close(self) -> None:
        """Stop every process, container and temp dir of this sandbox; safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._shutdown()

    @abc.abstractmethod
    def _shutdown(self) -> None: ...

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError(f"this {self.kind} sandbox is closed; make a new one with make()")

    def _limits(self, limits: Limits | None) -> Limits:
        return limits or self.default_limits

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._closed:
                self.close()
        except Exception:
            pass


def validate_files(files: Files | None) -> dict[str, bytes]:
    """Check that every path is relative and stays inside the work dir; return bytes content."""
    out: dict[str, bytes] = {}
    for name, content in (files or {}).items():
        norm = os.path.normpath(name)
        if os.path.isabs(name) or norm.startswith("..") or norm in (".", ""):
            raise SandboxError(f"file name {name!r} must be a relative path inside the work dir")
        out[norm] = content.encode() if isinstance(content, str) else bytes(content)
    return out
