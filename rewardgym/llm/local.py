"""The local backend: any causal LM directory loaded with ``transformers`` (CPU by default).

The directory is loaded with ``AutoTokenizer``/``AutoModelForCausalLM.from_pretrained`` and
``local_files_only=True`` (and ``HF_HUB_OFFLINE=1``): nothing is ever fetched from a hub.
"""

from __future__ import annotations

import logging
import os
import pathlib
import threading
from collections.abc import Sequence
from typing import Any

from rewardgym.errors import ConfigError, DependencyNotInstalled
from rewardgym.llm.base import ChatMessage, Completion, LLMClient, cut_at_stop, format_chat
from rewardgym.localonly import apply_offline_env

__all__ = ["TransformersClient"]

log = logging.getLogger("rewardgym.llm.local")


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
        self._context = int(getattr(self._model.config, "max_position_embeddings", 0) or 2048)
        # torch modules are not safe to drive from several threads at once.
        self._gen_lock = threading.Lock()
        log.info("loaded %s on %s", path, device)

    def _generate(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
    ) -> Completion:
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        return self._run(list(ids), max_tokens, temperature, stop, seed)

    def _generate_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
    ) -> Completion:
        if getattr(self.tokenizer, "chat_template", None):
            ids = self.tokenizer.apply_chat_template(
                list(messages), add_generation_prompt=True, tokenize=True
            )
            if isinstance(ids, dict) or hasattr(ids, "keys"):
                ids = ids["input_ids"]
            ids = list(ids)
        else:
            ids = list(self.tokenizer(format_chat(messages), add_special_tokens=False)["input_ids"])
        return self._run(ids, max_tokens, temperature, stop, seed)

    def _run(
        self,
        ids: list[int],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
        seed: int | None,
    ) -> Completion:
        torch = self._torch
        max_tokens = max(1, int(max_tokens))
        room = max(1, self._context - max_tokens)
        if len(ids) > room:  # keep the end of the prompt: that is where the question is
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
        with self._gen_lock, torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(0 if seed is None else int(seed))
            out = self._model.generate(input_ids, **kwargs)
        new = out[0, input_ids.shape[1] :].tolist()
        eos = self.tokenizer.eos_token_id
        hit_eos = eos is not None and eos in new
        if hit_eos:
            new = new[: new.index(eos) + 1]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        text, cut = cut_at_stop(text, stop)
        finish = "stop" if (hit_eos or cut or len(new) < max_tokens) else "length"
        return Completion(
            text=text, prompt_tokens=len(ids), completion_tokens=len(new), finish_reason=finish
        )

    def close(self) -> None:
        self._model = None  # type: ignore[assignment]
