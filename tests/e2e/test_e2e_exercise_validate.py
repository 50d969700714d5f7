"""An exercise as a learner does it: type answers into the notebook, save, press nbgrader's
Validate button in the toolbar, read the verdict.

The correct answers are read from the instructor's solutions/ at test time (nothing of
them is written into this file); the learner's workspace only holds the released exercise.
"""
from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

from playwright.sync_api import expect

from labdriver import cell_containing, notebook, save, set_cell_source

from descentlab.notebook import Role, cell_role, cell_source
from descentlab.notebook import grade_id as grade_id_of

ASSIGNMENT = "01_objective_functions"
EXERCISE = f"exercises/{ASSIGNMENT}/{ASSIGNMENT}_exercise.ipynb"
SOLUTION = f"solutions/{ASSIGNMENT}/{ASSIGNMENT}_exercise.ipynb"
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")

# A plausible mistake: summing the squared errors instead of averaging them.
WRONG_MSE = '''def mse(y_pred, y_true):
    y_pred = np.asarray(y_pred, dtype=float)
    y_true = np.asarray(y_true, dtype=float)
    return float(np.sum((y_pred - y_true) ** 2))
'''


def reference_answers(course_root: Path) -> dict[str, str]:
    """grade_id -> the reference solution cell as a learner would have typed it (the
    solution markers removed), read from the instructor's notebook."""
    notebook = json.loads((course_root / SOLUTION).read_text())
    answers = {}
    for cell in notebook["cells"]:
        if cell_role(cell) is Role.ANSWER:
            source = cell_source(cell)
            answers[grade_id_of(cell)] = "\n".join(
                line for line in source.splitlines() if not MARKER.match(line)
            ) + "\n"
    assert answers, f"no solution cells found in {SOLUTION}"
    return answers


def workspace_copy(lab_page, name: str) -> str:
    """A copy of the learner's exercise next to it, so each test starts from the stub."""
    workspace = lab_page.server.workspace
    relpath = f"exercises/{ASSIGNMENT}/{name}.ipynb"
    shutil.copyfile(workspace / EXERCISE, workspace / relpath)
    return relpath


def fill_in(lab_page, answers: dict[str, str]) -> None:
    page = lab_page.page
    for grade_id, source in answers.items():
        # The stub cell is the one defining the function; its grade_id is the function name.
        cell = cell_containing(page, f"def {grade_id}(")
        expect(cell.locator(".cm-content")).to_contain_text("raise NotImplementedError()")
        set_cell_source(page, cell, source)
    save(page)


WRITTEN = "The squared error's gradient grows with the residual, so the outlier pulls MSE harder."


def fill_in_written(lab_page) -> None:
    """Answer the written (hand-graded) question: a markdown cell, edited after a double click."""
    page = lab_page.page
    cell = notebook(page).locator(".jp-MarkdownCell").last  # the written answer ends the exercise
    expect(cell).to_contain_text("YOUR ANSWER HERE")
    cell.scroll_into_view_if_needed()
    cell.dblclick()
    set_cell_source(page, cell, WRITTEN)
    save(page)


def saved_solution_cells(lab_page, relpath: str) -> dict[str, str]:
    """grade_id -> source of the answer cells in the notebook file on disk."""
    notebook = json.loads((lab_page.server.workspace / relpath).read_text())
    return {grade_id_of(cell): cell_source(cell) for cell in notebook["cells"] if cell_role(cell) is Role.ANSWER}


def validate(lab_page):
    """Press Validate; return the result dialog once its verdict is shown."""
    page = lab_page.page
    button = page.locator("#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden) jp-button.validate-button")
    expect(button).to_be_visible()
    started = time.monotonic()
    button.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator("#validation-message")).to_be_visible(timeout=120_000)
    print(f"Validate answered in {time.monotonic() - started:.1f} s")
    return dialog


def test_validate_passes_a_fully_correct_notebook(lab_page):
    answers = reference_answers(lab_page.server.course_root)
    relpath = workspace_copy(lab_page, "e2e_all_correct")
    lab_page.open(relpath, kernel=False)

    fill_in(lab_page, answers)
    fill_in_written(lab_page)  # Validate also asks for the written answer
    saved = saved_solution_cells(lab_page, relpath)
    assert saved.keys() == answers.keys()
    for grade_id, source in saved.items():
        assert "raise NotImplementedError()" not in source, f"{grade_id}: the save did not reach the file"

    dialog = validate(lab_page)
    expect(dialog).to_have_class(re.compile(r"\bnbgrader-SuccessDialog\b"))
    message = dialog.locator("#validation-message")
    expect(message).to_have_class(re.compile(r"\bvalidation-success\b"))
    expect(message).to_contain_text("Success! Your notebook passes all the tests.")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)


def test_validate_reports_a_wrong_answer(lab_page):
    answers = reference_answers(lab_page.server.course_root)
    assert "mse" in answers, "exercise 01 is expected to grade a function called mse"
    answers["mse"] = WRONG_MSE  # every other function correct, mse wrong
    relpath = workspace_copy(lab_page, "e2e_wrong_mse")
    lab_page.open(relpath, kernel=False)

    fill_in(lab_page, answers)
    assert saved_solution_cells(lab_page, relpath)["mse"].strip() == WRONG_MSE.strip()

    dialog = validate(lab_page)
    expect(dialog).to_have_class(re.compile(r"\bnbgrader-ErrorDialog\b"))
    message = dialog.locator("#validation-message")
    expect(message).to_have_class(re.compile(r"\bvalidation-failed\b"))
    # The learner sees which test failed and the test's own explanation: the function's
    # name and the input the visible mse test uses.
    expect(message).to_contain_text("AssertionError")
    expect(message).to_contain_text(re.compile(r"\bmse\b.*y_pred=\[1, 2\]", re.S))
    expect(message).not_to_contain_text("Success!")
    # Only mse is wrong: the other functions' tests must not be blamed.
    for other in ("mse_grad", "cross_entropy_grad", "log_softmax"):
        if other in answers:
            expect(message).not_to_contain_text(f"{other} for ")
    # The dialog stays open so the test's screenshot shows what the learner read.
