"""Run LLM-written reward code in the sandbox, shape-checked, and use it as a reward component.

:class:`SandboxedProgram` loads a program in a :mod:`rewardgym.sandbox` session (process
backend by default: its own uid, no network, rlimits) with time and memory limits, and calls
its entry point on plain-data arguments. :func:`check_program` runs it on sample inputs and
says why it is unusable — it does not compile, fails to load, raises, runs out of time or
memory, or returns the wrong shape — or returns the outputs. :class:`WrittenReward` makes an
accepted program a named wrapper component ``shaping/<name>``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym

from rewardgym.errors import ConfigError
from rewardgym.sandbox import CandidateDied, Limits, Sandbox, make
from rewardgym.shaping.wrappers.base import ShapingWrapper, _finite

__all__ = ["DEFAULT_LIMITS", "SandboxedProgram", "WrittenReward", "check_program"]

log = logging.getLogger("rewardgym.shaping.llm.sandboxed")

#: Limits of LLM-written reward code: 2 CPU s, 256 MB, no network.
DEFAULT_LIMITS = Limits(cpu_s=2.0, wall_s=5.0, memory_mb=256, max_processes=4)


class SandboxedProgram:
    """A program loaded in a sandbox session; ``program(*args)`` calls its entry point.

    Args:
        code: the Python source.
        entry_point: the function to call.
        sandbox: a sandbox to open the session in (default: a new process sandbox, closed
            with this object).
        limits: the session's limits.
        call_timeout_s: the longest one call may take (the candidate is then killed).

    Attributes:
        load_error: ``(phase, type, message)`` if the program did not load, else None.
    """

    def __init__(
        self,
        code: str,
        entry_point: str,
        *,
        sandbox: Sandbox | None = None,
        limits: Limits = DEFAULT_LIMITS,
        call_timeout_s: float = 1.0,
    ) -> None:
        self.code, self.entry_point = code, entry_point
        self.limits, self.call_timeout_s = limits, float(call_timeout_s)
        self._own = sandbox is None
        self.sandbox = sandbox if sandbox is not None else make("process", limits=limits)
        self._session = self.sandbox.open_session(code, entry_point, limits)
        self.load_error = self._session.load_error

    def __call__(self, *args: Any) -> Any:
        """The entry point's return value.

        Raises:
            RuntimeError: the call raised inside the sandbox (type and message given).
            CandidateDied: it ran out of time or was killed.
        """
        answer = self._session.call(list(args), {}, self.call_timeout_s)
        if not answer.get("ok"):
            raise RuntimeError(f"{answer.get('etype')}: {answer.get('emsg')}")
        return answer.get("value")

    def close(self) -> None:
        """End the session (and the sandbox if this object made it); idempotent."""
        self._session.close()
        if self._own:
            self.sandbox.close()


def _shape_error(value: Any, expect: str, columns: int | None) -> str | None:
    if expect == "scalar":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"returned {type(value).__name__} {value!r:.60}, expected a float"
        if not math.isfinite(value):
            return f"returned {value}, expected a finite float"
        return None
    if not isinstance(value, (list, tuple)) or not value:
        return f"returned {type(value).__name__} {value!r:.60}, expected a non-empty list of floats"
    if any(
        isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
        for v in value
    ):
        return f"returned {value!r:.80}, expected finite floats only"
    if columns is not None and len(value) != columns:
        return f"returned {len(value)} columns where an earlier sample gave {columns}"
    return None


def check_program(
    code: str,
    entry_point: str,
    samples: Sequence[Sequence[Any]],
    *,
    expect: str = "scalar",
    sandbox: Sandbox | None = None,
    limits: Limits = DEFAULT_LIMITS,
    call_timeout_s: float = 1.0,
) -> tuple[SandboxedProgram | None, str, list[Any]]:
    """Load ``code`` in the sandbox and call ``entry_point`` on each sample's arguments.

    Args:
        code: the program.
        entry_point: its reward function.
        samples: argument lists, e.g. ``[(state, next_state), ...]``.
        expect: ``"scalar"`` (one finite float) or ``"columns"`` (a list of finite floats, the
            same length for every sample).
        sandbox, limits, call_timeout_s: as :class:`SandboxedProgram`.

    Returns:
        ``(program, "", outputs)`` when it works (the program stays loaded, ready to use), or
        ``(None, reason, [])`` saying why not.
    """
    if expect not in ("scalar", "columns"):
        raise ConfigError(f"expect must be 'scalar' or 'columns', got {expect!r}")
    try:
        compile(code, "<reward>", "exec")
    except SyntaxError as exc:
        return None, f"syntax error: {exc.msg} (line {exc.lineno})", []
    program = SandboxedProgram(
        code, entry_point, sandbox=sandbox, limits=limits, call_timeout_s=call_timeout_s
    )
    if program.load_error is not None:
        phase, etype, msg = program.load_error
        program.close()
        return None, f"did not load ({phase}): {etype}: {msg}", []
    outputs: list[Any] = []
    columns: int | None = None
    for i, args in enumerate(samples):
        try:
            value = program(*args)
        except CandidateDied as exc:
            program.close()
            return None, f"sample {i}: killed: {exc}", []
        except RuntimeError as exc:
            program.close()
            return None, f"sample {i}: raised {exc}", []
        error = _shape_error(value, expect, columns)
        if error:
            program.close()
            return None, f"sample {i}: {error}", []
        if expect == "columns":
            columns = len(value)
        outputs.append(value)
    return program, "", outputs


class WrittenReward(ShapingWrapper):
    """An accepted LLM-written reward ``reward(state, next_state) -> float`` as a component.

    The component is named ``shaping/<name>``; it reads ``info[state_key]`` (the dungeon's
    documented ``symbolic_state``) before and after each step. A call that fails at run time
    (raises, times out) is worth 0, with a warning.

    Args:
        env: the env.
        program: a loaded :class:`SandboxedProgram` (from :func:`check_program` or the loops in
            :mod:`rewardgym.shaping.llm.written`).
        name: the component's name, ``shaping/<name>``.
        weight: its weight.
        state_key: the ``info`` key holding the state dict.
        provenance: what produced the code (version, prompt hash, model id), for the spec.
    """

    shaping_name = "written"

    def __init__(
        self,
        env: gym.Env,
        program: SandboxedProgram,
        name: str = "written",
        weight: float = 1.0,
        state_key: str = "symbolic_state",
        provenance: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(env)
        if not isinstance(program, SandboxedProgram) or program.load_error is not None:
            raise ConfigError("WrittenReward needs a loaded SandboxedProgram (see check_program)")
        self.component_name = f"shaping/{name}"
        self.name, self.program, self.state_key = name, program, state_key
        self.weight = _finite("weight", weight)
        self.provenance = dict(provenance or {})
        self._state: Any = None
        self.failures = 0

    def _params(self) -> dict[str, Any]:
        return {"component": self.name, "weight": self.weight, "state_key": self.state_key,
                **self.provenance}  # fmt: skip

    def _on_reset(self, obs, info, seed) -> None:
        if self.state_key not in info:
            raise ConfigError(
                f"WrittenReward: the env reports no info[{self.state_key!r}]; pass state_key="
            )
        self._state = info[self.state_key]

    def _shape(self, obs, reward, terminated, truncated, info) -> float:
        state = info.get(self.state_key)
        try:
            value = float(self.program(self._state, state))
            if not math.isfinite(value):
                raise ValueError(f"returned {value}")
        except Exception as exc:
            value = 0.0
            self.failures += 1
            if self.failures == 1 or self.failures % 100 == 0:
                log.warning("written reward %r failed (%s); using 0", self.name, exc)
        self._state = state
        return value

    def close(self) -> None:
        self.program.close()
        super().close()
