"""Reading exercise notebooks: which cells are answers, which are graded tests.

The cell metadata is nbgrader's (schema 3): ``solution`` marks an answer cell, ``grade`` a
test cell worth ``points``, ``grade_id`` names both. A test cell ``test_<name>`` checks the
function ``<name>``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import CourseError

HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.M | re.S
)
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


@dataclass(frozen=True)
class GradedCell:
    index: int
    grade_id: str
    points: float

    @property
    def function(self) -> str:
        """The function this test cell checks (``test_mse`` checks ``mse``)."""
        return self.grade_id[5:] if self.grade_id.startswith("test_") else self.grade_id


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read and validate a notebook; errors name the file (and line for bad JSON)."""
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"{path}: no such notebook")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise CourseError(
            f"{path}: not a valid notebook: invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise CourseError(f"{path}: not a valid notebook: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds for bad files
        raise CourseError(f"{path}: not a valid notebook: {exc}") from None
    return nb


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def graded_cells(nb) -> list[GradedCell]:
    """The graded code cells of ``nb`` in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("grade"):
            found.append(GradedCell(index, meta.get("grade_id", f"cell {index}"), float(meta.get("points", 0))))
    return found


def solution_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and nbgrader_meta(c).get("solution")]


def strip_hidden_tests(source: str) -> str:
    """``source`` without its hidden-test blocks (what a learner's copy shows)."""
    return HIDDEN_TESTS.sub("", source)


def is_clean(nb) -> bool:
    """True when no code cell has outputs or an execution count."""
    return not any(
        c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
        for c in nb.cells
    )
