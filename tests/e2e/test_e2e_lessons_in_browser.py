"""Every lesson, opened in JupyterLab and run with Run > Run All Cells, as a learner does:
every code cell runs, no cell shows an error (traceback or stderr) or a widget that failed
to render, and the plots arrive as real images."""
from __future__ import annotations

from pathlib import Path

import pytest

from labdriver import image_report, problems, run_all, unexecuted_code_cells

LESSONS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "lessons").glob("*.ipynb"))
RUN_ALL_TIMEOUT = 240_000  # ms; a lesson runs headless in < 30 s, the browser adds rendering


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_clean_in_the_browser(lab_page, lesson):
    page = lab_page.page
    lab_page.open(f"lessons/{lesson}.ipynb")
    seconds = run_all(page, timeout=RUN_ALL_TIMEOUT)
    print(f"{lesson}: Run All took {seconds:.1f} s in the browser")

    found = problems(page)
    assert not found, f"{lesson} shows errors in the browser:\n" + "\n\n".join(map(str, found))
    skipped = unexecuted_code_cells(page)
    assert not skipped, f"{lesson}: code cells {skipped} did not run"

    images = image_report(page)
    assert images, f"{lesson}: no plot was rendered as an image (lessons show matplotlib plots)"
    broken = [i for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert not broken, f"{lesson}: {len(broken)} of {len(images)} images did not decode: {broken}"
