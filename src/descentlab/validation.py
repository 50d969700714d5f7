"""What nbgrader's Validate button shows a learner: short messages, then a summary.

nbgrader's Validate dialog lists every failing test cell with its full traceback; on a fresh
exercise that is a wall of identical NotImplementedError tracebacks and no word about what
passed. The dialog is built from the executed notebook's error outputs, and nbgrader's
Execute preprocessor (an nbclient NotebookClient) calls the configurable hooks
``on_cell_start`` and ``on_cell_error`` while it runs the notebook (the notebook-level hooks
are not called on nbconvert's synchronous path). The learner's ``nbgrader_config.py``
(written by ``descentlab start``) sets a fresh :class:`ValidateMessages` as both, which

* replaces a NotImplementedError traceback with one line naming the function to write;
* keeps every other traceback (the course's checks hide their own frames, so what is left
  is the learner's line and the message);
* keeps the summary (functions passing, points) at the end of the last failing test's
  error, so the dialog ends with it.

The number of tests and their points come from the notebook file being validated (found
in the folder nbgrader runs it in: the one whose cell at the running index is this cell).
Scores are untouched: a failing cell keeps its error output, so nbgrader still counts it
as failing, and grading never reads a learner's config.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SUMMARY_MARK = "\x1b[1m" + "=" * 60


def _nbgrader(cell: Any) -> dict:
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbgrader = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return nbgrader if isinstance(nbgrader, dict) else {}


def _is_test(cell: Any) -> bool:
    return cell.get("cell_type") == "code" and bool(_nbgrader(cell).get("grade"))


def _points(cell: Any) -> float:
    try:
        return float(_nbgrader(cell).get("points", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


def _function(cell: Any) -> str:
    return str(_nbgrader(cell).get("grade_id", "this test")).removeprefix("test_")


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def tests_of_notebook_on_disk(cell: Any, cell_index: int, folder: Path | None = None) -> list[dict]:
    """The test cells of the notebook in ``folder`` (default: the cwd) whose cell number
    ``cell_index`` is ``cell``; [] when none matches."""
    for path in sorted(Path(folder or Path.cwd()).glob("*.ipynb")):
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            continue
        if (isinstance(cells, list) and cell_index < len(cells) and isinstance(cells[cell_index], dict)
                and _source(cells[cell_index]) == _source(cell)):
            return [c for c in cells if isinstance(c, dict) and _is_test(c)]
    return []


class ValidateMessages:
    """nbclient hooks for one validation; see the module docstring."""

    def __init__(self) -> None:
        self._reset()

    # traitlets deep-copies config values; both hooks must keep sharing one state.
    def __copy__(self) -> "ValidateMessages":
        return self

    def __deepcopy__(self, memo: dict) -> "ValidateMessages":
        return self

    def _reset(self) -> None:
        self.tests: list[dict] = []
        self.failing: list[Any] = []  # the failing test cells, in order
        self.last_index = -1

    def cell_started(self, cell: Any = None, cell_index: int = 0, **_: Any) -> None:
        if cell_index <= self.last_index:  # a new notebook (nbgrader validate a.ipynb b.ipynb)
            self._reset()
        if self.last_index < 0:
            self.tests = tests_of_notebook_on_disk(cell, cell_index)
        self.last_index = cell_index

    def cell_failed(self, cell: Any = None, cell_index: int = 0, **_: Any) -> None:
        if cell is None or not _is_test(cell):
            return
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            return
        for error in errors:
            if error.get("ename") == "NotImplementedError":
                error["traceback"] = [
                    f"\x1b[0;31mNot implemented yet\x1b[0m: {_function(cell)} still raises "
                    "NotImplementedError. Replace `raise NotImplementedError()` with your code."
                ]
        if self.failing:
            self._drop_summary(self.failing[-1])
        self.failing.append(cell)
        errors[-1]["traceback"] = [*errors[-1].get("traceback", []), "", SUMMARY_MARK, self.summary() + "\x1b[0m"]

    @staticmethod
    def _drop_summary(cell: Any) -> None:
        for error in cell.get("outputs", []):
            traceback = error.get("traceback") or []
            if SUMMARY_MARK in traceback:
                del traceback[traceback.index(SUMMARY_MARK) - 1:]

    def summary(self) -> str:
        """Tests not failed (yet) count as passing: each later failure moves the summary on,
        so the last one is right once the run ends."""
        names = ", ".join(_function(c) for c in self.failing)
        if not self.tests:
            return f"Summary: {len(self.failing)} test(s) fail: {names}."
        total = sum(_points(c) for c in self.tests)
        lost = sum(_points(c) for c in self.failing)
        passed = len(self.tests) - len(self.failing)
        return (f"Summary: {passed} of {len(self.tests)} functions pass their visible tests, "
                f"{total - lost:g}/{total:g} points. Still failing: {names}.")
