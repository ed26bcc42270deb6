"""Agents are keyed by what they are: a retrained model is a new agent, the same model on a
restarted server (another port) resumes."""

from __future__ import annotations

import pytest

from rewardgym.errors import ConfigError
from rewardgym.leaderboard.identity import agent_identity, spec_of_identity
from rewardgym.leaderboard.runner import plan, run_bench
from rewardgym.leaderboard.store import ResultsStore

COUNT = "lb_toy_envs:rewardgym-test/Count-v0"


def test_a_ppo_model_is_keyed_by_its_file_contents(tmp_path):
    model = tmp_path / "run"
    model.mkdir()
    (model / "model.zip").write_bytes(b"weights v1")
    (model / "meta.json").write_text("{}")
    first = agent_identity(f"ppo:{model}")
    assert first.startswith(f"ppo:{model}@") and len(first.rpartition("@")[2]) == 12
    assert agent_identity(f"ppo:{model}") == first  # same file: same agent, reruns resume
    assert agent_identity(f"ppo:{model / 'model.zip'}").endswith(first.rpartition("@")[2])
    (model / "model.zip").write_bytes(b"weights v2")  # retrained
    assert agent_identity(f"ppo:{model}") != first
    assert spec_of_identity(first) == f"ppo:{model}"
    with pytest.raises(ConfigError, match="no PPO model"):
        agent_identity(f"ppo:{tmp_path / 'none'}")


def test_a_local_model_folder_is_keyed_by_its_files(tmp_path):
    (tmp_path / "config.json").write_text('{"a": 1}')
    (tmp_path / "model.safetensors").write_bytes(b"x" * 100)
    first = agent_identity(f"llm-local:{tmp_path}")
    (tmp_path / "train.log").write_text("not the model")
    assert agent_identity(f"llm-local:{tmp_path}") == first
    (tmp_path / "model.safetensors").write_bytes(b"y" * 100)
    assert agent_identity(f"llm-local:{tmp_path}") != first


def test_scripted_agents_are_their_spec():
    assert agent_identity("random") == "random"
    assert agent_identity("cheater:exit-zero") == "cheater:exit-zero"


class _NamedClient:
    model = "my-model"


def test_an_openai_server_is_keyed_by_the_model_it_serves_not_its_port():
    from rewardgym.llm.server import OpenAICompatServer

    with OpenAICompatServer(_NamedClient()) as one, OpenAICompatServer(_NamedClient()) as two:
        assert one.port != two.port
        a = agent_identity(f"llm-openai:{one.url}|my-model")
        b = agent_identity(f"llm-openai:{two.url}|my-model")
        assert a == b and a.startswith("llm-openai:my-model#") and str(one.port) not in a
        with pytest.raises(ConfigError, match=r"does not serve 'other'.*my-model"):
            agent_identity(f"llm-openai:{one.url}|other")
        url = one.url
    with pytest.raises(ConfigError, match="cannot ask the server"):
        agent_identity(f"llm-openai:{url}|my-model")


def test_a_rerun_resumes_under_the_identity_and_a_new_model_runs_again(tmp_path, with_expert):
    db = tmp_path / "r.sqlite"

    def bench(identity: str):
        jobs = plan([with_expert], [COUNT], range(3), identities={with_expert: identity})
        with ResultsStore(db) as store:
            return run_bench(jobs, store)

    assert bench("count-expert@aaa").stored == 3
    again = bench("count-expert@aaa")
    assert again.skipped == 3 and again.ran == 0
    assert bench("count-expert@bbb").stored == 3  # retrained: its own episodes
    with ResultsStore(db) as store:
        agents = {r["agent"] for r in store.rows()}
    assert agents == {"count-expert@aaa", "count-expert@bbb"}


def test_the_page_marks_the_older_model_of_a_retrained_agent(tmp_path, with_expert, monkeypatch):
    from rewardgym.leaderboard import identity
    from rewardgym.leaderboard.report import build_report, render

    # count-expert stands in for a model-backed agent: identities "<spec>@<hash>"
    monkeypatch.setattr(identity, "spec_of_identity", lambda a: a.rpartition("@")[0] or a)
    monkeypatch.setattr(
        "rewardgym.leaderboard.report_html.spec_of_identity", identity.spec_of_identity
    )
    db = tmp_path / "r.sqlite"
    for model in ("aaa", "bbb"):  # trained, then retrained
        jobs = plan(
            [with_expert], [COUNT], range(2), identities={with_expert: f"count-expert@{model}"}
        )
        with ResultsStore(db) as store:
            run_bench(jobs, store)
    with ResultsStore(db, readonly=True) as store:
        page = render(build_report(store.rows()), "html")
    assert page.count("(older model)") == 2  # suite and per-env rows of count-expert@aaa
    assert 'title="superseded by count-expert@bbb"' in page
    assert "An older model: <code>count-expert@bbb</code> was benched later." in page
