"""Layer 2: the environment families, their task loaders and verifiers, and the env checker.

Env modules are imported on demand by ``gymnasium.make`` through the registry's string entry
points; importing this package imports none of them.
"""

from __future__ import annotations

from rewardgym.envs.base import AgenticEnv

__all__ = ["AgenticEnv"]
