"""What runs where, for one notebook: the program built from the SOURCE and a submission.

The course's own cells (setup/read-only cells and test cells with their hidden tests) come
from the trusted source notebook in solutions/, never from the submission; from the
submission we take only the learner's answer cells (matched by nbgrader grade_id) and the
cells the learner added. That makes deleted, duplicated, split, reordered or edited
read-only cells harmless:

- a deleted answer cell leaves its function undefined (its tests fail, with a note);
- duplicated answer cells (Jupyter's "split cell" copies the grade_id to both halves) are
  joined in notebook order and run as one cell, so a function split in two still works;
- a learner's own extra cells run where they stand, between the course's cells.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..notebook import Role, cell_role, cell_source, code_cells, grade_id, is_unchanged, points


@dataclass
class Cell:
    kind: str  # setup | answer | added | test
    label: str
    source: str
    points: float = 0.0
    unchanged: bool = False


def build_program(source_nb: dict, submission_nb: dict) -> tuple[list[Cell], list[str]]:
    """The cells to run for one notebook, in order, and notes for the learner's feedback."""
    notes: list[str] = []
    source_cells = [c for _, c in code_cells(source_nb)]
    labels = [grade_id(c, f"course-cell-{index}") for index, c in enumerate(source_cells)]
    known = set(labels)

    answers: dict[str, list[dict]] = {}
    added_after: dict[str, list[dict]] = {}
    anchor = ""
    for _, cell in code_cells(submission_nb):
        label = grade_id(cell)
        if label and label in known:
            anchor = label
            answers.setdefault(label, []).append(cell)
        else:
            added_after.setdefault(anchor, []).append(cell)

    program: list[Cell] = []

    def add_learner_cells(anchor_id: str) -> None:
        for number, cell in enumerate(added_after.get(anchor_id, []), start=1):
            text = cell_source(cell)
            if text.strip():
                label = f"added after {anchor_id or 'the start'} #{number}"
                program.append(Cell("added", label, text))

    add_learner_cells("")
    for cell, label in zip(source_cells, labels):
        role = cell_role(cell)
        found = answers.get(label, [])
        if role is Role.ANSWER:
            if not found:
                notes.append(f"answer cell '{label}' is missing from the notebook (deleted?): "
                             "its function is undefined, so its tests fail")
            else:
                if len(found) > 1:
                    notes.append(f"answer cell '{label}' appears {len(found)} times (split or copied); "
                                 "the parts were run together, in notebook order")
                text = "\n".join(cell_source(c) for c in found)
                program.append(Cell("answer", label, text, unchanged=all(is_unchanged(c) for c in found)))
        elif role is Role.TEST:
            program.append(Cell("test", label, cell_source(cell), points=points(cell)))
        elif role is Role.MANUAL:
            # A manually graded code answer: run the learner's code, score nothing.
            if found:
                program.append(Cell("answer", label, "\n".join(cell_source(c) for c in found)))
        else:
            program.append(Cell("setup", label, cell_source(cell)))
        add_learner_cells(label)
    return program, notes
