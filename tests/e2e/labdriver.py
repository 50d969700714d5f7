"""Driving notebooks in JupyterLab the way a learner does: menus, keyboard, buttons.

Every wait is an explicit Playwright wait with a timeout; nothing sleeps for a fixed time
except where JupyterLab offers nothing to wait on (said where it happens).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

# Widgets answer through the kernel; on a loaded 2-core machine 5 s (Playwright's default
# for expect) is too tight. Waits that can take longer pass their own timeout.
expect.set_options(timeout=20_000)

NOTEBOOK = "#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)"
STDERR_MIME = "application/vnd.jupyter.stderr"
KERNEL_START_TIMEOUT = 90_000  # ms: first kernel on a loaded 2-core machine
WIDGET_FAILURE_TEXT = re.compile(r"Error displaying widget|Failed to load model class|Error creating widget")


# A learner works in a copy of the course and only needs nbgrader's Validate button. The
# instructor's tools (the "Nbgrader" menu, the "Create Assignment" panel, Formgrader, and the
# exchange-based Assignment/Course lists) are switched off, as `make lab` should do too:
#   jupyter labextension disable --level=sys_prefix <INSTRUCTOR_LAB_PLUGINS>
#   jupyter labextension lock --level=sys_prefix <INSTRUCTOR_LAB_PLUGINS>
#   jupyter server extension disable --sys-prefix <INSTRUCTOR_SERVER_EXTENSIONS>
# (the test server gets the same settings at the user level of its own temp config dir).
# tests/e2e/test_learner_view.py checks the result in the browser.
INSTRUCTOR_LAB_PLUGINS = (
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:course-list",
)
INSTRUCTOR_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)


def notebook(page: Page) -> Locator:
    return page.locator(NOTEBOOK)


def open_notebook(page: Page, url: str, *, kernel: bool = True) -> Locator:
    """Load JupyterLab on ``url`` (a /lab/.../tree/<notebook> URL) and wait until the
    notebook is shown and, when ``kernel``, its kernel really is ready."""
    page.goto(url, wait_until="domcontentloaded")
    panel = notebook(page)
    expect(panel).to_be_visible(timeout=60_000)
    expect(panel.locator(".jp-Cell").first).to_be_visible(timeout=30_000)
    if kernel:
        wait_for_kernel(page)
    return panel


def wait_for_kernel(page: Page, timeout: float = KERNEL_START_TIMEOUT) -> None:
    """Right after load the indicator says idle while no kernel exists yet; the debugger
    button is enabled only once a kernel is connected (BROWSER_TESTING.md), so wait for both."""
    panel = notebook(page)
    expect(panel.locator('.jp-DebuggerBugButton[aria-disabled="false"]')).to_have_count(1, timeout=timeout)
    expect(panel.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_have_count(1, timeout=timeout)


def menu_command(page: Page, menu: str, item: str) -> None:
    """Click ``menu`` in the menu bar, then its item labelled ``item`` (as a learner reads it)."""
    page.get_by_role("menubar").get_by_role("menuitem", name=menu, exact=True).click()
    entry = page.get_by_role("menu").get_by_role("menuitem", name=re.compile(rf"^{re.escape(item)}"))
    expect(entry).to_have_count(1)
    entry.click()


def prompts(page: Page) -> list[str]:
    return notebook(page).locator(".jp-CodeCell .jp-InputArea-prompt").evaluate_all(
        "nodes => nodes.map(n => n.textContent.replace(/\\s+/g, ''))"
    )


def clear_all_outputs(page: Page) -> None:
    """Edit > Clear Outputs of All Cells: outputs go and every prompt reads [ ] again, so a
    following run is seen starting even on a notebook that ran before."""
    menu_command(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(
        """sel => [...document.querySelectorAll(sel + ' .jp-CodeCell .jp-InputArea-prompt')]
                 .every(n => !/\\[[0-9*]+\\]/.test(n.textContent))""",
        arg=NOTEBOOK,
        timeout=15_000,
    )


def run_all(page: Page, timeout: float = 180_000) -> float:
    """Run > Run All Cells, then wait until no cell is queued or running and the kernel is
    idle. Returns the seconds it took."""
    clear_all_outputs(page)
    started = time.monotonic()
    menu_command(page, "Run", "Run All Cells")
    wait_until_run_finished(page, timeout)
    return time.monotonic() - started


def wait_until_run_finished(page: Page, timeout: float = 180_000) -> None:
    # Queued and running cells all show [*] as soon as Run All is clicked; a finished cell
    # shows its number; cells skipped after an error go back to [ ].
    page.wait_for_function(
        """sel => {
            const texts = [...document.querySelectorAll(sel + ' .jp-CodeCell .jp-InputArea-prompt')]
                .map(n => n.textContent);
            const indicator = document.querySelector(sel + ' .jp-Notebook-ExecutionIndicator');
            const idle = !indicator || indicator.dataset.status === 'idle';
            return texts.some(t => /\\[[0-9]+\\]/.test(t)) && !texts.some(t => t.includes('*')) && idle;
        }""",
        arg=NOTEBOOK,
        timeout=timeout,
        polling=250,
    )


@dataclass
class CellProblem:
    cell: int  # 1-based position among all cells
    kind: str
    text: str

    def __str__(self) -> str:
        return f"cell {self.cell}: {self.kind}:\n{self.text.strip()[:1500]}"


def problems(page: Page) -> list[CellProblem]:
    """Every error the learner would see: tracebacks and stderr text (both render with the
    stderr MIME type), cells skipped because an earlier one failed, and widget failures."""
    found = notebook(page).locator(".jp-Cell").evaluate_all(
        """(cells, [mime, widgetFailure]) => {
            const failed = new RegExp(widgetFailure);
            const out = [];
            cells.forEach((cell, i) => {
                cell.querySelectorAll('.jp-OutputArea-output').forEach(o => {
                    const text = o.innerText || o.textContent || '';
                    if (o.dataset.mimeType === mime) out.push([i + 1, 'error output', text]);
                    else if (failed.test(text))
                        out.push([i + 1, 'widget failed to render', text]);
                });
            });
            return out;
        }""",
        [STDERR_MIME, WIDGET_FAILURE_TEXT.pattern],
    )
    return [CellProblem(cell, kind, text) for cell, kind, text in found]


def unexecuted_code_cells(page: Page) -> list[int]:
    """1-based positions of code cells with source that did not run (prompt still [ ])."""
    return notebook(page).locator(".jp-Cell").evaluate_all(
        """cells => cells.map((c, i) => [c, i + 1])
            .filter(([c]) => c.classList.contains('jp-CodeCell'))
            .filter(([c]) => (c.querySelector('.cm-content')?.textContent || '').trim() !== '')
            .filter(([c]) => !/\\[[0-9]+\\]/.test(c.querySelector('.jp-InputArea-prompt')?.textContent || ''))
            .map(([, i]) => i)"""
    )


def image_report(page: Page) -> list[dict]:
    """Every image in an output area with whether it decoded to real pixels."""
    images = notebook(page).locator(".jp-OutputArea-output img")
    count = images.count()
    if count:
        # decode() resolves once the image data is usable (immediately if already decoded).
        images.evaluate_all("imgs => Promise.all(imgs.map(i => i.decode().catch(() => null)))")
    return images.evaluate_all(
        """imgs => imgs.map(i => ({src: (i.getAttribute('src') || '').slice(0, 40),
                                  complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))"""
    )


def code_cell(page: Page, index: int) -> Locator:
    """The ``index``-th (0-based) code cell of the notebook."""
    return notebook(page).locator(".jp-CodeCell").nth(index)


def cell_containing(page: Page, text: str) -> Locator:
    """The code cell whose source contains ``text`` (exactly one must)."""
    cells = notebook(page).locator(".jp-CodeCell").filter(
        has=page.locator(".cm-content", has_text=text)
    )
    expect(cells).to_have_count(1)
    return cells.first


def set_cell_source(page: Page, cell: Locator, source: str) -> None:
    """Replace a cell's text as typed input. insert_text avoids CodeMirror's auto-indent
    and bracket closing, so the cell ends up with exactly ``source``."""
    cell.scroll_into_view_if_needed()
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)
    page.keyboard.press("Escape")
    expect(editor).to_contain_text(source.strip().splitlines()[0])


def append_code_cell(page: Page, source: str) -> Locator:
    """Select the last cell, insert a code cell below it and type ``source`` into it."""
    last = notebook(page).locator(".jp-Cell").last
    last.locator(".jp-Cell-inputArea, .jp-InputArea").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    new = notebook(page).locator(".jp-Cell").last
    set_cell_source(page, new, source)
    return new


def run_cell(page: Page, cell: Locator, timeout: float = 60_000) -> None:
    """Run one cell with Shift+Enter and wait until it has its execution number. Its old
    output is cleared first (Edit > Clear Cell Output resets the prompt to [ ]): after a
    kernel restart the new number can equal the old one, so only [ ] -> [n] proves a run."""
    prompt = cell.locator(".jp-InputArea-prompt")
    prompt.click()  # selects the cell, command mode
    if re.search(r"\[[\d*]+\]", prompt.inner_text()):
        menu_command(page, "Edit", "Clear Cell Output")
        expect(prompt).not_to_have_text(re.compile(r"\[[\d*]+\]"))
        prompt.click()
    page.keyboard.press("Shift+Enter")
    expect(prompt).to_have_text(re.compile(r"\[\d+\]"), timeout=timeout)
    expect(notebook(page).locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_have_count(
        1, timeout=timeout
    )


def save(page: Page) -> None:
    """Ctrl+S in command mode, then wait until the tab no longer shows unsaved changes."""
    notebook(page).locator(".jp-Notebook").focus()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    expect(page.locator("#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current.jp-mod-dirty")).to_have_count(
        0, timeout=30_000
    )


def restart_kernel(page: Page) -> None:
    """Kernel > Restart Kernel..., confirm, wait until the new kernel is idle."""
    menu_command(page, "Kernel", "Restart Kernel…")
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible()
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    # The indicator goes through restarting/starting before idle again.
    expect(notebook(page).locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')).to_have_count(
        1, timeout=KERNEL_START_TIMEOUT
    )


def write_notebook(path, sources: list[str]) -> None:
    """Write a clean notebook of code cells (Python 3 kernel) for a test to open."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def own_workspace(workspace, name: str):
    """A workspace of the test's own inside the learner workspace: its own ``.descentlab/``
    state folder and copies of the glossary and quiz banks. The widgets read the nearest
    workspace above the kernel's directory (descentlab.workspace), so a notebook here starts
    from empty progress, untouched by other tests."""
    import shutil

    folder = workspace / name
    (folder / ".descentlab").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workspace / "glossary.yml", folder / "glossary.yml")
    shutil.copytree(workspace / "lessons" / "quizzes", folder / "lessons" / "quizzes", dirs_exist_ok=True)
    return folder


def plain_snippet(text: str, words: int = 5) -> str:
    """The first run of ``words`` plain words in ``text`` (no maths, markup or code), to
    look for in rendered HTML whatever the Markdown/LaTeX around it became."""
    runs = re.split(r"\$[^$]*\$|`[^`]*`|[*_<>&\\\[\](){}|#]", " ".join(text.split()))
    for run in runs:
        parts = run.split()
        for start in range(len(parts)):
            chunk = parts[start:start + words]
            if len(chunk) == words and all(re.fullmatch(r"[A-Za-z][A-Za-z-]*[,.;:]?", p) for p in chunk):
                return " ".join(chunk)
    raise AssertionError(f"no run of {words} plain words in {text!r}")


def normalized_text(locator: Locator) -> str:
    return " ".join(locator.inner_text().split())


ANSI_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def run_in_terminal(server, commands: list[str], timeout: float = 600) -> str:
    """Type ``commands`` into a new JupyterLab terminal (the server's terminals REST API and
    websocket, as the Terminal tab does) and return what it printed, control codes removed,
    once the last one has finished."""
    import asyncio
    import concurrent.futures
    import json

    from tornado.websocket import websocket_connect

    name = server.api("POST", "/api/terminals")["name"]
    url = server.url.replace("http://", "ws://") + f"/terminals/websocket/{name}?token={server.token}"
    done = "descentlab-e2e-finished"

    async def talk() -> str:
        connection = await websocket_connect(url)
        output: list[str] = []
        for command in [*commands, f"echo {done[:10]}''{done[10:]}"]:  # the echo, not the typing, matches
            await connection.write_message(json.dumps(["stdin", command + "\n"]))
        deadline = time.monotonic() + timeout
        while done not in ANSI_CONTROL.sub("", "".join(output)):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("the terminal did not finish in time:\n" + ANSI_CONTROL.sub("", "".join(output))[-3000:])
            message = await asyncio.wait_for(connection.read_message(), timeout=remaining)
            if message is None:
                break
            kind, *rest = json.loads(message)
            if kind == "stdout":
                output.append(rest[0])
        connection.close()
        return ANSI_CONTROL.sub("", "".join(output))

    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # away from Playwright's event loop
            return pool.submit(asyncio.run, talk()).result()
    finally:
        server.api("DELETE", f"/api/terminals/{name}")
