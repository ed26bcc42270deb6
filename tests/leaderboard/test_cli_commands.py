"""`rewardgym agents`, `recipes` and `sandbox`: what can be named, readable output, and clear
messages (exit 2, no traceback) for ordinary mistakes."""

from __future__ import annotations

from typer.testing import CliRunner

from rewardgym.agents.registry import AGENT_ENTRY_POINTS
from rewardgym.leaderboard.cli import app
from rewardgym.shaping.config import RECIPES


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_agents_lists_every_registered_name_with_how_to_spell_it():
    res = _invoke("agents")
    assert res.exit_code == 0, res.output
    for name in AGENT_ENTRY_POINTS:
        assert name in res.output
    assert "ppo:PATH" in res.output and "llm-openai:<base_url>|<model>" in res.output
    assert "Uniformly random actions" in res.output  # the agent's own docstring
    assert f"{len(AGENT_ENTRY_POINTS)} agent names" in res.output


def test_every_agent_says_what_it_is_and_only_the_spellings_that_build():
    from rewardgym.agents.registry import describe_agents

    infos = {info.name: info for info in describe_agents()}
    assert all(info.description for info in infos.values()), [
        n for n, i in infos.items() if not i.description
    ]
    assert "imposters" in infos["bayes-listener"].description  # the class's docstring
    # these need an argument: their bare name is not offered
    assert infos["cheater"].usage == "cheater:<name>"
    assert not infos["llm-openai"].usage.startswith("llm-openai,")
    assert infos["llm-local"].usage.startswith("llm-local,")  # bare works (the tiny model)


def test_recipes_lists_every_recipe_with_its_wrappers():
    res = _invoke("recipes")
    assert res.exit_code == 0, res.output
    for name in RECIPES:
        assert name in res.output
    assert "PotentialShaping(potential='stairs_distance'" in res.output


def test_sandbox_doctor_prints_text_not_dicts():
    res = _invoke("sandbox", "doctor")
    assert res.exit_code == 0, res.output
    assert "process" in res.output and "{'" not in res.output
    assert "own network namespace" in res.output or "ran in" in res.output


def test_sandbox_run_mistakes_get_a_message(tmp_path):
    ok = tmp_path / "ok.py"
    ok.write_text("print(6 * 7)\n")
    bad = tmp_path / "latin1.py"
    bad.write_bytes(b'print("caf\xe9")\n')
    res = _invoke("sandbox", "run", str(bad))
    assert res.exit_code == 2 and "is not UTF-8 text" in res.output
    res = _invoke("sandbox", "run", str(ok), "--backend", "vm")
    assert res.exit_code == 2 and "unknown --backend 'vm'" in res.output
    res = _invoke("sandbox", "run", str(ok))
    assert res.exit_code == 0 and "42" in res.output
    for result in (res,):
        assert "Traceback" not in result.output


def test_sandbox_run_on_an_unavailable_backend_says_why(tmp_path, monkeypatch):
    # no engine at this socket, whatever runs on the machine
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    ok = tmp_path / "ok.py"
    ok.write_text("print(1)\n")
    res = _invoke("sandbox", "run", str(ok), "--backend", "docker")
    assert res.exit_code == 2, res.output
    assert "the docker backend cannot run here" in " ".join(res.output.split())
    assert res.exception is None or isinstance(res.exception, SystemExit)
