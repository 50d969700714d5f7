"""The autograded notebooks: ``autograded/<student>/<ID>/``, as `nbgrader autograde` leaves them.

formgrader's Manual Grading, `nbgrader generate_feedback` and `nbgrader export` read this
folder next to the gradebook. nbgrader autograde fills it in two passes over the learner's
notebook, and this module repeats the first exactly and stands in for the second:

1. *sanitize* (nbgrader's ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells):
   outputs and execution counts cleared; a grade_id seen twice keeps only its last cell; the
   course's kernelspec; every cell the gradebook knows gets back its cell type, lock, points
   and checksum, and every read-only or test cell its source from the gradebook (the test
   cells WITH their hidden tests);
2. *execute*: nbgrader runs the notebook in a kernel. descentlab already judged it in a
   sandbox, so the test and answer cells get the verdict's own outcome as an error output
   (the failure message each test wrote), and the written answers (manually graded cells)
   get nbgrader's automatic grade: 0 and "No response." if untouched, else none, waiting
   for a human in formgrader (SaveAutoGrades).

Every other file of the submission is copied too (timestamp.txt, data files the learner
made), then the course's own non-notebook files over them, as nbgrader does.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..atomicfile import write_text
from .verdict import NotebookVerdict, SubmissionVerdict

SKIP_NAMES = {".ipynb_checkpoints", "__pycache__", ".git", "feedback"}
MAX_COPIED_BYTES = 50 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024
_ANSWER_ERROR = re.compile(r"^cell '(?P<label>[^']*)' raised (?P<text>.*)$", re.S)


@dataclass(frozen=True)
class SourceCell:
    """What the gradebook holds for one named cell of the source notebook."""

    cell_type: str
    locked: bool
    source: str
    checksum: str | None
    points: float | None  # None: not a grade cell


def source_cells(gradebook, assignment_id: str) -> dict[str, dict[str, SourceCell]]:
    """notebook -> grade_id -> SourceCell, read once per round (cached on the gradebook)."""
    cache = gradebook.__dict__.setdefault("_descentlab_sources", {})
    if assignment_id not in cache:
        found: dict[str, dict[str, SourceCell]] = {}
        for notebook in gradebook.find_assignment(assignment_id).notebooks:
            points = {c.name: float(c.max_score) for c in notebook.grade_cells}
            found[notebook.name] = {
                c.name: SourceCell(c.cell_type, bool(c.locked), c.source, c.checksum, points.get(c.name))
                for c in notebook.source_cells
            }
        cache[assignment_id] = found
    return cache[assignment_id]


def _nbgrader(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def sanitize(nb, cells: dict[str, SourceCell], kernelspec: dict | None):
    """nbgrader autograde's sanitizing pass, on an nbformat notebook (changed in place)."""
    from nbgrader import utils

    for cell in nb.cells:  # ClearOutput
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        for key in ("collapsed", "scrolled"):
            cell.metadata.pop(key, None)
    seen: set[str] = set()
    for cell in reversed(nb.cells):  # DeduplicateIds: the last copy keeps its id
        meta = _nbgrader(cell)
        if meta and (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            grade_id = meta.get("grade_id")
            if grade_id in seen:
                cell.metadata["nbgrader"] = {}
            else:
                seen.add(grade_id)
    if kernelspec:  # OverwriteKernelspec
        nb.metadata["kernelspec"] = kernelspec
    for cell in nb.cells:  # OverwriteCells
        _overwrite(cell, cells)
    return nb


def _overwrite(cell, cells: dict[str, SourceCell]) -> None:
    from nbgrader import utils

    meta = _nbgrader(cell)
    grade_id = meta.get("grade_id")
    if grade_id is None:
        return
    source = cells.get(grade_id) if isinstance(grade_id, str) else None
    if source is None:
        del meta["grade_id"]
        return
    if cell.cell_type != source.cell_type:
        cell.cell_type = source.cell_type
        if source.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    meta["locked"] = source.locked
    if utils.is_grade(cell) and source.points is not None:
        meta["points"] = source.points
    meta["checksum"] = source.checksum
    if source.locked and utils.compute_checksum(cell) != source.checksum:
        cell.source = source.source


def _error_output(text: str) -> dict:
    name, _, value = text.partition(": ")
    if not name.isidentifier():
        name, value = "Error", text
    return {"output_type": "error", "ename": name, "evalue": value, "traceback": [text]}


def add_outcomes(nb, entry: NotebookVerdict) -> None:
    """Stand-in for nbgrader's execution: each failed test cell, and each answer cell that
    raised, shows the message as an error output; code cells are numbered in order."""
    import nbformat

    failures = {t.grade_id: t.error or "the test failed" for t in entry.tests if not t.passed}
    for message in entry.answer_errors:
        match = _ANSWER_ERROR.match(message)
        if match:
            failures.setdefault(match["label"], match["text"])
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        grade_id = _nbgrader(cell).get("grade_id")
        if isinstance(grade_id, str) and grade_id in failures:
            cell.outputs = [nbformat.from_dict(_error_output(failures[grade_id]))]


def written_grades(nb) -> dict[str, float | None]:
    """grade_id -> nbgrader's automatic grade of each manually graded answer (0: untouched)."""
    from nbgrader import utils

    return {_nbgrader(c)["grade_id"]: utils.determine_grade(c)[0]
            for c in nb.cells if utils.is_grade(c) and utils.is_solution(c)}


def _copy_files(source: Path, dest: Path, skip_notebooks: bool) -> None:
    """The non-notebook files of ``source`` into ``dest`` (no symlinks, bounded in size)."""
    total = 0
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if any(part in SKIP_NAMES for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue
        if skip_notebooks and path.suffix == ".ipynb":
            continue
        total += path.stat().st_size
        if total > MAX_COPIED_BYTES:
            break
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _learner_notebook(path: Path):
    import nbformat

    if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_NOTEBOOK_BYTES:
        return None
    try:
        return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception:  # noqa: BLE001 - the verdict already says why it is invalid
        return None


def write_autograded(cells: dict[str, dict[str, SourceCell]], verdict: SubmissionVerdict, submitted: Path,
                     autograded: Path, source_dir: Path, kernelspecs: dict[str, dict | None],
                     ) -> tuple[list[str], dict[str, dict[str, float | None]] | None]:
    """Write ``autograded/<student>/<ID>/`` for one verdict.

    ``cells`` is ``source_cells``'s answer, ``submitted`` and ``autograded`` are the
    submission's folders, ``source_dir`` the assignment's solutions/<ID>/, ``kernelspecs``
    the source notebooks' kernelspecs. Returns notes for the instructor (a notebook nbgrader
    could not have read either is left out, as nbgrader autograde leaves it out) and the
    written answers' automatic grades for the gradebook (notebook -> grade_id -> grade), or
    None when nothing could be written. A failure here is this submission's note, never
    the end of the round."""
    try:
        return _write_autograded(cells, verdict, submitted, autograded, source_dir, kernelspecs)
    except Exception as exc:  # noqa: BLE001 - one hostile submission must not stop the round
        return [f"autograded copy not written ({type(exc).__name__}: {str(exc)[:300]}); "
                "formgrader shows this submission as needing autograding"], None


def _write_autograded(cells, verdict, submitted, autograded, source_dir, kernelspecs):
    if autograded.exists():
        shutil.rmtree(autograded)
    autograded.mkdir(parents=True)
    _copy_files(submitted, autograded, skip_notebooks=True)
    _copy_files(source_dir, autograded, skip_notebooks=True)
    notes, written = [], {}
    for name, entry in verdict.notebooks.items():
        nb = None if entry.invalid else _learner_notebook(submitted / f"{name}.ipynb")
        if nb is None:
            notes.append(f"{name}.ipynb: not readable as a notebook, so no autograded copy (it scores 0)")
            written[name] = {gid: 0.0 for gid, c in cells.get(name, {}).items()
                             if c.points is not None and c.cell_type == "markdown"}
            continue
        sanitize(nb, cells.get(name, {}), kernelspecs.get(name))
        add_outcomes(nb, entry)
        # nbformat's JSON, without its indentation: Python's json module encodes indented
        # JSON in pure Python (most of this function's time); every notebook reader takes it.
        write_text(autograded / f"{name}.ipynb", json.dumps(nb, sort_keys=True, ensure_ascii=False) + "\n")
        written[name] = written_grades(nb)
    return notes, written
