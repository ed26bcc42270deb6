"""The synthetic world: determinism, and properties of its questions over many seeds."""

from __future__ import annotations

import collections

import pytest

from rewardgym.envs.search import generate_world, normalize_answer
from rewardgym.envs.search.world import OCCUPATIONS

SEEDS = range(30)


def _world(seed):
    return generate_world(seed, n_pages=300, questions_per_kind=25)


def test_same_seed_gives_an_identical_world():
    a, b = generate_world(7, 500, 40), generate_world(7, 500, 40)
    assert a.corpus.pages == b.corpus.pages
    assert a.tasks == b.tasks
    assert a.corpus.content_hash() == b.corpus.content_hash()


def test_different_seeds_give_different_worlds():
    assert generate_world(1, 300, 10).corpus.content_hash() != (
        generate_world(2, 300, 10).corpus.content_hash()
    )


def test_world_has_every_question_kind_and_distractors():
    world = generate_world(0, 2000, 50)
    kinds = collections.Counter(t.kind for t in world.tasks)
    assert kinds == {"single-hop": 50, "bridge": 50, "comparison": 50, "unanswerable": 50}
    ids = [p.page_id for p in world.corpus.pages]
    assert len(ids) == len(set(ids)) and 1900 <= len(ids) <= 2100
    assert any(i.startswith("letters-") for i in ids)
    assert any("(" in p.title for p in world.corpus.pages), "no namesakes were drawn"
    assert len({t.task_id for t in world.tasks}) == len(world.tasks)


def _norm_text(world, page_ids):
    return " " + normalize_answer(" ".join(world.corpus.get(p).text for p in page_ids)) + " "


@pytest.mark.parametrize("seed", SEEDS)
def test_every_answer_is_derivable_from_its_supporting_pages(seed):
    world = _world(seed)
    for task in world.tasks:
        if task.kind == "unanswerable":
            continue
        assert task.supporting and all(p in world.corpus for p in task.supporting)
        gold = f" {normalize_answer(task.answers[0])} "
        pages = [world.corpus.get(p) for p in task.supporting]
        if task.kind == "single-hop":
            assert gold in _norm_text(world, task.supporting[:1]), task
        elif task.kind == "bridge":
            # hop 1 names the bridge entity, hop 2 states the answer
            bridge = normalize_answer(task.subjects[1].split(" (")[0])
            assert f" {bridge} " in _norm_text(world, task.supporting[:1]), task
            assert gold in _norm_text(world, task.supporting[1:]), task
        else:  # comparison: the answer is one of the two, and both pages state a year
            assert gold in _norm_text(world, task.supporting), task
            for page in pages:
                assert any(tok.isdigit() and len(tok) in (3, 4) for tok in page.text.split()) or (
                    any(ch.isdigit() for ch in page.text)
                ), page


@pytest.mark.parametrize("seed", SEEDS)
def test_unanswerable_questions_have_no_answer_in_the_corpus(seed):
    world = _world(seed)
    texts = [normalize_answer(p.text) for p in world.corpus.pages]
    unanswerable = [t for t in world.tasks if t.kind == "unanswerable"]
    assert unanswerable
    for task in unanswerable:
        assert task.answers == () and task.supporting == ()
        name, value = world.withheld[task.task_id]
        name_n = f" {normalize_answer(name)} "
        if value is None:  # an absent entity: no page names it
            assert not any(name_n in f" {t} " for t in texts), task
            assert name not in {p.title for p in world.corpus.pages}
        else:  # a withheld fact: no page that names the entity states the value
            value_n = f" {normalize_answer(value)} "
            assert not any(name_n in f" {t} " and value_n in f" {t} " for t in texts), task


def test_namesakes_are_told_apart_by_occupation():
    world = generate_world(3, 3000, 10)
    by_name = collections.defaultdict(list)
    for e in world.entities:
        if e.kind == "person":
            by_name[e.name].append(e)
    shared = [group for group in by_name.values() if len(group) > 1]
    assert shared
    for group in shared:
        occupations = [e.attrs["occupation"] for e in group]
        assert len(set(occupations)) == len(occupations)
        assert all(o in OCCUPATIONS for o in occupations)
        assert len({e.title for e in group}) == len(group)


@pytest.mark.slow
def test_world_scales_to_100k_pages():
    world = generate_world(0, 100_000, 20)
    assert len(world.corpus) >= 100_000 * 0.99
    assert len({p.page_id for p in world.corpus.pages}) == len(world.corpus)
