"""Unforgeable grading: test verdicts are decided in the trusted process, never by the candidate.

The candidate program runs in a sandboxed *candidate server* (one child per graded program,
restarted after a crash or timeout). Each test's code runs here, in the grader, with the name
``candidate`` bound to a proxy: calling it sends the arguments (plain data) to the child, which
calls the entry point and sends back the return value as plain data (exact types only, see
:mod:`rewardgym.sandbox._guest`). Nothing the candidate prints, exits with or patches in its own
interpreter can change a verdict, and hidden tests never enter the sandbox.
"""

from __future__ import annotations

import ast
import atexit
import builtins
import functools
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from rewardgym.sandbox import _guest
from rewardgym.sandbox.base import CandidateDied, Limits, Sandbox, Session
from rewardgym.sandbox.prefetch import prefetchable_call, request_key

__all__ = [
    "CandidateDied",
    "CandidateError",
    "GradeReport",
    "TestCase",
    "TestOutcome",
    "grade",
    "prefetchable_call",
]

_OUTPUT_CAP = 8192
#: the default wall-clock limit of one grading attempt, in per-call limits
ATTEMPT_FACTOR = 5.0

#: the generic reasons a test failed (:attr:`TestOutcome.reason`): nothing in them comes from
#: the candidate, so they may be shown for hidden tests.
REASONS = (
    "wrong answer", "raised an exception", "returned a value that is not plain data",
    "time limit", "crashed", "failed to load", "attempt time limit", "check raised an error",
)  # fmt: skip


@dataclass(frozen=True)
class TestCase:
    """One trusted test: Python statements that call ``candidate(...)`` and ``assert``.

    A ``hidden`` test's inputs must not reach what the candidate can show: hidden tests run
    after every visible test (their calls are sent only then), and what the candidate prints
    while they run goes to :attr:`GradeReport.hidden_stdout` / ``hidden_stderr``.
    """

    __test__ = False  # not a pytest class

    id: str
    code: str
    hidden: bool = False


class CandidateError(Exception):
    """The candidate raised an exception; only its type name and message cross the boundary."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.message = message


class _AttemptOver(CandidateDied):
    """The attempt's wall-clock limit is used up: the candidate is stopped, no call is made."""


class TestOutcome(BaseModel):
    """The verdict of one test.

    ``error`` is the full text of what went wrong (it may quote the candidate); ``reason`` is
    one of :data:`REASONS`, safe to show for a hidden test. ``stdout``/``stderr``: what the
    candidate printed during this test's calls.
    """

    __test__ = False

    id: str
    passed: bool
    error: str | None = None
    reason: str | None = None
    wall_s: float = 0.0
    stdout: str = ""
    stderr: str = ""


class GradeReport(BaseModel):
    """Verdicts of every test of one program, in the order the tests were given.

    ``stdout``/``stderr`` hold what the candidate printed while loading and during the
    visible tests; what it printed during hidden tests is in ``hidden_stdout``/``hidden_stderr``
    (for logs: it may carry the hidden tests' inputs). ``attempt_timed_out``: the attempt's
    wall-clock limit stopped the grading (the tests left then failed with that reason).
    """

    compiled: bool
    compile_error: str | None = None
    outcomes: list[TestOutcome]
    timed_out: bool = False
    attempt_timed_out: bool = False
    sandbox_s: float = 0.0
    stdout: str = ""
    stderr: str = ""
    hidden_stdout: str = ""
    hidden_stderr: str = ""

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


def _compile_fixed(
    source: str | bytes | ast.AST,
    filename: str,
    mode: str,
    flags: int = 0,
    dont_inherit: bool = False,
    optimize: int = -1,
    **kwargs: Any,
) -> Any:
    """``compile`` whose default optimisation level is 0 (asserts kept, ``__debug__`` true)
    whatever flags the host interpreter runs with (``-O``, ``PYTHONOPTIMIZE``)."""
    return compile(source, filename, mode, flags, dont_inherit, 0 if optimize == -1 else optimize,
                   **kwargs)  # fmt: skip


def _in_caller(
    run: Any, source: Any, mode: str, scope: dict | None, local: Any, kwargs: dict
) -> Any:
    """``run(source, scope, local)`` (exec or eval) with source text compiled by
    :func:`_compile_fixed`, in the namespaces of the caller's caller when none are given."""
    if isinstance(source, (str, bytes)):
        source = _compile_fixed(source, "<string>", mode, dont_inherit=True)
    if scope is None:
        frame = sys._getframe(2)
        scope, local = frame.f_globals, frame.f_locals if local is None else local
    return run(source, scope, local, **kwargs)


def _exec_fixed(source: Any, scope: dict | None = None, local: Any = None, **kwargs: Any) -> None:
    _in_caller(exec, source, "exec", scope, local, kwargs)


def _eval_fixed(source: Any, scope: dict | None = None, local: Any = None) -> Any:
    return _in_caller(eval, source, "eval", scope, local, {})


#: the builtins of trusted test code: ``compile``, ``exec`` and ``eval`` of source text keep
#: asserts too, so no interpreter flag changes what a test checks.
_TEST_BUILTINS = {
    **builtins.__dict__,
    "compile": _compile_fixed,
    "exec": _exec_fixed,
    "eval": _eval_fixed,
}


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


class _Diverged(BaseException):
    """The tests did not make the prefetched calls in order: the pipelined attempt is void.

    A ``BaseException`` so that no ``except Exception`` on the way can turn it into a verdict.
    """


class _Clock:
    """The wall-clock budget of one grading attempt, shared by its sessions."""

    def __init__(self, limit_s: float) -> None:
        self.limit_s = limit_s
        self.deadline = time.monotonic() + limit_s
        self.over = False

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def message(self) -> str:
        return f"the attempt exceeded its wall-clock limit of {self.limit_s:g} s"


def _text(value: object) -> str:
    return value if type(value) is str else ""


class _Grader:
    """Holds the candidate session across tests and restarts it after a death.

    With a plan (:meth:`prefetch`), the first tests' calls are submitted at once and their
    answers received as the tests make them; every call is checked against the plan. What the
    candidate prints is kept per test (it comes with each answer), and at load.
    """

    def __init__(
        self, box: Sandbox, program: str, entry_point: str, limits: Limits, clock: _Clock
    ) -> None:
        self.box, self.program, self.entry_point, self.limits = box, program, entry_point, limits
        self.clock = clock
        self.session: Session | None = None
        self.sandbox_s = 0.0
        self.timed_out = False
        self.load_stdout = self.load_stderr = ""
        self.load_error: str | None = None  # why the program did not load, if it did not
        self.out: dict[int, list[str]] = {}  # test index -> [stdout, stderr]
        self.plan: list[str] = []  # request keys of the submitted calls, one per test, in order
        self.plan_from = 0  # the index of the test the plan's first call is for
        self.made = 0  # how many of them the tests have made
        self.hidden_from = 0  # tests from this index on are hidden (they run last)
        self.next_batch: Sequence[TestCase] | None = None  # the hidden tests, to prefetch
        self.test_index = -1  # the test now running (-1: loading)

    def open(self) -> Session:
        left = self.clock.left()
        if left <= 0:
            self.clock.over = True
            raise _AttemptOver(self.clock.message())
        limits = self.limits
        if left < limits.wall_s:  # the load may use what is left of the attempt, no more
            limits = limits.model_copy(update={"wall_s": left})
        start = time.perf_counter()
        try:
            self.session = self.box.open_session(self.program, self.entry_point, limits)
        finally:
            self.sandbox_s += time.perf_counter() - start
        self._keep(self.session.stdout, self.session.stderr)
        return self.session

    def _keep(self, stdout: object, stderr: object) -> None:
        """Keep output the candidate sent, under the test now running (or the load)."""
        stdout, stderr = _text(stdout), _text(stderr)
        if not (stdout or stderr):
            return
        if self.test_index < 0:
            self.load_stdout = (self.load_stdout + stdout)[:_OUTPUT_CAP]
            self.load_stderr = (self.load_stderr + stderr)[:_OUTPUT_CAP]
            return
        kept = self.out.setdefault(self.test_index, ["", ""])
        kept[0] = (kept[0] + stdout)[:_OUTPUT_CAP]
        kept[1] = (kept[1] + stderr)[:_OUTPUT_CAP]

    def drop(self) -> None:
        self.plan = []  # the submitted calls die with the session
        session, self.session = self.session, None
        if session is not None:
            session.close()

    def prefetch(self, tests: Sequence[TestCase], first: int = 0, stop: int | None = None) -> None:
        """Submit the calls of the tests from index ``first`` on (before ``stop``) that
        :func:`prefetchable_call` vouches for, up to the first it does not; every earlier
        plan must be used up."""
        if self.session is None or not self.session.pipelined:
            return
        self.plan, self.plan_from, self.made = [], first, 0
        start = time.perf_counter()
        try:
            for test in tests[first:stop]:
                found = prefetchable_call(test.code)
                if found is None:
                    break
                try:
                    key = request_key(*found)
                except _guest.NotPlainData:  # the live call refuses it, with its own message
                    break
                self.session.submit(*found)
                self.plan.append(key)
        finally:
            self.sandbox_s += time.perf_counter() - start

    def send_hidden(self) -> None:
        """Prefetch the hidden tests' calls (once, after every visible call)."""
        tests, self.next_batch = self.next_batch, None
        if tests is not None:
            self.prefetch(tests, self.hidden_from)

    def check_test_done(self, index: int) -> None:
        """Raise :class:`_Diverged` unless test ``index`` made its prefetched call."""
        offset = index - self.plan_from
        if 0 <= offset < len(self.plan) and self.made != offset + 1:
            raise _Diverged

    def call(self, args: tuple, kwargs: dict, timeout: float) -> Any:
        left = self.clock.left()
        if left <= 0:
            self.clock.over = True
            self.drop()
            raise _AttemptOver(self.clock.message())
        limited = left < timeout  # the attempt's limit comes first
        timeout = min(timeout, left)
        if self.made < len(self.plan) and self.session is not None:
            # the first call of the test that the call was submitted for, with its arguments
            if (
                self.made + self.plan_from != self.test_index
                or request_key(args, kwargs) != self.plan[self.made]
            ):
                raise _Diverged
            self.made += 1
            planned = True
            ask = self.session.receive
        else:
            _guest.encode(args)  # refuse non-plain arguments here, in the grader
            _guest.encode(kwargs)
            if self.session is None:
                session = self.open()
                if session.load_error:
                    self.drop()
                    raise CandidateDied("the candidate program failed to load on restart")
            planned = False
            ask = functools.partial(self.session.call, args, kwargs)  # type: ignore[union-attr]
        start = time.perf_counter()
        try:
            answer = ask(timeout)
        except CandidateDied as exc:
            self.drop()  # later calls go, one by one, to a fresh session
            if "time limit" in str(exc):
                if limited:
                    self.clock.over = True
                    raise _AttemptOver(f"{self.clock.message()} during a call") from None
                self.timed_out = True
            raise
        except Exception as exc:  # reading or decoding the answer: the candidate's failure
            self.drop()
            raise CandidateDied(
                f"the candidate's answer could not be read ({type(exc).__name__}: "
                f"{str(exc)[:200]}); the candidate was stopped"
            ) from None
        finally:
            self.sandbox_s += time.perf_counter() - start
        if type(answer) is not dict:
            self.drop()
            raise CandidateDied("the candidate sent a malformed answer and was stopped")
        if planned and self.next_batch and self.plan_from + self.made == self.hidden_from:
            # the last visible test's one call is answered: no visible call is left, so the
            # hidden calls may go now, while this test checks its answer
            self.send_hidden()
        self._keep(answer.get("stdout"), answer.get("stderr"))
        if answer.get("ok") is True:
            try:
                return _guest.decode(
                    answer.get("value"), self.limits.max_depth, self.limits.max_hash_collisions
                )
            except _guest.NotPlainData as exc:
                raise CandidateError("NotPlainData", str(exc)) from None
        etype, emsg = answer.get("etype"), answer.get("emsg")
        raise CandidateError(
            etype if type(etype) is str else "Exception", emsg[:2000] if type(emsg) is str else ""
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
    pipeline: bool = True,
    attempt_timeout_s: float | None = None,
) -> GradeReport:
    """Grade ``program`` against ``tests``; verdicts are decided here, outside the sandbox.

    Args:
        program: the untrusted candidate source; it must define ``entry_point``.
        entry_point: the function the tests call as ``candidate``.
        tests: trusted test code, run one by one in a fresh copy of the ``setup`` namespace,
            compiled with asserts kept whatever the interpreter's flags (``-O``). The tests
            not marked ``hidden`` run first; the calls of the hidden ones reach the candidate
            only after every visible test is done, so nothing a visible test's answer, error
            or output shows can come from a hidden test's inputs. Outcomes keep the given
            order.
        sandbox: where the candidate runs (default: a shared process sandbox).
        setup: trusted code run once (imports, helper functions) before the tests.
        limits: limits of the candidate's process (default: the sandbox's), including the
            caps on what the grader decodes from it (``max_frame_bytes``, ``max_values``,
            ``max_depth``, ``max_hash_collisions``): over a cap, the call fails with the
            reason and the candidate is stopped.
        call_timeout_s: wall-clock limit of one ``candidate(...)`` call.
        pipeline: on a pipelining session (:attr:`Session.pipelined`), submit the calls of the
            leading tests that :func:`prefetchable_call` accepts all at once, saving a round
            trip each. The report is the one the call-by-call way gives: if the tests do not
            make exactly those calls, in order, one per test, the session is discarded and
            everything is graded again call by call. The one difference: a prefetched call's
            time limit counts from when the grader received the previous answer (or, if the
            grader was busy longer than the limit, an answer already there when it looks is
            taken), and the candidate may have started it earlier, once it sent that answer;
            the extra time is how far the grader lagged behind.
        attempt_timeout_s: wall-clock limit of the whole attempt, loads and trusted work
            included (default: ``ATTEMPT_FACTOR`` x ``call_timeout_s``). When it is used up
            the candidate is stopped and every test not finished fails with that reason
            (:attr:`GradeReport.attempt_timed_out`).

    Returns:
        A :class:`GradeReport` with one outcome per test, in order. A test passes iff its code
        finishes without an exception.
    """
    box = sandbox if sandbox is not None else default_sandbox()
    limits = limits if limits is not None else box.default_limits
    budget = attempt_timeout_s if attempt_timeout_s is not None else ATTEMPT_FACTOR * call_timeout_s
    clock = _Clock(budget)
    base: dict[str, Any] = {"__name__": "__grader__", "__builtins__": _TEST_BUILTINS}
    if setup:
        exec(_compile_fixed(setup, "<grader setup>", "exec", dont_inherit=True), base)
    # visible tests first: a hidden test's inputs only reach the candidate after every visible
    # test is done (answers, errors and output of visible tests cannot carry them)
    order = sorted(range(len(tests)), key=lambda i: tests[i].hidden)
    grader = _Grader(box, program, entry_point, limits, clock)
    grader.hidden_from = sum(not t.hidden for t in tests)
    ordered = [tests[i] for i in order]
    report = GradeReport(compiled=True, outcomes=[])
    try:
        outcomes = _grade(grader, ordered, base, call_timeout_s, pipeline)
    except _Diverged:
        report.sandbox_s += grader.sandbox_s
        hidden_from, grader = grader.hidden_from, _Grader(box, program, entry_point, limits, clock)
        grader.hidden_from = hidden_from
        outcomes = _grade(grader, ordered, base, call_timeout_s, False)
    by_index = dict(zip(order, outcomes))
    report.outcomes = [by_index[i] for i in range(len(tests))]
    report.sandbox_s += grader.sandbox_s
    report.timed_out = grader.timed_out
    report.attempt_timed_out = clock.over
    if grader.load_error is not None:
        report.compiled, report.compile_error = False, grader.load_error
    printed = {False: [grader.load_stdout, grader.load_stderr], True: ["", ""]}
    for index in sorted(grader.out):
        kept = printed[index >= grader.hidden_from]
        kept[0] += grader.out[index][0]
        kept[1] += grader.out[index][1]
    report.stdout, report.stderr = (text[:_OUTPUT_CAP] for text in printed[False])
    report.hidden_stdout, report.hidden_stderr = (text[:_OUTPUT_CAP] for text in printed[True])
    return report


def _failed(test_id: str, error: str, reason: str) -> TestOutcome:
    return TestOutcome(id=test_id, passed=False, error=error, reason=reason)


def _reason(exc: BaseException) -> str:
    """The generic reason (one of :data:`REASONS`) for a test that raised ``exc``."""
    if isinstance(exc, AssertionError):
        return "wrong answer"
    if isinstance(exc, _AttemptOver):
        return "attempt time limit"
    if isinstance(exc, CandidateDied):
        return "time limit" if "time limit" in str(exc) else "crashed"
    if isinstance(exc, CandidateError):
        if exc.type_name == "NotPlainData":
            return "returned a value that is not plain data"
        return "raised an exception"
    return "check raised an error"


def _grade(
    grader: _Grader,
    tests: Sequence[TestCase],
    base: dict[str, Any],
    call_timeout_s: float,
    pipeline: bool,
) -> list[TestOutcome]:
    """One try of :func:`grade` on ``tests`` (the visible ones first, then from
    ``grader.hidden_from`` the hidden ones), in one candidate session at a time; raises
    :class:`_Diverged` if a plan of prefetched calls does not hold."""
    grader.load_error = None
    try:
        session = grader.open()
    except _AttemptOver as exc:
        return [_failed(t.id, f"CandidateDied: {exc}", "attempt time limit") for t in tests]
    if session.load_error:
        phase, etype, emsg = session.load_error
        grader.drop()
        what = "does not compile" if phase == "compile" else "failed to load"
        reason = "failed to load"
        if etype == "CandidateDied" and "time limit" in emsg:
            if grader.clock.left() <= 0:  # the load ran into the attempt's limit
                grader.clock.over = True
                emsg, reason = f"{grader.clock.message()} while loading", "attempt time limit"
            else:
                grader.timed_out = True
        error = f"the program {what}: {etype}: {emsg}"[:2000]
        grader.load_error = error
        return [_failed(t.id, error, reason) for t in tests]

    def candidate(*args: Any, **kwargs: Any) -> Any:
        return grader.call(args, kwargs, call_timeout_s)

    outcomes = []
    hidden_from = grader.hidden_from
    try:
        if pipeline:
            grader.prefetch(tests, 0, hidden_from or None)
            if 0 < hidden_from < len(tests):
                grader.next_batch = tests
        for index, test in enumerate(tests):
            if index == hidden_from:  # every visible test is done (if not sent already)
                grader.send_hidden()
            grader.test_index = index
            if grader.clock.left() <= 0:
                grader.clock.over = True
                grader.drop()
                error = f"not run: {grader.clock.message()}"
                outcomes.append(_failed(test.id, error, "attempt time limit"))
                continue
            namespace = dict(base)
            namespace["candidate"] = candidate
            start = time.perf_counter()
            error = reason = None
            try:
                code = _compile_fixed(test.code, f"<test {test.id}>", "exec", dont_inherit=True)
                exec(code, namespace)
            except (Exception, SystemExit) as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
                reason = _reason(exc)
            grader.check_test_done(index)
            printed = grader.out.get(index, ["", ""])
            outcomes.append(
                TestOutcome(
                    id=test.id,
                    passed=error is None,
                    error=error,
                    reason=reason,
                    wall_s=time.perf_counter() - start,
                    stdout=printed[0],
                    stderr=printed[1],
                )
            )
    finally:
        grader.drop()
    return outcomes
