"""JSONL loaders for real QA data in the common schemas, validated with pydantic.

Task files hold one JSON object per line, in either schema (detected per line):

* **NQ-open style**: ``{"question": "...", "answers": ["gold", "alias", ...]}`` (``answer`` is
  accepted for ``answers``, as NQ-open writes it), optional ``id``, ``supporting`` (page ids)
  and ``kind``. An empty ``answers`` list marks an unanswerable question.
* **HotpotQA style**: ``{"_id": "...", "question": "...", "answer": "...",
  "supporting_facts": [["Title", 0], ...], "context": [["Title", ["sentence", ...]], ...],
  "type": "bridge", "level": "easy"}``. Supporting facts name pages by title; ``context``
  paragraphs become corpus pages (with the title as page id) when no corpus file has them.

Corpus files (``corpus_path``) hold pages: JSONL lines ``{"id": ..., "title": ..., "text":
...}``, or a TSV/CSV file with a header naming the columns ``id``, ``title`` and ``text`` (the
DPR ``psgs_w100.tsv`` layout).

Every problem raises :class:`~rewardgym.errors.TaskDataError` naming the file, the line and the
field. :func:`sample_paths` gives the small hand-written sample shipped with the package.
"""

from __future__ import annotations

import csv
import json
import pathlib
from importlib import resources
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from rewardgym.envs.search.corpus import Corpus, Page, QATask
from rewardgym.errors import TaskDataError

__all__ = [
    "CorpusRecord",
    "HotpotRecord",
    "NQRecord",
    "load_corpus",
    "load_qa",
    "sample_paths",
]


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


class NQRecord(BaseModel):
    """One NQ-open-style question."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = None
    question: str
    answers: list[str] = Field(validation_alias=AliasChoices("answers", "answer"))
    supporting: list[str] = Field(default_factory=list)
    kind: str | None = None

    @field_validator("question")
    @classmethod
    def _question_nonblank(cls, question: str) -> str:
        return _nonblank(question)

    @field_validator("answers", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("answers")
    @classmethod
    def _answers_nonblank(cls, answers: list[str]) -> list[str]:
        for answer in answers:
            _nonblank(answer)
        return answers


class HotpotRecord(BaseModel):
    """One HotpotQA-style question with supporting facts and (optionally) its context."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str | None = Field(None, validation_alias=AliasChoices("_id", "id"))
    question: str
    answer: str
    supporting_facts: list[tuple[str, int]]
    context: list[tuple[str, list[str]]] = Field(default_factory=list)
    type: str | None = None
    level: str | None = None

    @field_validator("question", "answer")
    @classmethod
    def _nonblank_text(cls, value: str) -> str:
        return _nonblank(value)


class CorpusRecord(BaseModel):
    """One page of a corpus file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    text: str

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("id", "text")
    @classmethod
    def _nonblank_text(cls, value: str) -> str:
        return _nonblank(value)


def _errors(where: str, error: ValidationError) -> list[str]:
    out = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "(record)"
        out.append(f"{where}: field {loc!r}: {item['msg'].removeprefix('Value error, ')}")
    return out


def _json_lines(path: pathlib.Path) -> list[tuple[int, Any] | tuple[int, str]]:
    if not path.is_file():
        raise TaskDataError(f"file {str(path)!r} does not exist")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise TaskDataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    out: list[Any] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            out.append((lineno, json.loads(line)))
        except json.JSONDecodeError as exc:
            out.append((lineno, f"not valid JSON: {exc.msg} (column {exc.colno})"))
    return out


def load_corpus(path: str | pathlib.Path) -> list[Page]:
    """Read the pages of a corpus file (JSONL, or TSV/CSV with an ``id,title,text`` header).

    Raises:
        TaskDataError: naming the file, line and field of every problem (and duplicate ids).
    """
    path = pathlib.Path(path)
    problems: list[str] = []
    records: list[tuple[int, Any]] = []
    if path.suffix.lower() in (".tsv", ".csv"):
        if not path.is_file():
            raise TaskDataError(f"file {str(path)!r} does not exist")
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(
                handle, delimiter="\t" if path.suffix.lower() == ".tsv" else ","
            )
            missing = {"id", "title", "text"} - set(reader.fieldnames or ())
            if missing:
                raise TaskDataError(f"{path}:1: the header lacks the column(s) {sorted(missing)}")
            records = [(n, dict(row)) for n, row in enumerate(reader, start=2)]
    else:
        records = _json_lines(path)
    pages: list[Page] = []
    first: dict[str, int] = {}
    for lineno, data in records:
        where = f"{path}:{lineno}"
        if isinstance(data, str):
            problems.append(f"{where}: {data}")
            continue
        if not isinstance(data, dict):
            problems.append(f"{where}: expected a JSON object, got {type(data).__name__}")
            continue
        try:
            record = CorpusRecord.model_validate(data)
        except ValidationError as exc:
            problems += _errors(where, exc)
            continue
        if record.id in first:
            problems.append(f"{where}: field 'id': duplicate id {record.id!r} "
                            f"(first on line {first[record.id]})")  # fmt: skip
            continue
        first[record.id] = lineno
        pages.append(Page(record.id, record.title, record.text))
    if problems:
        raise TaskDataError(f"{len(problems)} problem(s) in {path}:\n" + "\n".join(problems[:50]))
    if not pages:
        raise TaskDataError(f"{path} holds no pages; write one {{id, title, text}} per line")
    return pages


def load_qa(
    tasks_path: str | pathlib.Path, corpus_path: str | pathlib.Path | None = None
) -> tuple[Corpus, tuple[QATask, ...]]:
    """Load questions (NQ-open or HotpotQA style, per line) and the corpus they are asked over.

    The corpus is the pages of ``corpus_path`` plus every HotpotQA ``context`` paragraph whose
    title no page has. Supporting facts (by title) become page ids.

    Raises:
        TaskDataError: naming the file, line and field of every problem, a supporting title no
            page has, or an empty corpus.
    """
    path = pathlib.Path(tasks_path)
    pages = load_corpus(corpus_path) if corpus_path is not None else []
    by_title: dict[str, str] = {}
    for page in pages:
        by_title.setdefault(page.title, page.page_id)
    ids = {page.page_id for page in pages}
    tasks: list[QATask] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, data in _json_lines(path):
        where = f"{path}:{lineno}"
        if isinstance(data, str):
            problems.append(f"{where}: {data}")
            continue
        if not isinstance(data, dict):
            problems.append(f"{where}: expected a JSON object, got {type(data).__name__}")
            continue
        hotpot = "supporting_facts" in data or "context" in data
        try:
            record = (HotpotRecord if hotpot else NQRecord).model_validate(data)
        except ValidationError as exc:
            problems += _errors(where, exc)
            continue
        task_id = record.id or f"{path.stem}/{lineno}"
        if task_id in seen:
            problems.append(f"{where}: field 'id': duplicate id {task_id!r} "
                            f"(first on line {seen[task_id]})")  # fmt: skip
            continue
        seen[task_id] = lineno
        if isinstance(record, HotpotRecord):
            for title, sentences in record.context:
                if title not in by_title:
                    by_title[title] = title
                    ids.add(title)
                    pages.append(Page(title, title, " ".join(s.strip() for s in sentences)))
            support: list[str] = []
            for title, _ in record.supporting_facts:
                if title not in by_title:
                    problems.append(f"{where}: field 'supporting_facts': no page is titled "
                                    f"{title!r} (give it in context or in the corpus file)")  # fmt: skip
                elif by_title[title] not in support:
                    support.append(by_title[title])
            kind = record.type if record.type in ("bridge", "comparison") else "open"
            tasks.append(QATask(task_id, record.question, (record.answer,), kind, tuple(support),
                                tuple(t for t in dict.fromkeys(t for t, _ in record.supporting_facts))))  # fmt: skip
        else:
            unknown = [p for p in record.supporting if p not in ids]
            if unknown and corpus_path is not None:
                problems.append(f"{where}: field 'supporting': unknown page id(s) {unknown}")
            kind = record.kind or ("open" if record.answers else "unanswerable")
            titles = tuple(p.title for p in pages if p.page_id in set(record.supporting))
            tasks.append(QATask(task_id, record.question, tuple(record.answers), kind,
                                tuple(record.supporting), titles))  # fmt: skip
    if problems:
        raise TaskDataError(f"{len(problems)} problem(s) in {path}:\n" + "\n".join(problems[:50]))
    if not tasks:
        raise TaskDataError(f"{path} holds no questions; write one JSON object per line")
    if not pages:
        raise TaskDataError(
            f"no corpus for {path}: pass corpus_path=<id,title,text file> or give HotpotQA "
            "context paragraphs"
        )
    return Corpus.of(pages), tuple(tasks)


def sample_paths() -> tuple[str, str]:
    """The shipped hand-written sample: ``(tasks_path, corpus_path)``."""
    root = resources.files("rewardgym.envs.search") / "data"
    return str(root / "sample_tasks.jsonl"), str(root / "sample_corpus.jsonl")
