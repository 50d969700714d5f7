"""What counts as a learner's work in a notebook, so a course update never destroys it.

Running a notebook changes its file (outputs, execution counts, widget state, autosave
metadata) without changing anything the learner wrote. Comparing whole files would then
keep every notebook a learner only ran, and it would never get course updates again. So
"your work" is the *sources of the cells a learner can edit*:

* in an exercise (a notebook with nbgrader cells): the nbgrader solution cells (code and
  written answers), plus code cells without nbgrader metadata (cells the learner added);
* in a lesson: the source of every code cell (changed, added or removed).

Outputs, execution counts, metadata, and prose in markdown cells are not work. A notebook
we cannot parse is all work: we never overwrite what we cannot read.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata", {})
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else {}


def is_exercise(cells: list[dict]) -> bool:
    return any(_nbgrader(cell) for cell in cells)


def editable_sources(notebook: dict) -> list[tuple[str, str]]:
    """(cell type, source) of every cell whose source counts as the learner's work."""
    cells = [c for c in notebook.get("cells", []) if isinstance(c, dict)]
    if is_exercise(cells):
        picked = [c for c in cells
                  if _nbgrader(c).get("solution") or (c.get("cell_type") == "code" and not _nbgrader(c))]
    else:
        picked = [c for c in cells if c.get("cell_type") == "code"]
    return [(str(c.get("cell_type")), _source(c)) for c in picked]


def work_digest(path: Path, data: bytes | None = None) -> str | None:
    """SHA-256 of a notebook's editable sources (of ``data`` when given, else of the file);
    None when ``path`` is not a notebook we can read (then the whole file is the learner's)."""
    if Path(path).suffix != ".ipynb":
        return None
    try:
        notebook = json.loads((data if data is not None else Path(path).read_bytes()).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(notebook, dict):
        return None
    text = json.dumps(editable_sources(notebook), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
