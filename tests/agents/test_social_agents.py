"""Social deduction agents: they play whole games legally, listening pays, the LLM player."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import rewardgym
from rewardgym.agents.registry import make_agent
from rewardgym.agents.social_agents import (
    SOCIAL_AGENTS,
    BayesianListener,
    parse_claim,
    play_game,
)
from rewardgym.agents.social_llm import SocialLLMAgent, survey_from_logprobs
from rewardgym.envs.social import SocialDeductionEnv
from rewardgym.llm.base import Completion, LLMClient


def _game(env, crew: str, imposter: str, seed: int):
    env.reset(seed=seed)
    imps = set(env.true_imposters)
    agents = {a: make_agent(imposter if a in imps else crew, env) for a in env.possible_agents}
    return play_game(env, agents, seed)


@pytest.mark.parametrize("name", sorted(SOCIAL_AGENTS))
@pytest.mark.parametrize(
    "env_id", ["rewardgym/SocialDeduction-v0", "rewardgym/SocialDeduction-Large-v0"]
)
def test_scripted_agents_finish_games_without_invalid_actions(name, env_id):
    env = rewardgym.make_parallel(env_id)
    for seed in range(3):
        result = _game(env, name, name, seed)
        assert result.winner in ("crew", "imposters")
        assert sum(result.invalid.values()) == 0, result.invalid


def test_parse_claim_reads_the_scripted_sentences():
    assert parse_claim("I saw player_2 kill player_4 in room (1,0) at tick 12.") == (
        "kill",
        (2, 4, 1, 0, 12),
    )
    assert parse_claim("I suspect player_3.") == ("suspect", (3,))
    assert parse_claim("hello") is None


def test_listener_refutes_a_lie_about_itself_and_votes_the_liar():
    """Accused of a kill it did not do, a listener knows the accuser is the imposter."""
    env = SocialDeductionEnv(num_players=5, meeting_interval=1, messages_per_player=1)
    obs, infos = env.reset(seed=0)
    g = env.game
    liar = g.imposters[0]
    me = next(s for s in range(5) if s != liar)
    listener = BayesianListener(seed=0)
    listener.act(obs[f"player_{me}"], infos[f"player_{me}"])
    g.alive[(me + 1) % 5 if (me + 1) % 5 != liar else (me + 2) % 5] = False
    victim = int(np.flatnonzero(~g.alive)[0])
    g.public_log.clear()
    for lines in g.lines:
        lines.append(
            f'[1] {g.names[liar]} said: "I saw player_{me} kill player_{victim} in room (1,0) '
            'at tick 1."'
        )
    g.phase = 1  # a survey
    obs = env._observe()
    belief = listener.act(obs[f"player_{me}"], {})["survey"]
    assert int(np.argmax(belief)) == liar and belief[liar] > 0.9


def test_bayesian_listeners_beat_random_voters():
    """A small version of benchmarks/exp_social_listeners.py (500 games there)."""
    env = rewardgym.make_parallel("rewardgym/SocialDeduction-LongTasks-v0")
    games = 40
    listen = sum(
        _game(env, "bayes-listener", "lying-imposter", s).winner == "crew" for s in range(games)
    )
    random = sum(
        _game(env, "task-crew", "lying-imposter", s).winner == "crew" for s in range(games)
    )
    assert listen >= random + 6, (listen, random)


class _FakeClient(LLMClient):
    """Answers from a script; can return log-probabilities like vLLM's top_logprobs."""

    model = "fake"

    def __init__(self, with_logprobs: bool):
        super().__init__()
        self.with_logprobs = with_logprobs
        self.prompts: list[str] = []

    def _reply(self, prompt: str, logprobs) -> Completion:
        self.prompts.append(prompt)
        if prompt.rstrip().endswith("player_"):
            if self.with_logprobs and logprobs is not None:
                from rewardgym.llm.base import TokenLogprob

                top = (("2", np.log(0.6)), ("3", np.log(0.3)), ("x", np.log(0.1)))
                return Completion("2", 10, 1, logprobs=(TokenLogprob("2", np.log(0.6), top),))
            return Completion("3 probably", 10, 2)
        if "Your message" in prompt:
            return Completion("I saw nothing suspicious.\n", 10, 5)
        return Completion("B", 10, 1)

    def _generate(self, prompt, *, max_tokens, temperature, stop, seed, logprobs=None):
        return self._reply(prompt, logprobs)

    def _generate_chat(self, messages, *, max_tokens, temperature, stop, seed, logprobs=None):
        return self._reply(messages[-1]["content"], logprobs)


@pytest.mark.parametrize("with_logprobs", [True, False])
def test_llm_agent_plays_a_game_and_surveys_from_logprobs_or_text(with_logprobs):
    if with_logprobs and "logprobs" not in inspect.signature(LLMClient.complete).parameters:
        pytest.skip("this rewardgym.llm has no log-probabilities yet")
    env = SocialDeductionEnv(num_players=4, meeting_interval=5, max_steps=60)
    client = _FakeClient(with_logprobs)
    agents = {a: SocialLLMAgent(client) for a in env.possible_agents}
    result = play_game(env, agents, seed=1)
    assert result.steps > 0
    records = env.listening_data()
    assert records, "the game reached a survey"
    r = next(r for r in records if r.seat not in (2, 3) and env.game.alive[2] and env.game.alive[3])
    if with_logprobs:
        assert agents["player_0"].logprob_surveys > 0
        assert r.belief[2] == pytest.approx(0.6 / 0.9, abs=0.01)
    else:
        assert r.belief[3] == pytest.approx(0.7)
    assert all(rec.valid for rec in records)


def test_survey_from_logprobs_ignores_dead_and_self():
    alive = np.array([1, 1, 0, 1], dtype=np.int8)
    top = [("2", np.log(0.5)), (" 1", np.log(0.3)), ("0", np.log(0.2))]
    belief = survey_from_logprobs(top, alive, seat=0)
    assert belief[2] == 0.0 and belief[0] == 0.0
    assert belief[1] > 0.99 and belief.sum() == pytest.approx(1.0)
    assert survey_from_logprobs([("x", 0.0)], alive, seat=0) is None


@pytest.mark.slow
def test_llm_agent_with_the_tiny_local_model_surveys_from_its_logprobs(tmp_path, monkeypatch):
    """The real local transformers client: surveys come from next-token log-probabilities."""
    pytest.importorskip("transformers")
    if "logprobs" not in inspect.signature(LLMClient.complete).parameters:
        pytest.skip("this rewardgym.llm has no log-probabilities yet")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    from rewardgym.llm.local import TransformersClient
    from rewardgym.llm.tiny import build_tiny_model

    client = TransformersClient(build_tiny_model(tmp_path / "tiny"), torch_threads=1)
    env = SocialDeductionEnv(num_players=4, meeting_interval=3, messages_per_player=1, max_steps=8)
    agents = {a: SocialLLMAgent(client, message_tokens=8) for a in env.possible_agents}
    result = play_game(env, agents, seed=0)
    assert result.steps == 8 and sum(result.invalid.values()) == 0
    assert sum(a.logprob_surveys for a in agents.values()) > 0
    assert all(abs(r.belief.sum() - 1) < 1e-9 and r.valid for r in env.listening_data())
