"""A deterministic rule-based "LLM" answering the reward prompts by keyword rules.

:class:`RuleBasedLLM` is an ordinary :class:`rewardgym.llm.LLMClient`, so it can stand behind
the project's own OpenAI-compatible server (``rewardgym.llm.server.OpenAICompatServer``) and
the whole path HTTP → annotator → reward model → wrapper runs offline in tests and CPU
experiments. It answers, by the prompt's shape:

* a helpfulness prompt (``Message: <<...>>``) with ``("helpful": yes|no)``;
* a pairwise prompt (``Message 1: <<...>>`` / ``Message 2: <<...>>``) with ``("best": ...)``;
* a task prompt (``Task: <<...>>``) with a numbered list of dungeon subgoals;
* a subgoal prompt (``Subgoal: <<...>>`` and ``Message: <<...>>``) with ``("reached": ...)``;
* a judge prompt (``Answer: <<...>>``) with ``Score: N`` (0..10, by overlap with the
  ``Reference: <<...>>`` when one is given).

Its knowledge is a table of keywords and weights (:data:`DUNGEON_KEYWORDS` by default):
progress words (stairs, key, unlock, descend, gold, ...) score positive, failures and routine
noise negative. It is a stand-in with a known answer, not a language model.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence

from rewardgym.llm.base import ChatMessage, Completion, LLMClient, cut_at_stop, format_chat

__all__ = ["DUNGEON_KEYWORDS", "RuleBasedLLM", "keyword_score"]

#: keyword (lower case, matched as a substring) -> weight; a message is helpful when the sum
#: of its keywords' weights is positive.
DUNGEON_KEYWORDS: dict[str, float] = {
    "staircase": 2.0,
    "descend": 3.0,
    "key": 2.0,
    "unlock": 3.0,
    "door opens": 1.0,
    "crashes open": 1.0,
    "gold pieces": 1.0,
    "pick up": 1.0,
    "delicious": 1.0,
    "you kill": 1.0,
    "gem": 1.0,
    "find a": 0.5,
    "nothing": -2.0,
    "can't": -2.0,
    "no door": -2.0,
    "don't have": -2.0,
    "kick at empty": -2.0,
    "miss": -1.0,
    "bites": -1.0,
    "dart shoots": -1.0,
    "you die": -3.0,
    "hungry": -1.0,
    "is locked": -0.5,
}

_SLOT = r"<<(.*?)>>"


def keyword_score(text: str, keywords: Mapping[str, float] = DUNGEON_KEYWORDS) -> float:
    """The sum of the weights of the keywords found in ``text`` (case-insensitive)."""
    low = text.lower()
    return float(sum(w for k, w in keywords.items() if k in low))


class RuleBasedLLM(LLMClient):
    """A deterministic client that labels messages by keyword rules (see the module docstring).

    Args:
        keywords: keyword -> weight table.
        delay_s: seconds each call sleeps before answering (a slow server, for benchmarks).
        model: the model id it reports (recorded in the label cache and provenance).
    """

    def __init__(
        self,
        keywords: Mapping[str, float] | None = None,
        *,
        delay_s: float = 0.0,
        model: str = "rule-based-v1",
    ) -> None:
        super().__init__()
        self.keywords = dict(DUNGEON_KEYWORDS if keywords is None else keywords)
        self.delay_s = float(delay_s)
        self.model = model

    def answer(self, prompt: str) -> str:
        """The text this "model" answers to ``prompt``."""
        first = re.search(r"Message 1: " + _SLOT, prompt, re.S)
        second = re.search(r"Message 2: " + _SLOT, prompt, re.S)
        if first and second:
            a, b = (
                keyword_score(first.group(1), self.keywords),
                keyword_score(second.group(1), self.keywords),
            )
            verdict = "1" if a > b else "2" if b > a else "none"
            return f'Message 1 scores {a:g}, message 2 scores {b:g}. ("best": {verdict})'
        answer = re.search(r"Answer: " + _SLOT, prompt, re.S)
        if answer:
            return self._judge(answer.group(1), re.search(r"Reference: " + _SLOT, prompt, re.S))
        task = re.search(r"Task: " + _SLOT, prompt, re.S)
        if task:
            steps = ["find the staircase", "descend the staircase"]
            if "key" in task.group(1).lower():
                steps = ["pick up the key", "unlock the door", *steps]
            return "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
        subgoal = re.search(r"Subgoal: " + _SLOT, prompt, re.S)
        message = re.search(r"Message: " + _SLOT, prompt, re.S)
        if subgoal and message:
            words = [w for w in re.findall(r"[a-z]+", subgoal.group(1).lower()) if len(w) > 3]
            hit = any(w in message.group(1).lower() for w in words) and (
                keyword_score(message.group(1), self.keywords) > 0
            )
            return f'("reached": {"yes" if hit else "no"})'
        if message:
            score = keyword_score(message.group(1), self.keywords)
            return f'Keyword score {score:g}. ("helpful": {"yes" if score > 0 else "no"})'
        return "I cannot tell what is asked."

    @staticmethod
    def _judge(answer: str, reference: re.Match[str] | None) -> str:
        words = set(re.findall(r"[a-z0-9]+", answer.lower()))
        if reference is None:
            return f"Score: {min(10, len(words))}"
        ref = set(re.findall(r"[a-z0-9]+", reference.group(1).lower()))
        overlap = len(words & ref) / max(len(ref), 1)
        return f"Score: {round(10 * overlap)}"

    def _reply(self, prompt: str, max_tokens: int, stop: Sequence[str]) -> Completion:
        if self.delay_s:
            time.sleep(self.delay_s)
        text, _ = cut_at_stop(self.answer(prompt), stop)
        words = text.split()
        finish = "length" if len(words) > max_tokens else "stop"
        text = " ".join(words[:max_tokens]) if finish == "length" else text
        return Completion(text, len(prompt.split()), min(len(words), max_tokens), finish)

    def _generate(self, prompt, *, max_tokens, temperature, stop, seed, logprobs=None):
        return self._reply(prompt, max_tokens, stop)

    def _generate_chat(
        self, messages: Sequence[ChatMessage], *, max_tokens, temperature, stop, seed,
        logprobs=None,
    ):  # fmt: skip
        return self._reply(format_chat(messages), max_tokens, stop)
