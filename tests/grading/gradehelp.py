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



