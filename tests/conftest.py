"""Suite-wide settings.

Kernels, nbgrader runs and sandboxes started by the tests inherit this environment. One
BLAS thread per process: the suite runs many small-matrix processes side by side on two
cores, where multi-threaded BLAS only adds contention (measured 4-9x slower under load).

How the suite is spread over workers (``make test`` runs ``pytest -n auto --dist loadgroup
--no-loadscope-reorder``): every test belongs to one xdist group, and a group runs whole on
one worker, so module and session fixtures are built once per group:

- a test marked ``xdist_group(name)`` keeps its group (the verdict suite: one per lesson,
  so the lessons are graded side by side);
- the browser tests share one group (one JupyterLab server and one Chromium for all);
- any other test is grouped by its file (what ``--dist loadfile`` would do).

Groups are handed out in the order of ``HEAVY_FIRST`` (the verdict suite's lessons by their
number of cases) and then of collection, so the longest ones start first and the short
ones fill the gaps at the end.
"""
import os
import shutil
import tempfile

import pytest
from grading_support import GENERATED_ENV

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

def pytest_configure(config: pytest.Config) -> None:
    """In the main process (not an xdist worker): one folder for the run's generated courses
    (grading_support.generated_course), named in the environment the workers inherit, so each
    assignment is generated once per run, not once per worker and test file."""
    if not hasattr(config, "workerinput") and GENERATED_ENV not in os.environ:
        config._descentlab_generated = tempfile.mkdtemp(prefix="descentlab-generated-")
        os.environ[GENERATED_ENV] = config._descentlab_generated


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "_descentlab_generated", None)
    if folder:
        os.environ.pop(GENERATED_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


E2E_GROUP = "e2e"
# Group-name prefixes in the order they should start: the verdict suite's lessons, then the
# browser tests, then the rest of the grader's tests. Measured with --durations (README).
HEAVY_FIRST = ("verdicts-", E2E_GROUP, "tests/grading/")


def _group(item: pytest.Item) -> str:
    marked = item.get_closest_marker("xdist_group")
    if marked is not None:
        return str(marked.args[0] if marked.args else marked.kwargs.get("name", "default"))
    path = item.path.relative_to(item.config.rootpath).as_posix()
    return E2E_GROUP if path.startswith("tests/e2e/") else path


def _rank(group: str) -> int:
    return next((i for i, prefix in enumerate(HEAVY_FIRST) if group.startswith(prefix)), len(HEAVY_FIRST))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups = {}
    for item in items:
        groups[item] = _group(item)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(groups[item]))
    size = {}
    for group in groups.values():
        size[group] = size.get(group, 0) + 1
    # Stable: within a rank, collection order; the verdict suite's biggest lessons first.
    items.sort(key=lambda item: (_rank(groups[item]), -size[groups[item]] if _rank(groups[item]) == 0 else 0))


def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """Under ``--dist loadgroup``, every node id a worker reports must end in its group.

    xdist's worker writes the group into the node id, and the scheduler keeps a group on one
    worker by that suffix alone. When a pytest release stores node ids where xdist does not
    write (pytest 9.2 with xdist 3.8), the groups vanish silently and each lesson is graded
    on every worker; stop the run with the reason instead.
    """
    if node.config.getvalue("dist") != "loadgroup":
        return
    lost = [nodeid for nodeid in ids if "@" not in nodeid.rsplit("]", 1)[-1]]
    if lost:
        pytest.exit(
            f"pytest-xdist did not put the xdist_group into {len(lost)} of {len(ids)} node ids "
            f"(first: {lost[0]}), so --dist loadgroup would split every group over the workers. "
            f"pytest {pytest.__version__} is not one this pytest-xdist supports (see pyproject.toml).",
            returncode=4,
        )
