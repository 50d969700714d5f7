"""The course map in ``START_HERE.ipynb``: every lesson, where the learner stands, what next.

``descentlab start`` writes the notebook (clean: one markdown cell and one code cell); its
code cell shows :class:`CourseMap`, computed when it runs from the workspace's files and
progress, never from anything stored in the notebook itself:

* a lesson is "run" once it was saved with outputs (JupyterLab autosaves after a run);
* the quiz score comes from the progress file the Quiz widget writes;
* the exercise result is the last ``descentlab check`` / ``descentlab progress`` result
  cached in the progress file for the notebook as it is now (no kernel is started here).

The next step is the first lesson, in course order, with something left: run the lesson,
then answer its quiz, then make its exercise pass.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from .course import LESSON_IDS, LESSONS
from .workspace import Workspace


@dataclass(frozen=True)
class LessonStatus:
    lesson: str
    lesson_path: str  # workspace-relative
    exercise_path: str
    lesson_run: bool
    quiz: str  # "3/9 right" or "not started"
    quiz_done: bool
    exercise: str  # "5/7 functions pass (10/14 points)" or "not started" ...
    exercise_done: bool

    def next_step(self) -> str:
        if not self.lesson_run:
            return f"read and run the lesson {self.lesson_path}"
        if not self.quiz_done:
            return f"answer the quiz at the end of {self.lesson_path}"
        if not self.exercise_done:
            return f"do the exercise {self.exercise_path} and check it (Validate, or `descentlab check {self.lesson[:2]}`)"
        return ""


def lesson_was_run(path: Path) -> bool:
    """True when the saved lesson has outputs or execution counts (it ran at least once)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    cells = notebook.get("cells", []) if isinstance(notebook, dict) else []
    return any(isinstance(c, dict) and c.get("cell_type") == "code"
               and (c.get("execution_count") is not None or c.get("outputs")) for c in cells)


def lesson_statuses(workspace: Workspace) -> list[LessonStatus]:
    from .progress import summarize  # heavy imports (widgets' bank schema) only when shown

    summary = summarize(workspace, run=False)
    quizzes = {q.lesson: q for q in summary.quizzes}
    exercises = {e.lesson: e for e in summary.exercises}
    statuses = []
    for lesson_id in LESSON_IDS:
        quiz = quizzes.get(lesson_id)
        if quiz is None or quiz.error:
            quiz_text, quiz_done = "no quiz", True
        elif not quiz.answered:
            quiz_text, quiz_done = f"not started ({quiz.questions} questions)", False
        else:
            quiz_text = f"{quiz.correct}/{quiz.questions} right"
            quiz_done = quiz.answered == quiz.questions
        ex = exercises.get(lesson_id)
        if ex is None:
            ex_text, ex_done = "no exercise", True
        elif ex.total:
            ex_text = f"{ex.passed}/{ex.total} functions pass ({ex.score:g}/{ex.max_score:g} points)"
            if ex.state != "checked":
                ex_text += f", {ex.state}"
            ex_done = ex.state == "checked" and ex.passed == ex.total
        else:
            ex_text, ex_done = ex.state, False
        statuses.append(LessonStatus(
            lesson=lesson_id,
            lesson_path=workspace.relative(workspace.lesson_notebook(lesson_id)),
            exercise_path=workspace.relative(workspace.exercise_notebook(lesson_id)),
            lesson_run=lesson_was_run(workspace.lesson_notebook(lesson_id)),
            quiz=quiz_text, quiz_done=quiz_done, exercise=ex_text, exercise_done=ex_done,
        ))
    return statuses


class CourseMap:
    """The course map of a workspace (default: the one around the current folder)."""

    def __init__(self, workspace: Workspace | Path | str | None = None):
        if not isinstance(workspace, Workspace):
            workspace = Workspace.named(workspace) if workspace is not None else Workspace.find()
        self.workspace = workspace
        self.lessons = lesson_statuses(workspace)

    @property
    def next_step(self) -> str:
        for status in self.lessons:
            step = status.next_step()
            if step:
                return step
        return "every lesson is done: review the flashcards that are due, or revisit a lesson"

    def __repr__(self) -> str:
        lines = [f"Course map of {self.workspace.root}"]
        for s in self.lessons:
            lines.append(f"  {s.lesson[:2]} {LESSONS[s.lesson]}: lesson {'run' if s.lesson_run else 'not run yet'}; "
                         f"quiz {s.quiz}; exercise {s.exercise}")
        lines.append(f"Next: {self.next_step}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = []
        for s in self.lessons:
            link = lambda path, text: f"<a href='{esc(path)}' target='_blank'>{esc(text)}</a>"  # noqa: E731
            rows.append(
                "<tr>"
                f"<td>{link(s.lesson_path, s.lesson[:2] + ' ' + LESSONS[s.lesson])}</td>"
                f"<td>{'run' if s.lesson_run else 'not run yet'}</td>"
                f"<td>{esc(s.quiz)}</td>"
                f"<td>{link(s.exercise_path, s.exercise)}</td>"
                "</tr>"
            )
        return (
            "<div class='dl-course-map'>"
            "<table><thead><tr><th>lesson</th><th>lesson run</th><th>quiz</th><th>exercise (visible tests)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<p class='dl-next-step'><b>Next step:</b> {esc(self.next_step)}</p></div>"
        )


INTRO = """# Start here

This is your own copy of the course (your workspace): everything you write stays here, and
`descentlab start` never overwrites your work when the course is updated.

Each lesson has the maths, code you can run, a widget to play with, a quiz and flashcards,
then an exercise in `exercises/<lesson>/` that you check yourself: the **Validate** button in
the notebook toolbar, or in a terminal (File > New > Terminal) `descentlab check 01`.
`descentlab progress` in a terminal summarises where you stand; `descentlab glossary WORD`
looks a term up.

Run the cell below to see the course map: each lesson's status and your next step. Run it
again whenever you come back."""

MAP_CELL = "from descentlab.course_map import CourseMap\n\nCourseMap()"


def start_here_notebook() -> str:
    """The START_HERE.ipynb text: clean (no outputs), one markdown and one code cell."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(INTRO), nbformat.v4.new_code_cell(MAP_CELL)]
    for index, cell in enumerate(nb.cells):  # stable ids: the file is the same on every start
        cell["id"] = f"start-here-{index}"
    return nbformat.writes(nb, version=4, indent=1) + "\n"
