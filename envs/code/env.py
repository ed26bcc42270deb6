"""``CodeExecEnv``: programming tasks graded by an unforgeable, sandboxed grader."""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

from gymnasium import spaces
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rewardgym.envs.base import AgenticEnv
from rewardgym.envs.code.extract import extract_code
from rewardgym.envs.code.feedback import clip as _clip
from rewardgym.envs.code.feedback import feedback as build_feedback
from rewardgym.envs.code.sources import Source, load_tasks
from rewardgym.envs.code.tasks import CodeTask
from rewardgym.errors import ConfigError, InvalidAction, ResetNeeded, SandboxError
from rewardgym.spaces import text

__all__ = ["CodeExecConfig", "CodeExecEnv", "render_observation"]

logger = logging.getLogger("rewardgym.envs.code")

#: The keys of a dict observation, in rendering order.
OBSERVATION_KEYS = ("prompt", "starter_code", "visible_tests", "feedback")


class CodeExecConfig(BaseModel):
    """The constructor arguments of :class:`CodeExecEnv` (validated at ``gym.make``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source | None = None
    tasks_path: str | None = None
    task_ids: list[str] | None = None
    impossible: bool = False
    max_attempts: int = Field(1, ge=1, le=100)
    sandbox: Literal["process", "bwrap", "docker"] = "process"
    call_timeout_s: float | None = Field(None, gt=0, le=120)
    attempt_timeout_s: float | None = Field(None, gt=0, le=3600)
    memory_mb: int = Field(512, ge=64, le=65536)
    observation_format: Literal["dict", "text"] = "dict"
    max_action_length: int = Field(32_768, ge=1)
    max_observation_length: int = Field(65_536, ge=1024)
    feedback_chars: int = Field(2_000, ge=0)
    reward_weights: dict[str, float] | None = None
    render_mode: Literal["ansi"] | None = None

    @model_validator(mode="after")
    def _source_matches_path(self) -> CodeExecConfig:
        if self.source == "jsonl" and self.tasks_path is None:
            raise ValueError("source='jsonl' needs tasks_path=<path to a .jsonl task file>")
        if self.tasks_path is not None and self.source not in (None, "jsonl"):
            raise ValueError(f"tasks_path is only used with source='jsonl', not {self.source!r}")
        return self

    @property
    def resolved_source(self) -> Source:
        if self.source is not None:
            return self.source
        return "jsonl" if self.tasks_path is not None else "humaneval"


def _printable(value: str) -> str:
    """``value`` with characters outside the observation space escaped."""
    if value.isprintable():
        return value
    return "".join(
        ch if ch.isprintable() or ch in "\n\r\t" else ch.encode("unicode_escape").decode("ascii")
        for ch in value
    )


def render_observation(observation: dict[str, str] | str) -> str:
    """The text form of an observation (what ``observation_format="text"`` returns)."""
    if isinstance(observation, str):
        return observation
    titles = {
        "prompt": "Problem",
        "starter_code": "Starter code",
        "visible_tests": "Example tests (`candidate` is your function)",
        "feedback": "Feedback on your previous attempt",
    }
    parts = []
    for key in OBSERVATION_KEYS:
        body = observation.get(key, "")
        if body:
            fence = "```python\n" if key in ("starter_code", "visible_tests") else ""
            close = "\n```" if fence else ""
            parts.append(f"## {titles[key]}\n\n{fence}{body.rstrip()}{close}")
    return "\n\n".join(parts) + "\n"


class CodeExecEnv(AgenticEnv):
    """Write a Python function; every attempt is graded by hidden unit tests in a sandbox.

    ## Description

    Each episode is one programming task: HumanEval's 164 problems (``CodeExec-v0``), our own
    bank (``CodeExec-Bank-v0``), a user's JSONL file (``tasks_path=...``), or the impossible
    variants of a source (``CodeExec-Impossible-v0``: one added test contradicts the spec, so
    ``task`` must stay 0 for every submission — a cheating canary). The agent submits a
    program defining the task's entry point; the grader loads it in a sandboxed candidate
    process and runs every test in the trusted grader process, where the name ``candidate``
    calls the sandboxed function and only plain data crosses the boundary. The candidate can
    exit, print, patch its own interpreter or sleep: none of it changes a verdict. Hidden tests
    never appear in observations and never enter the sandbox.

    ## Action Space

    ``PrintableText(max_action_length)``: the agent's reply. The program is the last
    ```` ```python ```` (or bare ```` ``` ````) fenced block that defines the entry point (the
    last block if none does), else the whole reply if it parses as Python. The task's
    *prelude* (imports and helper functions its starter code already gives, e.g. HumanEval's
    ``poly``) is placed before the program, as HumanEval's harness prepends the prompt. A
    reply with no code, or code that does not parse, is an invalid action
    (``info["invalid_action"]``): it scores 0 and uses an attempt; it never raises.

    ## Observation Space

    ``Dict`` of ``PrintableText`` (or one ``PrintableText`` with
    ``observation_format="text"``, rendered by :func:`render_observation`):

    * ``prompt``: the problem statement;
    * ``starter_code``: the signature (and docstring) to complete;
    * ``visible_tests``: the visible tests' code (HumanEval: the first test when a problem
      has two or more; bank: the tests marked visible);
    * ``feedback``: empty on reset; after an attempt, how many tests passed, the load error
      (once), each failing visible test with its error, how many hidden tests failed and the
      generic reasons (e.g. "wrong answer", "time limit"; never which tests, their inputs or
      errors), and what the candidate printed to stderr while loading and during the visible
      tests (truncated). Hidden tests run after every visible test (their inputs reach the
      candidate only then), so nothing shown can carry them
      (:mod:`rewardgym.envs.code.feedback`).

    ## Rewards

    | component | meaning | default weight |
    |---|---|---|
    | ``task`` | 1 if the program passes every test (hidden ones included), else 0 | 1.0 |
    | ``tests_passed`` | fraction of all tests passed | 0.0 |
    | ``compile_ok`` | 1 if the program parsed and loaded in the sandbox | 0.0 |
    | ``format`` | 1 if a program could be extracted from the reply | 0.0 |

    Only ``task`` is rewarded by default: partial credit is a shaping decision (e.g. VeRPO's
    test weights in ``rewardgym.shaping.transforms``), opted into with
    ``reward_weights={"tests_passed": 0.5}``; the zero-weight terms are logged metrics.
    ``info["test_results"]`` lists ``{"id", "passed"}`` per test in the task's stable order
    (all false for an invalid action); ``info["cost"]["sandbox_s"]`` is the sandbox time spent;
    ``info["timed_out"]`` says a call hit its time limit, ``info["attempt_timed_out"]`` that the
    attempt's wall-clock limit stopped the grading (the tests left then failed).

    ## Starting State

    ``reset(seed)`` draws a task uniformly with ``np_random``; ``options={"task_id": id}``
    (a str, e.g. ``"HumanEval/0"``) picks one. That is the only option: another key, a
    non-dict ``options`` or a task id this env does not hold raises ``ConfigError`` naming
    it. ``info["entry_point"]`` names the function to write.

    ## Episode End

    Terminated when an attempt passes every test, or when ``max_attempts`` attempts (invalid
    ones included) are used up. Never truncated by the env itself.

    ## Arguments

    * ``source``: ``"humaneval"`` (default), ``"bank"`` or ``"jsonl"`` (implied by
      ``tasks_path``).
    * ``tasks_path``: a JSONL task file (schema: :mod:`rewardgym.envs.code.schema`).
    * ``task_ids``: restrict to these task ids.
    * ``impossible``: use the impossible variants (tasks without a literal-equality test are
      dropped: 154 of HumanEval's 164 remain).
    * ``max_attempts``: attempts per episode (1; ``CodeExec-Repair-v0`` uses 3).
    * ``sandbox``: ``"process"`` (default), ``"bwrap"`` or ``"docker"``.
    * ``call_timeout_s``: wall-clock limit of one call of the candidate (default: the task's
      ``time_limit_s``, 3 s for HumanEval).
    * ``attempt_timeout_s``: wall-clock limit of grading one attempt, loads included (default:
      5 x the call limit); the tests left when it is used up fail.
    * ``memory_mb``: the candidate process's memory cap (512).
    * ``observation_format``: ``"dict"`` (default) or ``"text"``.
    * ``max_action_length`` (32768), ``max_observation_length`` (65536), ``feedback_chars``
      (2000: the cap on each error text and on the stderr in feedback).
    * ``reward_weights``: overrides of the default weights.
    * ``render_mode``: ``"ansi"`` returns the current observation as text.

    ## Version History

    * v0: initial release (HumanEval split per assertion; bank; impossible variants).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}
    COMPONENTS = ("task", "tests_passed", "compile_ok", "format")
    DEFAULT_WEIGHTS = {"task": 1.0, "tests_passed": 0.0, "compile_ok": 0.0, "format": 0.0}
    COST_KEYS = ("sandbox_s",)
    RESET_OPTIONS = {"task_id": str}

    def __init__(self, **kwargs: Any) -> None:
        try:
            self.config = CodeExecConfig(**kwargs)
        except ValidationError as exc:
            raise ConfigError(f"invalid CodeExecEnv arguments:\n{exc}") from None
        super().__init__(reward_weights=self.config.reward_weights)
        cfg = self.config
        self.tasks: tuple[CodeTask, ...] = load_tasks(
            cfg.resolved_source,
            tasks_path=cfg.tasks_path,
            impossible=cfg.impossible,
            task_ids=cfg.task_ids,
        )
        self._by_id = {task.task_id: task for task in self.tasks}
        self.render_mode = cfg.render_mode
        obs_text = text(cfg.max_observation_length)
        if cfg.observation_format == "text":
            self.observation_space: spaces.Space = obs_text
        else:
            self.observation_space = spaces.Dict({key: obs_text for key in OBSERVATION_KEYS})
        self.action_space = text(cfg.max_action_length)
        self.task: CodeTask | None = None
        self._sandbox: Any = None
        self._attempts = 0
        self._observation: dict[str, str] = {}

    # -- gymnasium API -------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        options = self._reset_options(options)
        super().reset(seed=seed)
        self.task = self._draw_task(options.get("task_id"), self.tasks, self._by_id)
        self._attempts = 0
        info = self._start_episode(self.task.task_id)
        info.update(self._task_info(results=None))
        self._observation = self._make_observation(feedback="")
        return self._observation_out(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        self._check_running()
        if not isinstance(action, str):
            raise InvalidAction(
                f"CodeExecEnv actions are program text (str), got {type(action).__name__}"
            )
        task = self._current_task()
        self._attempts += 1
        components: dict[str, float] = {}
        invalid: str | None = None
        results: list[bool] = [False] * len(task.tests)
        feedback: str
        grading: dict[str, Any] = {
            "timed_out": False, "attempt_timed_out": False, "compile_error": None,
        }  # fmt: skip
        if len(action) > self.config.max_action_length:
            invalid = f"the reply is longer than max_action_length={self.config.max_action_length}"
            components["format"] = 0.0
            feedback = f"Your reply was not graded: {invalid}."
        else:
            extraction = extract_code(action, task.entry_point)
            if extraction.code is None:
                invalid = "no Python code found in the reply"
                if extraction.syntax_error:
                    invalid += f" (as bare code: {extraction.syntax_error})"
                components["format"] = 0.0
                feedback = (
                    f"Your reply was not graded: {invalid}. Answer with one ```python block "
                    f"that defines `{task.entry_point}`."
                )
            elif extraction.syntax_error is not None:
                invalid = f"the code does not parse: {extraction.syntax_error}"
                components["format"] = 1.0
                grading["compile_error"] = extraction.syntax_error
                feedback = f"Your code does not parse: {extraction.syntax_error}"
            else:
                components["format"] = 1.0
                report = self._grade(task, extraction.code)
                self._add_cost("sandbox_s", report.sandbox_s)
                results = [bool(r) for r in report.results]
                compiled = bool(report.compiled)
                components["compile_ok"] = 1.0 if compiled else 0.0
                components["tests_passed"] = sum(results) / len(results)
                components["task"] = 1.0 if compiled and all(results) else 0.0
                grading = {
                    "timed_out": bool(report.timed_out),
                    "attempt_timed_out": bool(report.attempt_timed_out),
                    "compile_error": report.compile_error,
                }
                feedback = build_feedback(task, report, self.config.feedback_chars)
        success = components.get("task", 0.0) == 1.0
        terminated = success or self._attempts >= self.config.max_attempts
        self._observation = self._make_observation(feedback=feedback)
        reward, info = self._finish_step(
            components,
            terminated=terminated,
            success=success if terminated else None,
            invalid_action=invalid,
            **self._task_info(results),
            **grading,
        )
        return self._observation_out(), reward, terminated, False, info

    def render(self) -> str | None:
        if self.render_mode is None:
            self._render_mode_missing()
            return None
        return render_observation(self._observation)

    def close(self) -> None:
        sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            sandbox.close()
        super().close()

    # -- internals -----------------------------------------------------------------------------

    def _current_task(self) -> CodeTask:
        """The task of the running episode (no ``assert``: the checks hold under ``-O`` too)."""
        if self.task is None:
            raise ResetNeeded(f"{type(self).__name__} has no task yet; call reset() first")
        return self.task

    def _task_info(self, results: list[bool] | None) -> dict[str, Any]:
        task = self._current_task()
        return {
            "entry_point": task.entry_point,
            "attempt": self._attempts,
            "test_results": [
                {"id": test.id, "passed": bool(results[i]) if results else False}
                for i, test in enumerate(task.tests)
            ]
            if results is not None
            else [],
        }

    def _get_sandbox(self) -> Any:
        if self._sandbox is None:
            from rewardgym.sandbox import Limits, make

            self._sandbox = make(
                self.config.sandbox, limits=Limits(memory_mb=self.config.memory_mb)
            )
        return self._sandbox

    def _grade(self, task: CodeTask, code: str) -> Any:
        from rewardgym.sandbox import Limits
        from rewardgym.sandbox.grading import TestCase, grade

        timeout = self.config.call_timeout_s or task.time_limit_s
        tests = [
            TestCase(id=f"{task.task_id}#{t.id}", code=t.code, hidden=not t.visible)
            for t in task.tests
        ]

        def attempt() -> Any:
            return grade(
                task.program(code),
                task.entry_point,
                tests,
                sandbox=self._get_sandbox(),
                setup=task.setup,
                limits=Limits(memory_mb=self.config.memory_mb),
                call_timeout_s=timeout,
                attempt_timeout_s=self.config.attempt_timeout_s,
            )

        try:
            return attempt()
        except SandboxError as exc:  # the sandbox itself broke, not the candidate: rebuild once
            logger.warning(
                "the %s sandbox failed (%s); starting a new one", self.config.sandbox, exc
            )
            sandbox, self._sandbox = self._sandbox, None
            if sandbox is not None:
                sandbox.close()
            return attempt()

    def _make_observation(self, feedback: str) -> dict[str, str]:
        task = self._current_task()
        limit = self.config.max_observation_length
        visible = "\n\n".join(f"# {t.id}\n{t.code}" for t in task.visible_tests)
        return {
            "prompt": _clip(_printable(task.prompt), limit),
            "starter_code": _clip(_printable(task.starter_code), limit),
            "visible_tests": _clip(_printable(visible), limit),
            "feedback": _clip(_printable(feedback), limit),
        }

    def _observation_out(self) -> Any:
        if self.config.observation_format == "text":
            return _clip(render_observation(self._observation), self.config.max_observation_length)
        return dict(self._observation)
