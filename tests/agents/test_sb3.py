"""The PPO trainer's contract: the learner's discount in the shaping, safe output folders,
checks before any work, training and evaluation figures kept apart, the CNN policy."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("stable_baselines3", reason="needs pip install 'rewardgym[train]'")

from rewardgym.agents import make_agent
from rewardgym.agents.sb3 import (
    PPOAgent,
    PPOConfig,
    TrainProgress,
    default_out_dir,
    train_ppo,
)
from rewardgym.errors import ConfigError
from rewardgym.shaping import PotentialShaping

SMALL = "rewardgym/Dungeon-Staircase-v0"
TINY = PPOConfig(n_steps=64, batch_size=32, n_epochs=1)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _train(out, **kwargs):
    kwargs.setdefault("config", TINY)
    kwargs.setdefault("tensorboard", False)
    return train_ppo(SMALL, kwargs.pop("steps", 64), out_dir=out, **kwargs)


def _meta(out) -> dict:
    return json.loads((out / "meta.json").read_text())


# -- item 15: potential shaping on the learner's discount --------------------------------------


def test_a_recipe_potential_is_given_the_learners_gamma(tmp_path):
    """The recipe says gamma 0.99; PPO learns with 0.9: the trained stack must shape with 0.9."""
    config = PPOConfig(n_steps=64, batch_size=32, n_epochs=1, gamma=0.9)
    _train(tmp_path / "run", shaping="potential-stairs", config=config)
    meta = _meta(tmp_path / "run")
    assert meta["ppo"]["gamma"] == 0.9
    assert meta["shaping"] == "potential-stairs"
    assert meta["shaping_resolved"] == [
        {"name": "PotentialShaping", "potential": "stairs_distance", "gamma": 0.9}
    ]


def test_an_explicit_potential_without_gamma_gets_the_learners(tmp_path):
    shaping = [{"name": "PotentialShaping", "potential": "stairs_distance", "weight": 2.0}]
    _train(tmp_path / "run", shaping=shaping)
    assert _meta(tmp_path / "run")["shaping_resolved"][0]["gamma"] == TINY.gamma


@pytest.mark.parametrize(
    "shaping",
    [
        [{"name": "PotentialShaping", "potential": "stairs_distance", "gamma": 0.99}],
        {"wrappers": [{"name": "PotentialShaping", "potential": "stairs_distance", "gamma": 1}]},
        lambda env: PotentialShaping(env, "stairs_distance", gamma=0.5),
    ],
    ids=["list", "dict", "wrapper-factory"],
)
def test_a_potential_on_another_discount_is_refused_before_any_work(tmp_path, shaping):
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match=r"gamma .*PPO learns with gamma 0\.95"):
        _train(out, shaping=shaping)
    assert not out.exists()


def test_a_yaml_potential_on_another_discount_is_refused(tmp_path):
    path = tmp_path / "shaping.yaml"
    path.write_text("- name: PotentialShaping\n  potential: stairs_distance\n  gamma: 0.99\n")
    with pytest.raises(ConfigError, match="learner's discount"):
        _train(tmp_path / "run", shaping=str(path))


# -- item 6: never lose a model; figures apart -------------------------------------------------


def test_an_earlier_run_is_kept_unless_overwrite(tmp_path):
    out = tmp_path / "run"
    _train(out, seed=0)
    before = (out / "model.zip").read_bytes()
    with pytest.raises(ConfigError, match="already holds a training run"):
        _train(out, seed=1)
    assert (out / "model.zip").read_bytes() == before
    assert _meta(out)["seed"] == 0
    _train(out, seed=1, overwrite=True)
    assert _meta(out)["seed"] == 1


def test_overwrite_removes_the_earlier_tensorboard_logs(tmp_path):
    out = tmp_path / "run"
    _train(out, tensorboard=True)
    _train(out, tensorboard=True, overwrite=True)
    assert [p.name for p in (out / "tb").iterdir()] == ["ppo_1"]


def test_the_default_folder_names_shaping_steps_seed_policy_and_gamma():
    names = {
        default_out_dir(SMALL, None, 1000, 0),
        default_out_dir(SMALL, "potential-stairs", 1000, 0),
        default_out_dir(SMALL, None, 2000, 0),
        default_out_dir(SMALL, None, 1000, 1),
        default_out_dir(SMALL, None, 1000, 0, PPOConfig(policy="cnn")),
        default_out_dir(SMALL, None, 1000, 0, PPOConfig(gamma=0.99)),
        default_out_dir(SMALL, "shapes/mine.yaml", 1000, 0),
    }
    assert len(names) == 7
    assert str(default_out_dir(SMALL, "potential-stairs", 1000, 0)) == (
        os.path.join("runs", "ppo", "Dungeon-Staircase-v0-potential-stairs-1000-s0")
    )


def test_evaluation_is_saved_in_meta_apart_from_training_figures(tmp_path):
    seen: list[TrainProgress] = []
    result = _train(tmp_path / "run", steps=128, eval_episodes=3, progress=seen.append)
    meta = _meta(tmp_path / "run")
    assert meta["evaluation"] == result.evaluation
    assert meta["evaluation"]["episodes"] == 3
    assert meta["evaluation"]["seeds"] == [10_000, 10_002]
    assert 0.0 <= meta["evaluation"]["success_rate"] <= 1.0
    assert "deterministic" in meta["evaluation"]["policy"]
    assert meta["training"]["episodes"] == len(result.curve) > 0
    assert meta["training"]["steps"] == 128
    assert "stochastic" in meta["training"]["policy"]
    # progress after each 64-step rollout and at the end, with an ETA that runs out
    assert [p.steps for p in seen][:2] == [64, 128]
    assert all(p.total_steps == 128 for p in seen)
    assert seen[0].eta_s is not None and seen[0].eta_s > 0
    assert seen[-1].eta_s == 0
    assert seen[-1].episodes == len(result.curve)


def test_no_evaluation_is_recorded_as_none(tmp_path):
    result = _train(tmp_path / "run")
    assert result.evaluation is None and _meta(tmp_path / "run")["evaluation"] is None


# -- item 10: user mistakes are ConfigErrors, found before any work ----------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 0}, "steps must be an int >= 1"),
        ({"steps": True}, "steps must be an int >= 1"),
        ({"seed": -1}, "seed must be an int >= 0"),
        ({"eval_episodes": -2}, "eval_episodes must be an int >= 0"),
        ({"config": PPOConfig(policy="rnn")}, "policy must be one of"),
        ({"config": PPOConfig(gamma=1.5)}, "gamma must be in"),
    ],
)
def test_bad_arguments_are_config_errors(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        _train(tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()


def test_a_non_dungeon_env_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match="Dungeon-\\* ids"):
        train_ppo("rewardgym/CodeExec-v0", 64, out_dir=tmp_path / "run", config=TINY)
    with pytest.raises(ConfigError, match="cannot make"):
        train_ppo("rewardgym/Nope-v0", 64, out_dir=tmp_path / "run", config=TINY)


def test_an_nle_env_is_refused_not_an_index_error(tmp_path):
    pytest.importorskip("nle", reason="needs pip install 'rewardgym[nethack]'")
    with pytest.raises(ConfigError, match="NLE-Staircase-v0"):
        train_ppo("rewardgym/NLE-Staircase-v0", 64, out_dir=tmp_path / "run", config=TINY)


def test_an_output_path_that_is_a_file_or_under_one_is_refused(tmp_path):
    path = tmp_path / "model"
    path.write_text("not a folder")
    with pytest.raises(ConfigError, match="is a file"):
        _train(path)
    with pytest.raises(ConfigError, match="cannot write the model"):
        _train(path / "sub")
    assert path.read_text() == "not a folder"


def _writable(folder) -> bool:
    probe = os.path.join(folder, f".probe-{os.getpid()}")
    try:
        os.mkdir(probe)
    except OSError:
        return False
    os.rmdir(probe)
    return True


def test_a_read_only_output_folder_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    target = ro
    if _writable(ro):  # root writes anywhere: use a read-only mount instead
        target = "/sys/rewardgym-train-test"
        if _writable("/sys"):
            pytest.skip("no read-only folder to write to on this machine")
    with pytest.raises(ConfigError, match="cannot write the model"):
        _train(target)


# -- the CNN policy over the glyph window ------------------------------------------------------


def test_a_cnn_policy_trains_saves_and_plays(tmp_path):
    from rewardgym.agents.sb3_features import GlyphCNN

    config = PPOConfig(n_steps=64, batch_size=32, n_epochs=1, policy="cnn", cnn_channels=8)
    result = _train(tmp_path / "run", config=config, eval_episodes=2)
    agent = make_agent(f"ppo:{result.out_dir}", None)
    assert isinstance(agent, PPOAgent)
    extractor = agent.model.policy.features_extractor
    assert isinstance(extractor, GlyphCNN)
    assert extractor.cnn[0].in_channels == extractor.glyphs and extractor.view == agent.view
    assert _meta(tmp_path / "run")["ppo"]["policy"] == "cnn"


def test_glyph_cnn_reads_the_window_as_an_image():
    """A glyph moved one cell in the window changes the features; the status tail is used too."""
    import gymnasium as gym
    import numpy as np
    import torch

    from rewardgym.agents.sb3_features import GlyphCNN

    view, glyphs, extra = 5, 3, 2
    space = gym.spaces.Box(0.0, 1.0, (view * view * glyphs + extra,), np.float32)
    torch.manual_seed(0)
    net = GlyphCNN(space, view=view, glyphs=glyphs, channels=4, features_dim=8)
    obs = torch.zeros(3, space.shape[0])
    obs[0, (2 * view + 2) * glyphs + 1] = 1.0  # glyph 1 at the centre
    obs[1, (2 * view + 3) * glyphs + 1] = 1.0  # glyph 1 one cell to the right
    obs[2] = obs[0]
    obs[2, -1] = 1.0  # same window, another status number
    features = net(obs)
    assert features.shape == (3, 8)
    assert not torch.allclose(features[0], features[1])
    assert not torch.allclose(features[0], features[2])
    with pytest.raises(ConfigError, match="cannot hold"):
        GlyphCNN(gym.spaces.Box(0.0, 1.0, (10,), np.float32), view=5, glyphs=3)
