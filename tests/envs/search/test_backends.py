"""BM25 (bm25s) and dense backends: retrieval quality, the on-disk index cache, snippets."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

from rewardgym.envs.search import BM25Backend, DenseBackend, SearchBackend, generate_world
from rewardgym.envs.search.backends import make_snippet
from rewardgym.envs.search.corpus import Corpus, Page
from rewardgym.errors import ConfigError


@pytest.fixture(scope="module")
def world():
    return generate_world(0, 2000, 100)


def _recall_at_3(backend, tasks):
    """Fraction of questions whose first supporting page is in the top 3 for the question."""
    hits = 0
    for task in tasks:
        top = [hit.page_id for hit in backend.search(task.question, 3)]
        hits += task.supporting[0] in top
    return hits / len(tasks)


def test_bm25_recall_at_3_on_single_hop_is_at_least_0_9(world, tmp_path):
    backend = BM25Backend(world.corpus, cache=str(tmp_path))
    assert isinstance(backend, SearchBackend)
    single = [t for t in world.tasks if t.kind == "single-hop"]
    bridge = [t for t in world.tasks if t.kind == "bridge"]
    recall_single = _recall_at_3(backend, single)
    recall_bridge_first_hop = _recall_at_3(backend, bridge)
    print(
        f"BM25 recall@3 single-hop {recall_single:.3f}, bridge hop 1 {recall_bridge_first_hop:.3f}"
    )
    assert recall_single >= 0.9
    assert recall_bridge_first_hop >= 0.8


def test_title_search_finds_the_page(world):
    backend = BM25Backend(world.corpus, cache=None)
    for task in [t for t in world.tasks if t.kind == "bridge"][:30]:
        for page_id, title in zip(task.supporting, task.subjects):
            assert page_id in [h.page_id for h in backend.search(title, 3)], (title, task)


def test_index_is_cached_by_content_hash_and_memory_mapped(world, tmp_path):
    first = BM25Backend(world.corpus, cache=str(tmp_path))
    assert not first.loaded_from_cache and first.index_dir.is_dir()
    assert first.index_dir.parent.parent.parent == tmp_path
    second = BM25Backend(world.corpus, cache=str(tmp_path))
    assert second.loaded_from_cache and second.index_dir == first.index_dir
    query = world.tasks[0].question
    assert second.search(query, 3) == first.search(query, 3)
    assert isinstance(second._retriever.scores["data"], np.memmap)
    assert not isinstance(first._retriever.scores["data"], np.memmap)
    changed = Corpus.of([*world.corpus.pages[:-1], Page("x", "X", "a changed page")])
    third = BM25Backend(changed, cache=str(tmp_path))
    assert not third.loaded_from_cache and third.index_dir != first.index_dir


def test_unknown_words_and_empty_queries_return_nothing(world):
    backend = BM25Backend(world.corpus, cache=None)
    assert backend.search("zzqqxx", 3) == []
    assert backend.search("", 3) == []
    assert backend.search("the of a", 3) == []
    assert backend.page("nope") is None
    assert backend.page(world.corpus.pages[0].page_id) == world.corpus.pages[0]


def test_snippet_picks_the_sentences_that_match_the_query():
    text = "Alpha is a city. " * 30 + "Beta was founded in 1801. " + "Gamma is far. " * 30
    snippet = make_snippet(text, "when was Beta founded", limit=80)
    assert "Beta was founded in 1801." in snippet and len(snippet) <= 80
    assert make_snippet("short", "x") == "short"


def _tiny_sentence_model(path: pathlib.Path) -> str:
    """A randomly initialised BERT + WordPiece tokenizer saved as a sentence-transformers dir."""
    st = pytest.importorskip("sentence_transformers", reason="needs sentence-transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = [f"{c}{v}{c}" for c in "bdfgklmnprstvz" for v in "aeiou"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    )
    tok.train_from_iterator([" ".join(words)] * 20 + ["the city was founded in born"], trainer)
    fast = BertTokenizerFast(tokenizer_object=tok)
    config = BertConfig(vocab_size=fast.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64)  # fmt: skip
    bert_dir = path / "bert"
    BertModel(config).save_pretrained(bert_dir)
    fast.save_pretrained(bert_dir)
    # A plain transformers directory loads as Transformer + mean pooling.
    model = st.SentenceTransformer(str(bert_dir), device="cpu", local_files_only=True)
    out = path / "st-model"
    model.save(str(out))
    return str(out)


@pytest.mark.slow
def test_dense_backend_on_a_tiny_local_model(tmp_path):
    os.environ["HF_HUB_OFFLINE"] = "1"
    model = _tiny_sentence_model(tmp_path)
    words = [f"{c}{v}{c}" for c in "bdfgklmnprstvz" for v in "aeiou"]  # in the tokenizer's vocab
    pages = [Page(f"p{i}", words[i], " ".join(words[3 * i : 3 * i + 3])) for i in range(20)]
    corpus = Corpus.of(pages)
    backend = DenseBackend(corpus, model, cache=str(tmp_path / "cache"))
    assert isinstance(backend, SearchBackend)
    query = f"{pages[7].title}. {pages[7].text}"  # what the backend embedded for p7
    hits = backend.search(query, 3)
    assert len(hits) == 3 and hits[0].page_id == "p7"  # a text is nearest to itself
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert hits[0].score >= hits[1].score >= hits[2].score
    again = DenseBackend(corpus, model, cache=str(tmp_path / "cache"))
    assert type(again.embeddings).__name__ == "memmap"
    assert [h.page_id for h in again.search(query, 3)] == [h.page_id for h in hits]
    # the env drives the same backend through backend="dense"
    from rewardgym.envs.search import SearchQAEnv

    env = SearchQAEnv(source="jsonl", backend="dense", dense_model=model,
                      index_cache=str(tmp_path / "cache"))  # fmt: skip
    env.reset(seed=0)
    _, _, _, _, info = env.step("<search>Marie Curie</search>")
    assert len(info["results"]) == 3 and info["cost"]["searches"] == 1.0
    env.close()


def test_dense_backend_needs_a_local_directory(world):
    with pytest.raises(ConfigError, match="not a directory"):
        DenseBackend(world.corpus, "/no/such/model")
