"""The grader's own side holds against hostile answers, on every backend that runs here.

Issue 12: a failure while reading an answer is the candidate's failure (a verdict with a reason)
and releases it; the grader's work on what comes back is capped (frame size, values, depth, hash
collisions); a grader busy past a call's deadline does not fail an answer that is there; an
attempt has a wall-clock cap. The candidates forge their answers by writing frames straight into
the channel (fd 4 in every backend's guest), as a hostile program can.
"""

from __future__ import annotations

import os
import resource
import time

import pytest
from proc_tree import descendants  # tests/sandbox/proc_tree.py

from rewardgym.sandbox import Limits
from rewardgym.sandbox.grading import REASONS, TestCase, grade

N_UIDS = 4
SANDBOX_OPTS = {"process": {"n_uids": N_UIDS}, "bwrap": {"n_uids": N_UIDS}}
LIMITS = Limits(wall_s=5.0, cpu_s=5.0, memory_mb=512)
TESTS = [TestCase(f"t{i}", f"assert candidate({i}) == {i + 1}") for i in range(3)]
HONEST = "def f(x):\n    return x + 1\n"


def forged(body: str, *, at_load: bool = False, then: str = "return 0") -> str:
    """A candidate that writes the frame built by the expression ``body`` (JSON text) into its
    answer channel, at load or in its call, then does ``then``."""
    write = (
        "import os, struct\n"
        "def _forge():\n"
        f"    data = ({body}).encode()\n"
        "    os.write(4, struct.pack('>I', len(data)) + data)\n"
    )
    if at_load:
        return write + f"_forge()\ndef f(x):\n    {then}\n"
    return write + f"def f(x):\n    _forge()\n    {then}\n"


def answer(value: str) -> str:
    """The expression of an answer frame whose value is the JSON text ``value`` builds."""
    return f"'{{\"ok\":true,\"value\":' + {value} + '}}'"


def multiples(n: int) -> str:
    """The expression of n ints ``k * (2**61 - 1)``, comma-separated: all hash to 0."""
    return f"','.join(str((2**61 - 1) * k) for k in range(1, {n + 1}))"


#: name -> (candidate, a word the failing tests' error must contain)
FORGED = {
    "deep_nesting_at_load": (forged("'[' * 200000 + ']' * 200000", at_load=True), "nested"),
    "deep_nesting_answer": (forged(answer("'[' * 200000 + ']' * 200000")), "nested"),
    "oversized_frame": (
        "import os, struct\ndef f(x):\n    os.write(4, struct.pack('>I', 60 << 20))\n"
        "    import time; time.sleep(30)\n",
        "bytes",
    ),
    "empty_lists_15mb": (forged(answer("'[' + '[],' * 5_000_000 + '[]]'")), "values"),
    "colliding_int_set": (forged(answer(f"'{{\"S\":[' + {multiples(50000)} + ']}}'")), "hash"),
    "colliding_dict_keys": (
        forged(answer(f"'{{\"d\":[[' + {multiples(50000)} + '],[' + '0,' * 49999 + '0]]}}'")),
        "hash",
    ),
    "colliding_frozensets_nested": (
        forged(answer(f"'[{{\"F\":[' + {multiples(30000)} + ']}}]'")),
        "hash",
    ),
    "malformed_json": (forged("'{\"ok\":tru'"), "malformed"),
    "not_an_object": (forged("'[1, 2, 3]'"), "malformed"),
    "huge_int_literal": (forged("'{\"ok\":true,\"value\":' + '9' * 100000 + '}'"), "malformed"),
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_a_forged_answer_is_a_verdict_with_a_reason(sandbox, name):
    program, word = FORGED[name]
    start = time.monotonic()
    report = grade(program, "f", TESTS, sandbox=sandbox, call_timeout_s=5.0, limits=LIMITS)
    assert time.monotonic() - start < 15.0
    assert not any(report.results), report
    errors = [o.error or "" for o in report.outcomes] + [report.compile_error or ""]
    assert any(word in e for e in errors), errors
    assert all(o.reason in REASONS for o in report.outcomes)


def test_the_grader_decodes_a_forged_answer_in_bounded_memory(sandbox):
    """15 MB of empty lists once cost ~440 MB of grader memory; now it is refused unparsed."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = grade(FORGED["empty_lists_15mb"][0], "f", TESTS[:1], sandbox=sandbox, limits=LIMITS)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert not report.all_passed
    assert grown_mb < 120, grown_mb  # the frame and its copy; no parsed structure


def test_caps_are_limits_fields(sandbox):
    """A cap lowered in Limits refuses an answer the default lets through."""
    program = "def f(x):\n    return [[i] for i in range(x)]\n"
    tests = [TestCase("big", "assert len(candidate(5000)) == 5000")]
    assert grade(program, "f", tests, sandbox=sandbox, limits=LIMITS).all_passed
    tight = LIMITS.model_copy(update={"max_values": 1000})
    report = grade(program, "f", tests, sandbox=sandbox, limits=tight)
    assert not report.all_passed and "limit is 1000" in (report.outcomes[0].error or "")
    shallow = LIMITS.model_copy(update={"max_depth": 3})
    nested = "def f(x):\n    return [[[[[x]]]]]\n"
    report = grade(nested, "f", [TestCase("d", "assert candidate(1)")], sandbox=sandbox,
                   limits=shallow)  # fmt: skip
    assert not report.all_passed and "deeper than 3" in (report.outcomes[0].error or "")
    honest_set = "def f(x):\n    return set(range(-x, x))\n"  # hash(-1) == hash(-2): 1 collision
    tests = [TestCase("s", "assert candidate(300) == set(range(-300, 300))")]
    assert grade(honest_set, "f", tests, sandbox=sandbox, limits=LIMITS).all_passed


def _server_family(sandbox) -> set[int]:
    proc = getattr(sandbox, "_proc", None)
    return descendants(proc.pid) if proc is not None else set()


def settled(box, tries: int = 100) -> dict:
    """The fork-server's stats once no run is left (it kills closed sessions without waiting)."""
    for _ in range(tries):
        stats = box.stats()
        if stats["runs"] == 0:
            break
        time.sleep(0.02)
    return stats


def test_repeated_attacks_release_every_slot(sandbox):
    """More attacks than uid slots in a row, then honest work still runs: nothing leaks."""
    rounds = N_UIDS * 2 + 2
    fds_before = len(os.listdir("/proc/self/fd"))
    attacks = ["deep_nesting_at_load", "deep_nesting_answer", "malformed_json", "oversized_frame"]
    for i in range(rounds):
        program = FORGED[attacks[i % len(attacks)]][0]
        report = grade(program, "f", TESTS, sandbox=sandbox, limits=LIMITS)
        assert not any(report.results)
    assert grade(HONEST, "f", TESTS, sandbox=sandbox, limits=LIMITS).all_passed
    if sandbox.kind in ("process", "bwrap"):
        stats = settled(sandbox)
        assert stats == {"free_uids": N_UIDS, "n_uids": N_UIDS, "runs": 0, "workdirs": 0}
        assert len(_server_family(sandbox)) <= 3  # the shim, pid 1 and the spare child
    if sandbox.kind == "docker":
        assert len(sandbox._all) <= 2, sandbox._all
    assert len(os.listdir("/proc/self/fd")) <= fds_before + 2


SLOW_SETUP = "import time\ndef slowly(x):\n    time.sleep(0.5)\n    return x\n"


def test_a_slow_grader_never_fails_honest_code(sandbox):
    """The trusted side sleeps 0.5 s after each answer, past the 0.3 s call limit of the next
    (already answered) prefetched call: every honest answer still counts."""
    tests = [TestCase(f"t{i}", f"assert candidate({i}) == slowly({i + 1})") for i in range(3)]
    report = grade(HONEST, "f", tests, sandbox=sandbox, setup=SLOW_SETUP, call_timeout_s=0.3,
                   attempt_timeout_s=30, limits=LIMITS)  # fmt: skip
    assert report.all_passed, report
    assert not report.timed_out
    # and a candidate that really is slow still times out, with the grader as slow
    slow = "import time\ndef f(x):\n    time.sleep(2.0 if x == 2 else 0)\n    return x + 1\n"
    report = grade(slow, "f", tests, sandbox=sandbox, setup=SLOW_SETUP, call_timeout_s=0.3,
                   attempt_timeout_s=30, limits=LIMITS)  # fmt: skip
    assert report.results == [True, True, False], report
    assert report.timed_out and report.outcomes[2].reason == "time limit"


def test_an_attempt_has_a_wall_clock_cap(sandbox):
    tests = [TestCase(f"t{i}", f"assert candidate({i}) == {i + 1}") for i in range(26)]
    hang = "def f(x):\n    while True:\n        pass\n"
    start = time.monotonic()
    report = grade(hang, "f", tests, sandbox=sandbox, call_timeout_s=0.4, limits=LIMITS)
    elapsed = time.monotonic() - start
    assert elapsed < 0.4 * 5 + 3.0, elapsed  # the default cap: 5 call limits (was 26 of them)
    assert report.attempt_timed_out and not any(report.results)
    reasons = [o.reason for o in report.outcomes]
    assert reasons[0] == "time limit" and reasons[-1] == "attempt time limit", reasons
    assert "wall-clock limit of 2 s" in (report.outcomes[-1].error or "")


def test_a_slow_load_counts_against_the_attempt(sandbox):
    """Loading for 1.5 s and then hanging once cost a load and a call limit per test."""
    program = "import time\ntime.sleep(1.5)\ndef f(x):\n    while True:\n        pass\n"
    start = time.monotonic()
    report = grade(program, "f", TESTS, sandbox=sandbox, call_timeout_s=1.0,
                   attempt_timeout_s=2.5, limits=LIMITS)  # fmt: skip
    assert time.monotonic() - start < 2.5 + 2.5
    assert report.attempt_timed_out and not any(report.results)
    assert report.outcomes[-1].reason == "attempt time limit"
