"""Toy text envs: tiny, fast, fully specified tasks for trainer learning tests and quick starts."""

from rewardgym.envs.toy.env import LETTER_TASKS, LetterSetConfig, LetterSetEnv

__all__ = ["LETTER_TASKS", "LetterSetConfig", "LetterSetEnv"]
