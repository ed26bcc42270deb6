"""The data every search QA source produces: pages, questions, and a corpus with a content hash.

A *source* (the synthetic world of :mod:`rewardgym.envs.search.world`, or the JSONL files of
:mod:`rewardgym.envs.search.schema`) yields a :class:`Corpus` of :class:`Page` and a tuple of
:class:`QATask`. Backends index the corpus; the env asks the questions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["QUESTION_KINDS", "Corpus", "Page", "QATask", "QuestionKind"]

QuestionKind = Literal["single-hop", "bridge", "comparison", "unanswerable", "open"]

#: Question kinds in a stable order (``open``: a JSONL question of unknown structure).
QUESTION_KINDS: tuple[str, ...] = ("single-hop", "bridge", "comparison", "unanswerable", "open")


@dataclass(frozen=True)
class Page:
    """One document of a corpus: a wiki-style page."""

    page_id: str
    title: str
    text: str


@dataclass(frozen=True)
class QATask:
    """One question with its gold answers and the pages that support them.

    Attributes:
        task_id: stable id (the GRPO group key).
        question: the question text shown to the agent.
        answers: accepted answers; the first is the gold answer, the rest are aliases. Empty
            for an unanswerable question (the right move is to abstain).
        kind: ``single-hop``, ``bridge``, ``comparison``, ``unanswerable`` or ``open``.
        supporting: the page ids that state the answer, in hop order (the hop path).
        subjects: the titles of the entities the question is about, in hop order (what an
            oracle searches for; empty when unknown).
    """

    task_id: str
    question: str
    answers: tuple[str, ...]
    kind: str
    supporting: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Corpus:
    """An ordered, immutable collection of pages with a lookup by id."""

    pages: tuple[Page, ...]
    _by_id: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._by_id:
            self._by_id.update((page.page_id, i) for i, page in enumerate(self.pages))

    @classmethod
    def of(cls, pages: Sequence[Page]) -> Corpus:
        return cls(tuple(pages))

    def __len__(self) -> int:
        return len(self.pages)

    def __contains__(self, page_id: object) -> bool:
        return page_id in self._by_id

    def get(self, page_id: str) -> Page | None:
        """The page with id ``page_id``, or None."""
        index = self._by_id.get(page_id)
        return None if index is None else self.pages[index]

    def index_of(self, page_id: str) -> int:
        """The position of ``page_id`` in :attr:`pages` (KeyError if absent)."""
        return self._by_id[page_id]

    def content_hash(self) -> str:
        """A SHA-256 over every page's id, title and text (the index cache key)."""
        digest = hashlib.sha256()
        for page in self.pages:
            for part in (page.page_id, page.title, page.text):
                data = part.encode("utf-8", "surrogatepass")
                digest.update(len(data).to_bytes(8, "little"))
                digest.update(data)
        return digest.hexdigest()
