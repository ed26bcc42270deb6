"""JSONL loaders: both question schemas, corpus files, and errors naming file, line and field."""

from __future__ import annotations

import json

import pytest

from rewardgym.envs.search import load_corpus, load_qa, sample_paths
from rewardgym.errors import TaskDataError


def _write(path, lines):
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


@pytest.fixture
def corpus_file(tmp_path):
    return _write(tmp_path / "corpus.jsonl", [
        {"id": "a", "title": "Alpha", "text": "Alpha was founded in 1900."},
        {"id": 7, "title": "Beta", "text": "Beta lies in Alpha."},
    ])  # fmt: skip


def test_the_shipped_sample_loads():
    corpus, tasks = load_qa(*sample_paths())
    kinds = {t.kind for t in tasks}
    assert {"open", "bridge", "comparison", "unanswerable"} <= kinds
    for task in tasks:
        for page_id in task.supporting:
            assert page_id in corpus
    hp4 = next(t for t in tasks if t.task_id == "sample/hotpot-4")
    assert hp4.supporting == ("Pharos-Nova", "Alexandria")
    assert corpus.get("Alexandria").text.startswith("Alexandria is a port city")  # from context


def test_nq_and_hotpot_lines_in_one_file(tmp_path, corpus_file):
    tasks_file = _write(tmp_path / "q.jsonl", [
        {"question": "When was Alpha founded?", "answer": ["1900"], "supporting": ["a"]},
        {"id": "x", "question": "Where is Beta?", "answers": "Alpha"},
        {"_id": "h", "question": "When was the place Beta lies in founded?", "answer": "1900",
         "supporting_facts": [["Beta", 0], ["Alpha", 0]], "type": "bridge"},
        "",
        {"question": "Who built Gamma?", "answers": []},
    ])  # fmt: skip
    corpus, tasks = load_qa(tasks_file, corpus_file)
    assert [t.task_id for t in tasks] == ["q/1", "x", "h", "q/5"]
    assert tasks[0].answers == ("1900",) and tasks[0].subjects == ("Alpha",)
    assert tasks[1].answers == ("Alpha",)
    assert tasks[2].kind == "bridge" and tasks[2].supporting == ("7", "a")
    assert tasks[3].kind == "unanswerable" and not tasks[3].answerable
    assert corpus.get("7").title == "Beta"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"question": "q?"}, "field 'answers'"),
        ({"question": "", "answers": ["x"]}, "field 'question'"),
        ({"question": "q?", "answers": [3]}, "field 'answers.0'"),
        ({"question": "q?", "answers": ["x"], "extra_field": 1}, "field 'extra_field'"),
        ({"question": "q?", "answer": "x", "supporting_facts": [["Nope", 0]]}, "no page is titled"),
        ({"question": "q?", "answer": "x", "supporting_facts": "bad"}, "field 'supporting_facts'"),
        ({"question": "q?", "answers": ["x"], "supporting": ["zz"]}, "unknown page id"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_task_errors_name_file_line_and_field(tmp_path, corpus_file, line, message):
    good = {"question": "fine?", "answers": ["y"]}
    path = _write(tmp_path / "bad.jsonl", [good, line])
    with pytest.raises(TaskDataError) as info:
        load_qa(path, corpus_file)
    assert f"{path}:2:" in str(info.value) and message in str(info.value)


def test_duplicate_ids_and_empty_files(tmp_path, corpus_file):
    path = _write(tmp_path / "dup.jsonl", [{"id": "a", "question": "q?", "answers": ["x"]}] * 2)
    with pytest.raises(TaskDataError, match=r"dup.jsonl:2: field 'id': duplicate id 'a'"):
        load_qa(path, corpus_file)
    with pytest.raises(TaskDataError, match="holds no questions"):
        load_qa(_write(tmp_path / "empty.jsonl", [""]), corpus_file)
    with pytest.raises(TaskDataError, match="does not exist"):
        load_qa(tmp_path / "missing.jsonl", corpus_file)
    with pytest.raises(TaskDataError, match="no corpus"):
        load_qa(_write(tmp_path / "q.jsonl", [{"question": "q?", "answers": ["x"]}]))


def test_corpus_errors_and_tsv(tmp_path):
    bad = _write(tmp_path / "c.jsonl", [
        {"id": "a", "title": "A", "text": "x"},
        {"id": "a", "title": "B", "text": "y"},
        {"id": "b", "title": "C"},
    ])  # fmt: skip
    with pytest.raises(TaskDataError) as info:
        load_corpus(bad)
    text = str(info.value)
    assert "c.jsonl:2: field 'id': duplicate id 'a'" in text and "c.jsonl:3: field 'text'" in text
    tsv = tmp_path / "psgs.tsv"
    tsv.write_text("id\ttext\ttitle\n1\tAlpha was founded in 1900.\tAlpha\n2\tBeta.\tBeta\n")
    pages = load_corpus(tsv)
    assert [(p.page_id, p.title) for p in pages] == [("1", "Alpha"), ("2", "Beta")]
    bad_tsv = tmp_path / "bad.tsv"
    bad_tsv.write_text("id\tbody\n1\tx\n")
    with pytest.raises(TaskDataError, match="lacks the column"):
        load_corpus(bad_tsv)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"id": "a", "title": "\xe9", "text": "x"}\n')
    with pytest.raises(TaskDataError, match="not UTF-8"):
        load_corpus(latin)
