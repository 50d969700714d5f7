"""Helpers for the grader's tests: write submissions, run a round, read the verdicts."""
from __future__ import annotations

import json
from pathlib import Path

from grading_support import STUB, reference_sources, write_submission  # noqa: F401

from descentlab.course import Course
from descentlab.grade.round import GradeOptions, grade_assignment

EX01 = "01_objective_functions"
NB01 = f"{EX01}_exercise"


def submit(root: Path, student: str, replacements: dict | None = None, assignment_id: str = EX01) -> Path:
    return write_submission(root, assignment_id, student, replacements or {})


def submit_raw(root: Path, student: str, content: bytes | str, name: str = f"{NB01}.ipynb",
               assignment_id: str = EX01) -> Path:
    folder = root / "autograder" / "submitted" / student / assignment_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def learner_notebook(root: Path, assignment_id: str = EX01) -> dict:
    return json.loads((root / "exercises" / assignment_id / f"{assignment_id}_exercise.ipynb").read_text())


def grade(root: Path, assignment_id: str = EX01, **options):
    options.setdefault("progress", False)
    options.setdefault("timeout", 60.0)
    return grade_assignment(Course(root), assignment_id, GradeOptions(**options))


def state_dir(root: Path, assignment_id: str = EX01) -> Path:
    """Where the grader keeps its verdicts for ``assignment_id`` in the course at ``root``."""
    return Course(root).grader_state / assignment_id


def stored_result(root: Path, student: str, assignment_id: str = EX01) -> dict:
    return json.loads((state_dir(root, assignment_id) / f"{student}.json").read_text())


def scores_of(result: dict) -> dict[str, float]:
    return {t["grade_id"]: t["score"] for nb in result["notebooks"].values() for t in nb["tests"]}


FULL = 14.0  # exercise 01's points

# Every way one learner's process could leave something for the next: a module attribute
# (numpy's, builtins', a module planted in sys.modules), the environment, a file in any
# folder it might write to, a process left behind serving an abstract unix socket.
PLANT = '''
import builtins as _b, os as _os, socket as _socket, sys as _sys, types as _types
import numpy as _np
_np._descentlab_leak = "planted"
_b._descentlab_leak = "planted"
_sys.modules["descentlab_leak"] = _types.ModuleType("descentlab_leak")
_os.environ["DESCENTLAB_LEAK"] = "planted"
for _d in ["/tmp", _os.path.expanduser("~"), "/dev/shm", "/var/tmp", "/", "/opt", "/home", "/opt/venv",
           _os.path.dirname(_np.__file__), _os.getcwd()]:
    try:
        with open(_os.path.join(_d, "descentlab_leak"), "w") as _f:
            _f.write("planted")
    except OSError:
        pass
_server = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
try:
    _server.bind("\\0descentlab-leak")
    _server.listen(1)
    if _os.fork() == 0:
        import time as _t
        while True:
            _t.sleep(1)
except OSError:
    pass
'''

FIND = '''
def _leaks():
    import builtins, os, socket, sys
    import numpy as np
    found = []
    if getattr(np, "_descentlab_leak", None):
        found.append("numpy attribute")
    if getattr(builtins, "_descentlab_leak", None):
        found.append("builtins attribute")
    if "descentlab_leak" in sys.modules:
        found.append("sys.modules")
    if os.environ.get("DESCENTLAB_LEAK"):
        found.append("environment")
    for d in ["/tmp", os.path.expanduser("~"), "/dev/shm", "/var/tmp", "/", "/opt", "/home", "/opt/venv",
              os.path.dirname(np.__file__), os.getcwd()]:
        if os.path.exists(os.path.join(d, "descentlab_leak")):
            found.append("file in " + d)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect("\\0descentlab-leak")
        found.append("abstract socket")
    except OSError:
        pass
    return found
'''


def mae_that_reports_leaks(root: Path) -> str:
    """Exercise 01's mae, raising with every channel through which it finds a planted leak."""
    reference = reference_sources(root, EX01)[NB01]["mae"]
    return FIND + reference.replace("def mae(", "def _honest_mae(") + '''
def mae(y_pred, y_true):
    found = _leaks()
    if found:
        raise ValueError("LEAKED: " + ", ".join(found))
    return _honest_mae(y_pred, y_true)
'''
