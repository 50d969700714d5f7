"""Messages that teach, seen where a learner sees them: a real kernel's traceback (nbclient),
nbgrader's Validate result (its own Validator, with the workspace's nbgrader_config.py).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from descentlab.check import kernel_config
from descentlab.course import find_course
from descentlab.start import sync_workspace

REPO = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXERCISE = "exercises/01_objective_functions/01_objective_functions_exercise.ipynb"


def run_cells(tmp_path: Path, sources: list[str]) -> list:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}, config=kernel_config()).execute()
    return nb.cells


def traceback_text(cell) -> str:
    (error,) = [o for o in cell.outputs if o.output_type == "error"]
    return ANSI.sub("", "\n".join(error.traceback))


@pytest.mark.slow
def test_a_failing_check_shows_the_learners_line_and_a_plain_message(tmp_path):
    setup = "import numpy as np\nfrom descentlab.expect import expect_close, numerical_gradient"
    wrong_value = 'expect_close("mse", np.float64(0.75), 0.5, inputs="y_pred=[1, 2]")'
    wrong_array = 'expect_close("grad", np.array([1.0, 2.5]), [1.0, 2.0])'
    own_bug = "def f(x):\n    return x.sum() / undefined_name\n\nnumerical_gradient(f, np.ones(2))"
    cells = run_cells(tmp_path, [setup, wrong_value, wrong_array, own_bug])

    text = traceback_text(cells[1])
    assert "expect.py" not in text and "raise AssertionError" not in text, text  # no library frames
    assert wrong_value in text  # the learner's own line
    assert text.splitlines()[-1] == "AssertionError: wrong value from mse for y_pred=[1, 2]: got 0.75, expected 0.5."

    text = traceback_text(cells[2])
    assert "at index (1,): got 2.5, expected 2.0" in text and "np.float64" not in text, text
    assert "expect.py" not in text

    text = traceback_text(cells[3])  # the learner's code raised: their line is shown, ours is not
    assert "return x.sum() / undefined_name" in text and "expect.py" not in text, text
    assert "NameError" in text


@pytest.mark.slow
def test_validate_shows_one_line_per_missing_function_and_ends_with_a_summary(tmp_path, monkeypatch):
    """What the Validate button's server handler does, step by step: load nbgrader's config
    from the server's folder (the workspace), then nbgrader's own Validator."""
    from jupyter_core.paths import jupyter_config_path
    from nbgrader.apps import NbGrader
    from nbgrader.validator import Validator

    ws = tmp_path / "ws"
    sync_workspace(find_course(REPO), ws)
    notebook = ws / EXERCISE
    nb = nbformat.read(notebook, as_version=4)
    solutions = nbformat.read(REPO / "solutions/01_objective_functions/01_objective_functions_exercise.ipynb", 4)
    reference = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solutions.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:  # mse right, mae wrong (sums instead of averaging), the rest stubs
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "mse":
            cell.source = reference["mse"]
        elif grade_id == "mae":
            cell.source = ("def mae(y_pred, y_true):\n"
                           "    return float(np.sum(np.abs(np.asarray(y_pred, float) - np.asarray(y_true, float))))\n")
    nbformat.write(nb, notebook)

    monkeypatch.chdir(ws)
    paths = jupyter_config_path()
    paths.insert(0, os.getcwd())
    app = NbGrader()
    app.config_file_paths.append(paths)
    app.load_config_file()
    result = Validator(config=app.config).validate(str(notebook))

    all_errors = [ANSI.sub("", f["raw_error"]) for f in result["failed"]]
    # The written answer (graded by hand) is still empty: nbgrader says so, after the tests.
    unanswered = [e for e in all_errors if "did not provide a response" in e]
    assert len(unanswered) == 1, all_errors
    errors = [e for e in all_errors if e not in unanswered]
    assert len(errors) == 6  # every function but mse
    stubs = [e for e in errors if "Not implemented yet" in e]
    assert len(stubs) == 5 and all(len(e.splitlines()) <= 4 for e in stubs[:-1]), errors
    assert "Traceback" not in "".join(stubs[:-1])
    mae = next(e for e in errors if "wrong value from mae" in e)
    assert "expect.py" not in mae
    assert errors[-1].splitlines()[-1] == (
        "Summary: 1 of 7 functions pass their visible tests, 2/14 points. Still failing: "
        "mse_grad, mae, binary_cross_entropy, log_softmax, cross_entropy, cross_entropy_grad."
    )
    assert sum("Summary:" in e for e in errors) == 1  # only at the very end
