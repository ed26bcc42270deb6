"""The tool-use search QA family: pay-per-search question answering (MASH, METHODS.md §2).

``rewardgym/SearchQA-v0`` and its variants ask questions about a seeded synthetic knowledge
world (:mod:`~rewardgym.envs.search.world`); ``rewardgym/SearchQA-JSONL-v0`` asks a user's
NQ-open or HotpotQA-style questions over their corpus (:mod:`~rewardgym.envs.search.schema`).
Both are :class:`SearchQAEnv`, searching through a
:class:`~rewardgym.envs.search.backends.SearchBackend` (BM25, dense, or a recorded web API).
"""

from __future__ import annotations

from rewardgym.envs.search.answers import exact_match, f1_score, is_abstention, normalize_answer
from rewardgym.envs.search.backends import (
    BM25Backend,
    DenseBackend,
    SearchBackend,
    SearchHit,
    tokenize,
)
from rewardgym.envs.search.corpus import Corpus, Page, QATask
from rewardgym.envs.search.env import SearchQAConfig, SearchQAEnv, render_observation
from rewardgym.envs.search.protocol import Invalid, Move, parse_action
from rewardgym.envs.search.schema import load_corpus, load_qa, sample_paths
from rewardgym.envs.search.world import World, generate_world

__all__ = [
    "BM25Backend",
    "Corpus",
    "DenseBackend",
    "Invalid",
    "Move",
    "Page",
    "QATask",
    "SearchBackend",
    "SearchHit",
    "SearchQAConfig",
    "SearchQAEnv",
    "World",
    "exact_match",
    "f1_score",
    "generate_world",
    "is_abstention",
    "load_corpus",
    "load_qa",
    "normalize_answer",
    "parse_action",
    "render_observation",
    "sample_paths",
    "tokenize",
]
