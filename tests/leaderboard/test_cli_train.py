"""`rewardgym train ppo` from a user's seat: no lost models, progress when piped, figures apart,
and a message (never a traceback) for ordinary mistakes."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("stable_baselines3", reason="needs pip install 'rewardgym[train]'")

from typer.testing import CliRunner

from rewardgym.leaderboard.cli import app

SMALL = "rewardgym/Dungeon-Staircase-v0"


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _train(*args: str):
    return CliRunner().invoke(app, ["train", "ppo", "--env", SMALL, *args])


def _no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_second_run_into_the_same_folder_is_refused_without_force(tmp_path):
    out = tmp_path / "run"
    first = _train("--steps", "64", "--out", str(out), "--eval-episodes", "0")
    assert first.exit_code == 0, first.output
    model = (out / "model.zip").read_bytes()
    again = _train("--steps", "64", "--seed", "1", "--out", str(out), "--eval-episodes", "0")
    assert again.exit_code == 2
    assert "already holds a training run" in again.output and "--force" in again.output
    _no_traceback(again)
    assert (out / "model.zip").read_bytes() == model
    forced = _train("--steps", "64", "--seed", "1", "--out", str(out), "--eval-episodes", "0",
                    "--force")  # fmt: skip
    assert forced.exit_code == 0, forced.output
    assert json.loads((out / "meta.json").read_text())["seed"] == 1


def test_the_default_folder_tells_shaping_and_steps_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for extra in ([], ["--shaping", "potential-stairs"]):
        result = _train("--steps", "64", "--eval-episodes", "0", *extra)
        assert result.exit_code == 0, result.output
    folders = sorted(p.name for p in (tmp_path / "runs" / "ppo").iterdir())
    assert folders == [
        "Dungeon-Staircase-v0-potential-stairs-64-s0",
        "Dungeon-Staircase-v0-sparse-64-s0",
    ]


def test_piped_output_shows_progress_and_keeps_training_and_evaluation_apart(tmp_path):
    out = tmp_path / "run"
    result = _train("--steps", "512", "--out", str(out), "--eval-episodes", "3")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("steps ")]
    assert len(lines) >= 2, result.output  # one per tenth of the run at least, not only the end
    assert lines[0].startswith("steps 256/512 (50%)")
    for word in ("episodes", "success (last 100)", "elapsed", "ETA"):
        assert word in lines[0]
    summary = json.loads(result.output[result.output.index("{") : result.output.rindex("}") + 1])
    assert set(summary) == {"model", "training", "evaluation"}
    assert summary["evaluation"]["episodes"] == 3
    assert "stochastic" in summary["training"]["policy"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["evaluation"] == summary["evaluation"]
    assert meta["training"] == summary["training"]
    assert f"rewardgym bench --agents ppo:{out} --envs {SMALL}" in result.output


def test_help_names_the_real_bench_option():
    result = CliRunner().invoke(app, ["train", "ppo", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "--agents ppo:OUT" in text
    assert "--agent ppo" not in text.replace("--agents", "")


def test_a_recipe_potential_runs_on_the_cli_gamma(tmp_path):
    out = tmp_path / "run"
    result = _train("--steps", "64", "--out", str(out), "--eval-episodes", "0",
                    "--shaping", "potential-stairs", "--gamma", "0.9")  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["ppo"]["gamma"] == 0.9 and meta["shaping_resolved"][0]["gamma"] == 0.9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "rewardgym/NLE-Staircase-v0"], "trains on the rewardgym/Dungeon-* ids"),
        (["--env", "rewardgym/CodeExec-v0"], "trains on the rewardgym/Dungeon-* ids"),
        (["--env", "rewardgym/Nope-v0"], "cannot make"),
        (["--seed", "-1"], "--seed"),
        (["--steps", "0"], "--steps"),
        (["--eval-episodes", "-1"], "--eval-episodes"),
        (["--policy", "rnn"], "policy must be one of"),
        (["--shaping", "nope"], "unknown reward recipe"),
    ],
)
def test_user_mistakes_get_a_message_not_a_traceback(tmp_path, args, message):
    if "rewardgym/NLE-Staircase-v0" in args:
        pytest.importorskip("nle", reason="needs pip install 'rewardgym[nethack]'")
    result = CliRunner().invoke(
        app, ["train", "ppo", "--env", SMALL, "--steps", "64", "--out", str(tmp_path / "r"), *args]
    )
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    _no_traceback(result)
    assert not (tmp_path / "r").exists()


def test_an_output_path_that_is_a_file_gets_a_message(tmp_path):
    path = tmp_path / "model.txt"
    path.write_text("x")
    for out in (path, path / "sub"):
        result = _train("--steps", "64", "--out", str(out))
        assert result.exit_code == 2
        assert "is a file" in result.output or "cannot write the model" in result.output
        _no_traceback(result)


def test_a_yaml_potential_on_another_discount_is_refused(tmp_path):
    path = tmp_path / "shaping.yaml"
    path.write_text("- name: PotentialShaping\n  potential: stairs_distance\n  gamma: 0.99\n")
    result = _train("--steps", "64", "--out", str(tmp_path / "r"), "--shaping", str(path))
    assert result.exit_code == 2
    assert "learner's discount" in " ".join(result.output.split())
    _no_traceback(result)
