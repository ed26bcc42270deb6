"""The asynchronous annotator: dedup, newest first, the backlog cap, the cache, faults."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from rewardgym.errors import ConfigError
from rewardgym.llm.http import OpenAIClient
from rewardgym.llm.server import OpenAICompatServer
from rewardgym.shaping.llm import Annotator, LabelCache, RuleBasedLLM
from rewardgym.shaping.llm.prompts import parse_helpful, parse_preference


def test_labels_over_http_and_dedups(rule_server):
    with Annotator(rule_server, "dungeon") as ann:
        assert ann.submit("You pick up a key.") is None  # unknown yet: never waits
        for _ in range(50):
            ann.submit("You pick up a key.")
        ann.submit("You miss the rat.")
        assert ann.wait_idle(10)
        assert ann.submit("You pick up a key.") == 1.0
        assert ann.label("You miss the rat.") == 0.0
        stats = ann.stats()
        assert stats["requested"] == 2 and stats["labelled"] == 2
        assert stats["labelled_fraction"] == 1.0 and stats["latency_p50_s"] > 0
        prov = ann.provenance("You pick up a key.")
        assert prov["model_id"] == "rule-based-v1" and len(prov["prompt_hash"]) == 16


def test_newest_first(scripted):
    gate = threading.Event()
    llm = scripted(lambda p: '("helpful": yes)', gate=gate)
    with Annotator(llm, concurrency=1, batch_size=1) as ann:
        ann.submit("first")  # taken at once, blocks on the gate
        deadline = time.monotonic() + 10
        while not llm.prompts and time.monotonic() < deadline:
            time.sleep(0.001)
        for t in ("a", "b", "c"):
            ann.submit(t)
        gate.set()
        assert ann.wait_idle(10)
    order = [p.split("<<")[1].split(">>")[0] for p in llm.prompts]
    assert order == ["first", "c", "b", "a"]


def test_backlog_cap_holds_under_a_flood(scripted):
    gate = threading.Event()
    llm = scripted(lambda p: '("helpful": no)', gate=gate)
    with Annotator(llm, concurrency=1, batch_size=4, max_backlog=50) as ann:
        for i in range(20_000):
            ann.submit(f"message {i}")
            assert len(ann._queue) <= 50
        stats = ann.stats()
        assert stats["queue_length"] <= 50
        assert stats["requested"] == 20_000
        in_flight = stats["pending"] - stats["queue_length"]
        assert stats["dropped"] == 20_000 - stats["queue_length"] - in_flight
        gate.set()
        assert ann.wait_idle(10)
        # the survivors are the newest texts
        assert ann.label("message 19999") == 0.0
        assert ann.label("message 100") is None


def test_cache_persists_between_runs(tmp_path, scripted):
    path = tmp_path / "labels.sqlite"
    llm = scripted(lambda p: '("helpful": yes)')
    with Annotator(llm, cache=LabelCache(path)) as ann:
        ann.submit("You descend to level 2.")
        assert ann.wait_idle(10)
    assert len(llm.prompts) == 1
    again = scripted(lambda p: '("helpful": no)')
    with Annotator(again, cache=LabelCache(path)) as ann:
        ann.submit("You descend to level 2.")
        assert ann.wait_idle(10)
        assert ann.label("You descend to level 2.") == 1.0  # from the cache, not asked again
        assert ann.stats()["cache_hits"] == 1
    assert again.prompts == []
    other_model = scripted(lambda p: '("helpful": no)', model="other")
    with Annotator(other_model, cache=LabelCache(path)) as ann:
        ann.submit("You descend to level 2.")
        assert ann.wait_idle(10)
        assert ann.label("You descend to level 2.") == 0.0  # keyed by model id too


def test_garbage_answers_fail_with_warning(scripted, caplog):
    llm = scripted(lambda p: "I like turtles")
    with (
        caplog.at_level(logging.WARNING, "rewardgym.shaping.llm.annotator"),
        Annotator(llm, max_retries=1, backoff_s=0.01) as ann,
    ):
        ann.submit("You pick up a key.")
        assert ann.wait_idle(10)
        stats = ann.stats()
    assert ann.label("You pick up a key.") is None
    assert stats["garbage"] == 2 and stats["failed"] == 1 and stats["retries"] == 1
    assert "failed" in caplog.text and "no verdict" in caplog.text


def test_server_down_fails_with_warning(caplog):
    server = OpenAICompatServer(RuleBasedLLM()).start()
    url = server.url
    server.stop()  # nothing listens there now
    client = OpenAIClient(url, "rule-based-v1", timeout_s=1, max_retries=0)
    with (
        caplog.at_level(logging.WARNING, "rewardgym.shaping.llm.annotator"),
        Annotator(client, max_retries=1, backoff_s=0.01, max_backoff_s=0.05) as ann,
    ):
        ann.submit("You pick up a key.")
        assert ann.wait_idle(10)
        assert ann.stats()["errors"] == 2
    assert "training continues" in caplog.text


def test_slow_server_times_out(caplog):
    server = OpenAICompatServer(RuleBasedLLM(delay_s=2.0)).start()
    client = OpenAIClient(server.url, "rule-based-v1", timeout_s=5, max_retries=0)
    try:
        with (
            caplog.at_level(logging.WARNING, "rewardgym.shaping.llm.annotator"),
            Annotator(client, timeout_s=0.1, max_retries=0) as ann,
        ):
            ann.submit("You pick up a key.")
            assert ann.wait_idle(10)
            assert ann.stats()["timeouts"] == 1
            assert ann.label("You pick up a key.") is None
        assert "no answer within 0.1 s" in caplog.text
    finally:
        server.stop()


def test_parsers():
    assert parse_helpful('blah ("helpful": yes)') == 1.0
    assert parse_helpful('("helpful": yes) no wait ("helpful": no)') == 0.0
    assert parse_helpful("helpful") is None
    assert parse_preference('("best": 2)') == 0.0
    assert parse_preference('("best": none)') == 0.5
    assert parse_preference("both") is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"max_backlog": 0}, "max_backlog"), ({"timeout_s": 0}, "timeout_s"),
     ({"prompt": "nope"}, "prompt"), ({"concurrency": 1.5}, "concurrency")],
)  # fmt: skip
def test_bad_configuration(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        Annotator(RuleBasedLLM(), **kwargs)


def test_client_must_be_an_llm_client():
    with pytest.raises(ConfigError, match="LLMClient"):
        Annotator(lambda p: "x")  # type: ignore[arg-type]
