"""The lesson registry (course.LESSONS) and the files each registered lesson needs.

Adding a lesson is data plus one registry entry (CONTRIBUTING.md); these tests name the
missing piece when a lesson is registered without one, or a lesson's files exist unregistered.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from descentlab.course import COURSE_PAGES, LESSON_IDS, Course
from descentlab.glossary import load_glossary

REPO = Path(__file__).resolve().parents[1]
COURSE = Course(REPO)
CASES = REPO / "tests" / "cases"


def missing_pieces(course: Course, lesson_id: str, cases: Path | None) -> list[str]:
    """What lesson ``lesson_id`` lacks in ``course``, each as a sentence naming the file."""
    missing = []
    if not course.lesson_notebook(lesson_id).is_file():
        missing.append(f"lessons/{lesson_id}.ipynb (the lesson notebook)")
    if not any((course.solutions / lesson_id).glob("*.ipynb")):
        missing.append(f"solutions/{lesson_id}/<name>.ipynb (the nbgrader source of its exercise)")
    elif not any((course.exercises / lesson_id).glob("*.ipynb")):
        missing.append(f"exercises/{lesson_id}/ (generate it: descentlab assign {lesson_id})")
    if not (course.quizzes / f"{lesson_id}.yml").is_file():
        missing.append(f"lessons/quizzes/{lesson_id}.yml (its quiz bank)")
    if not load_glossary(course.glossary).by_topic(lesson_id):
        missing.append(f"glossary.yml terms with 'topic: {lesson_id}'")
    if cases is not None and not any(cases.glob(f"{lesson_id}*.py")):
        missing.append(f"tests/cases/{lesson_id}.py (its wrong answers and correct variants)")
    return missing


def _cases_dir() -> Path | None:
    # tests/cases/<id>.py holds each lesson's wrong answers and correct variants; the folder
    # arrives with the parametrized verdict suite. Until it exists there is nothing to check.
    return CASES if CASES.is_dir() else None


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_every_registered_lesson_has_all_its_pieces(lesson_id):
    missing = missing_pieces(COURSE, lesson_id, _cases_dir())
    assert not missing, (
        f"lesson {lesson_id!r} is registered in src/descentlab/course.py LESSONS but lacks: "
        + "; ".join(missing) + " (see CONTRIBUTING.md, 'Adding a lesson')"
    )


def test_no_lesson_files_without_a_registry_entry():
    found = {p.stem for p in COURSE.lessons.glob("*.ipynb")} | {p.name for p in COURSE.solutions.iterdir() if p.is_dir()}
    found |= {p.stem for p in COURSE.quizzes.glob("*.yml")}
    unregistered = sorted(found - set(LESSON_IDS) - set(COURSE_PAGES))
    assert not unregistered, (
        f"lesson files for {unregistered} but no entry in src/descentlab/course.py LESSONS: "
        "add one (see CONTRIBUTING.md)"
    )


def test_a_registered_lesson_without_its_files_is_named(tmp_path):
    """The check above can fail, and says what is missing, for a lesson with no files."""
    (tmp_path / "lessons" / "quizzes").mkdir(parents=True)
    (tmp_path / "glossary.yml").write_text("- term: loss\n  definition: A number.\n  topic: 01_objective_functions\n")
    cases = tmp_path / "cases"
    cases.mkdir()
    missing = missing_pieces(Course(tmp_path), "08_new_lesson", cases)
    assert missing == [
        "lessons/08_new_lesson.ipynb (the lesson notebook)",
        "solutions/08_new_lesson/<name>.ipynb (the nbgrader source of its exercise)",
        "lessons/quizzes/08_new_lesson.yml (its quiz bank)",
        "glossary.yml terms with 'topic: 08_new_lesson'",
        "tests/cases/08_new_lesson.py (its wrong answers and correct variants)",
    ]
    assert missing_pieces(COURSE, LESSON_IDS[0], None) == []
