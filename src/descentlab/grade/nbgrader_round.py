"""One grading round through nbgrader: register the assignment, autograde each learner on
their own (so one broken notebook cannot stop the others), export the grades CSV."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..assign import generate, run_nbgrader
from ..course import Course, CourseError
from ..nbcells import read_notebook


@dataclass
class SubmissionResult:
    student: str
    status: str  # graded | invalid notebook | failed
    score: float = 0.0
    max_score: float = 0.0
    message: str = ""


@dataclass
class GradeSummary:
    assignment_id: str
    csv_path: Path
    results: list[SubmissionResult] = field(default_factory=list)

    def format(self) -> str:
        lines = [f"{self.assignment_id}: {len(self.results)} submission(s)"]
        width = max([len("student")] + [len(r.student) for r in self.results])
        for r in self.results:
            score = f"{r.score:g}/{r.max_score:g}" if r.status == "graded" else "-"
            lines.append(f"  {r.student:<{width}}  {score:>9}  {r.status}")
            if r.message:
                lines.append(f"      {r.message}")
        lines.append(f"grades CSV: {self.csv_path}")
        return "\n".join(lines)


def db_url(course: Course) -> str:
    return "sqlite:///" + str(course.autograder / "gradebook.db")


def submission_dirs(course: Course, assignment_id: str) -> list[Path]:
    submitted = course.autograder / "submitted"
    return sorted(p for p in submitted.glob(f"*/{assignment_id}") if p.is_dir())


def register_assignment(course: Course, assignment_id: str) -> None:
    """Put the assignment's graded cells in the gradebook (nbgrader needs them to grade)
    without touching the committed exercises/."""
    with tempfile.TemporaryDirectory(prefix="descentlab-release-") as release:
        generate(course, assignment_id, release_dir=Path(release), db_url=db_url(course))


def grade_assignment(course: Course, assignment_id: str, csv_path: Path | None = None) -> GradeSummary:
    course.require_checkout("descentlab grade")
    submissions = submission_dirs(course, assignment_id)
    if not submissions:
        raise CourseError(
            f"no submissions of {assignment_id!r}: expected notebooks in "
            f"{course.autograder / 'submitted'}/<student>/{assignment_id}/"
        )
    register_assignment(course, assignment_id)
    summary = GradeSummary(assignment_id, Path(csv_path or course.autograder / "grades.csv").resolve())
    for folder in submissions:
        student = folder.parent.name
        summary.results.append(_grade_one(course, assignment_id, student, folder))
    summary.csv_path.parent.mkdir(parents=True, exist_ok=True)
    exported = run_nbgrader(course, "export", f"--to={summary.csv_path}")
    if exported.returncode != 0:
        raise CourseError(f"nbgrader export failed:\n{exported.stderr.strip()[-2000:]}")
    return summary


def _grade_one(course: Course, assignment_id: str, student: str, folder: Path) -> SubmissionResult:
    for notebook in sorted(folder.glob("*.ipynb")):
        try:
            read_notebook(notebook)
        except CourseError as exc:
            return SubmissionResult(student, "invalid notebook", message=str(exc))
    done = run_nbgrader(course, "autograde", assignment_id, f"--student={student}", "--force")
    result = SubmissionResult(student, "graded" if done.returncode == 0 else "failed")
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()
        result.message = "nbgrader autograde failed: " + (tail[-1] if tail else "no output")
    with Gradebook(db_url(course)) as gradebook:
        try:
            submission = gradebook.find_submission(assignment_id, student)
        except MissingEntry:
            return result
        result.score, result.max_score = submission.score, submission.max_score
    return result
