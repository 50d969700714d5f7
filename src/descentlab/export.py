"""`descentlab export`: the gradebook's final scores as CSV for nbgrader, Canvas or Moodle.

- ``nbgrader``: `nbgrader export`'s own CSV (one row per learner and assignment).
- ``canvas``: the layout Canvas's gradebook import reads: ``Student, ID, SIS User ID, SIS
  Login ID, Section`` then one column per assignment, and Canvas's "Points Possible" row.
  ``ID`` is the Canvas user id that `descentlab collect` read from the submission download;
  ``SIS User ID`` is the nbgrader student id.
- ``moodle``: a grade-import CSV: ``Identifier`` ("Participant <id>" from a Moodle
  download, as Moodle's grading worksheet writes it), ``Full name``, ``Email address``,
  ``ID number`` (the nbgrader student id), then one grade column per assignment.

The score is nbgrader's: raw score minus the late penalty, never below 0; a learner with no
submission gets 0. Names come from learners (LMS downloads), so a cell a spreadsheet would
run as a formula (starting with ``= + - @``) is written with a leading apostrophe.
"""
from __future__ import annotations

import argparse
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from .atomicfile import write_text
from .course import Course, CourseError, find_course, resolve_lesson_id

FORMATS = ("nbgrader", "canvas", "moodle")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class LearnerGrades:
    student_id: str
    first_name: str
    last_name: str
    email: str
    lms_id: str
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.student_id


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _number(value: float) -> str:
    return f"{round(value, 4):g}"


def read_grades(gradebook, assignments: list[str] | None = None) -> tuple[dict[str, float], list[LearnerGrades]]:
    """(assignment -> max score, every learner's final score per assignment)."""
    from nbgrader.api import MissingEntry

    chosen = [a for a in gradebook.assignments if not assignments or a.name in assignments]
    maxima = {a.name: float(a.max_score) for a in chosen}
    learners = []
    for student in gradebook.students:
        row = LearnerGrades(student.id, student.first_name or "", student.last_name or "", student.email or "",
                            student.lms_user_id or "")
        for assignment in chosen:
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:
                row.scores[assignment.name] = 0.0
                continue
            penalty = float(submission.late_submission_penalty or 0.0)
            row.scores[assignment.name] = max(0.0, float(submission.score) - penalty)
        learners.append(row)
    return maxima, learners


def canvas_csv(maxima: dict[str, float], learners: list[LearnerGrades]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *maxima])
    writer.writerow(["    Points Possible", "", "", "", "", *(_number(m) for m in maxima.values())])
    for learner in learners:
        name = ", ".join(p for p in (learner.last_name, learner.first_name) if p) or learner.student_id
        writer.writerow([safe_cell(name), safe_cell(learner.lms_id), safe_cell(learner.student_id), "", "",
                         *(_number(learner.scores[a]) for a in maxima)])
    return out.getvalue()


def moodle_csv(maxima: dict[str, float], learners: list[LearnerGrades]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Identifier", "Full name", "Email address", "ID number", *maxima])
    for learner in learners:
        identifier = f"Participant {learner.lms_id}" if learner.lms_id else ""
        writer.writerow([safe_cell(identifier), safe_cell(learner.full_name), safe_cell(learner.email),
                         safe_cell(learner.student_id), *(_number(learner.scores[a]) for a in maxima)])
    return out.getvalue()


def export(course: Course, fmt: str, to: Path | None = None, db_url: str | None = None,
           assignments: list[str] | None = None) -> Path:
    from .grade.gradebook import course_settings, export_csv, open_gradebook

    if fmt not in FORMATS:
        raise CourseError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    settings = course_settings(course)
    path = Path(to or course.autograder / ("grades.csv" if fmt == "nbgrader" else f"grades-{fmt}.csv"))
    gradebook = open_gradebook(db_url or settings.db_url, settings.course_id)
    try:
        if fmt == "nbgrader":
            if assignments:
                raise CourseError("--assignment is for the canvas and moodle formats; nbgrader's CSV has every assignment")
            export_csv(gradebook, path)
            return path
        maxima, learners = read_grades(gradebook, assignments)
    finally:
        gradebook.close()
    if not maxima:
        raise CourseError("the gradebook has no assignments yet: run `descentlab grade ID` first")
    write_text(path, (canvas_csv if fmt == "canvas" else moodle_csv)(maxima, learners))
    return path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write the grades as CSV for nbgrader, Canvas or Moodle (instructor)",
        description="Write the gradebook's final scores (late penalties applied) as nbgrader's "
        "CSV, or in the column layout a Canvas or Moodle gradebook import expects.",
    )
    parser.add_argument("--format", choices=FORMATS, default="nbgrader")
    parser.add_argument("--to", type=Path, default=None,
                        help="output file (default autograder/grades.csv or autograder/grades-<format>.csv)")
    parser.add_argument("--assignment", action="append", default=None, metavar="ID",
                        help="only this assignment (repeatable; canvas and moodle formats)")
    parser.add_argument("--db", default=None, help="gradebook URL (default: nbgrader_config.py's)")
    parser.add_argument("--course", type=Path, default=None, help="course repository (default: this one)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    course = find_course(args.course or Path.cwd())
    course.require_checkout("descentlab export")
    assignments = [resolve_lesson_id(a) for a in args.assignment] if args.assignment else None
    path = export(course, args.format, args.to, args.db, assignments)
    print(f"wrote {path}")
    return 0
