"""Layer 1: run untrusted code behind one interface (process, bubblewrap and Docker backends).

``make(kind, **opts)`` builds a :class:`Sandbox`; ``Sandbox.run(program, ...)`` returns an
:class:`ExecResult`; :mod:`rewardgym.sandbox.grading` decides test verdicts outside the
candidate's reach. See ``docs/sandbox.md``.
"""

from __future__ import annotations

from typing import Any

from rewardgym.errors import ConfigError
from rewardgym.sandbox.base import CandidateDied, ExecResult, Limits, Sandbox, Session

BACKENDS = ("process", "bwrap", "docker")

__all__ = ["BACKENDS", "CandidateDied", "ExecResult", "Limits", "Sandbox", "Session", "make"]


def make(kind: str = "process", **opts: Any) -> Sandbox:
    """Build a sandbox of backend ``kind`` ("process", "bwrap" or "docker").

    Args:
        kind: the backend; ``process`` is the default and needs only Linux.
        **opts: backend options (``limits=Limits(...)`` for all; see each backend class).

    Raises:
        ConfigError: unknown ``kind``.
        SandboxUnavailable: the backend cannot run here (the message says why and what to do).
    """
    if kind == "process":
        from rewardgym.sandbox.process import ProcessSandbox

        return ProcessSandbox(**opts)
    if kind == "bwrap":
        from rewardgym.sandbox.bwrap import make_bwrap

        return make_bwrap(**opts)
    if kind == "docker":
        from rewardgym.sandbox.docker import DockerSandbox

        return DockerSandbox(**opts)
    raise ConfigError(f"unknown sandbox kind {kind!r}; choose one of {', '.join(BACKENDS)}")
