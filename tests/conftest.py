"""Suite-wide settings.

Kernels, nbgrader runs and sandboxes started by the tests inherit this environment. One
BLAS thread per process: the suite runs many small-matrix processes side by side on two
cores, where multi-threaded BLAS only adds contention (measured 4-9x slower under load).
"""
import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


import pytest  # noqa: E402

# `make test` runs `pytest -n auto --dist loadgroup`: every file is one group, so a file's
# module- and session-scoped fixtures (a generated course, a graded round) are made once, on
# one worker, as with --dist loadfile. Two exceptions spread or gather work instead:
# - the verdict suite grades each lesson in two real grading runs: one group per lesson,
#   so the lessons share the workers;
# - the browser tests share one JupyterLab server per worker: one group for all of them.
SPLIT_BY_LESSON = {"test_verdicts.py"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(item.iter_markers("xdist_group")):
            continue
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.path.name in SPLIT_BY_LESSON and "lesson_id" in params:
            group = f"{item.path.name}:{params['lesson_id']}"
        elif "e2e" in item.path.parts:
            group = "e2e"
        else:
            group = str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))
