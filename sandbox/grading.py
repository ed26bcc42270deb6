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
import functools
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from rewardgym.sandbox import _guest
from rewardgym.sandbox.base import CandidateDied, Limits, Sandbox, Session

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


#: nodes whose parts may go unevaluated: a call inside one is not sure to be made.
_CONDITIONAL = (
    ast.BoolOp, ast.IfExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda,
)  # fmt: skip


class _Diverged(BaseException):
    """The tests did not make the prefetched calls in order: the pipelined attempt is void.

    A ``BaseException`` so that no ``except Exception`` on the way can turn it into a verdict.
    """


@functools.lru_cache(maxsize=4096)
def prefetchable_call(code: str) -> tuple[tuple, dict] | None:
    """``(args, kwargs)`` of the one ``candidate`` call that test ``code`` is sure to make.

    That is: ``code`` is a single ``assert`` whose condition names ``candidate`` exactly once,
    as ``candidate(...)`` with literal arguments only (:func:`ast.literal_eval`), outside every
    part that may go unevaluated (boolean operators, conditional expressions, comprehensions,
    lambdas, the later comparisons of a chain) and not in the message. None otherwise. The
    result is cached: never mutate it. "Sure" is what the source says; :func:`grade` still
    checks at run time that each prefetched call is made, by its test, with these arguments.
    """
    try:
        module = ast.parse(code)
        if len(module.body) != 1 or not isinstance(module.body[0], ast.Assert):
            return None
        statement = module.body[0]
        names = [n for n in ast.walk(statement) if isinstance(n, ast.Name) and n.id == "candidate"]
        if len(names) != 1:
            return None
        call = _sure_call(statement.test, names[0])
        if call is None or any(isinstance(arg, ast.Starred) for arg in call.args):
            return None
        if any(keyword.arg is None for keyword in call.keywords):
            return None
        args = tuple(ast.literal_eval(arg) for arg in call.args)
        kwargs = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None
    return args, kwargs


def _sure_call(node: ast.AST, name: ast.Name) -> ast.Call | None:
    """The call of ``name`` inside ``node`` if evaluating ``node`` always makes it, else None."""
    if isinstance(node, ast.Call) and node.func is name:
        return node
    if isinstance(node, _CONDITIONAL):
        return None
    children = [node.left, node.comparators[0]] if isinstance(node, ast.Compare) else None
    for child in children or ast.iter_child_nodes(node):
        found = _sure_call(child, name)
        if found is not None:
            return found
    return None


def _request_key(args: tuple, kwargs: dict) -> str:
    """The exact text of a call's request: equal keys mean the candidate sees the same call."""
    return json.dumps([_guest.encode(args), _guest.encode(kwargs)], separators=(",", ":"))


class _Grader:
    """Holds the candidate session across tests and restarts it after a death.

    With a plan (:meth:`prefetch`), the first tests' calls are submitted at once and their
    answers received as the tests make them; every call is checked against the plan.
    """

    def __init__(self, box: Sandbox, program: str, entry_point: str, limits: Limits | None) -> None:
        self.box, self.program, self.entry_point, self.limits = box, program, entry_point, limits
        self.session: Session | None = None
        self.sandbox_s = 0.0
        self.timed_out = False
        self.stdout = self.stderr = ""
        self.plan: list[str] = []  # request keys of the submitted calls, one per test, in order
        self.made = 0  # how many of them the tests have made
        self.test_index = 0  # the test now running

    def open(self) -> Session:
        start = time.perf_counter()
        try:
            self.session = self.box.open_session(self.program, self.entry_point, self.limits)
        finally:
            self.sandbox_s += time.perf_counter() - start
        return self.session

    def drop(self) -> None:
        self.plan = []  # the submitted calls die with the session
        if self.session is not None:
            self.stdout = (self.stdout + self.session.stdout)[:_OUTPUT_CAP]
            self.stderr = (self.stderr + self.session.stderr)[:_OUTPUT_CAP]
            self.session.close()
            self.session = None

    def prefetch(self, tests: Sequence[TestCase]) -> None:
        """Submit the calls of the leading tests :func:`prefetchable_call` vouches for."""
        assert self.session is not None
        start = time.perf_counter()
        try:
            for test in tests:
                found = prefetchable_call(test.code)
                if found is None:
                    break
                try:
                    key = _request_key(*found)
                except _guest.NotPlainData:  # the live call refuses it, with its own message
                    break
                self.session.submit(*found)
                self.plan.append(key)
        finally:
            self.sandbox_s += time.perf_counter() - start

    def check_test_done(self, index: int) -> None:
        """Raise :class:`_Diverged` unless test ``index`` made its prefetched call."""
        if index < len(self.plan) and self.made != index + 1:
            raise _Diverged

    def call(self, args: tuple, kwargs: dict, timeout: float) -> Any:
        if self.made < len(self.plan):
            # the first call of the test that the call was submitted for, with its arguments
            if self.made != self.test_index or _request_key(args, kwargs) != self.plan[self.made]:
                raise _Diverged
            self.made += 1
            ask = self.session.receive  # type: ignore[union-attr]  # a plan implies a session
        else:
            _guest.encode(args)  # refuse non-plain arguments here, in the grader
            _guest.encode(kwargs)
            if self.session is None:
                session = self.open()
                if session.load_error:
                    self.drop()
                    raise CandidateDied("the candidate program failed to load on restart")
            ask = functools.partial(self.session.call, args, kwargs)  # type: ignore[union-attr]
        start = time.perf_counter()
        try:
            answer = ask(timeout)
        except CandidateDied as exc:
            if "time limit" in str(exc):
                self.timed_out = True
            self.drop()  # later calls go, one by one, to a fresh session
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
    pipeline: bool = True,
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
        pipeline: on a pipelining session (:attr:`Session.pipelined`), submit the calls of the
            leading tests that :func:`prefetchable_call` accepts all at once, saving a round
            trip each. The report is the one the call-by-call way gives: if the tests do not
            make exactly those calls, in order, one per test, the session is discarded and
            everything is graded again call by call. The one difference: a prefetched call's
            time limit counts from when the grader received the previous answer, and the
            candidate may have started it earlier, once it sent that answer; the extra time is
            how far the grader lagged behind, at most its own time for the earlier prefetched
            tests (tens of microseconds each for an ``assert`` on literals).

    Returns:
        A :class:`GradeReport` with one outcome per test, in order. A test passes iff its code
        finishes without an exception.
    """
    box = sandbox if sandbox is not None else default_sandbox()
    grader = _Grader(box, program, entry_point, limits)
    try:
        return _grade(grader, tests, setup, call_timeout_s, pipeline)
    except _Diverged:
        spent = grader.sandbox_s
    report = _grade(_Grader(box, program, entry_point, limits), tests, setup, call_timeout_s, False)
    report.sandbox_s += spent
    return report


def _grade(
    grader: _Grader,
    tests: Sequence[TestCase],
    setup: str,
    call_timeout_s: float,
    pipeline: bool,
) -> GradeReport:
    """One attempt of :func:`grade`; raises :class:`_Diverged` if its plan does not hold."""
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
        if pipeline and session.pipelined:
            grader.prefetch(tests)
        for index, test in enumerate(tests):
            grader.test_index = index
            namespace = dict(base)
            namespace["candidate"] = candidate
            start = time.perf_counter()
            error = None
            try:
                exec(compile(test.code, f"<test {test.id}>", "exec"), namespace)
            except (Exception, SystemExit) as exc:
                error = f"{type(exc).__name__}: {exc}"[:2000]
            grader.check_test_done(index)
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
