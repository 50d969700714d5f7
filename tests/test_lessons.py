"""Every lesson runs headless, top to bottom, in a fresh kernel, without an error output.

Lessons run from a temporary copy so widgets' progress files never land in the repository.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from descentlab.course import COURSE_PAGES, LESSON_IDS, find_course

COURSE = find_course(Path(__file__).resolve().parents[1])
LESSONS = sorted(p for p in COURSE.lessons.glob("*.ipynb") if p.stem not in COURSE_PAGES)


def test_lesson_files_use_lesson_ids():
    assert LESSONS, f"no lessons in {COURSE.lessons}"
    for path in LESSONS:
        assert path.stem in LESSON_IDS, f"{path.name}: lesson files are named <lesson id>.ipynb"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_executes_headless_without_errors(path, tmp_path):
    work = tmp_path / path.name
    shutil.copy(path, work)
    nb = nbformat.read(work, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [
        (index, output.get("ename"), output.get("evalue"))
        for index, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{path.name}: cells raised {errors}"
    images = sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        for output in cell.get("outputs", [])
    )
    assert images >= 2, f"{path.name}: expected plots, found {images} image outputs"
