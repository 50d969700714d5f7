"""Notebooks and nbgrader's cell roles: the one module that reads either.

Two ways in, for two kinds of file:

- ``read_notebook(path)``: a course notebook (lessons/, solutions/, exercises/, a learner's
  copy given to ``descentlab check``), validated by nbformat; a bad file raises
  ``CourseError`` naming the file (and the line, for bad JSON);
- ``parse_submission(raw, label)``: the bytes of a submitted notebook, hostile, parsed
  strictly into plain JSON (no nbformat upgrade or repair); a bad one raises
  ``InvalidNotebook``, whose message ends in that submission's status.

Every cell has one nbgrader role (schema 3 metadata), decided by ``cell_role`` alone:
``solution`` alone marks the learner's ANSWER, ``grade`` alone an autograded TEST worth
``points``, both a MANUAL answer a person scores; everything else is READ_ONLY (setup code,
prose). A test cell ``test_<name>`` checks the function ``<name>``.

The helpers take plain dicts and nbformat's NotebookNode alike (the latter is a dict).
"""
from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from .course import CourseError

HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.M | re.S
)
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
NOT_IMPLEMENTED = "not implemented yet (remove `raise NotImplementedError()` and write your code)"

Notebook = Mapping[str, Any]  # notebook JSON: a plain dict or an nbformat NotebookNode


class InvalidNotebook(Exception):
    """The submission cannot be read as a notebook; the message says why and what to do."""


class Role(str, enum.Enum):
    ANSWER = "answer"  # the learner writes it; autograded through the tests
    TEST = "test"  # the course's autograded test, worth points
    MANUAL = "manual"  # an answer a person grades (solution and points)
    READ_ONLY = "read-only"  # setup code and prose


# -- one cell ------------------------------------------------------------------------

def nbgrader_meta(cell: Mapping) -> dict:
    """The cell's nbgrader metadata, or {} when it has none (or it is not a dict)."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, Mapping) else None
    return meta if isinstance(meta, dict) else {}


def cell_role(cell: Mapping) -> Role:
    """The one rule for what a cell is (nbgrader's: ``solution`` and ``grade`` flags)."""
    meta = nbgrader_meta(cell)
    solution, grade = bool(meta.get("solution")), bool(meta.get("grade"))
    if solution and grade:
        return Role.MANUAL
    if solution:
        return Role.ANSWER
    if grade and cell.get("cell_type") == "code":
        return Role.TEST
    return Role.READ_ONLY


def cell_source(cell: Mapping) -> str:
    """The cell's text (notebook JSON may store it as a list of lines)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        if not all(isinstance(s, str) for s in source):
            raise InvalidNotebook("a cell's source is not text")
        return "".join(source)
    if not isinstance(source, str):
        raise InvalidNotebook("a cell's source is not text")
    return source


def grade_id(cell: Mapping, default: str = "") -> str:
    value = nbgrader_meta(cell).get("grade_id")
    return value if isinstance(value, str) and value else default


def points(cell: Mapping) -> float:
    return float(nbgrader_meta(cell).get("points", 0) or 0)


def function_under_test(test_id: str) -> str:
    """The function a test cell checks: ``test_mse`` checks ``mse``."""
    return test_id[len("test_"):] if test_id.startswith("test_") else test_id


def nbgrader_checksum(cell: Mapping) -> str:
    """nbgrader.utils.compute_checksum, on plain JSON (importing nbgrader costs seconds)."""
    meta = nbgrader_meta(cell)
    grade, solution = meta.get("grade", False), meta.get("solution", False)
    locked = False if solution else (True if grade else meta.get("locked", False))
    digest = hashlib.md5()  # noqa: S324 - nbgrader's checksum, not security
    for part in (cell_source(cell), cell.get("cell_type", ""), str(grade), str(solution), str(locked), meta["grade_id"]):
        digest.update(part.encode("utf-8"))
    if grade:
        digest.update(str(float(meta["points"])).encode("utf-8"))
    return digest.hexdigest()


def is_unchanged(cell: Mapping) -> bool:
    """nbgrader's "No response." test: the answer cell's checksum still matches the stub."""
    meta = nbgrader_meta(cell)
    if "checksum" not in meta:
        return False
    try:
        return meta["checksum"] == nbgrader_checksum(cell)
    except Exception:  # noqa: BLE001 - a malformed cell simply counts as changed
        return False


def strip_hidden_tests(source: str) -> str:
    """``source`` without its hidden-test blocks (what a learner's copy shows)."""
    return HIDDEN_TESTS.sub("", source)


def learner_message(exc_type: str, message: str) -> str:
    """How a test's error reads for the learner: a stub's NotImplementedError says what to do."""
    if exc_type == "NotImplementedError":
        return NOT_IMPLEMENTED
    text = message.strip()
    return f"{exc_type}: {text}" if text else exc_type


# -- one notebook --------------------------------------------------------------------

@dataclass(frozen=True)
class GradedTest:
    """An autograded test cell: where it is, its grade_id and its points."""

    index: int
    grade_id: str
    points: float

    @property
    def function(self) -> str:
        return function_under_test(self.grade_id)


def code_cells(nb: Notebook) -> Iterator[tuple[int, Mapping]]:
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") == "code":
            yield index, cell


def cells_with_role(nb: Notebook, role: Role) -> list[tuple[int, Mapping]]:
    return [(i, c) for i, c in enumerate(nb["cells"]) if cell_role(c) is role]


def autograded_tests(nb: Notebook) -> list[GradedTest]:
    """The autograded test cells of ``nb``, in order."""
    return [GradedTest(i, grade_id(c, f"cell {i}"), points(c)) for i, c in cells_with_role(nb, Role.TEST)]


def answer_ids(nb: Notebook) -> list[str]:
    """The grade_ids of the learner's autograded answer cells, in order."""
    return [grade_id(c, f"cell {i}") for i, c in cells_with_role(nb, Role.ANSWER)]


def grade_cells(nb: Notebook) -> dict[str, float]:
    """grade_id -> points of every cell nbgrader scores (autograded tests and manual answers):
    what nbgrader's gradebook holds as the notebook's grade cells."""
    return {grade_id(c): points(c) for c in nb["cells"] if cell_role(c) in (Role.TEST, Role.MANUAL)}


def is_clean(nb: Notebook) -> bool:
    """True when no code cell has outputs or an execution count."""
    return not any(c.get("outputs") or c.get("execution_count") is not None for _, c in code_cells(nb))


# -- reading -------------------------------------------------------------------------

def read_notebook(path: Path):
    """A course notebook as an nbformat NotebookNode, validated; errors name the file (and
    the line for bad JSON)."""
    import nbformat  # costs a quarter second; the grader's workers never need it

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


def parse_submission(raw: bytes, label: str) -> dict:
    """The notebook JSON in ``raw`` with its cells' structure checked; ``label`` names the
    file in the messages."""
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
        cell_source(cell)
    return nb


def read_sources(folder: Path) -> dict[str, dict]:
    """Notebook name -> the parsed JSON of each source notebook in ``folder`` (solutions/<ID>/),
    read once per round; a broken one raises CourseError naming the file and line."""
    sources = {}
    for path in sorted(Path(folder).glob("*.ipynb")):
        try:
            sources[path.stem] = parse_submission(path.read_bytes(), str(path))
        except InvalidNotebook as exc:
            raise CourseError(str(exc)) from None
    if not sources:
        raise CourseError(f"{folder}: no source notebooks")
    return sources
