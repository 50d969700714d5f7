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

import hashlib
import json
from dataclasses import dataclass


class InvalidNotebook(Exception):
    """The submission cannot be read as a notebook; the message says why and what to do."""


@dataclass
class Cell:
    kind: str  # setup | answer | added | test
    label: str
    source: str
    points: float = 0.0
    unchanged: bool = False


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        if not all(isinstance(s, str) for s in source):
            raise InvalidNotebook("a cell's source is not text")
        return "".join(source)
    if not isinstance(source, str):
        raise InvalidNotebook("a cell's source is not text")
    return source


def _meta(cell: dict) -> dict:
    metadata = cell.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    meta = metadata.get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def parse_notebook(raw: bytes, label: str) -> dict:
    """The notebook JSON in ``raw`` with its code cells' structure checked."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidNotebook(f"{label} is not UTF-8 text (byte {exc.start}); was a different file renamed to .ipynb?") from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(
            f"{label} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); the file was "
            "probably edited outside Jupyter or truncated. Ask the learner to re-submit it, or restore it "
            "from a checkpoint (File > Revert to checkpoint)."
        ) from None
    except RecursionError:
        raise InvalidNotebook(f"{label} is nested too deeply to be a notebook") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook(f"{label} is JSON but not a notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise InvalidNotebook(f"{label} has notebook format {nb.get('nbformat')!r}; expected 4 (save it with JupyterLab)")
    for index, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise InvalidNotebook(f"{label}: cell {index} is not a notebook cell")
        _source(cell)
    return nb


def nbgrader_checksum(cell: dict) -> str:
    """nbgrader.utils.compute_checksum, on plain JSON (importing nbgrader costs seconds)."""
    meta = _meta(cell)
    grade, solution = meta.get("grade", False), meta.get("solution", False)
    locked = False if solution else (True if grade else meta.get("locked", False))
    digest = hashlib.md5()  # noqa: S324 - nbgrader's checksum, not security
    for part in (_source(cell), cell.get("cell_type", ""), str(grade), str(solution), str(locked), meta["grade_id"]):
        digest.update(part.encode("utf-8"))
    if grade:
        digest.update(str(float(meta["points"])).encode("utf-8"))
    return digest.hexdigest()


def _unchanged(cell: dict) -> bool:
    """nbgrader's "No response." test: the answer cell's checksum still matches the stub."""
    meta = _meta(cell)
    if "checksum" not in meta:
        return False
    try:
        return meta["checksum"] == nbgrader_checksum(cell)
    except Exception:  # noqa: BLE001 - a malformed cell simply counts as changed
        return False


def build_program(source_nb: dict, submission_nb: dict) -> tuple[list[Cell], list[str]]:
    """The cells to run for one notebook, in order, and notes for the learner's feedback."""
    notes: list[str] = []
    source_cells = [c for c in source_nb["cells"] if c.get("cell_type") == "code"]
    known: dict[str, dict] = {}
    for index, cell in enumerate(source_cells):
        grade_id = _meta(cell).get("grade_id") or f"course-cell-{index}"
        known[grade_id] = cell

    answers: dict[str, list[dict]] = {}
    added_after: dict[str, list[dict]] = {}
    anchor = ""
    for cell in submission_nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        grade_id = _meta(cell).get("grade_id")
        if isinstance(grade_id, str) and grade_id in known:
            anchor = grade_id
            answers.setdefault(grade_id, []).append(cell)
        else:
            added_after.setdefault(anchor, []).append(cell)

    program: list[Cell] = []

    def add_learner_cells(anchor_id: str) -> None:
        for number, cell in enumerate(added_after.get(anchor_id, []), start=1):
            text = _source(cell)
            if text.strip():
                label = f"added after {anchor_id or 'the start'} #{number}"
                program.append(Cell("added", label, text))

    add_learner_cells("")
    for index, cell in enumerate(source_cells):
        meta = _meta(cell)
        grade_id = meta.get("grade_id") or f"course-cell-{index}"
        if meta.get("solution") and not meta.get("grade"):
            found = answers.get(grade_id, [])
            if not found:
                notes.append(f"answer cell '{grade_id}' is missing from the notebook (deleted?): "
                             "its function is undefined, so its tests fail")
            else:
                if len(found) > 1:
                    notes.append(f"answer cell '{grade_id}' appears {len(found)} times (split or copied); "
                                 "the parts were run together, in notebook order")
                text = "\n".join(_source(c) for c in found)
                program.append(Cell("answer", grade_id, text, unchanged=all(_unchanged(c) for c in found)))
        elif meta.get("grade") and not meta.get("solution"):
            program.append(Cell("test", grade_id, _source(cell), points=float(meta.get("points", 0) or 0)))
        elif meta.get("grade") and meta.get("solution"):
            # A manually graded answer (none in this course): run the learner's code, score nothing.
            found = answers.get(grade_id, [])
            if found:
                program.append(Cell("answer", grade_id, "\n".join(_source(c) for c in found)))
        else:
            program.append(Cell("setup", grade_id, _source(cell)))
        add_learner_cells(grade_id)
    return program, notes
