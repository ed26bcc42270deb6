"""Where a search env's questions and corpus come from, and which backend searches it.

:func:`load_source` turns a validated config into ``(corpus, tasks)`` (the synthetic world is
memoised per process: tests and benches make many envs over one world), and
:func:`make_backend` builds the configured :class:`~rewardgym.envs.search.backends.SearchBackend`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from rewardgym.envs.search.backends import BM25Backend, DenseBackend, SearchBackend
from rewardgym.envs.search.corpus import Corpus, QATask
from rewardgym.envs.search.schema import load_qa, sample_paths
from rewardgym.envs.search.world import World, generate_world
from rewardgym.errors import ConfigError

__all__ = ["cached_world", "load_source", "make_backend"]


@functools.lru_cache(maxsize=8)
def cached_world(seed: int, n_pages: int, questions_per_kind: int) -> World:
    """:func:`generate_world` memoised per process (worlds are immutable once built)."""
    return generate_world(seed, n_pages, questions_per_kind)


def load_source(config: Any) -> tuple[Corpus, tuple[QATask, ...]]:
    """The corpus and the (filtered) questions a :class:`SearchQAConfig` asks for.

    Raises:
        ConfigError: if the filters leave no question.
        TaskDataError: if a JSONL file is invalid.
    """
    if config.resolved_source == "synthetic":
        world = cached_world(config.world_seed, config.n_pages, config.questions_per_kind)
        corpus, tasks = world.corpus, world.tasks
    else:
        tasks_path, corpus_path = config.tasks_path, config.corpus_path
        if tasks_path is None:
            tasks_path, corpus_path = sample_paths()
        corpus, tasks = load_qa(tasks_path, corpus_path)
    tasks = _filter(tasks, config.kinds, config.task_ids)
    return corpus, tasks


def _filter(
    tasks: Sequence[QATask], kinds: Sequence[str] | None, task_ids: Sequence[str] | None
) -> tuple[QATask, ...]:
    out = list(tasks)
    if kinds:
        out = [t for t in out if t.kind in kinds]
    if task_ids:
        known = {t.task_id for t in out}
        unknown = [i for i in task_ids if i not in known]
        if unknown:
            raise ConfigError(f"task_ids {unknown[:5]} are not questions of this env")
        wanted = set(task_ids)
        out = [t for t in out if t.task_id in wanted]
    if not out:
        raise ConfigError(f"no question left after kinds={kinds} and task_ids={task_ids}")
    return tuple(out)


def make_backend(config: Any, corpus: Corpus) -> SearchBackend:
    """The search backend ``config.backend`` names, over ``corpus``."""
    if config.backend == "bm25":
        return BM25Backend(corpus, cache=config.index_cache, snippet_chars=config.snippet_chars)
    if config.backend == "dense":
        return DenseBackend(corpus, config.dense_model, cache=config.index_cache,
                            snippet_chars=config.snippet_chars)  # fmt: skip
    from rewardgym.envs.search.web import WebSearchBackend

    return WebSearchBackend(**config.web, snippet_chars=config.snippet_chars)
