"""Pipelined (prefetched) candidate calls give exactly the call-by-call report.

The grader submits the calls of the leading single-``assert`` tests with literal arguments at
once; these tests check which tests qualify, and that results, errors, ``timed_out``, captured
output and restarts after a death are the same as with ``pipeline=False``.
"""

from __future__ import annotations

import time

import pytest

from rewardgym.sandbox import grading, make
from rewardgym.sandbox.base import CandidateDied, Session
from rewardgym.sandbox.grading import GradeReport, TestCase, grade, prefetchable_call

#: a stateful candidate: its answers and output depend on how many calls came before.
COUNTER = """
import os, time
calls = 0

def f(x, bump=0):
    global calls
    calls += 1
    print(f"call {calls}: {x!r}")
    if x == "raise":
        raise ValueError(f"asked to raise at call {calls}")
    if x == "sleep":
        time.sleep(30)
    if x == "exit":
        os._exit(3)
    return [calls + bump, x]
"""


@pytest.fixture(scope="module", params=["process", "bwrap"])
def box(request):
    if request.param == "bwrap":
        from rewardgym.sandbox.bwrap import bwrap_problem

        if (why := bwrap_problem()) is not None:
            pytest.skip(f"skipped: {why}")
    made = make(request.param)
    yield made
    made.close()


@pytest.fixture
def attempts(monkeypatch):
    """The ``pipeline`` flag of every grading attempt (a second one means a re-run)."""
    seen: list[bool] = []
    inner = grading._grade

    def spy(grader, tests, setup, call_timeout_s, pipeline):
        seen.append(pipeline)
        return inner(grader, tests, setup, call_timeout_s, pipeline)

    monkeypatch.setattr(grading, "_grade", spy)
    return seen


def _tests(*codes: str) -> list[TestCase]:
    return [TestCase(f"t{i:02d}", code) for i, code in enumerate(codes)]


def _verdicts(report: GradeReport) -> dict:
    """Everything in a report except timings."""
    return report.model_dump(exclude={"sandbox_s": True, "outcomes": {"__all__": {"wall_s"}}})


def _both(box, tests: list[TestCase], attempts: list[bool], **kw) -> GradeReport:
    """Grade ``COUNTER`` both ways; assert the reports agree; return the pipelined one."""
    piped = grade(COUNTER, "f", tests, sandbox=box, **kw)
    plain = grade(COUNTER, "f", tests, sandbox=box, pipeline=False, **kw)
    assert _verdicts(piped) == _verdicts(plain)
    return piped


@pytest.mark.parametrize(
    ("code", "call"),
    [
        ("assert candidate([1, 2], 3) == 4", (([1, 2], 3), {})),
        ("assert candidate(-1, y=(1, 'a'), z=None) is None", ((-1,), {"y": (1, "a"), "z": None})),
        ("assert abs(candidate(1.33) - 0.33) < 1e-06", ((1.33,), {})),
        ("assert candidate({'a': {1, 2}}, set(), b'x')", (({"a": {1, 2}}, set(), b"x"), {})),
        ("assert 3 == candidate(2)", ((2,), {})),
        ("assert 0 < candidate(2) < 5", ((2,), {})),  # the first comparison always runs
        ("assert [candidate(True)][0]", ((True,), {})),
        ("assert candidate()(2)", ((), {})),
    ],
)
def test_prefetchable_tests(code, call):
    assert prefetchable_call(code) == call


@pytest.mark.parametrize(
    "code",
    [
        "assert candidate(x) == 1",  # not a literal
        "assert candidate(3 * 19) == 1",  # an expression, not a literal
        "assert candidate(*[1])",
        "assert candidate(**{'a': 1})",
        "x = candidate(1)\nassert x == 1",  # two statements
        "candidate(1)",  # not an assert
        "assert candidate(1) == 1, str(candidate(1))",  # two calls
        "assert candidate(1) == candidate(2)",
        "assert True, candidate(1)",  # only in the message
        "assert flag and candidate(1)",  # short-circuited
        "assert candidate(1) if flag else True",
        "assert all(candidate(i) for i in [1])",
        "assert [candidate(1) for _ in 'a']",
        "assert (lambda: candidate(1))()",
        "assert 0 < 1 < candidate(2)",  # a later comparison of a chain
        "assert candidate",  # named, not called
        "assert helper(candidate, 1)",
        "assert True",  # no call at all
        "assert candidate(1",  # a syntax error
    ],
)
def test_tests_that_are_not_prefetched(code):
    assert prefetchable_call(code) is None


def test_a_stateful_candidate_gives_the_same_report(box, attempts):
    codes = [f"assert candidate({i}) == [{i + 1}, {i}]" for i in range(12)]
    codes[4] = "assert candidate(4) == [99, 4]"  # fails, keeps going
    codes[8] = "assert candidate('eight', bump=10) == [19, 'eight']"
    codes += ["n = 12\nassert candidate(n) == [13, n]", "assert candidate(13) == [14, 13]"]
    report = _both(box, _tests(*codes), attempts)
    assert report.results == [i != 4 for i in range(14)]
    assert "call 14: 13" in report.stdout
    assert attempts == [True, False]  # the pipelined attempt held: no re-run


@pytest.mark.parametrize(
    ("bad", "kw"),
    [
        ("raise", {}),
        ("sleep", {"call_timeout_s": 0.3}),
        ("exit", {}),
    ],
)
def test_an_error_timeout_or_crash_mid_batch_gives_the_same_report(box, attempts, bad, kw):
    codes = [f"assert candidate({i})[0] == {i + 1}" for i in range(10)]
    codes[3] = f"assert candidate({bad!r}) is None"
    report = _both(box, _tests(*codes), attempts, **kw)
    if bad == "raise":  # an ordinary answer: the session lives on
        assert report.results == [i != 3 for i in range(10)]
        assert report.outcomes[3].error == "CandidateError: ValueError: asked to raise at call 4"
    else:  # a fresh session answers the rest, counting from 1 again
        assert report.results == [i < 3 for i in range(10)]
        assert "CandidateDied" in (report.outcomes[3].error or "")
        assert "call 5: 4" not in report.stdout and "call 1: 4" in report.stdout
    assert report.timed_out == (bad == "sleep")
    assert attempts == [True, False]


def test_tests_without_candidate_calls(box, attempts):
    codes = ["assert True", "assert 1 + 1 == 3", "assert candidate(1)[1] == 1"]
    report = _both(box, _tests(*codes), attempts)
    assert report.results == [True, False, True]
    codes = ["assert candidate(1)[0] == 1", "x = 2", "assert candidate(2)[0] == 2"]
    report = _both(box, _tests(*codes), attempts)
    assert report.results == [True, True, True]


def test_a_prefetched_call_the_test_never_makes_reruns_call_by_call(box, attempts):
    # the name is looked up before the argument is evaluated: candidate(1) is never called
    codes = ["assert candidate(0)[0] == 1", "assert nowhere(candidate(1))"]
    codes += ["assert candidate(2)[0] == 2", "assert candidate(3)[0] == 3"]
    report = _both(box, _tests(*codes), attempts)
    assert report.results == [True, False, True, True]
    assert "NameError" in (report.outcomes[1].error or "")
    assert attempts == [True, False, False]  # the pipelined attempt was void
    del attempts[:]
    _both(box, _tests(*codes[:2]), attempts)  # noticed at the end of the test, not at a call
    assert attempts == [True, False, False]


def test_a_call_other_than_the_prefetched_one_reruns_call_by_call(box, attempts, monkeypatch):
    monkeypatch.setattr(grading, "prefetchable_call", lambda code: ((7,), {}))
    codes = [f"assert candidate({i})[0] == {i + 1}" for i in range(3)]
    report = _both(box, _tests(*codes), attempts)
    assert report.all_passed
    assert attempts == [True, False, False]


def test_a_large_batch_does_not_deadlock(box):
    """Requests and answers far beyond the pipes' buffers, all submitted before any is read."""
    big = list(range(1000, 1400))
    n = 3000
    session = box.open_session("def echo(x, i):\n    return [i, x]\n", "echo")
    try:
        assert session.pipelined
        start = time.monotonic()
        for i in range(n):
            session.submit((big, i), {})
        answers = [session.receive(5.0) for _ in range(n)]
    finally:
        session.close()
    assert [a["value"] for a in answers] == [[i, big] for i in range(n)]
    assert time.monotonic() - start < 60


def test_a_large_batch_of_tests(box, attempts):
    big = list(range(300))
    tests = _tests(*[f"assert candidate({big}, {i})[1] == {i}" for i in range(3000)])
    report = grade("def f(x, i):\n    return [x, i]\n", "f", tests, sandbox=box)
    assert report.all_passed and not report.timed_out
    assert attempts == [True]


class _Recorder(Session):
    """A session without pipelining: the default submit/receive make the calls."""

    def __init__(self) -> None:
        self.made: list[tuple] = []

    def call(self, args, kwargs, timeout):
        self.made.append((args, kwargs, timeout))
        if args == ("die",):
            raise CandidateDied("the candidate process exited with status 1")
        return {"ok": True, "value": args[0]}

    def close(self) -> None:
        pass


def test_the_default_submit_calls_at_receive():
    session = _Recorder()
    assert not session.pipelined
    session.submit((1,), {})
    session.submit(("die",), {"k": 2})
    assert session.made == []
    assert session.receive(1.5) == {"ok": True, "value": 1}
    with pytest.raises(CandidateDied):
        session.receive(2.5)
    assert session.made == [((1,), {}, 1.5), (("die",), {"k": 2}, 2.5)]


def test_hidden_tests_are_sent_after_every_visible_one(box, attempts):
    """Visible tests run first (calls 1-4) though the order interleaves them with hidden ones;
    the hidden ones are prefetched as a second batch (no re-run); output is kept apart."""
    order = {1: 1, 3: 2, 5: 3, 7: 4, 0: 5, 2: 6, 4: 7, 6: 8}  # test index -> call number
    tests = [
        TestCase(f"t{i}", f"assert candidate({i}) == [{order[i]}, {i}]", hidden=i % 2 == 0)
        for i in range(8)
    ]
    report = _both(box, tests, attempts)
    assert report.all_passed, report
    assert attempts == [True, False]
    assert "call 4: 7" in report.stdout and "call 5" not in report.stdout
    assert "call 5: 0" in report.hidden_stdout and "call 4" not in report.hidden_stdout
    assert report.outcomes[0].stdout == "call 5: 0\n" and report.outcomes[1].stdout == "call 1: 1\n"
