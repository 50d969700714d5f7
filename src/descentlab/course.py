"""Where the course lives and what its lessons are called.

One lesson id names a lesson everywhere: the lesson notebook ``lessons/<id>.ipynb``, the
nbgrader assignment ``solutions/<id>/`` -> ``exercises/<id>/``, the quiz bank
``lessons/quizzes/<id>.yml`` and the ``topic`` of glossary terms.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

LESSONS: dict[str, str] = {
    "01_objective_functions": "Objective functions",
    "02_gradient_descent": "Gradient descent",
    "03_backpropagation": "Backpropagation",
    "04_sync_async_updates": "Synchronous and asynchronous updates",
    "05_gradient_checkpointing": "Gradient checkpointing",
    "06_hyperparameter_tuning": "Hyperparameter tuning",
    "07_overfitting_regularization": "Overfitting, underfitting and regularization",
}
LESSON_IDS: tuple[str, ...] = tuple(LESSONS)
# Notebooks in lessons/ that are not lessons: pages every lesson shares.
COURSE_PAGES: tuple[str, ...] = ("glossary",)


class CourseError(Exception):
    """A problem an instructor or learner can fix; the message says what and where."""


def resolve_lesson_id(text: str) -> str:
    """Return the lesson id ``text`` names: the full id, its number ("3", "03") or its name.

    >>> resolve_lesson_id("3")
    '03_backpropagation'
    """
    key = text.strip()
    if key in LESSONS:
        return key
    for lesson_id in LESSON_IDS:
        number, _, name = lesson_id.partition("_")
        if key.lstrip("0") == number.lstrip("0") and key.isdigit() or key == name:
            return lesson_id
    close = difflib.get_close_matches(key, LESSON_IDS, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise CourseError(
        f"unknown lesson id {text!r}.{hint} Known ids: {', '.join(LESSON_IDS)}"
    )


@dataclass(frozen=True)
class Materials:
    """Where the learner's materials lie below ``root``: the same layout in the course and
    in a learner's workspace copy of it (descentlab.workspace)."""

    root: Path

    @property
    def lessons(self) -> Path:
        return self.root / "lessons"

    @property
    def quizzes(self) -> Path:
        return self.lessons / "quizzes"

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def glossary(self) -> Path:
        return self.root / "glossary.yml"

    def lesson_notebook(self, lesson_id: str) -> Path:
        return self.lessons / f"{lesson_id}.ipynb"

    def quiz_bank(self, lesson_id: str) -> Path:
        return self.quizzes / f"{lesson_id}.yml"


@dataclass(frozen=True)
class Course(Materials):
    """The files of one copy of the course: a git checkout or the installed package data."""

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def autograder(self) -> Path:
        return self.root / "autograder"

    @property
    def grader_state(self) -> Path:
        """The grader's own records: stored verdicts and gradebook markers, per assignment."""
        return self.autograder / ".descentlab"

    @property
    def is_checkout(self) -> bool:
        """True for the instructor's repository (it has solutions/), False for a wheel."""
        return self.solutions.is_dir() and (self.root / "nbgrader_config.py").is_file()

    def assignment_ids(self) -> list[str]:
        """Lesson ids that have an assignment in solutions/ (instructor) or exercises/."""
        base = self.solutions if self.is_checkout else self.exercises
        return [i for i in LESSON_IDS if any((base / i).glob("*.ipynb"))]

    def require_checkout(self, what: str) -> None:
        if not self.is_checkout:
            raise CourseError(
                f"{what} needs the instructor's course repository (with solutions/ and "
                f"nbgrader_config.py); {self.root} is the installed learner copy. Run it "
                "from the repository root or pass --course PATH."
            )


def _checkout_root() -> Path | None:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "lessons").is_dir():
            return parent
    return None


def find_course(start: Path | None = None) -> Course:
    """The course to work on: ``start`` or its parents if one holds nbgrader_config.py and
    solutions/, else the checkout this package was installed from, else the package data."""
    if start is not None:
        start = start.resolve()
        for candidate in (start, *start.parents):
            if (candidate / "nbgrader_config.py").is_file() and (candidate / "solutions").is_dir():
                return Course(candidate)
    checkout = _checkout_root()
    if checkout is not None:
        return Course(checkout)
    return Course(Path(__file__).resolve().parent / "course")
