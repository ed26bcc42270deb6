"""Fixtures for the LLM-derived reward tests: scripted clients and the rule-based server."""

from __future__ import annotations

import threading

import pytest

from rewardgym.llm.base import Completion, LLMClient
from rewardgym.llm.http import OpenAIClient
from rewardgym.llm.server import OpenAICompatServer
from rewardgym.shaping.llm import RuleBasedLLM


class ScriptedLLM(LLMClient):
    """Answers with ``reply(prompt)``; records every prompt; optionally waits on a gate."""

    def __init__(self, reply, model: str = "scripted", gate: threading.Event | None = None):
        super().__init__()
        self.reply, self.model, self.gate = reply, model, gate
        self.prompts: list[str] = []

    def _generate(self, prompt, *, max_tokens, temperature, stop, seed, logprobs=None):
        self.prompts.append(prompt)
        if self.gate is not None:
            self.gate.wait(10)
        text = self.reply(prompt)
        return Completion(text, len(prompt.split()), len(text.split()))

    def _generate_chat(self, messages, **kw):
        return self._generate(messages[-1]["content"], **kw)


@pytest.fixture
def scripted():
    return ScriptedLLM


@pytest.fixture
def rule_server():
    """The rule-based LLM behind the project's OpenAI-compatible server; yields an HTTP client."""
    server = OpenAICompatServer(RuleBasedLLM()).start()
    client = OpenAIClient(server.url, "rule-based-v1", timeout_s=5, max_retries=0)
    yield client
    client.close()
    server.stop()
