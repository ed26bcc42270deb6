"""Which test calls can be sent ahead (pipelined grading): :func:`prefetchable_call` reads a
test's source for the one ``candidate(...)`` call it is sure to make, with literal arguments;
:func:`request_key` is the exact text of a call's request, so the grader can check at run time
that every prefetched call is made as planned."""

from __future__ import annotations

import ast
import functools
import json

from rewardgym.sandbox import _guest

__all__ = ["prefetchable_call", "request_key"]


#: nodes whose parts may go unevaluated: a call inside one is not sure to be made.
_CONDITIONAL = (
    ast.BoolOp, ast.IfExp, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda,
)  # fmt: skip


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


def request_key(args: tuple, kwargs: dict) -> str:
    """The exact text of a call's request: equal keys mean the candidate sees the same call."""
    return json.dumps([_guest.encode(args), _guest.encode(kwargs)], separators=(",", ":"))
