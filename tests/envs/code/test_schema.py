"""The JSONL task schema: valid files load, invalid ones fail naming the line and the field."""

from __future__ import annotations

import copy
import json

import pytest

from rewardgym.envs.code import load_jsonl
from rewardgym.errors import TaskDataError


def _write(tmp_path, records, name="tasks.jsonl"):
    path = tmp_path / name
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_valid_file_loads_every_field(user_tasks_path):
    tasks = load_jsonl(user_tasks_path)
    assert [t.task_id for t in tasks] == ["user/add-pairs", "user/is-even"]
    first = tasks[0]
    assert first.entry_point == "add_pairs"
    assert first.difficulty == "easy" and first.tags == ("lists",)
    assert first.time_limit_s == 2.0
    assert [t.id for t in first.tests] == ["t01", "t02", "t03", "t04"]
    assert [t.id for t in first.visible_tests] == ["t01"]
    assert [t.id for t in first.hidden_tests] == ["t02", "t03", "t04"]
    assert tasks[1].setup.startswith("import math")
    assert tasks[1].difficulty is None and tasks[1].time_limit_s == 3.0  # defaults
    assert first.source == "jsonl"


def _broken(records, **changes):
    record = copy.deepcopy(records[0])
    for key, value in changes.items():
        if value is None:
            record.pop(key)
        else:
            record[key] = value
    return record


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"entry_point": "not an identifier"}, "entry_point", "identifier"),
        ({"difficulty": "trivial"}, "difficulty", "easy"),
        ({"time_limit_s": 0}, "time_limit_s", "greater than 0"),
        ({"prompt": None}, "prompt", "required"),
        ({"tests": []}, "tests", "at least 1"),
        ({"setup": "def broken(:"}, "setup", "not valid Python"),
        ({"colour": "blue"}, "colour", "Extra inputs"),
        ({"starter_code": "def other():\n    pass"}, "(task)", "does not define entry_point"),
        ({"reference_solution": "x = 1"}, "(task)", "reference_solution does not define"),
    ],
)
def test_invalid_field_is_named_with_its_line(tmp_path, changes, field, words, user_tasks):
    path = _write(tmp_path, [user_tasks[1], _broken(user_tasks, **changes)])
    with pytest.raises(TaskDataError) as caught:
        load_jsonl(path)
    message = str(caught.value)
    assert f"{path}:2: field {field!r}" in message
    assert words in message


def test_test_level_errors_name_the_test_index(tmp_path, user_tasks):
    record = _broken(user_tasks)
    record["tests"][2] = {"id": "t03", "code": "assert 1 == 1"}  # never calls candidate
    path = _write(tmp_path, [record])
    with pytest.raises(TaskDataError, match=r":1: field 'tests.2.code': .*candidate"):
        load_jsonl(path)


def test_all_visible_tests_are_refused(tmp_path, user_tasks):
    record = _broken(user_tasks)
    for test in record["tests"]:
        test["visible"] = True
    with pytest.raises(TaskDataError, match="mark at least one test hidden"):
        load_jsonl(_write(tmp_path, [record]))


def test_duplicate_ids_are_refused(tmp_path, user_tasks):
    record = _broken(user_tasks)
    record["tests"][1]["id"] = "t01"
    with pytest.raises(TaskDataError, match=r"duplicate test ids \['t01'\]"):
        load_jsonl(_write(tmp_path, [record]))
    with pytest.raises(TaskDataError, match=r":3: field 'task_id': duplicate id .*first on line 1"):
        load_jsonl(_write(tmp_path, [user_tasks[0], "", user_tasks[0]]))


def test_bad_json_missing_and_empty_files(tmp_path, user_tasks):
    with pytest.raises(TaskDataError, match=r":2: not valid JSON"):
        load_jsonl(_write(tmp_path, [user_tasks[0], "{not json"]))
    with pytest.raises(TaskDataError, match="expected a JSON object"):
        load_jsonl(_write(tmp_path, ["[1, 2]"]))
    with pytest.raises(TaskDataError, match="does not exist"):
        load_jsonl(tmp_path / "nope.jsonl")
    with pytest.raises(TaskDataError, match="holds no tasks"):
        load_jsonl(_write(tmp_path, [""]))


def test_every_problem_of_a_file_is_reported_at_once(tmp_path, user_tasks):
    path = _write(
        tmp_path,
        [_broken(user_tasks, difficulty="x"), user_tasks[1], _broken(user_tasks, entry_point="1x")],
    )
    with pytest.raises(TaskDataError) as caught:
        load_jsonl(path)
    assert ":1: field 'difficulty'" in str(caught.value)
    assert ":3: field 'entry_point'" in str(caught.value)
