"""ONI's intrinsic reward models (METHODS §5) and the reward math they share.

* :func:`oni_mix` — ``c_ext*r_ext + c_llm*r_int / n_msg**beta`` and :func:`count_scale`;
* :func:`bradley_terry_loss` — the ranking model's loss, as a pure function;
* :class:`HashRewardModel` — the retrieval model: the annotator's label, 0 when unseen;
* :class:`ClassifierRewardModel` — a small char-level network distilling the labels, trained
  with ONI's schedule (32 Adam steps of batch 256 per new batch of labels), reward
  ``1[p(helpful) > 0.5]``;
* :class:`RankingRewardModel` — the same network as a score, fitted to pairwise preferences
  with Bradley–Terry; reward normalised by running mean/std and zeroed below -0.5.

The trained models learn in a background thread on a copy of the network and swap it in when
a round is done, so :meth:`RewardModel.reward` (called from ``env.step``) never waits for
training; predictions are memoised per message and model version.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from rewardgym.errors import ConfigError, DependencyNotInstalled
from rewardgym.shaping.llm.annotator import Annotator

__all__ = [
    "MODELS",
    "ClassifierRewardModel",
    "HashRewardModel",
    "RankingRewardModel",
    "RewardModel",
    "bradley_terry_loss",
    "count_scale",
    "encode_messages",
    "make_model",
    "oni_mix",
]

log = logging.getLogger("rewardgym.shaping.llm.models")

#: Bytes of a message the char-level network reads (NLE's message field holds 256; the
#: first 80 carry what matters and keep training cheap on CPU).
MESSAGE_BYTES = 80


def count_scale(n_msg: int, beta: float = 3.0) -> float:
    """ONI's count scaling ``n_msg**-beta`` (``n_msg`` >= 1: times this message was seen in the
    episode, this time included)."""
    if n_msg < 1:
        raise ValueError(f"n_msg counts this occurrence, so it is >= 1; got {n_msg}")
    return float(n_msg) ** -float(beta)


def oni_mix(
    r_ext: float, r_int: float, n_msg: int, c_ext: float, c_llm: float, beta: float = 3.0
) -> float:
    """ONI's reward: ``c_ext*r_ext + c_llm*r_int / n_msg**beta``.

    >>> oni_mix(1.0, 1.0, 2, c_ext=0.1, c_llm=0.4)  # METHODS §5 reference
    0.15
    """
    return c_ext * r_ext + c_llm * r_int * count_scale(n_msg, beta)


def bradley_terry_loss(
    score_first: Sequence[float], score_second: Sequence[float], preference: Sequence[float]
) -> float:
    """Mean Bradley–Terry loss ``-[y log σ(s1-s2) + (1-y) log σ(s2-s1)]``.

    ``preference`` y is 1 when the first item is preferred, 0 the second, 0.5 a tie.
    """
    d = np.asarray(score_first, float) - np.asarray(score_second, float)
    y = np.asarray(preference, float)
    # log σ(x) = -log(1 + e^-x), computed stably
    return float(np.mean(y * np.logaddexp(0.0, -d) + (1.0 - y) * np.logaddexp(0.0, d)))


def encode_messages(texts: Sequence[str], length: int = MESSAGE_BYTES) -> np.ndarray:
    """Messages as ``(n, length)`` uint8 arrays of their UTF-8 bytes, zero padded / cut."""
    out = np.zeros((len(texts), length), dtype=np.uint8)
    for i, t in enumerate(texts):
        raw = t.encode("utf-8", "replace")[:length]
        out[i, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return out


class RewardModel:
    """An intrinsic reward model: ``reward(message)`` on the step path, learning elsewhere."""

    name: str = ""

    def __init__(self, annotator: Annotator) -> None:
        if not isinstance(annotator, Annotator):
            raise ConfigError(f"the reward model needs an Annotator, got {annotator!r}")
        self.annotator = annotator

    def reward(self, message: str) -> float:
        """The intrinsic reward of ``message`` now (0 when nothing is known yet); never waits."""
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """Name, parameters and provenance (prompt template hash, model id)."""
        a = self.annotator
        return {
            "model": self.name,
            "prompt": a.prompt.name,
            "prompt_hash": a.prompt.hash,
            "llm_model_id": a.model_id,
            **self._params(),
        }

    def _params(self) -> dict[str, Any]:
        return {}

    def stats(self) -> dict[str, float]:
        return {}

    def close(self) -> None:
        """Stop background work; idempotent."""


class HashRewardModel(RewardModel):
    """ONI's retrieval model: the annotator's label for this exact message; unseen → 0."""

    name = "hash"

    def reward(self, message: str) -> float:
        label = self.annotator.submit(message)
        return 0.0 if label is None else float(label)


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise DependencyNotInstalled(
            "torch", "llm", "the classifier/ranking reward models"
        ) from exc
    return torch


def _char_net(torch: Any, width: int, seed: int) -> Any:
    nn = torch.nn
    torch.manual_seed(seed)

    class CharNet(nn.Module):
        """Bytes → embedding → two 1-D convolutions → max over positions → one logit."""

        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(256, 32, padding_idx=0)
            self.conv1 = nn.Conv1d(32, width, 5, padding=2)
            self.conv2 = nn.Conv1d(width, width, 5, padding=2)
            self.head = nn.Linear(width, 1)

        def forward(self, x: Any) -> Any:
            h = self.embed(x.long()).transpose(1, 2)
            h = torch.relu(self.conv1(h))
            h = torch.relu(self.conv2(h))
            return self.head(h.amax(dim=2)).squeeze(1)

    return CharNet()


class _TrainedModel(RewardModel):
    """Shared machinery: a char-level net trained in a background thread, swapped when done."""

    def __init__(
        self,
        annotator: Annotator,
        *,
        steps_per_update: int = 32,
        batch_size: int = 256,
        lr: float = 1e-4,
        width: int = 64,
        seed: int = 0,
        background: bool = True,
        poll_s: float = 0.25,
    ) -> None:
        super().__init__(annotator)
        for name, value in (("steps_per_update", steps_per_update), ("batch_size", batch_size),
                            ("width", width)):  # fmt: skip
            if not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"{type(self).__name__}.{name} must be an int >= 1, got {value!r}"
                )
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ConfigError(f"{type(self).__name__}.lr must be > 0, got {lr!r}")
        self.torch = _torch()
        self.steps_per_update, self.batch_size, self.lr = steps_per_update, batch_size, float(lr)
        self.width, self.seed, self.poll_s = width, int(seed), float(poll_s)
        net = _char_net(self.torch, width, self.seed)
        # (network, memo of its outputs): swapped as one reference, so a reader never mixes
        # one version's network with another's memo.
        self._current: tuple[Any, dict[str, float]] = (net, {})
        self._train_net = copy.deepcopy(net)
        self._opt = self.torch.optim.Adam(self._train_net.parameters(), lr=self.lr)
        self._rng = np.random.default_rng(self.seed)
        self._index = 0
        self.version = 0
        self.updates = 0
        self.gradient_steps = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(
                target=self._loop, name=f"rewardgym-{self.name}-trainer", daemon=True
            )
            self._thread.start()

    def _params(self) -> dict[str, Any]:
        return {
            "steps_per_update": self.steps_per_update,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "width": self.width,
            "seed": self.seed,
        }

    def stats(self) -> dict[str, float]:
        return {"model_version": float(self.version), "model_updates": float(self.updates)}

    def _logits(self, net: Any, texts: Sequence[str]) -> Any:
        return net(self.torch.from_numpy(encode_messages(texts)))

    def _score(self, message: str) -> float:
        """The current network's output for ``message`` (memoised per model version)."""
        net, memo = self._current
        value = memo.get(message)
        if value is None:
            with self.torch.no_grad():
                value = float(self._logits(net, [message])[0])
            if len(memo) >= 65536:  # a bound for envs whose messages never repeat
                memo.clear()
            memo[message] = value
        return value

    def update(self, force: bool = False) -> bool:
        """Take the labels that arrived since the last call and, if any (or ``force`` and some
        labels are held), train one round and swap the network in. Returns whether it trained.
        (The background thread calls this; tests call it to train without threads.)"""
        new, self._index = self.annotator.labels_since(self._index)
        if not self._absorb(new) and not (force and self._has_data()):
            return False
        self._train_net.train()
        for _ in range(self.steps_per_update):
            loss = self._loss()
            self._opt.zero_grad()
            loss.backward()
            self._opt.step()
            self.gradient_steps += 1
        self._train_net.eval()
        self._current = (copy.deepcopy(self._train_net), {})
        self.version += 1
        self.updates += 1
        return True

    def _loop(self) -> None:
        # Lower this thread's CPU priority (Linux threads have their own nice value), so that
        # on a busy machine the env's steps come before a training round.
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while not self._stop.wait(self.poll_s):
            try:
                self.update()
            except Exception:
                log.exception("%s reward model: a training round failed", self.name)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def _absorb(self, new: list[tuple[str, tuple[str, ...], float]]) -> bool:
        raise NotImplementedError

    def _has_data(self) -> bool:
        raise NotImplementedError

    def _loss(self) -> Any:
        raise NotImplementedError


class ClassifierRewardModel(_TrainedModel):
    """ONI's classification model: a char-level network predicting the annotator's label.

    Each time new labels arrive it takes ``steps_per_update`` (32) Adam steps (lr 1e-4) on
    batches of ``batch_size`` (256) drawn from all labels so far; the reward is
    ``1[p(helpful) > threshold]`` with threshold 0.5. Messages are also sent to the annotator,
    so the model keeps learning from what the agent sees.
    """

    name = "classifier"

    def __init__(self, annotator: Annotator, *, threshold: float = 0.5, **kwargs: Any) -> None:
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f"ClassifierRewardModel.threshold must be in (0, 1), got {threshold}")
        self.threshold = float(threshold)
        self._texts: list[str] = []
        self._y: list[float] = []
        super().__init__(annotator, **kwargs)

    def _params(self) -> dict[str, Any]:
        return {**super()._params(), "threshold": self.threshold}

    def probability(self, message: str) -> float:
        """``p(helpful | message)`` under the current network."""
        return 1.0 / (1.0 + math.exp(-self._score(message)))

    def reward(self, message: str) -> float:
        self.annotator.submit(message)
        if self.version == 0:
            return 0.0
        return 1.0 if self.probability(message) > self.threshold else 0.0

    def _absorb(self, new: list[tuple[str, tuple[str, ...], float]]) -> bool:
        added = [(texts[0], y) for kind, texts, y in new if kind == "helpful"]
        for text, y in added:
            self._texts.append(text)
            self._y.append(y)
        return bool(added)

    def _has_data(self) -> bool:
        return bool(self._texts)

    def _loss(self) -> Any:
        torch = self.torch
        idx = self._rng.integers(0, len(self._texts), size=self.batch_size)
        logits = self._logits(self._train_net, [self._texts[i] for i in idx])
        target = torch.tensor([self._y[i] for i in idx], dtype=logits.dtype)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, target)


class RankingRewardModel(_TrainedModel):
    """ONI's ranking model: a score network fitted to pairwise LLM preferences (Bradley–Terry).

    Each new distinct message is paired with a random earlier one and the pair sent to the
    annotator's pairwise prompt (1, 2 or tie = 0.5). The reward is the score normalised by the
    running mean/std of the scores of the messages seen, then zeroed below ``floor`` (-0.5).

    Args:
        annotator: the annotator (its ``pairwise_prompt`` is used).
        floor: normalised scores below this give 0.
        reservoir: how many distinct messages are kept to pair new ones with.
        **kwargs: the training schedule, as :class:`ClassifierRewardModel`.
    """

    name = "ranking"

    def __init__(
        self, annotator: Annotator, *, floor: float = -0.5, reservoir: int = 1024, **kwargs: Any
    ) -> None:
        self.floor = float(floor)
        self.reservoir = int(reservoir)
        self._seen: dict[str, None] = {}
        self._pairs: list[tuple[str, str, float]] = []
        self._n = 0
        self._mean = 0.0
        self._m2 = 0.0
        super().__init__(annotator, **kwargs)
        self._pair_rng = np.random.default_rng([self.seed, 1])

    def _params(self) -> dict[str, Any]:
        return {
            **super()._params(),
            "floor": self.floor,
            "pairwise_prompt": self.annotator.pairwise_prompt.name,
            "pairwise_prompt_hash": self.annotator.pairwise_prompt.hash,
        }

    def reward(self, message: str) -> float:
        if message not in self._seen:
            if self._seen:
                keys = list(self._seen) if len(self._seen) < 64 else None
                other = (
                    keys[int(self._pair_rng.integers(len(keys)))]
                    if keys is not None
                    else next(iter(self._seen))
                )
                pair = (message, other) if self._pair_rng.random() < 0.5 else (other, message)
                self.annotator.submit_pair(*pair)
            if len(self._seen) >= self.reservoir:
                self._seen.pop(next(iter(self._seen)))
            self._seen[message] = None
        if self.version == 0:
            return 0.0
        score = self._score(message)
        self._n += 1
        delta = score - self._mean
        self._mean += delta / self._n
        self._m2 += delta * (score - self._mean)
        std = math.sqrt(self._m2 / self._n) if self._n > 1 else 1.0
        z = (score - self._mean) / (std + 1e-8)
        return 0.0 if z < self.floor else z

    def _absorb(self, new: list[tuple[str, tuple[str, ...], float]]) -> bool:
        added = [(t[0], t[1], y) for kind, t, y in new if kind == "pairwise"]
        self._pairs.extend(added)
        return bool(added)

    def _has_data(self) -> bool:
        return bool(self._pairs)

    def _loss(self) -> Any:
        torch = self.torch
        idx = self._rng.integers(0, len(self._pairs), size=self.batch_size)
        pairs = [self._pairs[i] for i in idx]
        s1 = self._logits(self._train_net, [p[0] for p in pairs])
        s2 = self._logits(self._train_net, [p[1] for p in pairs])
        y = torch.tensor([p[2] for p in pairs], dtype=s1.dtype)
        d = s1 - s2
        return (
            y * torch.nn.functional.softplus(-d) + (1 - y) * torch.nn.functional.softplus(d)
        ).mean()


MODELS: dict[str, type[RewardModel]] = {
    "hash": HashRewardModel,
    "classifier": ClassifierRewardModel,
    "ranking": RankingRewardModel,
}


def make_model(kind: str, annotator: Annotator, **kwargs: Any) -> RewardModel:
    """Build a reward model by name (``hash``, ``classifier`` or ``ranking``)."""
    if kind not in MODELS:
        raise ConfigError(f"unknown intrinsic reward model {kind!r}; valid: {sorted(MODELS)}")
    return MODELS[kind](annotator, **kwargs)
