"""Every lesson is a file named by its lesson id.

That every lesson runs top to bottom without an error, with its plots, is checked in a real
browser (tests/e2e/test_e2e_lessons_in_browser.py: Run All in JupyterLab, no traceback or
stderr, every code cell executed, every plt.show() cell's figure decoded), which covers a
headless run's checks and more; the lessons are not executed a second time here.
"""
from __future__ import annotations

from pathlib import Path

from descentlab.course import COURSE_PAGES, LESSON_IDS, find_course

COURSE = find_course(Path(__file__).resolve().parents[1])
LESSONS = sorted(p for p in COURSE.lessons.glob("*.ipynb") if p.stem not in COURSE_PAGES)


def test_lesson_files_use_lesson_ids():
    assert LESSONS, f"no lessons in {COURSE.lessons}"
    for path in LESSONS:
        assert path.stem in LESSON_IDS, f"{path.name}: lesson files are named <lesson id>.ipynb"
    assert {p.stem for p in LESSONS} == set(LESSON_IDS), "every registered lesson has its notebook"
