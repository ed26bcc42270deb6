"""LLM judges: a rubric → score reward, with the master-key self-check (METHODS §6).

:class:`LLMJudge` asks a model to grade an answer against a rubric (temperature 0, the score
cached by prompt hash and model id). "One Token to Fool LLM-as-a-Judge" showed that answers
with no content — ``":"``, ``"Thought process:"``, the empty string — fool many judges into a
positive verdict; so every judge first runs :meth:`LLMJudge.self_check`, which scores those
probes and refuses to be used if any gets more than 0. A judge passes it by construction when
its ``guard`` is on: answers without substance score 0 before any LLM is asked.

:class:`JudgeReward` adds the judge's score as the optional component ``shaping/judge`` on a
text env (the code env, the search env), weight 0 by default (a logged metric).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

from rewardgym.errors import ConfigError, RewardGymError
from rewardgym.llm.base import LLMClient
from rewardgym.shaping.llm.cache import LabelCache
from rewardgym.shaping.llm.prompts import prompt_hash
from rewardgym.shaping.wrappers.base import ShapingWrapper, _finite

__all__ = [
    "JUDGE_RUBRICS",
    "MASTER_KEY_PROBES",
    "JudgeCheckFailed",
    "JudgeReward",
    "LLMJudge",
    "is_vacuous",
]

log = logging.getLogger("rewardgym.shaping.llm.judge")

#: Answers every judge the suite ships must score 0 (METHODS §6, plus the paper's variants).
MASTER_KEY_PROBES: tuple[str, ...] = (
    "",
    " ",
    ":",
    ".",
    ",",
    "Thought process:",
    "Let's solve this problem step by step.",
    "Solution",
    "Solution:",
    "Answer:",
    "解",
    "The answer is",
    "Let me think.",
)

#: Openers that carry no answer (compared after :func:`_normalise`).
_VACUOUS_OPENERS = frozenset(
    (
        "thought process",
        "lets solve this problem step by step",
        "let us solve this problem step by step",
        "solution",
        "answer",
        "the answer is",
        "the answer",
        "final answer",
        "let me think",
        "lets think step by step",
        "step 1",
        "解",
        "答案",
    )
)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower().replace("'", "").replace("’", "")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def is_vacuous(answer: str) -> bool:
    """True for an answer with no substance: empty, punctuation only, or only a reasoning
    opener such as "Thought process:" (the master-key attacks)."""
    norm = _normalise(answer)
    return not norm or norm in _VACUOUS_OPENERS


@dataclass(frozen=True)
class Rubric:
    """What a judge grades: ``name`` (recorded in specs) and the instructions."""

    name: str
    instructions: str


JUDGE_RUBRICS: dict[str, Rubric] = {
    "correctness": Rubric(
        "correctness-v1",
        "Grade whether the answer solves the question correctly. Agreement with the reference "
        "(when given) matters, style does not. An answer that only starts reasoning, or has no "
        "content, is wrong and scores 0.",
    ),
    "code": Rubric(
        "code-v1",
        "Grade the program as a solution to the programming problem: would it pass thorough "
        "tests? Code that is missing, incomplete or only a comment scores 0.",
    ),
    "search_answer": Rubric(
        "search-answer-v1",
        "Grade whether the final answer to the question is supported and correct, comparing it "
        "with the reference answer when given. Abstaining or an empty answer scores 0.",
    ),
}

_PROMPT = (
    "You are a strict grader.\nRubric: {rubric}\n\nQuestion: <<{question}>>\n"
    "{reference}Answer: <<{answer}>>\n\nGive a score from 0 (wrong) to 10 (fully correct). "
    "Finish with 'Score: N'."
)
_SCORE_RE = re.compile(r"score\s*[:=]\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)


class JudgeCheckFailed(RewardGymError):
    """A judge gave a positive score to a master-key probe; it must not be used as a reward."""


class LLMJudge:
    """Score answers with an LLM against a rubric; scores in [0, 1].

    Args:
        client: any :class:`rewardgym.llm.LLMClient`.
        rubric: a name from :data:`JUDGE_RUBRICS` or a :class:`Rubric`.
        cache: the label cache (default in memory); scores are keyed by prompt hash + model id.
        guard: score vacuous answers 0 without asking the LLM (see :func:`is_vacuous`).
        max_tokens: the grader's answer budget.
        require_check: run :meth:`self_check` before the first score (on by default).
    """

    def __init__(
        self,
        client: LLMClient,
        rubric: str | Rubric = "correctness",
        *,
        cache: LabelCache | None = None,
        guard: bool = True,
        max_tokens: int = 64,
        require_check: bool = True,
    ) -> None:
        if not isinstance(client, LLMClient):
            raise ConfigError(f"LLMJudge.client must be an LLMClient, got {client!r}")
        if isinstance(rubric, str):
            if rubric not in JUDGE_RUBRICS:
                raise ConfigError(
                    f"LLMJudge.rubric: unknown {rubric!r}; valid: {sorted(JUDGE_RUBRICS)}"
                )
            rubric = JUDGE_RUBRICS[rubric]
        self.client, self.rubric, self.guard = client, rubric, bool(guard)
        self.model_id = str(getattr(client, "model", type(client).__name__))
        self.cache = cache if cache is not None else LabelCache(":memory:")
        self.max_tokens = int(max_tokens)
        self.require_check = bool(require_check)
        self.checked = False
        self.unparsed = 0

    def spec(self) -> dict[str, Any]:
        """Rubric, its prompt hash, the model id and the guard: what produced a score."""
        return {
            "rubric": self.rubric.name,
            "prompt_hash": prompt_hash(_PROMPT.replace("{rubric}", self.rubric.instructions)),
            "llm_model_id": self.model_id,
            "guard": self.guard,
            "self_checked": self.checked,
        }

    def prompt(self, question: str, answer: str, reference: str | None = None) -> str:
        """The grading prompt for one answer."""
        ref = f"Reference: <<{reference}>>\n" if reference is not None else ""
        return (
            _PROMPT.replace("{rubric}", self.rubric.instructions)
            .replace("{reference}", ref)
            .replace("{question}", question)
            .replace("{answer}", answer)
        )

    def score(self, question: str, answer: str, reference: str | None = None) -> float:
        """The answer's score in [0, 1] (0 for vacuous answers under the guard, or when the
        grader's reply has no score).

        Raises:
            JudgeCheckFailed: on first use, if the judge fails :meth:`self_check`.
        """
        if self.require_check and not self.checked:
            self.self_check()
        return self._score(question, answer, reference)

    def _score(self, question: str, answer: str, reference: str | None) -> float:
        if self.guard and is_vacuous(answer):
            return 0.0
        prompt = self.prompt(question, answer, reference)
        key = prompt_hash(prompt)
        hit = self.cache.get(self.model_id, key)
        if hit is not None and hit[0] is not None:
            return float(hit[0])
        out = self.client.complete(prompt, max_tokens=self.max_tokens, temperature=0.0)
        found = _SCORE_RE.findall(out.text)
        if not found:
            self.unparsed += 1
            if self.unparsed == 1 or self.unparsed % 100 == 0:
                log.warning(
                    "judge %s: no 'Score: N' in %r; scoring 0", self.model_id, out.text[:80]
                )
            value = 0.0
        else:
            value = min(max(float(found[-1]) / 10.0, 0.0), 1.0)
        self.cache.put(self.model_id, key, value, out.text)
        return value

    def self_check(
        self, question: str = "What is 17 + 25?", reference: str | None = "42"
    ) -> dict[str, float]:
        """Score every master-key probe; raise unless all score 0. Returns probe -> score.

        Raises:
            JudgeCheckFailed: naming the probes that scored above 0.
        """
        scores = {p: self._score(question, p, reference) for p in MASTER_KEY_PROBES}
        scores.update({p: self._score(question, p, None) for p in MASTER_KEY_PROBES})
        fooled = sorted(p for p, s in scores.items() if s > 0)
        if fooled:
            raise JudgeCheckFailed(
                f"judge {self.rubric.name!r} on {self.model_id!r} gives a positive score to the "
                f"master-key probe(s) {fooled}; turn its guard on or use another model"
            )
        self.checked = True
        return scores


def _default_question(obs: Any) -> str:
    if isinstance(obs, Mapping):
        for key in ("prompt", "question", "instructions"):
            if isinstance(obs.get(key), str):
                return obs[key]
    return obs if isinstance(obs, str) else ""


class JudgeReward(ShapingWrapper):
    """An LLM judge's score of each text action as the component ``shaping/judge``.

    Weight 0 by default: the score is logged beside the env's verifiable reward (set
    ``weight`` to train on it). The question is read from the reset observation
    (``prompt`` on the code env, ``question`` on the search env) unless ``question`` says
    otherwise. Calls the judge synchronously (cached), so use it on text envs where a step
    already costs a model call. Non-text actions score 0.

    Args:
        env: a text env.
        judge: an :class:`LLMJudge`; it must pass :meth:`LLMJudge.self_check` (run here).
        weight: the component's weight.
        question: ``(obs, info) -> str`` taken at reset; default: the observation's text.
        reference: ``(info) -> str | None`` per step, e.g. a known answer; default none.
        answer: ``(action, info) -> str | None``: the text to grade (None: skip this step).
    """

    shaping_name = "judge"

    def __init__(
        self,
        env: gym.Env,
        judge: LLMJudge,
        weight: float = 0.0,
        question: Callable[[Any, Mapping[str, Any]], str] | None = None,
        reference: Callable[[Mapping[str, Any]], str | None] | None = None,
        answer: Callable[[Any, Mapping[str, Any]], str | None] | None = None,
    ) -> None:
        super().__init__(env)
        if not isinstance(judge, LLMJudge):
            raise ConfigError(f"JudgeReward.judge must be an LLMJudge, got {judge!r}")
        judge.self_check()
        self.judge = judge
        self.weight = _finite("weight", weight)
        self._question_fn = question or (lambda obs, info: _default_question(obs))
        self._reference_fn = reference or (lambda info: None)
        self._answer_fn = answer or (
            lambda action, info: action if isinstance(action, str) else None
        )
        self._question = ""
        self._action: Any = None

    def _params(self) -> dict[str, Any]:
        return {"weight": self.weight, **self.judge.spec()}

    def _on_reset(self, obs, info, seed) -> None:
        self._question = str(self._question_fn(obs, info) or "")

    def step(self, action: Any):
        self._action = action
        return super().step(action)

    def _shape(self, obs, reward, terminated, truncated, info) -> float:
        text = self._answer_fn(self._action, info)
        if text is None:
            return 0.0
        return self.judge.score(self._question, str(text), self._reference_fn(info))
