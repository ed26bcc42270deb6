"""A convolutional features extractor for PPO on the dungeon's flat observation.

:class:`~rewardgym.envs.dungeon.wrappers.FlattenDungeon` lays its vector out as a one-hot
``view x view`` glyph window (cell-major, ``glyphs`` values per cell) followed by a few extra
numbers (what lies under the hero, hp, hunger, key, food). :class:`GlyphCNN` reshapes the window
back into a ``glyphs``-channel image, runs two 3x3 convolutions over it (the second with stride 2),
and joins the result with the extra numbers in one linear layer, so the policy sees "a wall to
the left" as the same pattern wherever the window holds it — what an MLP has to learn per cell.

This module imports torch and stable_baselines3 at the top: it is imported only when a CNN
policy is trained or loaded (extra ``train``).
"""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from rewardgym.errors import ConfigError

__all__ = ["GlyphCNN"]


class GlyphCNN(BaseFeaturesExtractor):
    """Two convolutions over the one-hot glyph window, joined with the status numbers.

    Args:
        observation_space: the ``Box`` of :class:`FlattenDungeon`.
        view: the window side the observation was flattened with.
        glyphs: the number of glyph ids (one-hot width per cell).
        channels: channels of each convolution.
        features_dim: size of the output features.
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        view: int,
        glyphs: int,
        channels: int = 32,
        features_dim: int = 128,
    ) -> None:
        super().__init__(observation_space, features_dim)
        self.view = int(view)
        self.glyphs = int(glyphs)
        self.window = self.view * self.view * self.glyphs
        self.extra = int(observation_space.shape[0]) - self.window
        if self.extra < 0:
            raise ConfigError(
                f"GlyphCNN: an observation of size {observation_space.shape[0]} cannot hold a "
                f"{view}x{view} window of {glyphs} glyphs"
            )
        self.cnn = nn.Sequential(
            nn.Conv2d(self.glyphs, channels, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            cnn_out = self.cnn(torch.zeros(1, self.glyphs, self.view, self.view)).shape[1]
        self.head = nn.Sequential(nn.Linear(cnn_out + self.extra, features_dim), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        batch = observations.shape[0]
        window = observations[:, : self.window].reshape(batch, self.view, self.view, self.glyphs)
        image = window.permute(0, 3, 1, 2)
        return self.head(torch.cat([self.cnn(image), observations[:, self.window :]], dim=1))
