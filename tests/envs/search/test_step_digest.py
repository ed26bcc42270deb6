"""Same seeds and turns, same episodes: a digest of SearchQA episodes pinned against the env as
it was before the step was made cheaper.

Speed work on the step (parsing fast paths, cached status lines, the contract's info built in
fewer calls) must not change a single observation, reward, termination or info, key order
included. The turns cover searches (with and without results), opens, answers, abstentions,
invalid, non-UTF-8 and non-printable turns, tool calls, chat messages with token usage, the
budget, the turn limit, text observations and cut transcripts. Floats are rounded to 9
significant digits so that BM25 scores do not depend on the last bit of a CPU's float32 sums.
A change of the env's rules must update the digest on purpose.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from rewardgym.envs.search import SearchQAEnv

pytest.importorskip("Stemmer", reason="the pinned retrieval results use the Snowball stemmer")

CONFIGS: list[dict[str, Any]] = [
    {},
    {"observation_format": "text"},
    {"budget": 2.5, "prices": {"search": 1.0, "open": 0.5, "token": 0.001}},
    {
        "max_searches": 2,
        "max_opens": 1,
        "max_turns": 6,
        "reward_weights": {"f1": 0.5, "format": 0.1},
    },
    {"max_observation_length": 1024, "snippet_chars": 40},
]


def _turns(task: Any, episode: int) -> list[Any]:
    subject = task.subjects[0] if task.subjects else "city"
    page = task.supporting[0] if task.supporting else "nope-1"
    answer = task.answers[-1] if task.answers else "x"
    usage = {"role": "assistant", "content": "<search>q</search>", "usage": {"total_tokens": 900}}
    call = {"type": "function", "function": {"name": "answer", "arguments": '{"text": "1900"}'}}
    scripts = [
        [f"<search>{subject}</search>", f"<search>{task.question}</search>", f"<answer>{answer}</answer>"],
        ["hello", "<search></search>", "<search>a</search><search>b</search>", f"<open>{page}</open>",
         "<open>no-such</open>", "<abstain/>"],
        [b"\xff\xfe", "<search>caf\u00e9 \x07 bell\ttab</search>", "<think>hm</think> <search>x y</search> z",
         f'search("{subject}")', {"name": "search", "arguments": {"query": subject}}, "answer(I don't know)"],
        [usage, {"tool_calls": [call], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}],
        [f"<search>{subject}</search>"] * 7 + ["<answer>I don't know</answer>"],
        ["<search>" + "long query " * 2000 + "</search>", "<SEARCH>upper</SEARCH>",
         "  <search> spaced </search>  ", f"<answer>{task.question}</answer>"],
        [f"<open>{page}</open>"] * 3 + ["x" * 70000, "<abstain></abstain>"],
    ]  # fmt: skip
    return scripts[episode % len(scripts)]


def _canonical(value: Any) -> Any:
    """``value`` with dict key order kept, tuples as lists and floats rounded."""
    if isinstance(value, dict):
        return [(key, _canonical(item)) for key, item in value.items()]
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, float):
        return float(f"{value:.9g}")
    return value


def episodes_digest(env_class: type = SearchQAEnv) -> str:
    h = hashlib.sha256()
    for index, config in enumerate(CONFIGS):
        env = env_class(n_pages=300, questions_per_kind=20, index_cache=None, **config)
        for episode in range(14):
            h.update(repr(_canonical(env.reset(seed=1000 * index + episode))).encode())
            for turn in _turns(env.unwrapped.task, episode):
                out = env.step(turn)
                h.update(repr(_canonical(out)).encode())
                if out[2] or out[3]:
                    break
        env.close()
    return h.hexdigest()


def test_same_turns_give_the_same_episodes_as_recorded():
    assert episodes_digest() == "2267c3cd97e13d2857805e99139e203c2a0309efb1d0a3bd8300be1b2b49da25"
