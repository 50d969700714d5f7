"""The gradebook on a real PostgreSQL server: a `descentlab grade` round, a re-run that keeps
the verdicts, and real `nbgrader export` against ``postgresql://`` (sqlite stays the default).

The server is private to the test (see tests/postgres_server.py). Where PostgreSQL or its
driver cannot be installed the test is skipped with a loud message saying what to install.
"""
from __future__ import annotations

import csv

import pytest
from grading_support import nbgrader
from gradehelp import EX01, grade, submit
from nbgrader.api import Gradebook
from postgres_server import MISSING, postgres_server, unavailable

WHY = unavailable()


@pytest.fixture(scope="module")
def postgres_url():
    if WHY:
        print(MISSING.format(why=WHY))
        pytest.skip(MISSING.format(why=WHY))
    with postgres_server() as url:
        yield url


def test_a_round_on_postgresql(postgres_url, course_copy, bwrap_available, tmp_path):
    root = course_copy()
    submit(root, "ada")
    submit(root, "bob", {"mae": "def mae(y_pred, y_true):\n    return 0.0\n"})
    (root / "autograder" / "submitted" / "bob" / EX01 / "timestamp.txt").write_text("2026-01-10 09:00:00.000000 UTC")

    summary = grade(root, db_url=postgres_url)
    scores = {o.student: o.score for o in summary.outcomes}
    assert scores["ada"] > scores["bob"] > 0
    with Gradebook(postgres_url, "descentlab") as gradebook:
        assert {s.id for s in gradebook.students} == {"ada", "bob"}
        assert {s: gradebook.find_submission(EX01, s).score for s in scores} == scores
        assert str(gradebook.find_submission(EX01, "bob").timestamp).startswith("2026-01-10 09:00:00")
    again = grade(root, db_url=postgres_url)  # unchanged work: kept, not graded again
    assert all(o.reused for o in again.outcomes)
    with Gradebook("sqlite:///" + str(root / "autograder" / "gradebook.db"), "descentlab") as default:
        assert not default.students, "the round wrote the sqlite default gradebook too"

    nbgrader(root, "export", f"--CourseDirectory.db_url={postgres_url}", "--to", str(tmp_path / "pg.csv"))
    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader((tmp_path / "pg.csv").open())}
    assert rows == scores
