"""The one error hierarchy of rewardgym (ARCHITECTURE.md §7).

Every error the library raises on purpose derives from :class:`RewardGymError`, and its message
says what happened and what to do about it.
"""

from __future__ import annotations


class RewardGymError(Exception):
    """Base class of every error rewardgym raises on purpose."""


class ConfigError(RewardGymError, ValueError):
    """A constructor argument, recipe or CLI option is invalid; the message names the fix."""


class InvalidAction(RewardGymError, TypeError):
    """The *caller* passed an action of the wrong type (a programming error, not agent output).

    Malformed agent output (unparseable code, bad JSON) is never raised: envs score it as an
    invalid action through ``info["invalid_action"]``.
    """


class ResetNeeded(RewardGymError, RuntimeError):
    """``step`` was called before ``reset`` or after the episode ended."""


class DependencyNotInstalled(RewardGymError, ImportError):
    """An optional dependency is missing; the message names the pip extra that provides it."""

    def __init__(self, package: str, extra: str, purpose: str = "") -> None:
        what = f" for {purpose}" if purpose else ""
        super().__init__(
            f"{package!r} is needed{what} but is not installed; "
            f"install it with: pip install 'rewardgym[{extra}]'"
        )
        self.package = package
        self.extra = extra


class SandboxError(RewardGymError, RuntimeError):
    """A sandbox backend could not start, run or clean up a program."""


class SandboxUnavailable(SandboxError):
    """A sandbox backend cannot run on this machine (no engine, no bubblewrap, no namespaces)."""


class SandboxTimeout(SandboxError, TimeoutError):
    """A program exceeded its wall-clock limit and was killed (when raised rather than reported)."""


class TaskDataError(RewardGymError, ValueError):
    """Task data (a JSONL file, a bank entry) does not follow its documented schema."""


class AgenticEnvCheckError(RewardGymError, AssertionError):
    """An environment broke one rule of the agentic env contract (ARCHITECTURE.md §2).

    Attributes:
        rule: the short name of the broken rule, e.g. ``"weighted-sum"`` or ``"determinism"``.
    """

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"[{rule}] {message}")
        self.rule = rule


class StoreError(RewardGymError, RuntimeError):
    """A results database is corrupted, foreign or from an incompatible schema."""


class LLMError(RewardGymError, RuntimeError):
    """An LLM backend failed after its retries (server unreachable, bad response)."""
