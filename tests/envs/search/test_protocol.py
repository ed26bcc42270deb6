"""The MASH protocol parser: tags, tool calls, and every malformed turn an LLM produces."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardgym.envs.search import Invalid, Move, parse_action


def test_think_then_search():
    move = parse_action(
        "<think>I should look it up</think>\n<search>Marie Curie birthplace</search>"
    )
    assert move == Move("search", "Marie Curie birthplace", True, "tag")


@pytest.mark.parametrize(
    ("action", "kind", "arg"),
    [
        ("<answer>Warsaw</answer>", "answer", "Warsaw"),
        ("<ANSWER> Warsaw </ANSWER>", "answer", "Warsaw"),
        ("<open>c1</open>", "open", "c1"),
        ("<abstain/>", "abstain", ""),
        ("<abstain />", "abstain", ""),
        ("<abstain></abstain>", "abstain", ""),
        ("<answer>I don't know</answer>", "abstain", "I don't know"),
    ],
)
def test_action_tags(action, kind, arg):
    move = parse_action(action)
    assert isinstance(move, Move) and (move.kind, move.argument) == (kind, arg)
    assert move.well_formed


def test_repeated_tags_act_on_the_first_but_are_not_well_formed():
    move = parse_action("<search>first</search><search>second</search>")
    assert move == Move("search", "first", False, "tag")
    move = parse_action("<answer>Paris</answer> because I am sure")
    assert move.kind == "answer" and move.argument == "Paris" and not move.well_formed
    assert not parse_action("preamble <search>x</search>").well_formed
    assert not parse_action("<think>a</think><think>b</think><search>x</search>").well_formed


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("<search>unclosed query", "unclosed <search>"),
        ("<search>outer <search>inner</search></search>", "nested"),
        ("<answer><search>x</search></answer>", "nested"),
        ("<think>still thinking", "unclosed <think>"),
        ("<think>only thought</think>", "only <think>"),
        ("</search>", "never opened"),
        ("just prose, no tags", "no action tag"),
        ("", "no action tag"),
        ("<search>   </search>", "empty <search>"),
        ("<answer></answer>", "empty <answer>"),
    ],
)
def test_malformed_turns_are_invalid_with_a_reason(action, reason):
    result = parse_action(action)
    assert isinstance(result, Invalid)
    assert reason in result.reason


def test_non_utf8_bytes_are_invalid_not_a_crash():
    result = parse_action(b"<answer>\xff\xfe</answer>")
    assert isinstance(result, Invalid) and "UTF-8" in result.reason
    assert parse_action("<answer>caf\u00e9</answer>".encode()).argument == "café"
    lone = parse_action("<answer>\udcff</answer>")  # a lone surrogate (surrogateescape'd bytes)
    assert isinstance(lone, Invalid) and "UTF-8" in lone.reason


def test_a_megabyte_action_parses_in_linear_time():
    big = "<think>" + "x" * 1_000_000 + "</think><search>needle</search>"
    start = time.perf_counter()
    assert parse_action(big) == Move("search", "needle", True, "tag")
    junk = "<" * 500_000 + "search" * 50_000
    assert isinstance(parse_action(junk), Invalid)
    assert isinstance(parse_action("a" * 1_000_000), Invalid)
    assert time.perf_counter() - start < 5.0  # generous: catches quadratic scans only


@pytest.mark.parametrize(
    "call",
    [
        {"name": "search", "arguments": {"query": "Marie Curie"}},
        {"name": "search", "arguments": '{"query": "Marie Curie"}'},
        {
            "type": "function",
            "function": {"name": "search", "arguments": '{"query": "Marie Curie"}'},
        },
        {
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "search", "arguments": {"query": "Marie Curie"}},
                }
            ]
        },
        '{"name": "search", "arguments": {"query": "Marie Curie"}}',
        'search("Marie Curie")',
        "search(Marie Curie)",
        'search({"query": "Marie Curie"})',
    ],
)
def test_tool_calls_search(call):
    move = parse_action(call)
    assert isinstance(move, Move), move
    assert (move.kind, move.argument, move.via) == ("search", "Marie Curie", "tool_call")


def test_tool_call_answer_and_abstain():
    assert parse_action({"name": "answer", "arguments": {"text": "Warsaw"}}).argument == "Warsaw"
    assert parse_action('answer("I don\'t know")').kind == "abstain"
    assert parse_action("abstain()").kind == "abstain"


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        ({"name": "browse", "arguments": {}}, "unknown tool"),
        ({"name": "search", "arguments": "{not json"}, "not valid JSON"),
        ({"name": "search", "arguments": {"q2": "x"}}, "missing argument"),
        ({"name": "search", "arguments": {"query": 3}}, "must be a string"),
        ({"tool_calls": []}, "non-empty"),
    ],
)
def test_bad_tool_calls_are_invalid(call, reason):
    result = parse_action(call)
    assert isinstance(result, Invalid) and reason in result.reason


def test_non_text_actions_are_a_caller_error():
    with pytest.raises(TypeError):
        parse_action(42)


_PIECES = st.sampled_from(["<search>", "</search>", "<answer>", "</answer>", "<think>",
                           "</think>", "<abstain/>", "<open>", "</open>", "< search >", "<",
                           ">", "/", "Paris", " ", "\n", "search(", ")", '{"name": "search"',
                           "}", "I don't know", "\x00", "\udcff"])  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.lists(_PIECES, max_size=12).map("".join),
                 st.binary(max_size=64)))  # fmt: skip
def test_parse_never_raises_on_agent_output(action):
    result = parse_action(action)
    assert isinstance(result, (Move, Invalid))
    if isinstance(result, Invalid):
        assert result.reason
    elif result.kind in ("search", "open", "answer"):
        assert result.argument.strip()
