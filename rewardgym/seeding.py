"""Seeding helpers: derive child seeds and ids from an env's ``np_random`` stream.

Every random draw in an env goes through ``self.np_random`` (ARCHITECTURE.md §2). Sub-components
(a dungeon generator, a task sampler, a sandbox's scratch names) get *child* seeds drawn from that
stream, so one ``reset(seed=s)`` fixes the whole episode and nothing touches global RNG state.
"""

from __future__ import annotations

import numpy as np

__all__ = ["child_rng", "child_seed", "episode_id", "parse_seeds"]

_SEED_BOUND = 2**63 - 1


def child_seed(rng: np.random.Generator) -> int:
    """Draw a non-negative 63-bit seed from ``rng`` (advances the stream by one draw)."""
    return int(rng.integers(0, _SEED_BOUND, dtype=np.int64))


def child_rng(rng: np.random.Generator) -> np.random.Generator:
    """A fresh generator seeded from ``rng``; independent of later draws on ``rng``."""
    return np.random.default_rng(child_seed(rng))


def episode_id(rng: np.random.Generator) -> str:
    """A 16-hex-digit episode id drawn from ``rng``: unique per episode, same for the same seed."""
    return f"{child_seed(rng):016x}"


def parse_seeds(spec: str) -> list[int]:
    """Parse a seed list like ``"0-9"``, ``"1,5,7"`` or ``"0-4,10"`` into sorted unique ints.

    Raises:
        ConfigError: on anything that is not a comma list of ints and ``a-b`` ranges.
    """
    from rewardgym.errors import ConfigError

    seeds: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, "")
                a, b = int(lo), int(hi)
                if b < a:
                    raise ValueError
                seeds.update(range(a, b + 1))
            else:
                seeds.add(int(part))
        except ValueError:
            raise ConfigError(
                f"bad seed list {spec!r}: use ints and ranges, e.g. '0-9' or '0,3,5-7'"
            ) from None
    if not seeds:
        raise ConfigError(f"seed list {spec!r} is empty: use e.g. '0-9'")
    return sorted(seeds)
