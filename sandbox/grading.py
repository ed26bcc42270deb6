"""Unforgeable grading: test verdicts are decided in the trusted process, never by the candidate.

The candidate program runs in a sandboxed *candidate server* (one child per graded program,
restarted after a crash or timeout). Each test's code runs here, in the grader, with the name
``candidate`` bound to a proxy: calling it sends the arguments (plain data) to the child, which
calls the entry point and sends back the return value as plain data (exact types only, see
:mod:`rewardgym.sandbox._guest`). Nothing the candidate prints, exits with or patches in its own
interpreter can change a verdict, and hidden tests never enter the sandbox.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from rewardgym.sandbox import _guest
from rewardgym.sandbox.base import CandidateDied, Limits, Sandbox, Session

__all__ = ["CandidateDied", "CandidateError", "GradeReport", "TestCase", "TestOutcome", "grade"]

_OUTPUT_CAP = 8192


@dataclass(frozen=True)
class TestCase:
    """One trusted test: Python statements that call ``candidate(...)`` and ``assert``."""

    __test__ = False  # not a pytest class

    id: str
    code: str


class CandidateError(Exception):
    """The candidate raised an exception; only its type name and message cross the boundary."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


class TestOutcome(BaseModel):
    """The verdict of one test."""

    __test__ = False

    id: str
    passed: bool
    error: str | None = None
    wall_s: float = 0.0


class GradeReport(BaseModel):
    """Verdicts of every test of one program, in the order the tests were given."""

    compiled: bool
    compile_error: str | None = None
    outcomes: list[TestOutcome]
    timed_out: bool = False
    sandbox_s: float = 0.0
    stdout: str = ""
    stderr: str = ""

    @property
    def all_passed(self) -> bool:
        """True iff there is at least one test and every test passed."""
        return bool(self.outcomes) and all(o.passed for o in self.outcomes)

    @property
    def passed_fraction(self) -> float:
        """Fraction of tests passed (0.0 when there are no tests)."""
        return sum(o.passed for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def results(self) -> list[bool]:
        """Per-test pass flags, in test order."""
        return [o.passed for o in self.outcomes]


_default: Sandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> Sandbox:
    """The shared process sandbox used when ``grade`` is given none (closed at exit)."""
    global _default
    with _default_lock:
        if _default is None or _default._closed:
            from rewardgym.sandbox import make

            _default = make("process")
            atexit.register(_default.close)
        return _default


class _Grader:
    """Holds the candidate session across tests and restarts it after a death."""

    def __init__(self, box: Sandbox, program: str, entry_point: str, limits: Limits | None) -> None:
        self.box, self.program, self.entry_point, self.limits = box, program, entry_point, limits
        self.session: Session | None = None
        self.sandbox_s = 0.0
        self.timed_out = False
        self.stdout = self.stderr = ""

    def open(self) -> Session:
        start = time.perf_counter()
        try:
            self.session = self.box.open_session(self.program, self.entry_point, self.limits)
        finally:
            self.sandbox_s += time.perf_counter() - start
        return self.session

    def drop(self) -> None:
        if self.session is not None:
            self.stdout = (self.stdout + self.session.stdout)[:_OUTPUT_CAP]
            self.stderr = (self.stderr + self.session.stderr)[:_OUTPUT_CAP]
            self.session.close()
            self.session = None

    def call(self, args: tuple, kwargs: dict, timeout: float) -> Any:
        _guest.encode(args)  # refuse non-plain arguments here, in the grader
        _guest.encode(kwargs)
        if self.session is None:
            session = self.open()
            if session.load_error:
                self.drop()
                raise CandidateDied("the candidate program failed to load on restart")
        start = time.perf_counter()
        try:
            answer = self.session.call(args, kwargs, timeout)
        except CandidateDied as exc:
            if "time limit" in str(exc):
                self.timed_out = True
            self.drop()
            raise
        finally:
            self.sandbox_s += time.perf_counter() - start
        if answer.get("ok") is True:
            try:
                return _guest.decode(answer.get("value"))
            except _guest.NotPlainData as exc:
                raise CandidateError("NotPlainData", str(exc)) from None
        etype, emsg = answer.get("etype"), answer.get("emsg")
        raise CandidateError(
            etype if type(etype) is str else "Exception", emsg if type(emsg) is str else ""
        )


def grade(
    program: str,
    entry_point: str,
    tests: Sequence[TestCase],
    *,
    sandbox: Sandbox | None = None,
    setup: str = "",
    limits: Limits | None = None,
    call_timeout_s: float = 5.0,
) -> GradeReport:
    """Grade ``program`` against ``tests``; verdicts are decided here, outside the sandbox.

    Args:
        program: the untrusted candidate source; it must define ``entry_point``.
        entry_point: the function the tests call as ``candidate``.
        tests: trusted test code, run one by one in a fresh copy of the ``setup`` namespace.
        sandbox: where the candidate runs (default: a shared process sandbox).
        setup: trusted code run once (imports, helper functions) before the tests.
        limits: limits of the candidate's process.
        call_timeout_s: wall-clock limit of one ``candidate(...)`` call.

    Returns:
        A :class:`GradeReport` with one outcome per test, in order. A test passes iff its code
        finishes without an exception.
    """
    box = sandbox if sandbox is not None else default_sandbox()
    grader = _Grader(box, program, entry_point, limits)
    session = grader.open()
    if session.load_error:
        phase, etype, emsg = session.load_error
        grader.drop()
        what = "does not compile" if phase == "compile" else "failed to load"
        error = f"the program {what}: {etype}: {emsg}"
        return GradeReport(
            compiled=False,
            compile_error=error,
            outcomes=[TestOutcome(id=t.id, passed=False, error=error) for t in tests],
            timed_out=etype == "CandidateDied" and "time limit" in emsg,
            sandbox_s=grader.sandbox_s,
            stdout=grader.stdout,
            stderr=grader.stderr,
        )
    base: dict[str, Any] = {"__name__": "__grader__"}
    if setup:
        exec(compile(setup, "<grader setup>", "exec"), base)

    def candidate(*args: Any, **kwargs: Any) -> Any:
        return grader.call(args, kwargs, call_timeout_s)

    outcomes = []
    try:
        for test in tests:
            namespace = dict(base)
            namespace["candidate"] = candidate
            start = time.perf_counter()
            error = None
            try:
                exec(compile(test.code, f"<test {test.id}>", "exec"), namespace)
            except (Exception, SystemExit) as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
            outcomes.append(
                TestOutcome(
                    id=test.id,
                    passed=error is None,
                    error=error,
                    wall_s=time.perf_counter() - start,
                )
            )
    finally:
        grader.drop()
    return GradeReport(
        compiled=True,
        outcomes=outcomes,
        timed_out=grader.timed_out,
        sandbox_s=grader.sandbox_s,
        stdout=grader.stdout,
        stderr=grader.stderr,
    )
