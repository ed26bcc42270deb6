"""The trained policy as an LLM client: generation that keeps token ids and log-probabilities.

:class:`PolicyClient` is a :class:`~rewardgym.llm.local.TransformersClient` whose sampling loop
is the trainer's own: it samples token by token from the tempered distribution
``softmax(logits / temperature)`` (the policy the loss optimises), with a seeded
``torch.Generator`` per call, and keeps each turn's prompt ids, completion ids and the
log-probability of every sampled token in :attr:`PolicyClient.turns`. Because it *is* an LLM
client, the ordinary :class:`~rewardgym.agents.llm_agents.LLMAgent` drives it through an env, so
rollouts use exactly the prompts, history and action parsing that the benchmark's LLM agents use.

:func:`sequence_logprobs` recomputes the same log-probabilities with gradients in one batched
forward pass: the trainer's importance ratios and the rollout-vs-recompute check use it.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rewardgym.llm.base import ChatMessage, Completion, cut_at_stop
from rewardgym.llm.local import TransformersClient

__all__ = ["PolicyClient", "ServerPolicyClient", "Turn", "sequence_logprobs"]


@dataclass(frozen=True)
class Turn:
    """One generated turn: what the policy saw and produced, token by token."""

    prompt_ids: list[int]
    completion_ids: list[int]
    logprobs: list[float]
    text: str


class PolicyClient(TransformersClient):
    """A local causal LM that samples with recorded token log-probabilities.

    Args:
        model_dir: a model directory (``save_pretrained`` layout).
        device: torch device.
        torch_threads: ``torch.set_num_threads`` for this process, if given.

    ``temperature`` 0 (greedy) is allowed for evaluation; the recorded log-probabilities are
    then those of the untempered distribution.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        *,
        device: str = "cpu",
        torch_threads: int | None = None,
    ) -> None:
        super().__init__(model_dir, device=device, torch_threads=torch_threads)
        self.turns: list[Turn] = []
        # torch modules are not safe to drive from several threads at once.
        self._sample_lock = threading.Lock()

    @property
    def module(self) -> Any:
        """The torch module that generates (and that the trainer updates)."""
        return self._model

    @module.setter
    def module(self, value: Any) -> None:
        self._model = value

    def pop_turns(self) -> list[Turn]:
        """The turns generated since the last call (and forget them)."""
        out, self.turns = self.turns, []
        return out

    def generate_batch(
        self, requests: Sequence[tuple[Sequence[ChatMessage], Mapping[str, Any]]]
    ) -> list[Completion]:
        """Answer several chats in one batched sampling loop, in order.

        Each request is ``(messages, kwargs)`` as :meth:`LLMAgent.request
        <rewardgym.agents.llm_agents.LLMAgent.request>` gives them (``max_tokens``,
        ``temperature``, ``stop``, ``seed``); every row samples with its own seeded generator,
        so a row's tokens depend on its seed and the batch it shares a forward pass with. Token
        usage is counted as for :meth:`chat`, and one :class:`Turn` per request is recorded.
        """
        rows = [
            (
                self.chat_ids(messages),
                max(1, int(kw.get("max_tokens", 64))),
                float(kw.get("temperature", 0.0)),
                tuple(kw.get("stop") or ()),
                kw.get("seed"),
            )
            for messages, kw in requests
        ]
        outs = self._sample(rows)
        for out in outs:
            self._count(out)
        return outs

    def _run(
        self,
        ids: list[int],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
        logprobs: int | None = None,
    ) -> Completion:
        # ``logprobs`` (top-k alternatives for the client API) is not needed here: the turn
        # records the sampled tokens' log-probabilities under the tempered policy.
        return self._sample([(ids, max(1, int(max_tokens)), temperature, tuple(stop), seed)])[0]

    def _sample(self, rows: Sequence[tuple[list[int], int, float, tuple[str, ...], Any]]):
        """Sample every row's completion: left-padded prompts, one forward pass per token for
        the whole batch (KV cache), per-row seeded sampling from ``softmax(logits / T)``."""
        torch = self._torch
        device = self.device
        prompts = []
        for ids, max_tokens, *_ in rows:
            room = max(1, self.context_length - max_tokens)
            prompts.append(list(ids[-room:]))  # keep the end: that is where the question is
        n = len(rows)
        width = max(len(p) for p in prompts)
        pad = self.tokenizer.pad_token_id
        pad = pad if pad is not None else (self.tokenizer.eos_token_id or 0)
        input_ids = torch.full((n, width), pad, dtype=torch.long, device=device)
        mask = torch.zeros((n, width), dtype=torch.long, device=device)
        for i, p in enumerate(prompts):
            input_ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
            mask[i, width - len(p) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        gens = []
        for *_, seed in rows:
            gen = torch.Generator(device=device)
            gen.manual_seed(0 if seed is None else int(seed) % (2**63))
            gens.append(gen)
        eos = self.tokenizer.eos_token_id
        new: list[list[int]] = [[] for _ in rows]
        logps: list[list[float]] = [[] for _ in rows]
        done = [False] * n
        with self._sample_lock, torch.no_grad():
            was_training = self._model.training
            self._model.eval()
            out = self._model(
                input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True
            )
            last = positions[:, -1:]
            temps = torch.tensor(
                [t if t > 0 else 1.0 for _, _, t, _, _ in rows], device=device
            ).unsqueeze(1)
            while True:
                logp_all = torch.log_softmax(out.logits[:, -1].float() / temps, dim=-1)
                probs_all = logp_all.exp()
                for i, (_, max_tokens, temperature, stop, _) in enumerate(rows):
                    if done[i]:
                        continue
                    logp = logp_all[i]
                    if temperature > 0:
                        tok = int(torch.multinomial(probs_all[i], 1, generator=gens[i]))
                    else:
                        tok = int(torch.argmax(logp))
                    new[i].append(tok)
                    logps[i].append(float(logp[tok]))
                    done[i] = (
                        (eos is not None and tok == eos)
                        or len(new[i]) >= max_tokens
                        or (bool(stop) and cut_at_stop(self.tokenizer.decode(new[i]), stop)[1])
                    )
                if all(done):
                    break
                step = torch.tensor(
                    [[row[-1]] for row in new], dtype=torch.long, device=device
                )  # finished rows repeat their last token; their logits are ignored
                mask = torch.cat([mask, torch.ones((n, 1), dtype=torch.long, device=device)], 1)
                last = last + 1
                # transformers 5 names the KV cache ``cache``; 4.x ``past_key_values``.
                cache_key = "cache" if "cache" in out else "past_key_values"
                out = self._model(
                    input_ids=step,
                    attention_mask=mask,
                    position_ids=last,
                    use_cache=True,
                    **{cache_key: out[cache_key]},
                )
            self._model.train(was_training)
        results = []
        for i, (_, max_tokens, _, stop, _) in enumerate(rows):
            hit_eos = eos is not None and new[i][-1] == eos
            text, cut = cut_at_stop(self.tokenizer.decode(new[i], skip_special_tokens=True), stop)
            self.turns.append(Turn(prompts[i], new[i], logps[i], text))
            finish = "stop" if (hit_eos or cut or len(new[i]) < max_tokens) else "length"
            results.append(
                Completion(
                    text=text,
                    prompt_tokens=len(prompts[i]),
                    completion_tokens=len(new[i]),
                    finish_reason=finish,
                )
            )
        return results


class ServerPolicyClient(PolicyClient):
    """Generation by an OpenAI-compatible server (vLLM, SGLang, our own test server).

    The local copy of the model supplies the tokenizer and the prompt ids (and, in the trainer,
    the gradients and the recomputed log-probabilities the loss uses). The server is asked for
    the sampled tokens' log-probabilities (``logprobs=0``); they are recorded when their count
    matches the re-tokenised completion (NaN otherwise), so the trainer can report how far the
    served policy is from its own (``logprob/backend_abs_diff``). Servers report log-probabilities
    of the untempered distribution (vLLM's default), so the two agree at temperature 1 when the
    server serves the current weights; see docs/training.md for keeping them in sync.

    Args:
        model_dir: the local copy of the served model.
        server_url: the server's base URL (``http://127.0.0.1:8000/v1``).
        server_model: the served model's name (the first the server lists when None).
        device: torch device of the local copy.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        server_url: str,
        *,
        server_model: str | None = None,
        device: str = "cpu",
    ) -> None:
        super().__init__(model_dir, device=device)
        from rewardgym.llm.http import OpenAIClient

        self.http = OpenAIClient(server_url, server_model or "")
        if not server_model:
            self.http.model = self.http.models()[0]

    def generate_batch(
        self, requests: Sequence[tuple[Sequence[ChatMessage], Mapping[str, Any]]]
    ) -> list[Completion]:
        """One server call per request, in order (the server batches concurrent work itself)."""
        return [
            self.chat(messages, **{k: v for k, v in kw.items() if k != "logprobs"})
            for messages, kw in requests
        ]

    def _run(
        self,
        ids: list[int],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
        logprobs: int | None = None,
    ) -> Completion:
        room = max(1, self.context_length - max(1, int(max_tokens)))
        ids = ids[-room:]
        out = self.http.complete(
            self.tokenizer.decode(ids),
            max_tokens=max_tokens,
            temperature=temperature,
            stop=stop,
            seed=seed,
            logprobs=0,
        )
        completion = list(self.tokenizer(out.text, add_special_tokens=False)["input_ids"])
        reported = list(out.logprobs or ())
        eos = self.tokenizer.eos_token
        if reported and eos is not None and reported[-1].token == eos:
            completion.append(self.tokenizer.eos_token_id)
        values = [t.logprob for t in reported]
        if len(values) != len(completion):
            values = [math.nan] * len(completion)
        self.turns.append(Turn(list(ids), completion, values, out.text))
        return Completion(
            text=out.text,
            prompt_tokens=len(ids),
            completion_tokens=len(completion),
            finish_reason=out.finish_reason,
        )


def sequence_logprobs(
    module: Any,
    turns: Sequence[tuple[Sequence[int], Sequence[int]]],
    *,
    temperature: float,
    pad_id: int,
    device: str = "cpu",
) -> list[Any]:
    """Log-probabilities of each turn's completion tokens under ``module``, with gradients.

    Args:
        module: a causal LM (``module(input_ids, attention_mask).logits``).
        turns: ``(prompt_ids, completion_ids)`` pairs.
        temperature: the policy's temperature (logits are divided by it; 0 means 1).
        pad_id: the id used to right-pad the batch (masked out).
        device: torch device.

    Returns:
        One 1-D tensor per turn, one log-probability per completion token.
    """
    import torch

    seqs = [list(p) + list(c) for p, c in turns]
    width = max(len(s) for s in seqs)
    input_ids = torch.full((len(seqs), width), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros((len(seqs), width), dtype=torch.long, device=device)
    for i, s in enumerate(seqs):
        input_ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
    logits = module(input_ids=input_ids, attention_mask=mask).logits.float()
    if temperature > 0:
        logits = logits / float(temperature)
    logp = torch.log_softmax(logits, dim=-1)
    out = []
    for i, (prompt, completion) in enumerate(turns):
        start = len(prompt)
        positions = torch.arange(start - 1, start - 1 + len(completion), device=device)
        targets = torch.tensor(list(completion), dtype=torch.long, device=device)
        out.append(logp[i, positions, targets])
    return out
