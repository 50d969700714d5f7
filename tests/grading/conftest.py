"""Fixtures for the grader's tests: private course copies with submissions in them.

A course copy (config + one assignment's source + its generated exercises + a gradebook
with the assignment registered) comes from ``grading_support.make_course``, which generates
each assignment once per process and copies it for each test, so tests never touch the
repository's autograder/.
"""
from __future__ import annotations

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


@pytest.fixture
def course_copy(tmp_path):
    def copy(assignment_id: str = EX01) -> Path:
        # make_course generates each assignment once per process and copies it here.
        return make_course(tmp_path, assignment_id)

    return copy


