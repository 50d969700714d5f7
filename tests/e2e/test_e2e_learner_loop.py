"""A learner's whole loop in one sitting, in the browser and a JupyterLab terminal: open the
first lesson, answer a quiz question, review a flashcard, write an answer in the exercise,
press Validate, then run `descentlab check` and `descentlab progress` in a terminal of the
same JupyterLab and see this workspace's results.

It works in the session's learner workspace itself (not a private subfolder): the point is
that every tool reads the workspace's files. Other tests keep their own progress in
subfolders with their own `.descentlab/`, so the workspace's progress here is this test's.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from labdriver import cell_containing, normalized_text, run_cell, run_in_terminal, save, set_cell_source

LESSON = "01_objective_functions"
EXERCISE = f"exercises/{LESSON}/{LESSON}_exercise.ipynb"
MSE = '''def mse(y_pred, y_true):
    y_pred = np.asarray(y_pred, dtype=float)
    y_true = np.asarray(y_true, dtype=float)
    return float(np.mean((y_pred - y_true) ** 2))
'''


def plain_single_choice(bank):
    """A single-choice question whose right answer's text has no maths or markup, so the
    test can click it by its text whatever order the choices are shown in."""
    for question in bank.questions:
        if question.type == "single":
            text = question.choices[question.correct_choices[0]].text
            if not re.search(r"[$`*\\]", text):
                return question, text
    raise AssertionError(f"the {LESSON} quiz has no single-choice question with a plain-text answer")


def test_the_learners_loop_from_lesson_to_terminal(lab_page):
    from descentlab.quiz import load_quiz

    page = lab_page.page
    server = lab_page.server
    bank = load_quiz(server.course_root / "lessons" / "quizzes" / f"{LESSON}.yml")
    question, right = plain_single_choice(bank)

    # 1. The lesson: its quiz and flashcards cells, as a learner runs them.
    lab_page.open(f"lessons/{LESSON}.ipynb")
    quiz_cell = cell_containing(page, f'Quiz("{LESSON}")')
    run_cell(page, quiz_cell)
    asked = quiz_cell.locator(f".dl-q-{question.id}")
    expect(asked).to_be_visible()
    asked.locator(".dl-choice", has_text=right).locator("input[type=checkbox]").check()
    asked.locator(".dl-check").click()
    expect(asked.locator(".dl-feedback")).to_have_class(re.compile(r"\bdl-correct\b"))

    cards_cell = cell_containing(page, "Flashcards(")
    run_cell(page, cards_cell)
    cards = cards_cell.locator(".dl-flashcards")
    expect(cards).to_be_visible()
    before = normalized_text(cards.locator(".dl-counter"))
    cards.locator(".dl-flip").click()
    expect(cards.locator(".dl-card-back")).to_be_visible()
    cards.locator(".dl-knew").click()
    expect(cards.locator(".dl-counter")).not_to_have_text(before)

    # 2. The exercise: one function written, saved, Validate.
    lab_page.open(EXERCISE, kernel=False)
    stub = cell_containing(page, "def mse(")
    set_cell_source(page, stub, MSE)
    save(page)
    page.locator("#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden) jp-button.validate-button").click()
    message = page.locator(".jp-Dialog #validation-message")
    expect(message).to_be_visible(timeout=180_000)
    expect(message).to_contain_text("Not implemented yet")
    # The tests end with the summary (then nbgrader notes the written answer still empty),
    # and nothing says anything of library internals.
    summary = message.locator("pre").filter(has_text="Summary:")
    expect(summary).to_have_count(1)
    expect(summary).to_contain_text(re.compile(r"Summary: 1 of 7 functions pass their visible tests, 2/14 points\."))
    expect(message.locator("pre").last).to_contain_text("did not provide a response")
    expect(message).not_to_contain_text("expect.py")
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()

    # 3. A terminal of this JupyterLab: the venv's commands are there, and they report on
    # this workspace.
    out = run_in_terminal(server, ["command -v descentlab", "descentlab check 01", "descentlab progress"])
    workspace = str(server.workspace.resolve())
    assert re.search(r"/bin/descentlab\s*$", out, re.M), out
    assert f"descentlab check: workspace {workspace}" in out, out
    assert "Visible tests: 2/14 points (1 of 7 functions pass)" in out, out
    assert f"descentlab progress: workspace {workspace}" in out, out
    assert re.search(r"01 Objective functions\s+1/7 functions pass \(2/14 points\)", out), out
    assert re.search(r"01 Objective functions\s+1/\d+ right · 1 answered", out), out
    assert "without encryption" not in out and "Traceback" not in out, out
