"""What an agent *is*, as the results store keys it.

An agent spec names how to build an agent (``ppo:runs/ppo/x``, ``llm-local:DIR``,
``llm-openai:URL|MODEL``), not what it is: the model behind a path changes when it is retrained,
and the port of a server changes between runs while the model it serves does not. The store
keys episodes by :func:`agent_identity` instead:

* ``ppo:<path>`` -> ``ppo:<path>@<sha256 of the model file, 12 hex>``: a retrained model is a
  new agent (its old results stay, under the old identity), the same model resumes;
* ``llm-local:<dir>`` (and ``llm-local:tiny``) -> ``llm-local:<dir>@<sha256 of the model
  files>``;
* ``llm-openai:<base_url>|<model>`` -> ``llm-openai:<model>#<hash of what the server says it
  serves under that name>`` (its ``/models`` entry without timestamps): the URL and its port
  are left out, so a rerun against a restarted server resumes;
* every other spec (scripted agents, baselines, cheaters) is its own identity.

The identity is what the leaderboard page shows as the agent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pathlib
from collections.abc import Iterable

from rewardgym.errors import ConfigError, RewardGymError

__all__ = ["agent_identity", "spec_of_identity"]

log = logging.getLogger("rewardgym.leaderboard.identity")

_HASH_CHARS = 12
#: Files of a model folder that are not the model (logs, evaluation notes).
_SKIP_SUFFIXES = (".log", ".md", ".txt.lock")
_SKIP_DIRS = frozenset({"tb", "logs", ".cache", "__pycache__"})


def _hash_files(files: Iterable[pathlib.Path], root: pathlib.Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()[:_HASH_CHARS]


def _model_files(folder: pathlib.Path) -> list[pathlib.Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS]
        out += [
            pathlib.Path(dirpath, f)
            for f in filenames
            if not f.endswith(_SKIP_SUFFIXES) and not f.startswith(".")
        ]
    return out


def _ppo_identity(spec: str, arg: str) -> str:
    path = pathlib.Path(arg)
    model = path / "model.zip" if path.is_dir() else path
    if not model.is_file():
        raise ConfigError(
            f"agent {spec!r}: no PPO model at {model}; train one with "
            "`rewardgym train ppo --out DIR` and pass ppo:DIR"
        )
    return f"{spec}@{_hash_files([model], model.parent)}"


def _local_llm_identity(spec: str, arg: str) -> str:
    if arg == "tiny":
        from rewardgym.llm.tiny import ensure_tiny_model

        folder = pathlib.Path(ensure_tiny_model())
    else:
        folder = pathlib.Path(arg)
    if not folder.is_dir():
        raise ConfigError(
            f"agent {spec!r}: {folder} is not a model folder (save one with save_pretrained)"
        )
    files = _model_files(folder)
    if not files:
        raise ConfigError(f"agent {spec!r}: the model folder {folder} is empty")
    return f"{spec}@{_hash_files(files, folder)}"


def _openai_identity(spec: str, arg: str) -> str:
    from rewardgym.llm.http import OpenAIClient

    base_url, sep, model = arg.rpartition("|")
    if not sep or not base_url or not model:
        raise ConfigError(
            f"agent {spec!r}: use 'llm-openai:<base_url>|<model>', e.g. "
            "'llm-openai:http://127.0.0.1:8000/v1|my-model'"
        )
    client = OpenAIClient(base_url, model, max_retries=1, timeout_s=10.0)
    try:
        listing = client._request("GET", "/models", None)
    except RewardGymError as exc:
        raise ConfigError(f"agent {spec!r}: cannot ask the server what it serves: {exc}") from None
    finally:
        close = getattr(client, "close", None)
        if callable(close):
            close()
    entries = listing.get("data", []) if isinstance(listing, dict) else []
    entry = next((m for m in entries if isinstance(m, dict) and m.get("id") == model), None)
    if entry is None:
        served = sorted(str(m.get("id")) for m in entries if isinstance(m, dict))
        raise ConfigError(
            f"agent {spec!r}: {base_url} does not serve {model!r}; it serves {served}"
        )
    # what identifies the served model: everything the server says about it but timestamps
    what = {k: v for k, v in entry.items() if k not in ("created", "permission")}
    digest = hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()
    return f"llm-openai:{model}#{digest[:_HASH_CHARS]}"


_IDENTIFIERS = {
    "ppo": _ppo_identity,
    "llm-local": _local_llm_identity,
    "llm-openai": _openai_identity,
}


def agent_identity(spec: str) -> str:
    """The store's name for the agent ``spec`` builds (see the module docstring).

    Raises:
        ConfigError: if the model the spec names cannot be found (a missing PPO model or model
            folder, an LLM server that is down or does not serve the model).
    """
    name, _, arg = spec.partition(":")
    identify = _IDENTIFIERS.get(name)
    if identify is None:
        return spec
    if not arg and name != "llm-local":
        raise ConfigError(
            f"agent {name!r} needs an argument: {name}:<...> (see `rewardgym agents`)"
        )
    return identify(spec, arg or "tiny")


def spec_of_identity(identity: str) -> str:
    """The part of an identity before its model hash (``ppo:runs/x@ab12...`` -> ``ppo:runs/x``)."""
    name = identity.partition(":")[0]
    if name in ("ppo", "llm-local"):
        return identity.rpartition("@")[0] or identity
    if name == "llm-openai":
        return identity.rpartition("#")[0] or identity
    return identity
