"""rewardgym: agentic environments with decomposed, shaped and verifiable rewards.

``import rewardgym`` registers every env id with Gymnasium (string entry points: no env module,
and nothing heavy such as torch, transformers, docker or nle, is imported), so that
``gymnasium.make("rewardgym/CodeExec-v0")`` works right after it.
"""

from __future__ import annotations

import logging

from rewardgym._version import __version__
from rewardgym.registry import ENTRIES, make_parallel, register_all

__all__ = ["ENTRIES", "__version__", "make_parallel"]

# Library code logs, never prints; the application decides where logs go.
logging.getLogger("rewardgym").addHandler(logging.NullHandler())

register_all()
