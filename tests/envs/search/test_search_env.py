"""SearchQAEnv: the step contract, grading, the cost ledger, limits, budget and formats."""

from __future__ import annotations

import gymnasium as gym
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardgym  # noqa: F401  (registers the ids)
from rewardgym.contract import invariant_error
from rewardgym.envs.checker import check_agentic_env
from rewardgym.envs.search import SearchQAEnv, render_observation
from rewardgym.errors import ConfigError, InvalidAction, ResetNeeded
from rewardgym.registry import ENTRIES

SEARCH_IDS = sorted(e.id for e in ENTRIES.values() if e.family == "search")
SMALL = {"n_pages": 300, "questions_per_kind": 20}


def _env(**kwargs):
    return SearchQAEnv(**{**SMALL, **kwargs})


def _start(env, kind):
    task = next(t for t in env.tasks if t.kind == kind)
    env.reset(seed=0, options={"task_id": task.task_id})
    return task


def _step(env, action):
    obs, reward, terminated, truncated, info = env.step(action)
    assert invariant_error(reward, info) is None
    return obs, reward, terminated, truncated, info


@pytest.mark.parametrize("env_id", SEARCH_IDS)
def test_every_search_id_passes_the_checker(env_id):
    check_agentic_env(gym.make(env_id), n_steps=8)


def test_every_search_id_passes_the_checker_with_protocol_actions():
    env = gym.make("rewardgym/SearchQA-v0")
    actions = ["<search>city founded</search>", "<open>city-000001</open>", "search(x)",
               "<answer>1900</answer>"]  # fmt: skip
    check_agentic_env(env, actions=actions, skip_gymnasium=True)


def test_correct_answer_after_search_scores_task_and_counts_the_search():
    env = _env()
    task = _start(env, "single-hop")
    _, reward, terminated, _, info = _step(env, f"<search>{task.subjects[0]}</search>")
    assert reward == 0.0 and not terminated
    assert info["reward_components"]["searches"] == 1.0 and info["move"] == "search"
    assert task.supporting[0] in [hit["page_id"] for hit in info["results"]]
    assert info["cost"] == {
        "searches": 1.0,
        "opens": 0.0,
        "tool_calls": 1.0,
        "agent_tokens": 0.0,
        "spend": 1.0,
    }
    _, reward, terminated, truncated, info = _step(env, f"<answer>{task.answers[-1]}</answer>")
    assert reward == 1.0 and terminated and not truncated and info["success"] is True
    assert info["reward_components"]["f1"] == 1.0 and info["answer"] == task.answers[-1]


def test_wrong_answer_and_abstention_on_answerable():
    env = _env()
    _start(env, "bridge")
    _, reward, terminated, _, info = _step(env, "<answer>Nowhere at all</answer>")
    assert reward == 0.0 and terminated and info["success"] is False
    _start(env, "bridge")
    _, reward, terminated, _, info = _step(env, "<abstain/>")
    assert reward == 0.0 and terminated
    assert info["reward_components"]["abstained"] == 1.0 and info["move"] == "abstain"


def test_unanswerable_rewards_abstention_only():
    env = _env()
    _start(env, "unanswerable")
    _, reward, _, _, info = _step(env, "<answer>I don't know</answer>")
    assert reward == 1.0 and info["reward_components"]["abstained"] == 1.0
    _start(env, "unanswerable")
    _, reward, _, _, info = _step(env, "<answer>1900</answer>")
    assert reward == 0.0 and info["reward_components"]["abstained"] == 0.0


def test_search_limit_then_turn_limit_truncates():
    env = _env(max_searches=2, max_turns=4)
    _start(env, "single-hop")
    for _ in range(2):
        _, _, _, truncated, info = _step(env, "<search>anything</search>")
        assert info["invalid_action"] is None and not truncated
    _, _, _, truncated, info = _step(env, "<search>third</search>")
    assert "no searches left" in info["invalid_action"] and info["cost"]["searches"] == 2.0
    assert info["reward_components"]["searches"] == 0.0 and not truncated
    _, _, terminated, truncated, info = _step(env, "no tags at all")
    assert truncated and not terminated and "max_turns" in info["truncation_reason"]
    assert info["success"] is False
    with pytest.raises(ResetNeeded):
        env.step("<abstain/>")


def test_budget_truncates_before_the_call_that_would_exceed_it():
    env = _env(budget=1.5, prices={"search": 1.0, "open": 0.25})
    task = _start(env, "bridge")
    _, _, _, truncated, info = _step(env, f"<open>{task.supporting[0]}</open>")
    assert info["cost"]["spend"] == 0.25 and info["cost"]["opens"] == 1.0 and not truncated
    _, _, _, truncated, info = _step(env, "<search>x y z</search>")
    assert info["cost"]["spend"] == 1.25 and not truncated
    obs, _, terminated, truncated, info = _step(env, "<search>more</search>")
    assert truncated and not terminated and "budget" in info["truncation_reason"]
    assert info["cost"]["spend"] == 1.25 and info["cost"]["searches"] == 1.0
    assert "budget" in obs["feedback"]


def test_open_unknown_page_is_invalid_and_free():
    env = _env()
    _start(env, "single-hop")
    _, _, _, _, info = _step(env, "<open>no-such-page</open>")
    assert "no page with id" in info["invalid_action"] and info["cost"]["spend"] == 0.0
    assert info["reward_components"]["format"] == 0.0


def test_malformed_turns_score_format_zero_and_go_on():
    env = _env(max_action_length=2_000_000)
    _start(env, "single-hop")
    for action in ("<search>unclosed", b"\xff\xfe", "<search><answer>x</answer></search>",
                   "x" * 1_000_000, "<think>" + "y" * 1_000_000):  # fmt: skip
        _, reward, terminated, _, info = _step(env, action)
        assert info["invalid_action"] and reward == 0.0 and not terminated
        assert info["reward_components"]["format"] == 0.0
        env.reset(seed=0)
    env = _env()
    env.reset(seed=0)
    _, _, _, _, info = _step(env, "x" * 70_000)
    assert "max_action_length" in info["invalid_action"]


def test_tool_call_dicts_drive_the_env():
    env = _env()
    task = _start(env, "single-hop")
    _, _, _, _, info = _step(env, {"name": "search", "arguments": {"query": task.subjects[0]}})
    assert info["move"] == "search" and info["cost"]["searches"] == 1.0
    _, reward, terminated, _, _ = _step(
        env, {"name": "answer", "arguments": {"text": task.answers[0]}}
    )
    assert reward == 1.0 and terminated


def test_caller_errors_raise():
    env = _env()
    with pytest.raises(ResetNeeded):
        env.step("<abstain/>")
    env.reset(seed=0)
    with pytest.raises(InvalidAction):
        env.step(3)
    with pytest.raises(ConfigError, match="not a question"):
        env.reset(options={"task_id": "nope"})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"top_k": 0}, "top_k"),
        ({"max_searches": -1}, "max_searches"),
        ({"budget": 0}, "budget"),
        ({"backend": "dense"}, "dense_model"),
        ({"backend": "web"}, "web"),
        ({"prices": {"search": -1.0}}, "prices"),
        ({"reward_weights": {"nope": 1.0}}, "nope"),
        ({"kinds": ["trivia"]}, "kinds"),
        ({"corpus_path": "x.jsonl"}, "tasks_path"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_config_fails_at_make_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        gym.make("rewardgym/SearchQA-v0", **kwargs)


def test_text_observation_and_render():
    env = _env(observation_format="text", render_mode="ansi")
    task = _start(env, "single-hop")
    obs, _, _, _, _ = env.step(f"<search>{task.subjects[0]}</search>")
    assert isinstance(obs, str) and env.observation_space.contains(obs)
    assert task.question in obs and "Search 1:" in obs and "Searches left: 4 of 5" in obs
    assert "<search>" in obs  # the protocol is explained
    assert env.render() == render_observation(env._observation)


def test_transcript_keeps_every_tool_result():
    env = _env()
    task = _start(env, "bridge")
    env.step(f"<search>{task.subjects[0]}</search>")
    obs, *_ = env.step(f"<open>{task.supporting[1]}</open>")
    assert (
        "Search 1:" in obs["transcript"] and f"Open 1: [{task.supporting[1]}]" in obs["transcript"]
    )
    assert task.answers[0] in obs["transcript"]


def test_same_seed_same_question_and_results():
    a, b = _env(), _env()
    oa, ia = a.reset(seed=5)
    ob, ib = b.reset(seed=5)
    assert oa == ob and ia["task_id"] == ib["task_id"]
    assert (
        a.step("<search>city</search>")[4]["results"]
        == b.step("<search>city</search>")[4]["results"]
    )


def test_jsonl_env_uses_the_shipped_sample_by_default():
    env = gym.make("rewardgym/SearchQA-JSONL-v0")
    _, info = env.reset(options={"task_id": "sample/nq-1"})
    _, _, _, _, info = env.step("<search>Marie Curie born</search>")
    assert info["results"][0]["page_id"] == "c1"
    _, reward, _, _, _ = env.step("<answer>warsaw.</answer>")
    assert reward == 1.0
    env.close()
    env.close()


def test_chat_messages_with_usage_feed_the_token_ledger():
    env = _env(prices={"token": 0.001})
    task = _start(env, "single-hop")
    message = {"role": "assistant", "content": None, "usage": {"prompt_tokens": 300,
               "completion_tokens": 20},
               "tool_calls": [{"type": "function", "function": {
                   "name": "search", "arguments": f'{{"query": "{task.subjects[0]}"}}'}}]}  # fmt: skip
    _, _, _, _, info = _step(env, message)
    assert info["move"] == "search" and info["cost"]["agent_tokens"] == 320.0
    assert info["cost"]["spend"] == pytest.approx(1.0 + 0.32)
    reply = {"role": "assistant", "content": f"<answer>{task.answers[0]}</answer>",
             "usage": {"total_tokens": 500}}  # fmt: skip
    _, reward, terminated, _, info = _step(env, reply)
    assert reward == 1.0 and terminated and info["cost"]["agent_tokens"] == 820.0
    _start(env, "single-hop")
    _, _, _, _, info = _step(env, {"content": "<abstain/>", "usage": {"total_tokens": "many"}})
    assert "must be numbers" in info["invalid_action"]


def test_tokens_over_budget_cut_the_turn():
    env = _env(prices={"token": 0.01}, budget=1.0)
    _start(env, "single-hop")
    msg = {"content": "<answer>x</answer>", "usage": {"total_tokens": 150}}
    _, reward, terminated, truncated, info = _step(env, msg)
    assert truncated and not terminated and reward == 0.0
    assert "tokens" in info["truncation_reason"] and info["answer"] is None
    assert info["invalid_action"] is None


_FUZZ_ENV = None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=120),
                          st.sampled_from(["<search>city</search>", "<open>city-000001</open>",
                                           "<answer>1900</answer>", "<abstain/>",
                                           "<search>unclosed", "search(x)"])),
                min_size=1, max_size=6))  # fmt: skip
def test_any_sequence_of_turns_keeps_the_contract(actions):
    global _FUZZ_ENV
    if _FUZZ_ENV is None:
        _FUZZ_ENV = _env(max_searches=2, max_turns=4)
    env = _FUZZ_ENV
    env.reset(seed=len(actions))
    for action in actions:
        obs, reward, terminated, truncated, info = _step(env, action)
        assert env.observation_space.contains(obs)
        assert info["cost"]["searches"] <= 2 and reward in (0.0, 1.0)
        if terminated or truncated:
            assert info["success"] is not None
            break


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x2100), max_size=60))
def test_observation_escaping_is_per_character(value):
    """The escaping of observation text (with its fast ASCII path) is the per-character rule:
    printable characters, newlines, tabs and carriage returns stay; anything else is escaped."""
    from rewardgym.envs.search.env import _printable

    def escape(ch: str) -> str:
        return ch if ch.isprintable() or ch in "\n\r\t" else ch.encode("unicode_escape").decode()

    assert _printable(value) == "".join(escape(ch) for ch in value)
    for ch in ("\x00", "\x1b", "\x7f", "\x0b", "\x0c"):
        assert _printable(f"query {ch}\n1. [p] t: s") == f"query {escape(ch)}\n1. [p] t: s"
