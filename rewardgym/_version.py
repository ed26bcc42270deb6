"""The installed rewardgym version (single source of truth for packaging and records)."""

__version__ = "0.1.0"
