"""Deadlines and late penalties: `descentlab grade` applies the course's nbgrader plugin
(10 % per started day, at most 50 %) exactly as real `nbgrader autograde` does.

The same four submissions (on time, 3 hours late, 2 days and 1 hour late, 3 weeks late)
with real timestamp.txt files are graded by both in two copies of the course; the
gradebook penalties must agree with each other and with the rule, and the CSV must show
them."""
from __future__ import annotations

import csv
import shutil
from datetime import datetime, timedelta

import pytest
from grading_support import nbgrader
from gradehelp import EX01, grade, submit
from nbgrader.api import Gradebook

from descentlab.course import Course, CourseError
from descentlab.grade.late import read_deadlines

DEADLINE = datetime(2026, 3, 1, 23, 59)
LATE_BY = {"ontime": -timedelta(hours=1), "hours": timedelta(hours=3),
           "days": timedelta(days=2, hours=1), "weeks": timedelta(weeks=3)}
PERCENT = {"ontime": 0, "hours": 10, "days": 30, "weeks": 50}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _penalties(root) -> dict[str, tuple[float, float]]:
    with Gradebook("sqlite:///" + str(root / "autograder" / "gradebook.db")) as gradebook:
        return {s: (float(gradebook.find_submission(EX01, s).late_submission_penalty or 0.0),
                    float(gradebook.find_submission(EX01, s).score)) for s in LATE_BY}


def test_late_penalties_match_nbgrader_and_reach_the_csv(course_copy, bwrap_available, tmp_path):
    root = course_copy()
    (root / "autograder" / "deadlines.yml").write_text(f"{EX01}: {_stamp(DEADLINE)[:19]} UTC\n")
    for student, delta in LATE_BY.items():
        folder = submit(root, student)
        (folder / "timestamp.txt").write_text(_stamp(DEADLINE + delta))
    twin = tmp_path / "nbgrader-course"
    shutil.copytree(root, twin, symlinks=True)
    nbgrader(twin, "db", "assignment", "add", EX01, f"--duedate={_stamp(DEADLINE)[:19]} UTC")
    nbgrader(twin, "autograde", EX01, "--force")

    summary = grade(root)
    ours, theirs = _penalties(root), _penalties(twin)
    assert ours == theirs, (ours, theirs)
    for student, percent in PERCENT.items():
        raw = summary.by_student()[student].score
        assert raw > 0
        assert ours[student][0] == pytest.approx(raw * percent / 100), (student, ours[student], raw)
    assert any("late penalty" in m for m in summary.by_student()["days"].messages)

    rows = {r["student_id"]: r for r in csv.DictReader(summary.csv_path.open())}
    for student, percent in PERCENT.items():
        row = rows[student]
        assert float(row["late_submission_penalty"]) == pytest.approx(float(row["raw_score"]) * percent / 100)
        assert float(row["score"]) == pytest.approx(float(row["raw_score"]) * (1 - percent / 100))


def test_a_bad_deadline_names_the_file_and_assignment(tmp_path):
    (tmp_path / "autograder").mkdir()
    (tmp_path / "autograder" / "deadlines.yml").write_text(f"{EX01}: next tuesday-ish\n")
    with pytest.raises(CourseError, match=rf"deadlines.yml: {EX01}: cannot read the deadline"):
        read_deadlines(Course(tmp_path))
