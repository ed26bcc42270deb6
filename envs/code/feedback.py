"""The feedback a code env shows after an attempt: visible tests in full, hidden ones as counts.

What the candidate printed or raised while a hidden test called it may carry that test's inputs
(a candidate can print its arguments), so it never reaches an observation: feedback quotes only
the load error, the failing visible tests with their errors, and what the candidate printed to
stderr while loading and during visible tests (:attr:`GradeReport.stderr`; the grader runs the
hidden tests after every visible one, so their inputs reach the candidate only then). For hidden
tests it gives the
number that failed and the generic reasons (:data:`rewardgym.sandbox.grading.REASONS`), which
nothing the candidate sends can change.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rewardgym.envs.code.tasks import CodeTask
    from rewardgym.sandbox.grading import GradeReport

__all__ = ["clip", "feedback"]


def clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, saying how many were cut."""
    if len(value) <= limit:
        return value
    marker = f"\n... [{len(value) - limit} characters cut]"
    return value[: max(0, limit - len(marker))] + marker


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def feedback(task: CodeTask, report: GradeReport, limit: int) -> str:
    """The feedback text for ``report`` on ``task``; each quoted error is cut to ``limit``.

    Each fact is said once: a program that did not load gets that error alone (not once per
    test), and tests the attempt's wall-clock limit stopped are counted in one line.
    """
    results = report.results
    lines = [f"{sum(results)}/{len(results)} tests passed."]
    if not report.compiled:
        lines.append(_sentence(clip(report.compile_error or "the program failed to load", limit)))
    stopped = 0
    hidden_reasons: Counter[str] = Counter()
    for test, outcome in zip(task.tests, report.outcomes):
        if outcome.passed:
            continue
        reason = outcome.reason or "check raised an error"
        if reason == "failed to load" and not report.compiled:
            continue  # said once above
        if reason == "attempt time limit":
            stopped += 1
        elif not test.visible:
            hidden_reasons[reason] += 1
        else:
            error = clip(outcome.error or "failed", limit)
            lines.append(f"Failed visible test {test.id}:\n{test.code}\n-> {error}")
    if hidden_reasons:
        n = sum(hidden_reasons.values())
        why = ", ".join(f"{count} {reason}" for reason, count in hidden_reasons.most_common())
        lines.append(f"{n} hidden test{'s' if n > 1 else ''} failed ({why}).")
    if stopped:
        lines.append(
            f"{stopped} test{'s' if stopped > 1 else ''} failed because grading stopped: "
            "the attempt used up its wall-clock limit."
        )
    if report.stderr:
        lines.append(f"stderr:\n{clip(report.stderr, limit)}")
    return "\n".join(lines)
