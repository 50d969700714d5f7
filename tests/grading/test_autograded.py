"""`descentlab grade` leaves autograder/autograded/ as `nbgrader autograde` does, so the rest
of nbgrader (formgrader, generate_feedback, export) works on a round graded by descentlab.

The same three submissions (full marks with a written answer, one wrong function with its
test cell and a read-only cell tampered with, untouched) go through real `nbgrader
autograde` in one copy of the course and `descentlab grade` in another; the autograded
notebooks must agree cell by cell, then real `nbgrader generate_feedback` and `nbgrader
export` run on the descentlab round.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nbformat
from grading_support import nbgrader, read_scores, read_written
from gradehelp import EX01, NB01, STUB, grade, submit

WRONG_MAE = "def mae(y_pred, y_true):\n    return 0.0\n"
TIMESTAMPS = {"ada": "2026-01-10 09:00:00.000000 UTC", "bob": "2026-01-11 10:30:00.000000 UTC",
              "cy": "2026-01-12 12:00:00.000000 UTC"}


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _submit_three(root: Path) -> None:
    submit(root, "ada")
    folder = submit(root, "bob", {"mae": WRONG_MAE})
    path = folder / f"{NB01}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # bob empties mae's test cell and edits a read-only cell
        if _meta(cell).get("grade_id") == "test_mae":
            cell.source = "pass"
        elif _meta(cell).get("locked") and not _meta(cell).get("grade"):
            cell.source = "# edited by the learner\n" + cell.source
    nbformat.write(nb, path)
    submit(root, "cy", {gid: STUB for gid in _answer_ids(root)})
    for student, stamp in TIMESTAMPS.items():
        (root / "autograder" / "submitted" / student / EX01 / "timestamp.txt").write_text(stamp)


def _answer_ids(root: Path) -> list[str]:
    nb = nbformat.read(root / "solutions" / EX01 / f"{NB01}.ipynb", as_version=4)
    return [_meta(c)["grade_id"] for c in nb.cells if _meta(c).get("solution")]


def _autograded(root: Path, student: str):
    return nbformat.read(root / "autograder" / "autograded" / student / EX01 / f"{NB01}.ipynb", as_version=4)


def _shape(nb) -> list[tuple]:
    """What nbgrader's tools read from an autograded notebook: per cell, its type, source,
    nbgrader metadata and whether it shows an error."""
    return [(c.cell_type, c.source, _meta(c),
             any(o.get("output_type") == "error" for o in c.get("outputs", [])))
            for c in nb.cells]


def test_autograded_notebooks_match_nbgrader_and_feed_its_tools(course_copy, bwrap_available, tmp_path):
    root = course_copy()
    _submit_three(root)
    twin = tmp_path / "nbgrader-course"
    shutil.copytree(root, twin, symlinks=True)
    nbgrader(twin, "autograde", EX01, "--force")

    summary = grade(root)
    assert {o.student: o.status for o in summary.outcomes} == dict.fromkeys(TIMESTAMPS, "graded")

    source = nbformat.read(root / "solutions" / EX01 / f"{NB01}.ipynb", as_version=4)
    hidden = {_meta(c)["grade_id"]: c.source for c in source.cells if _meta(c).get("grade") and c.cell_type == "code"}
    for student in TIMESTAMPS:
        ours, theirs = _autograded(root, student), _autograded(twin, student)
        assert _shape(ours) == _shape(theirs), f"{student}: autograded notebook differs from nbgrader's"
        by_id = {_meta(c).get("grade_id"): c for c in ours.cells}
        for grade_id, text in hidden.items():  # test cells restored, hidden tests included
            assert by_id[grade_id].source == text and "### BEGIN HIDDEN TESTS" in text
        stamp = root / "autograder" / "autograded" / student / EX01 / "timestamp.txt"
        assert stamp.read_text() == TIMESTAMPS[student]
        assert read_scores(root, EX01, student) == read_scores(twin, EX01, student)
        assert read_written(root, EX01, student) == read_written(twin, EX01, student)

    failing = _autograded(root, "bob")
    mae_test = next(c for c in failing.cells if _meta(c).get("grade_id") == "test_mae")
    error = next(o for o in mae_test.outputs if o.output_type == "error")
    assert "mae" in error.evalue, error
    assert "edited by the learner" not in json.dumps(failing.cells)

    nbgrader(root, "generate_feedback", EX01, "--force")
    for student in TIMESTAMPS:
        page = (root / "autograder" / "feedback" / student / EX01 / f"{NB01}.html").read_text()
        assert "BEGIN HIDDEN TESTS" not in page, "nbgrader's feedback shows hidden tests"
        assert "test_mae" in page
    nbgrader(root, "export", "--to", str(tmp_path / "grades.csv"))
    rows = {r["student_id"]: r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    for student in TIMESTAMPS:
        tests = sum(s for s, _ in read_scores(root, EX01, student).values())
        assert float(rows[student]["raw_score"]) == tests == summary.by_student()[student].score
    written_points = sum(2.0 for _ in read_written(root, EX01, "ada"))
    assert float(rows["ada"]["max_score"]) == summary.by_student()["ada"].max_score + written_points
    assert float(rows["bob"]["raw_score"]) < float(rows["ada"]["raw_score"])
