"""START_HERE.ipynb's course map: each lesson's status from the workspace, and the next step."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from descentlab.check import CheckReport, FunctionResult
from descentlab.course import find_course
from descentlab.course_map import CourseMap
from descentlab.progress import remember_check
from descentlab.start import sync_workspace
from descentlab.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
LESSON = "01_objective_functions"


@pytest.fixture
def ws(tmp_path) -> Workspace:
    sync_workspace(find_course(REPO), tmp_path / "ws")
    return Workspace.find(tmp_path / "ws")


def mark_run(ws: Workspace, lesson_id: str) -> None:
    path = ws.lesson_notebook(lesson_id)
    nb = nbformat.read(path, as_version=4)
    for number, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = number + 1
    nbformat.write(nb, path)


def answer_quiz(ws: Workspace, lesson_id: str) -> None:
    from descentlab.quiz import Quiz

    quiz = Quiz(lesson_id, progress_path=ws.progress_file, bank=None)
    for question in quiz.questions:
        quiz.answer(question.id, question.answer if question.type == "numeric" else list(question.correct_choices))


def passing_report(path: Path) -> CheckReport:
    return CheckReport(str(path), [FunctionResult("mse", "test_mse", 2.0, 2.0)])


def test_a_fresh_workspace_starts_with_the_first_lesson(ws):
    course_map = CourseMap(ws)
    assert [s.lesson_run for s in course_map.lessons] == [False] * 7
    assert course_map.next_step == f"read and run the lesson lessons/{LESSON}.ipynb"
    html = course_map._repr_html_()
    assert "dl-course-map" in html and "not run yet" in html and "Next step:" in html


def test_the_next_step_follows_lesson_quiz_exercise(ws, monkeypatch):
    monkeypatch.chdir(ws.lessons)  # the quiz widget reads the workspace's bank from here
    mark_run(ws, LESSON)
    assert CourseMap(ws).next_step.startswith(f"answer the quiz at the end of lessons/{LESSON}.ipynb")
    answer_quiz(ws, LESSON)
    status = CourseMap(ws).lessons[0]
    assert status.quiz_done and status.quiz.endswith("right")
    assert CourseMap(ws).next_step.startswith(f"do the exercise {ws.relative(ws.exercise_notebook(LESSON))}")

    exercise = ws.exercise_notebook(LESSON)
    nb = nbformat.read(exercise, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("# my work"))  # learner's work: checked, not "not started"
    nbformat.write(nb, exercise)
    remember_check(ws, exercise, passing_report(exercise))
    course_map = CourseMap(ws)
    assert course_map.lessons[0].exercise == "1/1 functions pass (2/2 points)"
    assert course_map.next_step == "read and run the lesson lessons/02_gradient_descent.ipynb"
    assert "Next: read and run the lesson lessons/02_gradient_descent.ipynb" in repr(course_map)
