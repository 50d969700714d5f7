"""Every lesson, opened in JupyterLab and run with Run > Run All Cells, as a learner does:
every code cell runs, no cell shows an error (traceback or stderr) or a widget that failed
to render, and the plots arrive as real images. The lessons share one JupyterLab page load
(``shared_lab_page``): each test closes the lesson before it and opens its own."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from descentlab.course import COURSE_PAGES

from labdriver import image_report, problems, run_all, unexecuted_code_cells

LESSON_DIR = Path(__file__).resolve().parents[2] / "lessons"
LESSONS = sorted(p.stem for p in LESSON_DIR.glob("*.ipynb") if p.stem not in COURSE_PAGES)
RUN_ALL_TIMEOUT = 240_000  # ms; a lesson runs headless in < 30 s, the browser adds rendering


def plotting_cells(lesson: str) -> int:
    notebook = json.loads((LESSON_DIR / f"{lesson}.ipynb").read_text())
    return sum("plt.show(" in "".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_clean_in_the_browser(shared_lab_page, lesson):
    page = shared_lab_page.page
    shared_lab_page.open(f"lessons/{lesson}.ipynb")
    seconds = run_all(page, timeout=RUN_ALL_TIMEOUT)
    print(f"{lesson}: Run All took {seconds:.1f} s in the browser", end=" ")

    # No JupyterLab dialog (a dead kernel, say) is waiting for the learner.
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    found = problems(page)
    assert not found, f"{lesson} shows errors in the browser:\n" + "\n\n".join(map(str, found))
    skipped = unexecuted_code_cells(page)
    assert not skipped, f"{lesson}: code cells {skipped} did not run"

    images = image_report(page)
    # Every code cell that calls plt.show() draws at least one figure (a plotting function
    # it defines is called there or by an interact slider, which draws once when shown).
    plotting = plotting_cells(lesson)
    assert plotting, f"{lesson}: no plt.show() in any code cell (lessons show matplotlib plots)"
    assert len(images) >= max(plotting, 2), (
        f"{lesson}: {plotting} code cells call plt.show() but only {len(images)} images rendered"
    )
    broken = [i for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    print(f"({len(images)} images)")
    assert not broken, f"{lesson}: {len(broken)} of {len(images)} images did not decode: {broken}"
