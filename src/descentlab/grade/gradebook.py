"""nbgrader's gradebook, written the way `nbgrader autograde` writes it, and its CSV export.

Only the grader's main process calls these functions (workers return data), so one
process owns the database connection; any SQLAlchemy URL nbgrader accepts works.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..atomicfile import write_bytes
from ..course import Course, CourseError
from ..notebook import grade_cells
from .verdict import SubmissionVerdict


@dataclass
class CourseSettings:
    db_url: str
    course_id: str
    submitted: Path
    feedback: Path
    autograded: Path


def course_settings(course: Course) -> CourseSettings:
    """The directories and gradebook URL from the course's nbgrader_config.py."""
    from traitlets.config.loader import PyFileConfigLoader

    config_file = course.root / "nbgrader_config.py"
    try:
        config = PyFileConfigLoader(config_file.name, path=str(course.root)).load_config()
    except Exception as exc:  # noqa: BLE001 - report any config error with its file
        raise CourseError(f"{config_file}: cannot load the nbgrader configuration: {exc}") from None
    directory = config.get("CourseDirectory", {})
    root = Path(directory.get("root", course.root))

    def folder(key: str, default: str) -> Path:
        value = Path(directory.get(key, default))
        return value if value.is_absolute() else root / value

    return CourseSettings(
        db_url=directory.get("db_url", "sqlite:///" + str(root / "gradebook.db")),
        course_id=directory.get("course_id", "default_course") or "default_course",
        submitted=folder("submitted_directory", "submitted"),
        feedback=folder("feedback_directory", "feedback"),
        autograded=folder("autograded_directory", "autograded"),
    )


def open_gradebook(db_url: str, course_id: str):
    from nbgrader.api import Gradebook

    try:
        return Gradebook(db_url, course_id)
    except Exception as exc:  # noqa: BLE001 - a bad URL or an unreachable server
        raise CourseError(f"cannot open the gradebook {db_url}: {exc}") from None


def is_registered(gradebook, assignment_id: str, source_notebooks: dict[str, dict]) -> bool:
    from nbgrader.api import MissingEntry

    try:
        assignment = gradebook.find_assignment(assignment_id)
    except MissingEntry:
        return False
    found = {nb.name: {c.name: float(c.max_score) for c in nb.grade_cells} for nb in assignment.notebooks}
    return found == {name: grade_cells(nb) for name, nb in source_notebooks.items()}


def register_assignment(course: Course, assignment_id: str, db_url: str) -> None:
    """Put the assignment's cells in the gradebook through nbgrader generate_assignment (into
    a temporary release folder, so the committed exercises/ are not touched)."""
    from ..assign import generate

    with tempfile.TemporaryDirectory(prefix="descentlab-release-") as release:
        generate(course, assignment_id, release_dir=Path(release), db_url=db_url)


def record(gradebook, verdict: SubmissionVerdict, timestamp: str | None) -> None:
    """Write one submission's verdict like nbgrader autograde: the student, the submission
    (with its timestamp.txt), auto_score per grade cell, "No response." comments."""
    import warnings

    with warnings.catch_warnings():
        # nbgrader's own add_submission trips SQLAlchemy autoflush warnings; they are harmless.
        warnings.simplefilter("ignore")
        _record(gradebook, verdict, timestamp)


def _record(gradebook, verdict: SubmissionVerdict, timestamp: str | None) -> None:
    assignment_id, student = verdict.assignment, verdict.student
    cache = gradebook.__dict__.setdefault("_descentlab_cache", {})
    if "students" not in cache:
        cache["students"] = {s.id for s in gradebook.students}
    if assignment_id not in cache:  # notebook -> cell name -> cell id, loaded once
        cache[assignment_id] = {
            nb.name: {c.name: c.id for c in [*nb.grade_cells, *nb.solution_cells]}
            for nb in gradebook.find_assignment(assignment_id).notebooks
        }
    known = cache["students"]
    if student not in known:
        gradebook.update_or_create_student(student)
        known.add(student)
    if timestamp:
        submission = gradebook.update_or_create_submission(assignment_id, student, timestamp=timestamp)
    else:
        submission = gradebook.update_or_create_submission(assignment_id, student)
    # The submission's own grades and comments, by cell name: nbgrader's find_grade and
    # find_comment would run one joined query per cell (most of the time of a round).
    notebooks = {nb.name: nb for nb in submission.notebooks}
    for name, notebook in verdict.notebooks.items():
        stored = notebooks.get(name)
        if stored is None:
            continue
        by_id = cache[assignment_id].get(name, {})
        grades_by_cell = {g.cell_id: g for g in stored.grades}
        comments_by_cell = {c.cell_id: c for c in stored.comments}
        grades = {cell: grades_by_cell[i] for cell, i in by_id.items() if i in grades_by_cell}
        comments = {cell: comments_by_cell[i] for cell, i in by_id.items() if i in comments_by_cell}
        for test in notebook.tests:
            grade = grades.get(test.grade_id)
            if grade is None:
                continue
            grade.auto_score = float(test.score)
            grade.needs_manual_grade = grade.manual_score is not None
        unchanged = set(notebook.unchanged_answers)
        for answer in notebook.answer_ids:
            if answer in comments:
                comments[answer].auto_comment = "No response." if answer in unchanged else None
    gradebook.db.commit()


def export_csv(gradebook, path: Path) -> None:
    """The grades CSV exactly as `nbgrader export` writes it (nbgrader's own exporter)."""
    from nbgrader.plugins.export import CsvExportPlugin

    with tempfile.TemporaryDirectory(prefix="descentlab-export-") as folder:
        exported = Path(folder) / "grades.csv"
        CsvExportPlugin(to=str(exported)).export(gradebook)
        write_bytes(path, exported.read_bytes())
