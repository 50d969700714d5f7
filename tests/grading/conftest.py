"""Fixtures for the grader's tests: private course copies with submissions in them.

A course copy (config + one assignment's source + its generated exercises + a gradebook
with the assignment registered) is made once per assignment and session, then copied for
each test, so tests never touch the repository's autograder/.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from grading_support import make_course
from gradehelp import EX01

from descentlab.grade.sandbox import probe


@pytest.fixture(scope="session")
def bwrap_available() -> bool:
    mode, why = probe([Path("/nonexistent-course")])
    if mode != "bwrap":
        pytest.fail(f"the grader's sandbox cannot start here: {why} (make system-packages installs bubblewrap)")
    return True


@pytest.fixture(scope="session")
def course_templates(tmp_path_factory):
    made: dict[str, Path] = {}

    def template(assignment_id: str) -> Path:
        if assignment_id not in made:
            made[assignment_id] = make_course(tmp_path_factory.mktemp(f"tpl-{assignment_id[:2]}"), assignment_id)
        return made[assignment_id]

    return template


@pytest.fixture
def course_copy(course_templates, tmp_path):
    def copy(assignment_id: str = EX01) -> Path:
        root = tmp_path / "course"
        shutil.copytree(course_templates(assignment_id), root, symlinks=True)
        # nbgrader_config.py computes its root from its own location: the copy is self-contained.
        return root

    return copy


