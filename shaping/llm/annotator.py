"""ONI's asynchronous annotator: label texts through any LLM client without ever blocking RL.

:meth:`Annotator.submit` is what the env step calls: it returns the label when one is known and
otherwise queues the text (deduplicated by content hash) and returns None at once. A background
dispatcher takes the *newest* queued items in batches, answers what it can from the persistent
:class:`~rewardgym.shaping.llm.cache.LabelCache`, and sends the rest to the client on a small
pool of threads, with a timeout per call and retries with exponential backoff. The queue has a
cap: when it is full the oldest item is dropped (and counted), so a flood of new texts never
grows memory or delays the fresh ones. A failing backend (down, slow, answering garbage) only
means fewer labels: unlabelled texts are worth 0 to the reward models, a warning is logged, and
training goes on.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import logging
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rewardgym.errors import ConfigError
from rewardgym.llm.base import LLMClient
from rewardgym.shaping.llm.cache import LabelCache
from rewardgym.shaping.llm.prompts import (
    HELPFULNESS_PROMPTS,
    PAIRWISE_PROMPTS,
    PromptTemplate,
    content_hash,
    parse_helpful,
    parse_preference,
    prompt_hash,
)

__all__ = ["Annotator"]

log = logging.getLogger("rewardgym.shaping.llm.annotator")


@dataclass
class _Item:
    key: str
    kind: str  # "helpful" or "pairwise"
    texts: tuple[str, ...]
    submitted: float
    prompt: str = ""  # rendered by the dispatcher, off the step path
    prompt_hash: str = ""
    attempts: int = 0
    not_before: float = 0.0


@dataclass
class _Counters:
    requested: int = 0
    labelled: int = 0
    cache_hits: int = 0
    dropped: int = 0
    failed: int = 0
    retries: int = 0
    timeouts: int = 0
    garbage: int = 0
    errors: int = 0
    consecutive_failures: int = 0
    latencies: collections.deque[float] = field(
        default_factory=lambda: collections.deque(maxlen=2048)
    )


class Annotator:
    """Labels texts with an LLM in the background (ONI's annotator, METHODS §5).

    Args:
        client: any :class:`rewardgym.llm.LLMClient` (an ``OpenAIClient`` in front of vLLM,
            a ``TransformersClient``, a :class:`~rewardgym.shaping.llm.rules.RuleBasedLLM`).
        prompt: the helpfulness template (one message → yes/no).
        pairwise_prompt: the template for :meth:`submit_pair` (two messages → 1, 2 or none).
        cache: the persistent label cache (default: an in-memory one).
        concurrency: LLM calls in flight at once.
        batch_size: items the dispatcher takes from the queue at a time (newest first).
        max_backlog: the queue's cap; beyond it the oldest items are dropped and counted.
        max_retries: extra attempts per item after a failure (error, timeout, no verdict).
        backoff_s: the first retry's delay; it doubles per attempt, up to ``max_backoff_s``.
        max_backoff_s: the longest delay between retries, and the pause after repeated failures.
        timeout_s: how long one call may take before it counts as failed.
        temperature: sampling temperature (ONI uses 0.1).
        max_tokens: the answer's budget.
        log_every_s: how often the dispatcher logs its statistics (INFO).
    """

    def __init__(
        self,
        client: LLMClient,
        prompt: PromptTemplate | str = "generic",
        pairwise_prompt: PromptTemplate | str = "generic",
        *,
        cache: LabelCache | None = None,
        concurrency: int = 4,
        batch_size: int = 32,
        max_backlog: int = 1024,
        max_retries: int = 2,
        backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        timeout_s: float = 30.0,
        temperature: float = 0.1,
        max_tokens: int = 128,
        log_every_s: float = 60.0,
    ) -> None:
        if not isinstance(client, LLMClient):
            raise ConfigError(f"client must be a rewardgym.llm.LLMClient, got {client!r}")
        self.client = client
        self.prompt = _template(prompt, HELPFULNESS_PROMPTS, "prompt")
        self.pairwise_prompt = _template(pairwise_prompt, PAIRWISE_PROMPTS, "pairwise_prompt")
        for name, value, low in (
            ("concurrency", concurrency, 1),
            ("batch_size", batch_size, 1),
            ("max_backlog", max_backlog, 1),
            ("max_retries", max_retries, 0),
        ):
            if not isinstance(value, int) or value < low:
                raise ConfigError(f"Annotator.{name} must be an int >= {low}, got {value!r}")
        for name, value in (("backoff_s", backoff_s), ("max_backoff_s", max_backoff_s),
                            ("timeout_s", timeout_s), ("log_every_s", log_every_s)):  # fmt: skip
            if not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"Annotator.{name} must be a number > 0, got {value!r}")
        self.model_id = str(getattr(client, "model", type(client).__name__))
        self.cache = cache if cache is not None else LabelCache(":memory:")
        self.concurrency, self.batch_size = concurrency, batch_size
        self.max_backlog, self.max_retries = max_backlog, max_retries
        self.backoff_s, self.max_backoff_s = float(backoff_s), float(max_backoff_s)
        self.timeout_s, self.temperature = float(timeout_s), float(temperature)
        self.max_tokens, self.log_every_s = int(max_tokens), float(log_every_s)

        self._queue: collections.deque[_Item] = collections.deque()
        self._pending: set[str] = set()
        self._labels: dict[str, float] = {}
        # The step path's fast lookups by the text itself (no hashing once a text is known).
        self._by_text: dict[str, float] = {}
        self._pending_texts: set[str] = set()
        self._provenance: dict[str, str] = {}  # key -> prompt hash
        self._events: list[tuple[str, tuple[str, ...], float]] = []  # (kind, texts, label)
        self._c = _Counters()
        self._cond = threading.Condition()
        self._closed = False
        self._pool = concurrent.futures.ThreadPoolExecutor(
            concurrency, thread_name_prefix="rewardgym-annotator-call"
        )
        self._thread = threading.Thread(
            target=self._dispatch, name="rewardgym-annotator", daemon=True
        )
        self._thread.start()

    # -- the step path (never waits) -----------------------------------------------------------

    def submit(self, text: str) -> float | None:
        """The helpfulness label of ``text`` if known (1.0 / 0.0), else queue it and return None."""
        label = self._by_text.get(text)
        if label is None and text not in self._pending_texts:
            self._enqueue(content_hash(text), "helpful", (text,))
        return label

    def label(self, text: str) -> float | None:
        """The helpfulness label of ``text`` if known; never queues, never waits."""
        return self._by_text.get(text)

    def submit_pair(self, first: str, second: str) -> float | None:
        """ONI's ranking label of the pair (1.0 first better, 0.0 second, 0.5 tie) if known,
        else queue the comparison and return None."""
        key = content_hash(first + "\x00" + second)
        label = self._labels.get(key)
        if label is None:
            self._enqueue(key, "pairwise", (first, second))
        return label

    def _enqueue(self, key: str, kind: str, texts: tuple[str, ...]) -> None:
        if key in self._pending:
            return
        item = _Item(key, kind, texts, time.monotonic())
        with self._cond:
            if self._closed or key in self._pending:
                return
            self._pending.add(key)
            if kind == "helpful":
                self._pending_texts.add(texts[0])
            self._c.requested += 1
            self._queue.append(item)
            while len(self._queue) > self.max_backlog:
                old = self._queue.popleft()
                self._pending.discard(old.key)
                self._pending_texts.discard(old.texts[0])
                self._c.dropped += 1
            self._cond.notify()

    # -- reading labels (reward models) ----------------------------------------------------------

    def labels_since(self, index: int) -> tuple[list[tuple[str, tuple[str, ...], float]], int]:
        """Labels obtained after the first ``index`` ones, as ``(kind, texts, label)``, and the
        index to pass next time (each reward model keeps its own)."""
        with self._cond:
            new = self._events[index:]
            return new, index + len(new)

    def provenance(self, text: str) -> dict[str, str] | None:
        """``{"prompt_hash", "model_id"}`` of the label of ``text``, or None if unlabelled."""
        ph = self._provenance.get(content_hash(text))
        return None if ph is None else {"prompt_hash": ph, "model_id": self.model_id}

    def stats(self) -> dict[str, float]:
        """Queue length, in-flight and done counts, drops, failures, label latency (seconds)."""
        with self._cond:
            c = self._c
            lat = list(c.latencies)
            unique = max(c.requested, 1)
            return {
                "queue_length": float(len(self._queue)),
                "pending": float(len(self._pending)),
                "requested": float(c.requested),
                "labelled": float(c.labelled),
                "labelled_fraction": c.labelled / unique,
                "cache_hits": float(c.cache_hits),
                "dropped": float(c.dropped),
                "failed": float(c.failed),
                "retries": float(c.retries),
                "timeouts": float(c.timeouts),
                "garbage": float(c.garbage),
                "errors": float(c.errors),
                "latency_mean_s": statistics.fmean(lat) if lat else 0.0,
                "latency_p50_s": statistics.median(lat) if lat else 0.0,
            }

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (for tests and offline labelling only)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._pending and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return not self._pending

    def close(self) -> None:
        """Stop the dispatcher and the call pool (calls in flight are abandoned); idempotent."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=2.0)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Annotator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()

    # -- the dispatcher -------------------------------------------------------------------------

    def _take_batch(self) -> list[_Item] | None:
        with self._cond:
            while True:
                if self._closed:
                    return None
                now = time.monotonic()
                ready = [it for it in self._queue if it.not_before <= now]
                if ready:
                    batch = ready[-self.batch_size :][::-1]  # newest first
                    taken = {id(it) for it in batch}
                    self._queue = collections.deque(it for it in self._queue if id(it) not in taken)
                    return batch
                wait = min((it.not_before for it in self._queue), default=now + 1.0) - now
                self._cond.wait(max(min(wait, 1.0), 0.005))

    def _dispatch(self) -> None:
        last_log = time.monotonic()
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            try:
                self._run_batch(batch)
            except Exception:
                log.exception("annotator batch failed; its items are dropped")
                with self._cond:
                    for it in batch:
                        self._pending.discard(it.key)
                        self._pending_texts.discard(it.texts[0])
            if self._c.consecutive_failures:
                pause = min(self.backoff_s * 2 ** min(self._c.consecutive_failures, 10),
                            self.max_backoff_s)  # fmt: skip
                with self._cond:
                    self._cond.wait_for(lambda: self._closed, timeout=pause)
            if time.monotonic() - last_log >= self.log_every_s:
                last_log = time.monotonic()
                log.info("annotator %s: %s", self.model_id, self.stats())

    def _run_batch(self, batch: list[_Item]) -> None:
        done: list[tuple[_Item, float, str]] = []
        to_ask: list[_Item] = []
        for it in batch:
            if not it.prompt:
                template = self.prompt if it.kind == "helpful" else self.pairwise_prompt
                it.prompt = template.render(*it.texts)
                it.prompt_hash = prompt_hash(it.prompt)
            hit = self.cache.get(self.model_id, it.prompt_hash)
            if hit is not None and hit[0] is not None:
                done.append((it, float(hit[0]), hit[1]))
                self._c.cache_hits += 1
            else:
                to_ask.append(it)
        futures = [(it, self._pool.submit(self._ask, it.prompt)) for it in to_ask]
        deadline = time.monotonic() + self.timeout_s
        failed: list[tuple[_Item, str]] = []
        for it, fut in futures:
            try:
                answer = fut.result(timeout=max(deadline - time.monotonic(), 0.0))
            except concurrent.futures.TimeoutError:
                fut.cancel()
                self._c.timeouts += 1
                failed.append((it, f"no answer within {self.timeout_s:g} s"))
                continue
            except Exception as exc:
                self._c.errors += 1
                failed.append((it, f"{type(exc).__name__}: {exc}"))
                continue
            parse = parse_helpful if it.kind == "helpful" else parse_preference
            label = parse(answer)
            if label is None:
                self._c.garbage += 1
                failed.append((it, f"no verdict in the answer {answer[:80]!r}"))
            else:
                done.append((it, label, answer))
        asked = {id(it) for it in to_ask}
        self.cache.put_many(
            self.model_id, [(it.prompt_hash, lab, ans) for it, lab, ans in done if id(it) in asked]
        )
        now = time.monotonic()
        with self._cond:
            for it, label, _ in done:
                self._labels[it.key] = label
                if it.kind == "helpful":
                    self._by_text[it.texts[0]] = label
                    self._pending_texts.discard(it.texts[0])
                self._provenance[it.key] = it.prompt_hash
                self._events.append((it.kind, it.texts, label))
                self._pending.discard(it.key)
                self._c.labelled += 1
                self._c.latencies.append(now - it.submitted)
            if to_ask and not failed:
                if self._c.consecutive_failures:
                    log.warning("annotator %s: the LLM answers again", self.model_id)
                self._c.consecutive_failures = 0
            for it, reason in failed:
                self._c.consecutive_failures += 1
                if it.attempts < self.max_retries and not self._closed:
                    it.attempts += 1
                    it.not_before = now + min(self.backoff_s * 2 ** (it.attempts - 1),
                                              self.max_backoff_s)  # fmt: skip
                    self._c.retries += 1
                    self._queue.append(it)
                    if len(self._queue) > self.max_backlog:  # the cap holds for retries too
                        dropped = self._queue.popleft()
                        self._pending.discard(dropped.key)
                        self._pending_texts.discard(dropped.texts[0])
                        self._c.dropped += 1
                else:
                    self._pending.discard(it.key)
                    self._pending_texts.discard(it.texts[0])
                    self._c.failed += 1
                    if self._c.failed == 1 or self._c.failed % 100 == 0:
                        log.warning(
                            "annotator %s: %d label(s) failed so far (latest: %s); unlabelled "
                            "texts get intrinsic reward 0 and training continues",
                            self.model_id, self._c.failed, reason,
                        )  # fmt: skip
            self._cond.notify_all()

    def _ask(self, prompt: str) -> str:
        out = self.client.complete(prompt, max_tokens=self.max_tokens, temperature=self.temperature)
        return out.text


def _template(
    value: PromptTemplate | str, table: dict[str, PromptTemplate], name: str
) -> PromptTemplate:
    if isinstance(value, PromptTemplate):
        return value
    if isinstance(value, str) and value in table:
        return table[value]
    raise ConfigError(f"Annotator.{name}: unknown template {value!r}; valid: {sorted(table)}")
