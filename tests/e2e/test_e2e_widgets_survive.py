"""Widgets that survive: a saved notebook keeps no dead widget views (the server's pre-save
hook), a reloaded quiz shows its choices in the same shuffled order with the answers
restored, and the flashcards' flip rule and keyboard work in the browser."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from labdriver import (
    WIDGET_FAILURE_TEXT, code_cell, normalized_text, notebook, own_workspace, problems, run_cell, save,
    wait_for_kernel, write_notebook,
)

LESSON = "01_objective_functions"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_saving_through_the_contents_api_replaces_widget_views(lab_server):
    """A real server and its contents API: what reaches the disk has no widget view left."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    quiz = nbformat.v4.new_code_cell('from descentlab import Quiz\nQuiz("01")', execution_count=1)
    quiz.outputs = [nbformat.v4.new_output("execute_result", execution_count=1, data={
        "text/plain": "Quiz('01_objective_functions': 9 questions, score 0/9)",
        WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": "0123abcd"}})]
    plot = nbformat.v4.new_code_cell("print('x')\nslider", execution_count=2)
    plot.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n"),
                    nbformat.v4.new_output("display_data", data={
                        "text/plain": "IntSlider(value=3)", WIDGET_VIEW: {"model_id": "ffee"}})]
    nb.cells = [nbformat.v4.new_markdown_cell("# saved"), quiz, plot]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    own_workspace(lab_server.workspace, "e2e_save_hook")
    path = "e2e_save_hook/saved.ipynb"
    lab_server.api("PUT", f"/api/contents/{path}", {"type": "notebook", "format": "json", "content": nb})

    on_disk = nbformat.read(str(lab_server.workspace / path), as_version=4)  # joins split lines
    outputs = [o for cell in on_disk["cells"] for o in cell.get("outputs", [])]
    assert not any(WIDGET_VIEW in o.get("data", {}) for o in outputs), outputs
    assert outputs[0]["data"] == {"text/plain": "Run this cell to show the quiz again (your progress is saved in the workspace)."}
    assert (outputs[1]["output_type"], outputs[1]["text"]) == ("stream", "x\n")  # other outputs kept
    assert outputs[2]["data"]["text/plain"].startswith("Run this cell to show the widget again")
    assert "widgets" not in on_disk["metadata"]
    assert on_disk["cells"][1]["source"] == 'from descentlab import Quiz\nQuiz("01")'


def shown_choices(question) -> list[str]:
    return question.locator(".dl-choice-text").evaluate_all("nodes => nodes.map(n => n.innerText.trim())")


def test_quiz_reloads_without_dead_views_in_the_same_order_with_answers_restored(lab_page):
    from descentlab.learner_seed import read_seed
    from descentlab.quiz import choice_order
    from descentlab.quiz_bank import load_quiz

    page = lab_page.page
    folder = own_workspace(lab_page.server.workspace, "e2e_quiz_reload")
    bank = load_quiz(folder / "lessons" / "quizzes" / f"{LESSON}.yml")  # the sealed copy the widget reads
    assert bank.questions[0].choices and "salt" in (folder / "lessons" / "quizzes" / f"{LESSON}.yml").read_text()
    seed = read_seed(folder / ".descentlab")
    shuffled = [q for q in bank.questions if q.choices and choice_order(seed, LESSON, q)[0] not in q.correct_choices]
    assert shuffled, "with this workspace's seed every question still shows a right choice first"
    q = shuffled[0]
    write_notebook(folder / "quiz.ipynb", [f'from descentlab import Quiz\nQuiz("{LESSON}")'])
    page.on("dialog", lambda dialog: dialog.accept())
    lab_page.open("e2e_quiz_reload/quiz.ipynb")
    cell = code_cell(page, 0)
    run_cell(page, cell)
    question = cell.locator(f".dl-q-{q.id}")
    expect(question).to_be_visible()
    before = shown_choices(question)
    assert len(before) == len(q.choices)

    # Answer right: pick the right choice where the shuffle put it (not A).
    position = choice_order(seed, LESSON, q).index(q.correct_choices[0])
    assert position != 0
    question.locator(".dl-choice-box input[type=checkbox]").nth(position).check()
    question.locator(".dl-check").click()
    expect(question.locator(".dl-feedback")).to_have_class(re.compile(r"\bdl-correct\b"))

    # Save and reload: the saved notebook holds a plain line, not a dead widget view.
    save(page)
    saved = json.loads((folder / "quiz.ipynb").read_text())
    assert not any(WIDGET_VIEW in o.get("data", {}) for o in saved["cells"][0]["outputs"])
    page.reload(wait_until="domcontentloaded")
    expect(notebook(page)).to_be_visible(timeout=60_000)
    wait_for_kernel(page)
    cell = code_cell(page, 0)
    expect(cell.locator(".jp-OutputArea-output")).to_contain_text("Run this cell to show the quiz again")
    assert not WIDGET_FAILURE_TEXT.search(normalized_text(cell.locator(".jp-OutputArea"))), "a dead widget view"

    # Run it again: the same order, the answer and its verdict back, the score restored.
    run_cell(page, cell)
    question = cell.locator(f".dl-q-{q.id}")
    expect(question).to_be_visible()
    assert shown_choices(question) == before, "the choice order changed across a reload"
    boxes = question.locator(".dl-choice-box input[type=checkbox]")
    expect(boxes.nth(position)).to_be_checked()
    expect(boxes.nth(position)).to_be_disabled()
    expect(question.locator(".dl-feedback")).to_have_class(re.compile(r"\bdl-correct\b"))
    expect(cell.locator(".dl-score")).to_contain_text(f"Score: 1 / {len(bank.questions)} · 1 answered")
    assert not problems(page), "\n".join(map(str, problems(page)))


def test_flashcards_flip_rule_and_keyboard(lab_page):
    page = lab_page.page
    folder = own_workspace(lab_page.server.workspace, "e2e_cards_keys")
    write_notebook(folder / "cards.ipynb", [f'from descentlab import Flashcards\nFlashcards(topic="{LESSON}")'])
    lab_page.open("e2e_cards_keys/cards.ipynb")
    cell = code_cell(page, 0)
    run_cell(page, cell)
    widget = cell.locator(".dl-flashcards")
    expect(widget).to_be_visible()
    counter, back, front = widget.locator(".dl-counter"), widget.locator(".dl-card-back"), widget.locator(".dl-card-front")
    expect(counter).to_have_text(re.compile(r"^1 / (\d+) · \1 due today$"))
    total = int(normalized_text(counter).split(" / ")[1].split(" ")[0])

    # The flip rule: both grade buttons are disabled until the card is turned over.
    expect(widget.locator(".dl-knew")).to_be_disabled()
    expect(widget.locator(".dl-missed")).to_be_disabled()

    # Keys work with the pointer over the card: "1" before a flip grades nothing.
    cells = notebook(page).locator(".jp-Cell").count()  # Shift+Enter may have added one below
    widget.locator(".dl-card").hover()
    page.keyboard.press("1")
    expect(widget.locator(".dl-status")).to_contain_text("Flip the card first")
    expect(counter).to_have_text(re.compile(r"^1 / "))
    first = normalized_text(front)

    page.keyboard.press(" ")                       # space flips
    expect(back).to_be_visible()
    expect(widget.locator(".dl-knew")).to_be_enabled()
    page.keyboard.press("1")                       # 1: knew it, on to card 2, face down
    expect(counter).to_have_text(re.compile(rf"^2 / {total} · {total - 1} due today · next in 2 days$"))
    expect(back).to_be_hidden()
    expect(widget.locator(".dl-status")).to_contain_text("Knew it")

    page.keyboard.press(" ")
    page.keyboard.press("2")                       # 2: missed it, back in 10 minutes
    expect(counter).to_have_text(re.compile(rf"^3 / {total} · {total - 1} due today · next in 10 min$"))
    expect(widget.locator(".dl-status")).to_contain_text("Missed it")

    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")               # arrows move: back at the first card
    expect(counter).to_have_text(re.compile(rf"^1 / {total} "))
    assert normalized_text(front).split(" ")[0] == first.split(" ")[0]
    page.keyboard.press("ArrowRight")
    expect(counter).to_have_text(re.compile(rf"^2 / {total} "))

    saved = json.loads((folder / ".descentlab" / "progress.json").read_text())["cards"]
    assert len(saved) == 2 and all(r["scheduler"] == "fsrs" for r in saved.values())
    # the keys went to the widget, not to JupyterLab: no new cells, no cell turned Markdown
    expect(notebook(page).locator(".jp-Cell")).to_have_count(cells)
    expect(notebook(page).locator(".jp-CodeCell")).to_have_count(cells)
    assert not problems(page), "\n".join(map(str, problems(page)))
