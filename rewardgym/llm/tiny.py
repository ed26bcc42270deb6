"""A tiny causal LM built locally, for tests and the demo: no hub access, ever.

:func:`build_tiny_model` trains a byte-level BPE tokenizer with ``tokenizers`` on a small
built-in corpus (code and dungeon prompts), builds a 2-layer Llama-style model from a
``transformers`` config with seeded random weights, and saves both with ``save_pretrained``.
Loading it back goes through ``AutoTokenizer``/``AutoModelForCausalLM.from_pretrained``, the
same code path as any real checkpoint directory. The model's output is (seeded) noise: it
exercises the plumbing, not the intelligence.

vLLM serves the same directory (docs/leaderboard.md): the attention heads are 32 wide (vLLM's
CPU attention needs at least 32), and the tokenizer carries a chat template
(:data:`TINY_CHAT_TEMPLATE`) that renders a chat exactly as
:func:`rewardgym.llm.base.format_chat` does, so a chat request gives the same prompt tokens
through ``apply_chat_template`` (vLLM, the local client) as through ``format_chat``.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib

from rewardgym.errors import DependencyNotInstalled
from rewardgym.localonly import apply_offline_env

__all__ = [
    "TINY_CHAT_TEMPLATE",
    "TINY_CORPUS",
    "TINY_VERSION",
    "build_tiny_model",
    "default_tiny_model_dir",
    "ensure_tiny_model",
]

log = logging.getLogger("rewardgym.llm.tiny")

#: Marker file written last, so a half-built directory is never mistaken for a model.
_DONE_MARKER = "rewardgym-tiny.json"

#: Bumped when the build changes; a cached model of another version is rebuilt.
#: 2: 32-wide attention heads (vLLM's CPU attention) and a chat template.
TINY_VERSION = 2

#: A Jinja chat template that renders messages as ``format_chat`` does: ``"<role>: <content>"``
#: lines, ending with ``"assistant:"`` when a generation prompt is asked for.
TINY_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] }}: {{ message['content'] }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)

#: Built-in training text for the tokenizer: the kinds of prompts rewardgym agents see.
TINY_CORPUS: tuple[str, ...] = (
    "def add(a, b):\n    return a + b\n",
    "def solve(xs: list[int]) -> int:\n    total = 0\n    for x in xs:\n        total += x\n"
    "    return total\n",
    "import math\n\ndef area(r):\n    return math.pi * r ** 2\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n"
    "        self.items.append(x)\n",
    "Write a Python function that returns the sum of a list. Answer with a ```python code block.",
    "```python\ndef f(x):\n    return x * 2\n```",
    "You are in a dungeon. The stairs are to the north. Actions: north, south, east, west, wait.",
    "You see a goblin to the east. Your health is 12/16. Choose one action: move north.",
    "Action: east\nAction: west\nAction: north\nAction: south\n",
    "Observation:\n#####\n#@..>#\n#####\nReply with the action name only.",
    "system: You are a helpful agent.\nuser: Solve the task.\nassistant: Here is the answer.",
    "The tests passed. 3 of 5 tests failed. SyntaxError: invalid syntax. Traceback (most recent",
    "if __name__ == '__main__':\n    print(main())\n",
    "for i in range(10):\n    if i % 2 == 0:\n        continue\n    yield i\n",
    '{"tool": "search", "query": "python list comprehension"}',
)


def default_tiny_model_dir() -> pathlib.Path:
    """Where the demo caches the tiny model: ``$REWARDGYM_MODELS/tiny`` or ``runs/models/tiny``."""
    root = os.environ.get("REWARDGYM_MODELS", os.path.join("runs", "models"))
    return pathlib.Path(root) / "tiny"


def build_tiny_model(
    out_dir: str | os.PathLike[str],
    *,
    vocab_size: int = 512,
    hidden_size: int = 64,
    num_layers: int = 2,
    head_dim: int = 32,
    max_positions: int = 2048,
    seed: int = 0,
) -> pathlib.Path:
    """Train a tokenizer, build a tiny Llama-style causal LM and save both to ``out_dir``.

    Args:
        out_dir: directory to write (created; existing files with the same names are replaced).
        vocab_size: BPE vocabulary size (byte-level, so every input is encodable).
        hidden_size: model width (a multiple of ``head_dim``).
        num_layers: transformer blocks.
        head_dim: width of each attention head (``hidden_size // head_dim`` heads); vLLM's CPU
            attention needs 32 or more.
        max_positions: context length; longer prompts are truncated from the left by the client.
        seed: seeds the weight initialisation, so two builds are identical.

    Returns:
        The directory, loadable with ``AutoModelForCausalLM.from_pretrained``.

    Raises:
        DependencyNotInstalled: if torch, transformers or tokenizers is missing.
    """
    apply_offline_env()
    try:
        import torch
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
        from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise DependencyNotInstalled(exc.name or "transformers", "llm", "the tiny model") from exc

    import transformers

    transformers.utils.logging.disable_progress_bar()
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specials = ["<|endoftext|>", "<|pad|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(TINY_CORPUS) * 4, trainer=trainer)
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        pad_token="<|pad|>",
        model_max_length=max_positions,
    )
    hf_tok.chat_template = TINY_CHAT_TEMPLATE
    hf_tok.save_pretrained(out)

    config = LlamaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=num_layers,
        num_attention_heads=hidden_size // head_dim,
        num_key_value_heads=hidden_size // head_dim,
        head_dim=head_dim,
        max_position_embeddings=max_positions,
        bos_token_id=hf_tok.bos_token_id,
        eos_token_id=hf_tok.eos_token_id,
        pad_token_id=hf_tok.pad_token_id,
        tie_word_embeddings=True,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.eval()
    model.save_pretrained(out)
    (out / _DONE_MARKER).write_text(
        json.dumps(
            {
                "version": TINY_VERSION,
                "vocab_size": tok.get_vocab_size(),
                "seed": seed,
                "layers": num_layers,
            }
        )
    )
    log.info("built tiny model in %s", out)
    return out


def ensure_tiny_model(out_dir: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """Return a built tiny model directory, building it first if it is not there yet (or was
    built by an older version of :func:`build_tiny_model`)."""
    out = pathlib.Path(out_dir) if out_dir is not None else default_tiny_model_dir()
    marker = out / _DONE_MARKER
    if marker.is_file():
        try:
            version = json.loads(marker.read_text()).get("version", 1)
        except (OSError, ValueError, AttributeError):
            version = None
        if version == TINY_VERSION:
            return out
        log.info("rebuilding the tiny model in %s (version %s -> %s)", out, version, TINY_VERSION)
        marker.unlink()
    return build_tiny_model(out)
