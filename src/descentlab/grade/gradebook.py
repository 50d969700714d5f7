"""nbgrader's gradebook, written the way `nbgrader autograde` writes it, and its CSV export.

Only the grader's main process calls these functions (workers return data), so one
process owns the database connection; any SQLAlchemy URL nbgrader accepts works.
``GradebookWriter`` writes a round's verdicts; ``export_csv`` is nbgrader's own export.
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


def import_nbgrader_quickly() -> None:
    """Make ``nbgrader`` importable without running its package ``__init__``, which loads
    nbgrader's four Jupyter server extensions (jupyter_server, tornado, the exchange): a
    second or more of every round's start, for nothing the grader uses. Its submodules
    (api, utils, plugins, apps) then import as usual. A no-op once nbgrader is imported."""
    import importlib.util
    import sys

    if "nbgrader" in sys.modules:
        return
    spec = importlib.util.find_spec("nbgrader")
    if spec is None or not spec.submodule_search_locations:
        return  # not installed: the import below names the problem
    package = importlib.util.module_from_spec(spec)  # the package, its __init__ not run
    sys.modules["nbgrader"] = package
    from nbgrader._version import __version__

    package.__version__ = __version__


def open_gradebook(db_url: str, course_id: str):
    import_nbgrader_quickly()
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


class GradebookWriter:
    """Writes verdicts into nbgrader's gradebook the way `nbgrader autograde` does: the
    student, the submission (with its timestamp.txt) mirroring the assignment's notebooks
    and cells, auto_score per grade cell, "No response." comments, the written answers'
    automatic grades. Verdicts are staged and committed in batches (``stage``, ``commit``).

    nbgrader's own API would commit several times per submission and reload every object
    after each commit (most of a round's time); here the assignment, its cells, the
    students and the submissions of this assignment are loaded once per round and kept
    across commits (``expire_on_commit`` off for this session). Before anything else reads
    scores through the same session (the CSV export), ``done`` expires them.
    """

    def __init__(self, gradebook, assignment_id: str):
        from nbgrader.api import SubmittedAssignment, SubmittedNotebook
        from sqlalchemy.orm import selectinload

        self.gradebook, self.assignment_id = gradebook, assignment_id
        self.db = gradebook.db
        self.db().expire_on_commit = False
        self.assignment = gradebook.find_assignment(assignment_id)
        # notebook -> (grade cell ids, solution cell ids, task cell ids), and cell name -> id
        self.layout = {nb.name: ([c.id for c in nb.grade_cells], [c.id for c in nb.solution_cells],
                                 [c.id for c in nb.task_cells]) for nb in self.assignment.notebooks}
        # cell name -> id of what holds its grade (grade or task cell) and its comment (solution
        # or task cell): a written answer is both a grade and a solution cell, with two ids.
        self.grade_ids = {nb.name: {c.name: c.id for c in [*nb.grade_cells, *nb.task_cells]}
                          for nb in self.assignment.notebooks}
        self.comment_ids = {nb.name: {c.name: c.id for c in [*nb.solution_cells, *nb.task_cells]}
                            for nb in self.assignment.notebooks}
        self.students = {s.id: s for s in gradebook.students}
        found = (self.db.query(SubmittedAssignment)
                 .filter(SubmittedAssignment.assignment_id == self.assignment.id)
                 .options(selectinload(SubmittedAssignment.notebooks).selectinload(SubmittedNotebook.grades),
                          selectinload(SubmittedAssignment.notebooks).selectinload(SubmittedNotebook.comments))
                 .all())
        self.submissions = {s.student_id: s for s in found}

    def stage(self, verdict: SubmissionVerdict, timestamp, written: dict[str, dict[str, float | None]] | None):
        """Put one verdict in the open transaction (``commit`` writes it). ``timestamp`` is a
        datetime (``parse_timestamp``) or None; ``written`` is notebook -> written answer
        grade_id -> automatic grade (None: waiting for a human), or None when the autograded
        copy could not be written. Returns the submission."""
        return self._record(verdict, timestamp, written or {})

    def commit(self) -> None:
        self.db.commit()

    def reset(self) -> None:
        """After a failure: roll the open transaction back and reload what is kept."""
        self.db.rollback()
        self.__init__(self.gradebook, self.assignment_id)

    def _record(self, verdict, timestamp, written):
        from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

        student = verdict.student
        if student not in self.students:
            self.students[student] = Student(id=student)
            self.db.add(self.students[student])
        submission = self.submissions.get(student)
        if submission is None:  # nbgrader's add_submission, without its commit
            submission = SubmittedAssignment(assignment=self.assignment, student=self.students[student],
                                             **({"timestamp": timestamp} if timestamp else {}))
            for notebook in self.assignment.notebooks:
                nb = SubmittedNotebook(notebook=notebook, assignment=submission)
                grade_ids, solution_ids, task_ids = self.layout[notebook.name]
                for cell_id in grade_ids:
                    Grade(cell_id=cell_id, notebook=nb)
                for cell_id in solution_ids:
                    Comment(cell_id=cell_id, notebook=nb)
                for cell_id in task_ids:
                    Comment(cell_id=cell_id, notebook=nb)
                    Grade(cell_id=cell_id, notebook=nb)
            self.db.add(submission)
            self.submissions[student] = submission
        elif timestamp:
            submission.timestamp = timestamp
        for stored in submission.notebooks:
            name = stored.notebook.name
            grade_id_of, comment_id_of = self.grade_ids.get(name, {}), self.comment_ids.get(name, {})
            grades = {g.cell_id: g for g in stored.grades}
            comments = {c.cell_id: c for c in stored.comments}
            entry = verdict.notebooks.get(name)
            if entry is not None:
                for test in entry.tests:
                    grade = grades.get(grade_id_of.get(test.grade_id))
                    if grade is not None:
                        grade.auto_score = float(test.score)
                        grade.needs_manual_grade = grade.manual_score is not None
                unchanged = set(entry.unchanged_answers)
                for answer in entry.answer_ids:
                    comment = comments.get(comment_id_of.get(answer))
                    if comment is not None:
                        comment.auto_comment = "No response." if answer in unchanged else None
            for grade_id, auto in written.get(name, {}).items():  # nbgrader's SaveAutoGrades
                grade = grades.get(grade_id_of.get(grade_id))
                if grade is not None:
                    grade.auto_score = auto
                    grade.needs_manual_grade = grade.manual_score is not None or auto is None
        return submission

    def done(self) -> None:
        """Commit, and let later readers of this session see the scores as stored."""
        self.db.commit()
        self.db().expire_on_commit = True
        self.db.expire_all()


def parse_timestamp(text: str | None):
    """timestamp.txt's text as nbgrader reads it (a datetime), None if there is none;
    ValueError when nbgrader could not read it either."""
    from nbgrader.utils import parse_utc

    return parse_utc(text) if text else None


def export_csv(gradebook, path: Path) -> None:
    """The grades CSV exactly as `nbgrader export` writes it (nbgrader's own exporter)."""
    from nbgrader.plugins.export import CsvExportPlugin

    with tempfile.TemporaryDirectory(prefix="descentlab-export-") as folder:
        exported = Path(folder) / "grades.csv"
        CsvExportPlugin(to=str(exported)).export(gradebook)
        write_bytes(path, exported.read_bytes())
