"""Collect -> grade -> export: LMS downloads in, Canvas and Moodle gradebook CSVs out, with
the same final scores as nbgrader's own CSV."""
from __future__ import annotations

import csv
import io
import zipfile

from grading_support import write_submission
from gradehelp import EX01, NB01, grade

from descentlab.collect import collect
from descentlab.course import Course
from descentlab.export import export
from descentlab.report import render

WRONG_MAE = {"mae": "def mae(y_pred, y_true):\n    return 0.0\n"}


def _notebook(root, student, replacements) -> bytes:
    folder = write_submission(root, EX01, f"tmp-{student}", replacements)
    data = (folder / f"{NB01}.ipynb").read_bytes()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    folder.parent.rmdir()
    return data


def _rows(path) -> list[dict]:
    return list(csv.DictReader(path.open(newline="")))


def test_lms_downloads_in_canvas_and_moodle_csvs_out(course_copy, bwrap_available, tmp_path):
    root = course_copy()
    course = Course(root)
    canvas = io.BytesIO()
    with zipfile.ZipFile(canvas, "w") as archive:
        archive.writestr(f"lovelaceada_1001_5001_{NB01}.ipynb", _notebook(root, "a", {}))
        archive.writestr(f"hopper_1002_5002_{NB01}.ipynb", _notebook(root, "b", WRONG_MAE))
    (tmp_path / "canvas.zip").write_bytes(canvas.getvalue())
    moodle = io.BytesIO()
    with zipfile.ZipFile(moodle, "w") as archive:
        archive.writestr(f"=HYPERLINK(evil)_80_assignsubmission_file_/{NB01}.ipynb", _notebook(root, "c", {}))
    (tmp_path / "moodle.zip").write_bytes(moodle.getvalue())
    report = collect(course, [tmp_path / "canvas.zip", tmp_path / "moodle.zip"])
    assert sorted(s.student for s in report.collected) == ["hopper", "hyperlink_evil", "lovelaceada"], report.format()

    summary = grade(root)
    final = {o.student: o.score for o in summary.outcomes}
    assert final["lovelaceada"] > final["hopper"]

    theirs = {r["student_id"]: float(r["score"]) for r in _rows(export(course, "nbgrader", tmp_path / "nb.csv"))}
    assert theirs == final

    rows = _rows(export(course, "canvas", tmp_path / "canvas.csv"))
    assert list(rows[0])[:6] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", EX01]
    assert rows[0]["Student"].strip() == "Points Possible"
    assert float(rows[0][EX01]) == summary.by_student()["hopper"].max_score + 2  # + the written answer
    by_id = {r["ID"]: r for r in rows[1:]}
    assert float(by_id["1001"][EX01]) == final["lovelaceada"] and by_id["1001"]["SIS User ID"] == "lovelaceada"
    assert float(by_id["1002"][EX01]) == final["hopper"]

    rows = _rows(export(course, "moodle", tmp_path / "moodle.csv"))
    assert list(rows[0])[:5] == ["Identifier", "Full name", "Email address", "ID number", EX01]
    hostile = next(r for r in rows if r["Identifier"] == "Participant 80")
    assert hostile["Full name"].startswith("'=") and float(hostile[EX01]) == final["hyperlink_evil"]
    assert {r["ID number"]: float(r[EX01]) for r in rows} == final

    # The class report on the same real round: every test cell has a pass rate, and the one
    # mistake (mae returning 0.0) is listed under mae.
    page = render(course, EX01)
    assert "data:image/png;base64," in page and "<h3>mae</h3>" in page and "test_mse" in page
