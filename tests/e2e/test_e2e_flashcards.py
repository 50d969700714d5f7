"""The Flashcards widget in the browser: it renders, Flip shows the definition, Next moves
on, "Knew it" lowers the due count, and that progress survives a kernel restart and a
page reload (it lives in the workspace's .descentlab/progress.json)."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from labdriver import (
    normalized_text, own_workspace, plain_snippet, problems, restart_kernel, run_cell,
    code_cell, save, wait_for_kernel, write_notebook,
)

TOPIC = "01_objective_functions"
COUNTER = re.compile(r"^(\d+) / (\d+) · (\d+) due today( · next in .+)?$")


def counter(widget) -> tuple[int, int, int]:
    text = normalized_text(widget.locator(".dl-counter"))
    match = COUNTER.match(text)
    assert match, f"the flashcard counter reads {text!r}, expected 'i / n · d due'"
    return tuple(int(g) for g in match.groups()[:3])


def expect_counter(widget, position: int, total: int, due: int) -> None:
    expect(widget.locator(".dl-counter")).to_have_text(
        re.compile(rf"^{position} / {total} · {due} due today( · next in .+)?$"))


def shown_entry(widget, entries):
    """The glossary entry whose term the card's front shows."""
    front = normalized_text(widget.locator(".dl-card-front"))
    matches = [e for e in entries if front.startswith(e.term)]
    assert matches, f"the card front {front!r} shows no {TOPIC} glossary term"
    return max(matches, key=lambda e: len(e.term))


def test_flashcards_flip_next_knew_and_progress_survives(lab_page):
    from descentlab.glossary import load_glossary

    page = lab_page.page
    entries = load_glossary(lab_page.server.course_root / "glossary.yml").by_topic(TOPIC)
    assert len(entries) >= 3, f"the {TOPIC} flashcards need at least 3 glossary terms"

    folder = own_workspace(lab_page.server.workspace, "e2e_flashcards")
    write_notebook(folder / "cards.ipynb", [f'from descentlab import Flashcards\nFlashcards(topic="{TOPIC}")'])
    page.on("dialog", lambda dialog: dialog.accept())  # "leave the page?" on reload
    lab_page.open("e2e_flashcards/cards.ipynb")
    cell = code_cell(page, 0)
    run_cell(page, cell)

    # Renders: one deck, every card new and therefore due.
    widget = cell.locator(".dl-flashcards")
    expect(widget).to_be_visible()
    total = len(entries)
    expect_counter(widget, 1, total, total)
    first = shown_entry(widget, entries)

    # Flip shows the definition.
    back = widget.locator(".dl-card-back")
    expect(back).to_be_hidden()
    widget.locator(".dl-flip").click()
    expect(back).to_be_visible()
    expect(back).to_contain_text(plain_snippet(first.definition, 4))

    # Next moves on to another card, definition hidden again.
    widget.locator(".dl-next").click()
    expect_counter(widget, 2, total, total)
    expect(back).to_be_hidden()
    second = shown_entry(widget, entries)
    assert second.term != first.term, "Next showed the same card again"

    # "Knew it" (once flipped) schedules the card for later: one fewer due today.
    expect(widget.locator(".dl-knew")).to_be_disabled()
    widget.locator(".dl-flip").click()
    widget.locator(".dl-knew").click()
    expect_counter(widget, 3, total, total - 1)
    expect(widget.locator(".dl-status")).to_contain_text(f"Knew it: {second.term}")
    saved = json.loads((folder / ".descentlab" / "progress.json").read_text())
    assert second.term in saved["cards"], "the answer was not saved to the workspace's progress file"

    # A kernel restart loses every Python object; a new deck reads the saved progress.
    restart_kernel(page)
    run_cell(page, cell)
    widget = cell.locator(".dl-flashcards")
    expect_counter(widget, 1, total, total - 1)
    expect(widget).not_to_contain_text(f"{second.term} · new")

    # So does a page reload (the notebook saved first, as JupyterLab asks).
    save(page)
    page.reload(wait_until="domcontentloaded")
    wait_for_kernel(page)
    cell = code_cell(page, 0)
    run_cell(page, cell)
    widget = cell.locator(".dl-flashcards")
    expect_counter(widget, 1, total, total - 1)

    # The known card is now last in study order (not due): walk there and check its label.
    for _ in range(total - 1):
        widget.locator(".dl-next").click()
    expect_counter(widget, total, total, total - 1)
    assert shown_entry(widget, entries).term == second.term
    expect(widget.locator(".dl-card-front")).to_contain_text("review · back in 2 days")

    assert not problems(page), "\n".join(map(str, problems(page)))
