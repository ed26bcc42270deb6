"""Serve the tiny local model over the OpenAI API and bench it as ``llm-openai``.

The same spec points at a real vLLM/SGLang server: ``llm-openai:http://HOST:8000/v1|MODEL``.
Run: ``.venv/bin/python examples/llm_over_http.py``.
"""

from __future__ import annotations

from rewardgym.leaderboard.runner import plan, run_bench
from rewardgym.leaderboard.store import ResultsStore
from rewardgym.llm.local import TransformersClient
from rewardgym.llm.server import OpenAICompatServer
from rewardgym.llm.tiny import ensure_tiny_model

model_dir = ensure_tiny_model()  # runs/models/tiny, built once, no hub access
with OpenAICompatServer(TransformersClient(model_dir), model_name="tiny") as server:
    agent = f"llm-openai:{server.url}|tiny"
    jobs = plan([agent], ["rewardgym/Dungeon-Staircase-v0"], seeds=range(2))
    with ResultsStore("runs/example_llm.sqlite") as store:
        summary = run_bench(jobs, store)
        for row in store.rows():
            print(row["agent"], row["seed"], row["task_return"], row["cost"].get("llm_tokens"))
print(f"stored {summary.stored}, failed {len(summary.failed)}")
