"""Scripted agents of the search QA family: an oracle and the knobs of MASH's calibration story.

Every agent here is a :class:`KnowledgeAgent`: it *knows* a fixed, seeded fraction of the
facts — of the pages, each standing for its entity's facts (a hash of the page id decides
which, so the closed-book and the with-search runs of one agent agree, and so do two questions
about one entity). It answers a question from memory when it knows every supporting page, and
otherwise follows the hop path: it searches each supporting page it does not know by title,
opens a page the search missed, and answers once it has seen or known every supporting page
(a perfect reader — it reads the gold answer from the env's task, which is why these are
*privileged* baselines).

========================  ===================================================================
registry name             behaviour
========================  ===================================================================
``search-oracle``         searches the hop path, abstains on unanswerable questions without
                          searching (it reads the task): 1.0 on every question
``memoriser:<p>[:<q>]``   knows a fraction ``p`` of the pages; searches only the hops it does
                          not know (an unanswerable question: one search, then it abstains);
                          believes it knows a fraction ``q >= p`` and answers questions it
                          only believes it knows from memory, wrongly (miscalibrated)
``always-search``         knows half the pages, searches the whole hop path anyway; on
                          unanswerable questions searches the question, then abstains
``never-search``          knows half the pages, never searches, guesses what it does not know
``abstainer``             abstains at once on every question
========================  ===================================================================
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import numpy as np

from rewardgym.envs.search import QATask
from rewardgym.errors import ConfigError

__all__ = [
    "Abstainer",
    "AlwaysSearch",
    "KnowledgeAgent",
    "Memoriser",
    "NeverSearch",
    "SearchOracle",
    "knowledge_draw",
    "make_abstainer",
    "make_always_search",
    "make_memoriser",
    "make_never_search",
    "make_search_oracle",
]

SearchPolicy = Literal["when-unknown", "always", "never"]


def knowledge_draw(fact: str) -> float:
    """A fixed uniform draw in [0, 1) per fact (a page id, or a question id for a question
    without supporting pages): an agent with knowledge ``p`` knows the fact iff the draw is
    below ``p`` (so a larger ``p`` knows a superset)."""
    digest = hashlib.blake2b(fact.encode("utf-8"), digest_size=8, person=b"memoriser").digest()
    return int.from_bytes(digest, "little") / 2**64


class KnowledgeAgent:
    """A scripted search-QA agent with a knowledge fraction and a search policy.

    Args:
        tasks: the env's questions (``env.unwrapped.tasks``), looked up by ``info["task_id"]``.
        titles: page titles to draw wrong guesses from.
        know: the fraction of facts (pages) known.
        believe: the fraction the agent *thinks* it knows (``>= know``); questions it only
            believes it knows are answered from "memory", wrongly.
        search: ``"when-unknown"``, ``"always"`` or ``"never"``.
        abstain: abstain on unanswerable questions it cannot answer (else guess).
        abstain_always: abstain at once on every question.
        probe_unanswerable: on an unanswerable question it does not know, search the question
            once before abstaining (the oracle, which knows, abstains at once).
        name: the agent's name in results.
    """

    def __init__(
        self,
        tasks: tuple[QATask, ...],
        titles: list[str],
        *,
        know: float = 0.0,
        believe: float | None = None,
        search: SearchPolicy = "when-unknown",
        abstain: bool = True,
        abstain_always: bool = False,
        probe_unanswerable: bool = True,
        name: str = "knowledge",
    ) -> None:
        if not 0.0 <= know <= 1.0:
            raise ConfigError(f"{name}: the known fraction must be in [0, 1], got {know}")
        believe = know if believe is None else believe
        if not know <= believe <= 1.0:
            raise ConfigError(
                f"{name}: the believed fraction must be in [{know}, 1], got {believe}"
            )
        self._tasks = {task.task_id: task for task in tasks}
        self._titles = titles or ["Nowhere"]
        self.know, self.believe = float(know), float(believe)
        self.search_policy: SearchPolicy = search
        self.abstain = abstain
        self.abstain_always = abstain_always
        self.probe_unanswerable = probe_unanswerable
        self.name = name
        self._rng = np.random.default_rng(0)
        self._episode = ""
        self._seen: set[str] = set()
        self._asked: set[str] = set()

    def reset(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)
        self._episode = ""

    def act(self, observation: Any, info: dict[str, Any]) -> str:
        task = self._tasks.get(info["task_id"])
        if task is None:
            raise ConfigError(
                f"{self.name}: {info['task_id']!r} is not a task of the env it was made for"
            )
        if info.get("episode_id") != self._episode:
            self._episode = info.get("episode_id", "")
            self._seen, self._asked = set(), set()
        self._seen.update(hit["page_id"] for hit in info.get("results", ()))
        if self.abstain_always:
            return "<abstain/>"
        knows, believes = self.knows(task), self.believes(task)
        if self.search_policy == "when-unknown":  # what it knows, it need not look up
            self._seen.update(p for p in task.supporting if knowledge_draw(p) < self.know)
        searches_left = int(info.get("searches_left", 0))
        opens_left = int(info.get("opens_left", 0))
        if self.search_policy == "never" or (self.search_policy == "when-unknown" and believes):
            return self._from_memory(task, knows)
        if not task.answerable:
            if self.probe_unanswerable and searches_left and task.question not in self._asked:
                return self._search(task.question)
            # Abstain once a search came back empty-handed (the oracle knows without one);
            # unable to search, an agent that does not know guesses, as on any question.
            looked = task.question in self._asked or not self.probe_unanswerable
            return "<abstain/>" if self.abstain and looked else self._from_memory(task, knows)
        # Follow the hop path: search the next unseen supporting page, open it if search missed.
        for page_id, title in zip(task.supporting, task.subjects):
            if page_id in self._seen:
                continue
            if searches_left and title not in self._asked:
                return self._search(title)
            if opens_left:
                self._seen.add(page_id)
                return f"<open>{page_id}</open>"
            return self._from_memory(task, knows)
        if not task.supporting and searches_left and task.question not in self._asked:
            return self._search(task.question)
        return f"<answer>{task.answers[0]}</answer>"

    @staticmethod
    def facts(task: QATask) -> tuple[str, ...]:
        """The facts a question needs: its supporting pages (the question itself if none)."""
        return task.supporting or (task.task_id,)

    def knows(self, task: QATask) -> bool:
        """Whether the agent knows every fact the question needs (it answers right unaided)."""
        return all(knowledge_draw(fact) < self.know for fact in self.facts(task))

    def believes(self, task: QATask) -> bool:
        """Whether the agent *thinks* it knows every fact the question needs."""
        return all(knowledge_draw(fact) < self.believe for fact in self.facts(task))

    def _search(self, query: str) -> str:
        self._asked.add(query)
        return f"<think>I need to look this up.</think><search>{query}</search>"

    def _from_memory(self, task: QATask, knows: bool) -> str:
        """Answer without searching: right when the agent knows, a confident guess otherwise."""
        if knows:
            return f"<answer>{task.answers[0]}</answer>" if task.answerable else "<abstain/>"
        if task.answers and task.answers[0].isdigit():
            wrong = str(int(self._rng.integers(1700, 2000)))
            if wrong == task.answers[0]:
                wrong = str(int(wrong) + 1)
            return f"<answer>{wrong}</answer>"
        guess = self._titles[int(self._rng.integers(len(self._titles)))]
        if task.answers and guess in task.answers:
            guess = f"not {guess}"
        return f"<answer>{guess}</answer>"


class SearchOracle(KnowledgeAgent):
    """Searches each hop of the question's path and answers; abstains at once on unanswerable
    questions (privileged: 1.0 on every question)."""


class Memoriser(KnowledgeAgent):
    """Knows a seeded fraction p of the pages and searches only the hops it does not know;
    with p:q it believes it knows q >= p and answers the difference wrongly (miscalibrated)."""


class AlwaysSearch(KnowledgeAgent):
    """Knows half the pages but searches the whole hop path on every question."""


class NeverSearch(KnowledgeAgent):
    """Knows half the pages, never searches, and guesses what it does not know."""


class Abstainer(KnowledgeAgent):
    """Abstains at once on every question (right only on unanswerable ones)."""


def _agent(env: Any, cls: type[KnowledgeAgent], **kwargs: Any) -> Any:
    unwrapped = getattr(env, "unwrapped", env)
    tasks = getattr(unwrapped, "tasks", None)
    corpus = getattr(unwrapped, "corpus", None)
    if tasks is None or corpus is None:
        raise ConfigError(f"{kwargs.get('name')} needs a search env (rewardgym/SearchQA-*)")
    titles = [page.title.split(" (")[0] for page in corpus.pages[:2000]]
    return cls(tasks, titles, **kwargs)


def make_search_oracle(env: Any, arg: str | None = None, **kwargs: Any) -> SearchOracle:
    """Registry factory: ``search-oracle``."""
    return _agent(env, SearchOracle, know=0.0, search="when-unknown", probe_unanswerable=False,
                  name="search-oracle", **kwargs)  # fmt: skip


def make_memoriser(env: Any, arg: str | None = None, **kwargs: Any) -> Memoriser:
    """Registry factory: ``memoriser:<p>`` or ``memoriser:<p>:<q>`` (believes it knows ``q``)."""
    parts = (arg or "0.5").split(":")
    try:
        values = [float(x) for x in parts]
    except ValueError:
        raise ConfigError(
            f"memoriser:{arg}: use memoriser:<p> or memoriser:<p>:<q> with numbers in [0, 1]"
        ) from None
    if len(values) > 2:
        raise ConfigError(f"memoriser:{arg}: at most two numbers, <p>:<q>")
    know = values[0]
    believe = values[1] if len(values) == 2 else know
    return _agent(env, Memoriser, know=know, believe=believe, search="when-unknown",
                  name=f"memoriser:{arg or '0.5'}", **kwargs)  # fmt: skip


def make_always_search(env: Any, arg: str | None = None, **kwargs: Any) -> AlwaysSearch:
    """Registry factory: ``always-search``."""
    return _agent(env, AlwaysSearch, know=0.5, search="always", name="always-search", **kwargs)


def make_never_search(env: Any, arg: str | None = None, **kwargs: Any) -> NeverSearch:
    """Registry factory: ``never-search``."""
    return _agent(env, NeverSearch, know=0.5, search="never", abstain=False,
                  name="never-search", **kwargs)  # fmt: skip


def make_abstainer(env: Any, arg: str | None = None, **kwargs: Any) -> Abstainer:
    """Registry factory: ``abstainer``."""
    return _agent(env, Abstainer, abstain_always=True, name="abstainer", **kwargs)
