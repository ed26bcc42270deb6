"""Search QA speed: world generation, BM25 index build and query latency at 1k/10k/100k pages,
bm25s against rank-bm25 (the common peer) in the same run, and the env's overhead.

For each corpus size: generate the synthetic world; build the bm25s index (our
``BM25Backend``, in memory), save it and load it memory-mapped; time queries (the questions of
the world, median and p95 over ``--queries`` calls: our backend, tokenising and snippets
included, and for reference ``bm25s``'s own ``retrieve``, whose top-k over all N scores is
slower than our top-k over the matching pages); build ``rank_bm25.BM25Okapi`` over the same
tokens and time its top-3 queries (score every document, then ``argpartition``) on a subset,
against our backend on the same subset. Recall@3
of the supporting page on single-hop and bridge (first hop) questions is recorded too. Env
overhead: ``env.step("<search>q</search>")`` in 5-search episodes (resets timed too) against
``backend.search(q, 3)`` on the same queries, alternating, median (and min) of repeats. Writes ``runs/bench/search.json`` and a log-log plot
``docs/img/search_scaling.png``.

Run: ``.venv/bin/python benchmarks/bench_search.py [--sizes 1000,10000,100000] [--queries N]``
(the peer: ``pip install rank-bm25``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rewardgym.envs.search import BM25Backend, SearchQAEnv, generate_world, tokenize


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _latencies(fn, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - start)
    return out


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": 1e3 * float(np.percentile(values, 50)),
        "p95_ms": 1e3 * float(np.percentile(values, 95)),
    }


def _recall(backend: BM25Backend, tasks) -> float:
    found = sum(
        t.supporting[0] in [h.page_id for h in backend.search(t.question, 3)] for t in tasks
    )
    return found / max(1, len(tasks))


def bench_size(n_pages: int, n_queries: int, rank_queries: int) -> dict[str, object]:
    import bm25s
    from rank_bm25 import BM25Okapi

    world, gen_s = _timed(lambda: generate_world(0, n_pages, 100))
    backend, build_s = _timed(lambda: BM25Backend(world.corpus, cache=None))
    corpus_tokens, tokenize_s = _timed(
        lambda: [tokenize(f"{p.title} {p.text}") for p in world.corpus.pages]
    )
    _, bm25s_index_s = _timed(lambda: bm25s.BM25().index(corpus_tokens, show_progress=False))
    with tempfile.TemporaryDirectory() as tmp:
        _, save_s = _timed(lambda: backend._retriever.save(tmp))
        loaded, load_s = _timed(lambda: bm25s.BM25.load(tmp, mmap=True))
        del loaded
    questions = [t.question for t in world.tasks]
    queries = (questions * (n_queries // len(questions) + 1))[:n_queries]
    ours = _latencies(lambda q: backend.search(q, 3), queries)
    retriever = backend._retriever
    tokens = [[t for t in tokenize(q) if t in backend._vocab] for q in queries]
    bare = _latencies(
        lambda i: retriever.retrieve([tokens[i]], k=3, show_progress=False, n_threads=0),
        list(range(len(tokens))),
    )
    peer, peer_build_s = _timed(lambda: BM25Okapi(corpus_tokens))
    subset = tokens[:rank_queries]
    rank = _latencies(lambda t: np.argpartition(-peer.get_scores(t), 3)[:3], subset)
    # our bm25s path (scores + top-k of the matching pages) on the very same queries
    bm25s_same = _latencies(lambda q: backend.search(q, 3), queries[:rank_queries])
    single = [t for t in world.tasks if t.kind == "single-hop"]
    bridge = [t for t in world.tasks if t.kind == "bridge"]
    return {
        "pages": len(world.corpus),
        "world_generation_s": gen_s,
        "index_build_s": build_s,
        "tokenize_s": tokenize_s,
        "bm25s_index_only_s": bm25s_index_s,
        "index_save_s": save_s,
        "index_load_mmap_s": load_s,
        "query_backend": _ms(ours),
        "query_bm25s_retrieve": _ms(bare),
        "rank_bm25_build_s": peer_build_s,
        "query_rank_bm25": _ms(rank),
        "query_bm25s_same_subset": _ms(bm25s_same),
        "rank_bm25_over_bm25s_p50": float(np.median(rank) / np.median(bm25s_same)),
        "recall_at_3_single_hop": _recall(backend, single),
        "recall_at_3_bridge_first_hop": _recall(backend, bridge),
    }


def env_overhead(n_pages: int, steps: int, repeats: int) -> dict[str, object]:
    """Per-search time of ``env.step`` over ``backend.search`` on the same queries."""
    env = SearchQAEnv(n_pages=n_pages, index_cache=None)
    backend = env.backend
    queries = [t.question for t in env.tasks][:steps]
    actions = [f"<search>{q}</search>" for q in queries]
    env_times, bare_times = [], []
    for r in range(repeats):
        env.reset(seed=r)
        start = time.perf_counter()
        for i, action in enumerate(actions):
            if i % 5 == 4:
                env.reset()  # MASH-sized episodes: 5 searches (resets are timed too)
            env.step(action)
        env_times.append((time.perf_counter() - start) / len(actions))
        start = time.perf_counter()
        for q in queries:
            backend.search(q, 3)
        bare_times.append((time.perf_counter() - start) / len(queries))
    env.close()
    e, b = statistics.median(env_times), statistics.median(bare_times)
    return {
        "pages": n_pages,
        "env_step_ms": 1e3 * e,
        "bare_search_ms": 1e3 * b,
        "env_added_us": 1e6 * (e - b),
        "env_steps_per_s": 1 / e,
        "overhead_ratio": e / b,
        # the fastest repeat of each: robust to load spikes on a shared machine
        "overhead_ratio_min": min(env_times) / min(bare_times),
    }


def plot(results: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pages = [r["pages"] for r in results]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(pages, [r["index_build_s"] for r in results], "o-",
              label="BM25Backend build, tokenising included (s)")  # fmt: skip
    ax.loglog(pages, [r["bm25s_index_only_s"] for r in results], "o:",
              label="bm25s index of the tokens (s)")  # fmt: skip
    ax.loglog(pages, [r["rank_bm25_build_s"] for r in results], "s--",
              label="rank-bm25 build of the tokens (s)")  # fmt: skip
    ax.loglog(pages, [r["query_backend"]["p50_ms"] / 1e3 for r in results], "o-",
              label="BM25Backend query p50 (s)")  # fmt: skip
    ax.loglog(pages, [r["query_rank_bm25"]["p50_ms"] / 1e3 for r in results], "s--",
              label="rank-bm25 query p50 (s)")  # fmt: skip
    ax.loglog(pages, [r["world_generation_s"] for r in results], "^:", label="world generation (s)")
    ax.set_xlabel("pages")
    ax.set_ylabel("seconds")
    ax.set_title("Search QA: scaling with corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--rank-queries", type=int, default=50)
    parser.add_argument("--env-steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--plot", default="docs/img/search_scaling.png")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for n in sizes:
        results.append(bench_size(n, args.queries, args.rank_queries))
        print(json.dumps(results[-1]), flush=True)
    overhead = [env_overhead(n, args.env_steps, args.repeats) for n in sizes]
    for row in overhead:
        print(json.dumps(row), flush=True)
    out = Path("runs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "search.json").write_text(json.dumps({"sizes": results, "env": overhead}, indent=2))
    if args.plot:
        plot(results, Path(args.plot))


if __name__ == "__main__":
    main()
