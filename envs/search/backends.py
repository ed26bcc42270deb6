"""Retrieval behind one protocol: :class:`SearchBackend`, with BM25 (bm25s) and dense backends.

A backend answers ``search(query, k) -> list[SearchHit]`` (best first, each with a snippet) and
``page(page_id) -> Page | None`` (the ``open`` tool). Backends built over a :class:`Corpus`
cache their index on disk under a key made of the corpus's content hash and the index
parameters, so the second env over the same corpus loads the index (memory-mapped) instead of
building it. The HTTP web-search adapter lives in :mod:`rewardgym.envs.search.web`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pathlib
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rewardgym.envs.search.corpus import Corpus, Page
from rewardgym.errors import ConfigError, DependencyNotInstalled

__all__ = [
    "BM25Backend",
    "DenseBackend",
    "SearchBackend",
    "SearchHit",
    "cache_root",
    "make_snippet",
    "tokenize",
]

log = logging.getLogger("rewardgym.envs.search.backends")

_WORD = re.compile(r"(?u)\b\w\w+\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# English stop words (the short list Lucene and bm25s use).
_STOPWORDS = frozenset(
    ("a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
     "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
     "these", "they", "this", "to", "was", "will", "with")
)  # fmt: skip


@dataclass(frozen=True)
class SearchHit:
    """One search result: the page, a snippet of it, and the backend's score."""

    page_id: str
    title: str
    snippet: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"page_id": self.page_id, "title": self.title, "snippet": self.snippet,
                "score": self.score}  # fmt: skip


@runtime_checkable
class SearchBackend(Protocol):
    """What the search env needs from a retrieval backend.

    Attributes:
        name: a short name recorded in results (``"bm25"``, ``"dense"``, ``"web"``).
        default_prices: the price of each tool call (``"search"``, ``"open"``) on this backend.
    """

    name: str
    default_prices: Mapping[str, float]

    def search(self, query: str, k: int) -> list[SearchHit]:
        """The best ``k`` hits for ``query`` (fewer if fewer pages match), best first."""
        ...

    def page(self, page_id: str) -> Page | None:
        """The whole page ``page_id``, or None when the backend has no such page."""
        ...

    def close(self) -> None:
        """Release files, sockets or models (safe to call twice)."""
        ...


def cache_root() -> pathlib.Path:
    """Where indexes are cached: ``$REWARDGYM_CACHE`` or ``~/.cache/rewardgym``."""
    root = os.environ.get("REWARDGYM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rewardgym"
    )
    return pathlib.Path(root)


class _Stemmer:
    """A cached English Snowball stemmer (PyStemmer), or the identity when it is missing."""

    def __init__(self) -> None:
        try:
            import Stemmer
        except ImportError:
            self._stem = None
            log.info("PyStemmer is not installed: BM25 indexes words without stemming")
        else:
            self._stem = Stemmer.Stemmer("english")
        self._cache: dict[str, str] = {}

    def __call__(self, words: list[str]) -> list[str]:
        if self._stem is None:
            return words
        cache = self._cache
        missing = [w for w in set(words) if w not in cache]
        if missing:
            cache.update(zip(missing, self._stem.stemWords(missing)))
        return [cache[w] for w in words]


_STEM = _Stemmer()


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of two or more characters, stop words dropped, stemmed."""
    return _STEM([w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS])


def make_snippet(text: str, query: str, limit: int = 300) -> str:
    """The sentences of ``text`` that share most words with ``query``, in page order, cut to
    ``limit`` characters (the whole text when it fits)."""
    if len(text) <= limit:
        return text
    wanted = set(tokenize(query))
    sentences = _SENTENCE.split(text)
    ranked = sorted(range(len(sentences)), key=lambda i: -len(wanted & set(tokenize(sentences[i]))))
    chosen: list[int] = []
    used = 0
    for i in ranked:
        if used + len(sentences[i]) + 1 > limit and chosen:
            continue
        chosen.append(i)
        used += len(sentences[i]) + 1
    snippet = " ".join(sentences[i] for i in sorted(chosen))
    return snippet if len(snippet) <= limit else snippet[: limit - 3] + "..."


def _cache_dir(kind: str, corpus: Corpus, params: Mapping[str, Any], cache: str | None) -> Any:
    if cache is None:
        return None
    key = hashlib.sha256(
        (corpus.content_hash() + json.dumps(dict(params), sort_keys=True)).encode()
    ).hexdigest()[:32]
    root = cache_root() if cache == "default" else pathlib.Path(cache)
    return root / "search" / kind / key


def _publish(tmp: pathlib.Path, final: pathlib.Path) -> None:
    """Move a finished index into place atomically (another process may have won the race)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


class BM25Backend:
    """Okapi BM25 over a corpus with ``bm25s`` (sparse matrix index, memory-mapped from disk).

    Args:
        corpus: the pages to index (title and text).
        cache: ``"default"`` (under :func:`cache_root`), a directory, or None to build in
            memory every time.
        k1, b: the BM25 parameters.
        snippet_chars: the longest snippet a hit carries.
        prices: overrides of :attr:`default_prices`.

    Raises:
        DependencyNotInstalled: if ``bm25s`` is missing (``pip install 'rewardgym[search]'``).
    """

    name = "bm25"
    default_prices: Mapping[str, float] = {"search": 1.0, "open": 0.5}

    def __init__(
        self,
        corpus: Corpus,
        *,
        cache: str | None = "default",
        k1: float = 1.5,
        b: float = 0.75,
        snippet_chars: int = 300,
    ) -> None:
        try:
            import bm25s
        except ImportError:
            raise DependencyNotInstalled("bm25s", "search", "the BM25 search backend") from None
        self.corpus = corpus
        self.snippet_chars = int(snippet_chars)
        self.k1, self.b = float(k1), float(b)
        params = {"k1": self.k1, "b": self.b, "tokenizer": 1, "stem": _STEM._stem is not None}
        self.index_dir: pathlib.Path | None = _cache_dir("bm25", corpus, params, cache)
        self.loaded_from_cache = False
        if self.index_dir is not None and (self.index_dir / "params.index.json").is_file():
            self._retriever = bm25s.BM25.load(str(self.index_dir), mmap=True)
            self.loaded_from_cache = True
        else:
            self._retriever = bm25s.BM25(k1=self.k1, b=self.b)
            tokens = [tokenize(f"{p.title} {p.text}") for p in corpus.pages]
            self._retriever.index(tokens, show_progress=False)
            if self.index_dir is not None:
                tmp = pathlib.Path(tempfile.mkdtemp(prefix=".bm25-", dir=self._ensure_parent()))
                self._retriever.save(str(tmp))
                _publish(tmp, self.index_dir)
        self._vocab = self._retriever.vocab_dict

    def _ensure_parent(self) -> str:
        assert self.index_dir is not None
        self.index_dir.parent.mkdir(parents=True, exist_ok=True)
        return str(self.index_dir.parent)

    def search(self, query: str, k: int) -> list[SearchHit]:
        terms = [t for t in tokenize(query) if t in self._vocab]
        if not terms or k <= 0:
            return []
        scores = np.asarray(self._retriever.get_scores(terms))
        # Top-k among the matching pages only: bm25s's own top-k partitions all N scores,
        # mostly tied zeros, which costs 10x the scoring itself at 100k pages.
        matching = np.flatnonzero(scores > 0)
        if matching.size > k:
            part = np.argpartition(-scores[matching], k - 1)[:k]
            matching = matching[part]
        # best first, equal scores in corpus order (argpartition is deterministic, so a tie at
        # the cut always keeps the same pages)
        order = np.lexsort((matching, -scores[matching]))
        hits = []
        for index in matching[order].tolist():
            score = float(scores[index])
            page = self.corpus.pages[index]
            snippet = make_snippet(page.text, query, self.snippet_chars)
            hits.append(SearchHit(page.page_id, page.title, snippet, float(score)))
        return hits

    def page(self, page_id: str) -> Page | None:
        return self.corpus.get(page_id)

    def close(self) -> None:
        """Nothing to release (the memory map closes with the object)."""


class DenseBackend:
    """Dense retrieval: cosine similarity of sentence-transformers embeddings.

    Args:
        corpus: the pages to embed (title and text).
        model_path: a *local* sentence-transformers model directory (no hub downloads).
        cache: as for :class:`BM25Backend`; the corpus embeddings are cached as ``.npy`` and
            loaded memory-mapped.
        batch_size: the encoding batch size.
        snippet_chars: the longest snippet a hit carries.

    Raises:
        DependencyNotInstalled: if ``sentence-transformers`` is missing.
        ConfigError: if ``model_path`` is not a directory.
    """

    name = "dense"
    default_prices: Mapping[str, float] = {"search": 1.0, "open": 0.5}

    def __init__(
        self,
        corpus: Corpus,
        model_path: str,
        *,
        cache: str | None = "default",
        batch_size: int = 64,
        snippet_chars: int = 300,
    ) -> None:
        if not os.path.isdir(model_path):
            raise ConfigError(
                f"dense_model={model_path!r} is not a directory; give the path of a local "
                "sentence-transformers model (nothing is downloaded)"
            )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise DependencyNotInstalled(
                "sentence-transformers", "search-dense", "the dense search backend"
            ) from None
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.corpus = corpus
        self.snippet_chars = int(snippet_chars)
        self.model = SentenceTransformer(model_path, device="cpu", local_files_only=True)
        model_id = _model_fingerprint(model_path)
        cache_dir = _cache_dir("dense", corpus, {"model": model_id}, cache)
        path = None if cache_dir is None else cache_dir / "embeddings.npy"
        if path is not None and path.is_file():
            self.embeddings = np.load(path, mmap_mode="r")
        else:
            texts = [f"{p.title}. {p.text}" for p in corpus.pages]
            self.embeddings = self._encode(texts, batch_size)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
                np.save(tmp, self.embeddings)
                os.replace(tmp, path)

    def _encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), batch_size=batch_size, show_progress_bar=False,
            normalize_embeddings=True, convert_to_numpy=True,
        )  # fmt: skip
        return np.asarray(vectors, dtype=np.float32)

    def search(self, query: str, k: int) -> list[SearchHit]:
        if not query.strip() or k <= 0:
            return []
        vector = self._encode([query])[0]
        scores = np.asarray(self.embeddings @ vector)
        k = min(int(k), len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        hits = []
        for index in top.tolist():
            page = self.corpus.pages[index]
            snippet = make_snippet(page.text, query, self.snippet_chars)
            hits.append(SearchHit(page.page_id, page.title, snippet, float(scores[index])))
        return hits

    def page(self, page_id: str) -> Page | None:
        return self.corpus.get(page_id)

    def close(self) -> None:
        """Nothing to release."""


def _model_fingerprint(model_path: str) -> str:
    """A hash of a model directory's file names and sizes (a changed model re-embeds)."""
    digest = hashlib.sha256()
    for path in sorted(pathlib.Path(model_path).rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(model_path)}:{path.stat().st_size};".encode())
    return digest.hexdigest()[:16]
