"""The local backend: any causal LM directory loaded with ``transformers`` (CPU by default).

The directory is loaded with ``AutoTokenizer``/``AutoModelForCausalLM.from_pretrained`` and
``local_files_only=True`` (and ``HF_HUB_OFFLINE=1``): nothing is ever fetched from a hub.
"""

from __future__ import annotations

import logging
import math
import os
import pathlib
import threading
from collections.abc import Sequence
from typing import Any

from rewardgym.errors import ConfigError, DependencyNotInstalled
from rewardgym.llm.base import (
    ChatMessage,
    Completion,
    LLMClient,
    TokenLogprob,
    _check_logprobs,
    cut_at_stop,
    format_chat,
)
from rewardgym.localonly import apply_offline_env

__all__ = ["TransformersClient"]

log = logging.getLogger("rewardgym.llm.local")

#: One generation at a time per process, across every client: seeded sampling reseeds torch's
#: global RNG, so two clients sampling in two threads would draw from each other's stream (and
#: torch modules are not safe to drive from several threads at once anyway).
_GENERATE_LOCK = threading.Lock()


class TransformersClient(LLMClient):
    """Generate with a local ``transformers`` causal LM.

    Args:
        model_dir: a directory holding ``config.json``, weights and tokenizer files.
        device: torch device string (``"cpu"`` by default).
        torch_threads: if given, ``torch.set_num_threads`` for this process (set 1 on shared
            CPUs; thread contention on 2 cores makes generation many times slower).

    Raises:
        ConfigError: if ``model_dir`` is not a model directory.
        DependencyNotInstalled: if torch or transformers is missing (``pip install 'rewardgym[llm]'``).
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        *,
        device: str = "cpu",
        torch_threads: int | None = None,
    ) -> None:
        super().__init__()
        path = pathlib.Path(model_dir)
        if not (path / "config.json").is_file():
            raise ConfigError(
                f"{str(path)!r} is not a model directory (no config.json); pass a directory "
                "saved with save_pretrained, or build the tiny one with "
                "rewardgym.llm.tiny.build_tiny_model(dir)"
            )
        apply_offline_env()  # hub look-ups and telemetry off: a local model is local
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
        try:
            import torch
            import transformers
        except ImportError as exc:
            raise DependencyNotInstalled(exc.name or "transformers", "llm", "local LLMs") from exc
        transformers.utils.logging.disable_progress_bar()
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        self._torch = torch
        self.model = str(path)
        self.device = device
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        self._model = transformers.AutoModelForCausalLM.from_pretrained(
            path, local_files_only=True
        ).to(device)
        self._model.eval()
        #: The model's context length in tokens; longer prompts lose their start.
        self.context_length = int(getattr(self._model.config, "max_position_embeddings", 0) or 2048)
        log.info("loaded %s on %s", path, device)

    def prompt_ids(self, prompt: str) -> list[int]:
        """The token ids of a plain prompt (no special tokens added)."""
        return list(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])

    def chat_ids(self, messages: Sequence[ChatMessage]) -> list[int]:
        """The token ids of a chat with the generation prompt: the tokenizer's chat template,
        or :func:`~rewardgym.llm.base.format_chat` for a tokenizer without one."""
        if not getattr(self.tokenizer, "chat_template", None):
            return self.prompt_ids(format_chat(messages))
        ids = self.tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, tokenize=True
        )
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        return list(ids)

    def complete_ids(
        self,
        ids: Sequence[int],
        *,
        max_tokens: int = 64,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        seed: int | None = None,
        logprobs: int | None = None,
    ) -> Completion:
        """Continue a prompt given as token ids (as a server gets a token-id prompt); the same
        arguments, errors and counting as :meth:`complete`."""
        _check_logprobs(logprobs)
        out = self._run([int(i) for i in ids], max_tokens, temperature, tuple(stop), seed, logprobs)
        self._count(out)
        return out

    def _generate(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
        logprobs: int | None = None,
    ) -> Completion:
        return self._run(self.prompt_ids(prompt), max_tokens, temperature, stop, seed, logprobs)

    def _generate_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
        logprobs: int | None = None,
    ) -> Completion:
        ids = self.chat_ids(messages)
        return self._run(ids, max_tokens, temperature, stop, seed, logprobs)

    def _run(
        self,
        ids: list[int],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
        logprobs: int | None = None,
    ) -> Completion:
        torch = self._torch
        max_tokens = max(1, int(max_tokens))
        room = max(1, self.context_length - max_tokens)
        truncated = max(0, len(ids) - room)
        if truncated:  # keep the end of the prompt: that is where the question is
            ids = ids[-room:]
        input_ids = torch.tensor([ids], dtype=torch.long, device=self.device)
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_tokens,
            "attention_mask": torch.ones_like(input_ids),
            "pad_token_id": self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None
            else self.tokenizer.eos_token_id,
        }
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=float(temperature), top_k=0)
        else:
            kwargs.update(do_sample=False)
        if logprobs is not None:
            kwargs.update(output_logits=True, return_dict_in_generate=True)
        with _GENERATE_LOCK, torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(0 if seed is None else int(seed))
            out = self._model.generate(input_ids, **kwargs)
        sequences = out.sequences if logprobs is not None else out
        new = sequences[0, input_ids.shape[1] :].tolist()
        eos = self.tokenizer.eos_token_id
        hit_eos = eos is not None and eos in new
        if hit_eos:
            new = new[: new.index(eos) + 1]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        text, cut = cut_at_stop(text, stop)
        finish = "stop" if (hit_eos or cut or len(new) < max_tokens) else "length"
        token_logprobs = None
        if logprobs is not None:
            # vLLM's convention: the tokens up to the one that began the stop string.
            kept = self._tokens_through(new, len(text)) if cut else len(new)
            token_logprobs = self._logprobs(new[:kept], out.logits, logprobs)
        return Completion(
            text=text,
            prompt_tokens=len(ids),
            completion_tokens=len(new),
            finish_reason=finish,
            logprobs=token_logprobs,
            prompt_truncated=truncated,
        )

    def _tokens_through(self, new: list[int], visible: int) -> int:
        """How many of ``new`` it takes to decode to more than ``visible`` characters."""
        for n in range(1, len(new) + 1):
            if len(self.tokenizer.decode(new[:n], skip_special_tokens=True)) > visible:
                return n
        return len(new)

    def _logprobs(self, new: list[int], logits: Sequence[Any], k: int) -> tuple[TokenLogprob, ...]:
        """Each generated token's log-probability, top-``k`` and KL(Uniform || p), from the raw
        logits of every step (before temperature)."""
        if not new:
            return ()
        torch = self._torch
        steps = torch.stack([logits[i][0] for i in range(len(new))]).float()
        logp = torch.log_softmax(steps, dim=-1)
        chosen = logp[torch.arange(len(new)), torch.tensor(new)].tolist()
        # KL(U || p) = sum_j (1/V) log((1/V) / p_j) = -log V - mean_j log p_j
        kl = (-math.log(logp.shape[-1]) - logp.mean(dim=-1)).tolist()
        top_lp, top_ids = logp.topk(k, dim=-1) if k else (None, None)
        ids = set(new) | (set(top_ids.flatten().tolist()) if k else set())
        names = {i: self.tokenizer.decode([i]) for i in ids}
        return tuple(
            TokenLogprob(
                token=names[tok],
                logprob=chosen[i],
                top=tuple(zip((names[j] for j in top_ids[i].tolist()), top_lp[i].tolist()))
                if k
                else (),
                kl_uniform=kl[i],
            )
            for i, tok in enumerate(new)
        )

    def close(self) -> None:
        self._model = None  # type: ignore[assignment]
