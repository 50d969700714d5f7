"""What a learner's JupyterLab shows of nbgrader: the Validate button, not the instructor's
tools (the "Nbgrader" menu, the "Create Assignment" panel, Formgrader, the exchange-based
assignment and course lists)."""
from __future__ import annotations

import urllib.error

import pytest
from playwright.sync_api import expect

from labdriver import INSTRUCTOR_LAB_PLUGINS

EXERCISE = "exercises/01_objective_functions/01_objective_functions_exercise.ipynb"


def test_learner_sees_validate_but_no_instructor_tools(lab_page):
    page = lab_page.page
    panel = lab_page.open(EXERCISE, kernel=False)

    expect(panel.locator("jp-button.validate-button")).to_be_visible()
    expect(panel.locator("jp-button.validate-button")).to_contain_text("Validate")

    menubar = page.get_by_role("menubar")
    expect(menubar.get_by_role("menuitem", name="Kernel", exact=True)).to_be_visible()  # menus did load
    expect(menubar.get_by_role("menuitem", name="Nbgrader")).to_have_count(0)
    expect(page.locator("#jp-mainmenu-nbgrader")).to_have_count(0)

    # The right sidebar holds no "Create Assignment" panel (nbgrader adds it by default).
    expect(page.locator("#nbgrader-create_assignemnt")).to_have_count(0)
    expect(page.get_by_role("tab", name="Create Assignment")).to_have_count(0)

    # The page config JupyterLab received lists the plugins as disabled.
    disabled = page.evaluate(
        "() => JSON.parse(document.getElementById('jupyter-config-data').textContent).disabledExtensions"
    )
    for plugin in INSTRUCTOR_LAB_PLUGINS:
        assert plugin in disabled, f"{plugin} is not disabled in the learner's JupyterLab"
    assert "@jupyter/nbgrader:validate-assignment" not in disabled

    # Server side: Formgrader's pages are gone; the Validate endpoint is there.
    with pytest.raises(urllib.error.HTTPError) as info:
        lab_page.server.api("GET", "/formgrader")
    assert info.value.code == 404
