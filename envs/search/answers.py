"""Answer scoring: SQuAD normalisation, exact match and token F1 against a set of answers.

The normalisation is SQuAD v1.1's (and MASH's): lower-case, drop punctuation, drop the articles
``a``/``an``/``the``, collapse whitespace. A prediction is scored against every accepted answer
(gold and aliases) and keeps the best score.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable

__all__ = ["ABSTAIN_PHRASES", "exact_match", "f1_score", "is_abstention", "normalize_answer"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)

#: Answers that mean "I don't know" (compared after normalisation).
ABSTAIN_PHRASES: frozenset[str] = frozenset(
    {
        "i dont know",
        "i do not know",
        "idk",
        "unknown",
        "unanswerable",
        "cannot answer",
        "i cannot answer",
        "no answer",
        "abstain",
    }
)


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower().translate(_PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, answers: Iterable[str]) -> float:
    """1.0 if ``prediction`` equals any answer after normalisation, else 0.0."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(answer) for answer in answers))


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    common = Counter(pred_tokens) & Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, answers: Iterable[str]) -> float:
    """The best token F1 of ``prediction`` against any answer (0.0 when there is none)."""
    pred = normalize_answer(prediction).split()
    return max((_f1(pred, normalize_answer(a).split()) for a in answers), default=0.0)


def is_abstention(answer: str) -> bool:
    """Whether an ``<answer>`` text declines to answer ("I don't know", "unanswerable", ...)."""
    return normalize_answer(answer) in ABSTAIN_PHRASES
