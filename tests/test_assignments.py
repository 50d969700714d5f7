"""Every assignment in solutions/ through the whole pipeline, with real nbgrader.

Parametrized over the assignments present, so a new assignment is covered as soon as its
source notebook lands: the learner copy is what nbgrader generates, nothing secret leaks,
every answer has its test and every exercise a written answer. How real nbgrader (and
descentlab grade) score each assignment, from the reference and the untouched exercise to
every wrong answer and correct variant, is tests/test_verdicts.py.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from grading_support import WRITTEN_PREFIX, generated_course, reference_sources

from descentlab.course import find_course
from descentlab.notebook import MARKERS, Role, autograded_tests, cell_role, is_clean, nbgrader_meta

COURSE = find_course(Path(__file__).resolve().parents[1])
ASSIGNMENTS = COURSE.assignment_ids()

SECRET_BLOCK = re.compile(
    r"### BEGIN (SOLUTION|HIDDEN TESTS)[^\n]*\n(.*?)^[ \t]*### END \1", re.S | re.M
)


def _normalise(text: str) -> str:
    return " ".join(text.split())


def secret_blocks(assignment_id: str) -> list[str]:
    """Every reference-solution and hidden-test block of an assignment, whitespace-normalised."""
    blocks = []
    for path in sorted((COURSE.solutions / assignment_id).glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            blocks += [_normalise(m.group(2)) for m in SECRET_BLOCK.finditer(cell.source)]
    return [b for b in blocks if b]


def learner_notebooks() -> list[Path]:
    return sorted(COURSE.exercises.rglob("*.ipynb")) + sorted(COURSE.lessons.rglob("*.ipynb"))


def test_assignments_found():
    assert "01_objective_functions" in ASSIGNMENTS, f"no assignments found under {COURSE.solutions}"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_exercises_are_what_nbgrader_generates(assignment_id):
    # The run's generated copy (descentlab assign's own generate, on a private course copy;
    # the verdict suite and the grader's tests grade copies of the same one).
    fresh = generated_course(assignment_id) / "exercises" / assignment_id
    committed = COURSE.exercises / assignment_id
    names = sorted(p.name for p in fresh.glob("*.ipynb"))
    assert names == sorted(p.name for p in committed.glob("*.ipynb")), (
        f"exercises/{assignment_id} holds other notebooks than nbgrader generates: run "
        f"`descentlab assign {assignment_id}`"
    )
    for name in names:
        want = nbformat.read(fresh / name, as_version=4)
        got = nbformat.read(committed / name, as_version=4)
        want_cells = [(c.cell_type, c.source, nbgrader_meta(c)) for c in want.cells]
        got_cells = [(c.cell_type, c.source, nbgrader_meta(c)) for c in got.cells]
        assert got_cells == want_cells, (
            f"exercises/{assignment_id}/{name} differs from what nbgrader generates from "
            f"solutions/: run `descentlab assign {assignment_id}` (never edit exercises/ by hand)"
        )


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_every_answer_cell_has_a_test_cell(assignment_id):
    for path in sorted((COURSE.solutions / assignment_id).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        tested = {t.function for t in autograded_tests(nb)}
        answers = reference_sources(COURSE.root, assignment_id)[path.stem]
        assert len(answers) >= 4, f"{path}: only {len(answers)} graded functions"
        missing = [gid for gid in answers if gid not in tested]
        assert not missing, f"{path}: answer cells without a test_<name> cell: {missing}"
        for cell in nb.cells:
            if cell_role(cell) is Role.TEST:
                assert "### BEGIN HIDDEN TESTS" in cell.source, (
                    f"{path}: test cell {nbgrader_meta(cell)['grade_id']} has no hidden tests"
                )


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_no_secret_text_in_learner_material(assignment_id):
    blocks = secret_blocks(assignment_id)
    assert blocks, f"{assignment_id}: found no solution or hidden-test blocks to look for"
    for path in learner_notebooks():
        text = _normalise(" ".join(c.source for c in nbformat.read(path, as_version=4).cells))
        for marker in MARKERS:
            assert marker not in text, f"{path} contains the marker {marker!r}"
        for block in blocks:
            assert block not in text, f"{path} contains a reference or hidden-test block: {block[:80]!r}"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_every_exercise_ends_with_a_written_answer(assignment_id):
    """At least one free-response cell, after the final "## Done?", worth points, graded by hand."""
    for path in sorted((COURSE.solutions / assignment_id).glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        done = max(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Done?"))
        written = [c for c in cells[done + 1:] if nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution")]
        assert written, f"{path}: no written answer after the final '## Done?' cell"
        for cell in written:
            meta = nbgrader_meta(cell)
            assert cell.cell_type == "markdown" and meta["grade_id"].startswith(WRITTEN_PREFIX), meta
            assert meta["points"] > 0 and len(cell.source.split()) >= 20, (
                f"{path}: written answer {meta['grade_id']} needs points and a model answer for the grader")


@pytest.mark.parametrize(
    "path",
    sorted(COURSE.lessons.rglob("*.ipynb")) + sorted(COURSE.solutions.rglob("*.ipynb"))
    + sorted(COURSE.exercises.rglob("*.ipynb")),
    ids=lambda p: p.relative_to(COURSE.root).as_posix(),
)
def test_notebooks_are_valid_and_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert is_clean(nb), f"{path} has outputs or execution counts: clear them before committing"
