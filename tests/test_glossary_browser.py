"""The glossary browser: search as you type, filter by lesson, the card of any term, and
lessons/glossary.ipynb running headless and committed clean."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from descentlab.glossary import load_glossary
from descentlab.glossary_browser import CSS_CLASSES, GlossaryBrowser

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "lessons" / "glossary.ipynb"
DECK = """
- term: gradient
  definition: The vector of partial derivatives $\\nabla J$.
  topic: 02_gradient_descent
  example: For $x^2$ it is $2x$.
  see_also: [learning rate]
- term: learning rate
  aliases: [step size]
  definition: The factor $\\eta$ that scales each step.
  topic: 02_gradient_descent
- term: momentum
  definition: A running velocity of past gradients.
  topic: 02_gradient_descent
- term: dropout
  definition: Zeroing random units while training.
  topic: 07_overfitting_regularization
  mnemonic: Drop to generalize.
"""


@pytest.fixture
def browser(tmp_path) -> GlossaryBrowser:
    path = tmp_path / "glossary.yml"
    path.write_text(textwrap.dedent(DECK).lstrip())
    return GlossaryBrowser(path)


def classes_in(widget) -> set[str]:
    found = set(getattr(widget, "_dom_classes", ()))
    for child in getattr(widget, "children", ()):
        found |= classes_in(child)
    return found


def test_lists_every_term_and_shows_the_first_card(browser):
    assert list(browser.terms.options) == ["gradient", "learning rate", "momentum", "dropout"]
    assert browser.terms.value == "gradient"
    assert "The vector of partial derivatives $\\nabla J$." in browser.card.value  # LaTeX intact for MathJax
    assert "<i>Example.</i>" in browser.card.value and "02 Gradient descent" in browser.card.value
    assert browser.count.value == "4 of 4 terms"
    assert set(CSS_CLASSES) <= classes_in(browser)


def test_search_narrows_at_every_keystroke_and_ranks_names_first(browser):
    browser.search_box.value = "s"
    assert "learning rate" in browser.terms.options
    browser.search_box.value = "step"
    assert list(browser.terms.options) == ["learning rate"]  # found by its alias
    assert browser.terms.value == "learning rate" and "scales each step" in browser.card.value
    browser.search_box.value = "units"
    assert list(browser.terms.options) == ["dropout"] and "Memory aid" in browser.card.value
    assert browser.search_box.continuous_update


def test_no_match_says_so_and_suggests(browser):
    browser.search_box.value = "gradiant"
    assert browser.terms.options == () and browser.card.value == ""
    assert "No term matches <b>gradiant</b>" in browser.count.value and "gradient" in browser.count.value


def test_lesson_filter_and_search_combine(browser):
    browser.topic_filter.value = "07_overfitting_regularization"
    assert list(browser.terms.options) == ["dropout"] and browser.terms.value == "dropout"
    browser.search_box.value = "gradient"
    assert browser.terms.options == ()
    browser.topic_filter.value = "02_gradient_descent"
    assert browser.terms.options[0] == "gradient"


def test_picking_a_term_and_following_see_also(browser):
    browser.terms.value = "momentum"
    assert "running velocity" in browser.card.value and browser.see_also.children == ()
    browser.topic_filter.value = "02_gradient_descent"
    browser.search_box.value = "gradient"
    browser.terms.value = "gradient"
    (link,) = browser.see_also.children
    assert link.description == "learning rate"
    link.click()  # hidden by the search: the filters clear and its card opens
    assert browser.terms.value == "learning rate" and "scales each step" in browser.card.value
    assert browser.search_box.value == ""


def test_the_course_glossary_loads_in_the_browser():
    browser = GlossaryBrowser(REPO / "glossary.yml")
    assert len(browser.terms.options) == len(load_glossary(REPO / "glossary.yml")) >= 40
    browser.topic_filter.value = "03_backpropagation"
    assert browser.terms.options and all(
        browser.glossary.get(t).topic == "03_backpropagation" for t in browser.terms.options)


def test_glossary_notebook_is_clean_and_runs_headless(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "commit lessons/glossary.ipynb clean"
    work = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, work)
    nb = nbformat.read(work, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    (code,) = [c for c in nb.cells if c.cell_type == "code"]
    (output,) = code.outputs
    assert output["output_type"] == "execute_result"
    assert "application/vnd.jupyter.widget-view+json" in output["data"]
    assert output["data"]["text/plain"].startswith("GlossaryBrowser(")
