"""End-to-end layer: a real JupyterLab in Debian's Chromium, driven by Playwright.

One JupyterLab server serves the whole test session. It runs from this project's venv
(``sys.executable -m jupyter lab``) on a free loopback port with a token, over a fresh
LEARNER WORKSPACE made by ``descentlab.start.sync_workspace`` (what ``descentlab start``
gives a learner: lessons/, exercises/, glossary.yml and a learner nbgrader_config.py that
the Validate button reads from the server's working directory). Every Jupyter/IPython state
directory lives in the session's temp folder, so nothing leaks between runs or into ~.

The browser is Debian's Chromium (never ``playwright install``): the plugin's launch
fixture is overridden below. If no Chromium can be found the e2e tests are skipped with a
loud message; CI never hits that because ``make test`` apt-installs chromium.

Every test that uses ``lab_page`` fails on a JavaScript console error or an uncaught page
exception, and leaves a screenshot in tests/e2e/artifacts/ (git-ignored).
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect


HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
REPO = HERE.parents[1]

# Debian's binary first (the /usr/bin/chromium wrapper works too but prints a shell error).
CHROMIUM_CANDIDATES = (
    os.environ.get("DESCENTLAB_CHROMIUM", ""),
    "/usr/lib/chromium/chromium",
    shutil.which("chromium") or "",
    shutil.which("chromium-browser") or "",
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

SERVER_START_TIMEOUT = 90  # seconds; a cold start on a busy 2-core machine takes ~5-10 s


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = find_chromium()
NO_CHROMIUM_MESSAGE = (
    "\n" + "!" * 78 + "\n"
    "!! END-TO-END BROWSER TESTS SKIPPED: Chromium not found\n"
    f"!! (looked for {', '.join(c for c in CHROMIUM_CANDIDATES if c) or '/usr/lib/chromium/chromium'}).\n"
    "!! Install it with `apt-get install -y chromium` (as root; `make test` does it),\n"
    "!! or point DESCENTLAB_CHROMIUM at a Chromium binary. Never `playwright install`.\n"
    + "!" * 78
)


def pytest_report_header(config):
    if CHROMIUM:
        return f"e2e: Chromium at {CHROMIUM}"
    return NO_CHROMIUM_MESSAGE


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    marker = pytest.mark.skip(reason="Chromium not found: END-TO-END BROWSER TESTS NOT RUN (apt-get install -y chromium)")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(marker)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not CHROMIUM and any(
        HERE in Path(str(getattr(r, "fspath", "") or r.nodeid.split("::")[0])).resolve().parents
        for r in terminalreporter.stats.get("skipped", [])
    ):
        terminalreporter.write_line(NO_CHROMIUM_MESSAGE, red=True, bold=True)


# --------------------------------------------------------------------------------------
# Browser: pytest-playwright's fixtures, pointed at Debian's Chromium.
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def e2e_tmp(tmp_path_factory) -> Path:
    """The session's own temp folder: Jupyter state, the workspace, Chromium's TMPDIR."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def browser_tmpdir(e2e_tmp) -> Path:
    path = e2e_tmp / "browser-tmp"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def playwright(browser_tmpdir, request):
    """The plugin's fixture, but the Playwright driver (and so Chromium's profiles and any
    files it leaves behind) gets TMPDIR = a folder this test session owns, not /tmp."""
    from playwright.sync_api import sync_playwright

    try:  # the plugin's API-request tracing helper (pytest-playwright >= 0.7)
        api_contexts = request.getfixturevalue("_pw_api_request_contexts")
    except pytest.FixtureLookupError:
        api_contexts = None

    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(browser_tmpdir)  # read by the driver process at spawn
    try:
        pw = sync_playwright().start()
    finally:
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
    if api_contexts:
        api_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_tmpdir):
    """Chain the plugin's value (keeps --headed and --slowmo working), add Debian's binary."""
    if not CHROMIUM:
        pytest.skip(NO_CHROMIUM_MESSAGE)
    args = list(CHROMIUM_ARGS)
    if browser_type_launch_args.get("headless") is False:
        args.remove("--headless")
    env = {**os.environ, "TMPDIR": str(browser_tmpdir)}
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": args,
        "env": env,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A taller window than Playwright's 1280x720, so screenshots show more of a notebook."""
    return {"viewport": {"width": 1280, "height": 1000}, **browser_context_args}


# --------------------------------------------------------------------------------------
# JupyterLab: one server per session over a learner workspace.
# --------------------------------------------------------------------------------------

@dataclass
class LabServer:
    url: str  # http://127.0.0.1:PORT
    token: str
    workspace: Path  # the learner workspace (the server's root_dir and cwd)
    course_root: Path  # the repository the workspace was copied from
    pid: int
    log: Path
    _opened: int = field(default=0)

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 10):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def lab_url(self, relpath: str, workspace_name: str) -> str:
        """URL opening ``relpath`` in a fresh, named JupyterLab workspace (``reset`` drops
        layouts restored from earlier tests, so each test sees only its own notebook)."""
        return f"{self.url}/lab/workspaces/{workspace_name}/tree/{relpath}?reset&token={self.token}"

    def shutdown_kernels(self) -> None:
        for kernel in self.api("GET", "/api/kernels") or []:
            try:
                self.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=30)
            except urllib.error.HTTPError:
                pass
        for session in self.api("GET", "/api/sessions") or []:
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30)
            except urllib.error.HTTPError:
                pass

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _jupyter_env(tmp: Path) -> dict[str, str]:
    dirs = {
        "JUPYTER_CONFIG_DIR": tmp / "jupyter-config",
        "JUPYTER_DATA_DIR": tmp / "jupyter-data",
        "JUPYTER_RUNTIME_DIR": tmp / "jupyter-runtime",
        "JUPYTERLAB_SETTINGS_DIR": tmp / "lab-user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": tmp / "lab-workspaces",
        "IPYTHONDIR": tmp / "ipython",
        "MPLCONFIGDIR": tmp / "matplotlib",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    env.update({k: str(v) for k, v in dirs.items()})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TMPDIR"] = str(tmp / "server-tmp")
    (tmp / "server-tmp").mkdir(exist_ok=True)
    env.pop("MPLBACKEND", None)  # lessons use the inline backend, as a learner's do
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _write_lab_settings(settings_dir: Path) -> None:
    """No news pop-up, no update check (the machine has no internet)."""
    notification = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def _hide_instructor_server_extensions(env: dict[str, str]) -> None:
    """Server side of the learner view, in this session's own JUPYTER_CONFIG_DIR.

    `jupyter server extension disable --user` refuses extensions listed only at another
    level (it validates against the user config alone), and settings in the venv's
    jupyter_server_config.d/ outrank the user's there; a user-level jupyter_server_config.json
    setting ServerApp.jpserver_extensions is read first and wins. (`make lab` should use
    `jupyter server extension disable --sys-prefix ...`, which does work there.)
    """
    from labdriver import INSTRUCTOR_SERVER_EXTENSIONS

    server_config = Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json"
    server_config.write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}}},
        indent=1,
    ))


def _hide_instructor_lab_plugins(env: dict[str, str]) -> None:
    """Lab side of the learner view: the very commands `make lab` should run (there with
    --level=sys_prefix), at the user level of this session's JUPYTER_CONFIG_DIR. JupyterLab
    reads the page config on every page request, so this may run while the server starts."""
    from labdriver import INSTRUCTOR_LAB_PLUGINS

    for action in ("disable", "lock"):  # lock: the Plugin Manager cannot switch them back on
        command = [sys.executable, "-m", "jupyter", "labextension", action, "--level=user", *INSTRUCTOR_LAB_PLUGINS]
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


def _wait_until_ready(server: LabServer, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {proc.returncode} before answering.\n{server.log_tail()}"
            )
        try:
            status = server.api("GET", "/api/status", timeout=2)
            if isinstance(status, dict) and "started" in status:
                return
        except (urllib.error.URLError, ConnectionError, OSError, ValueError) as exc:
            last_error = exc
        time.sleep(0.25)
    raise RuntimeError(
        f"JupyterLab did not answer /api/status within {SERVER_START_TIMEOUT} s "
        f"(last error: {last_error}).\n{server.log_tail()}"
    )


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server by its PID; its kernels run in its own process group, which we made."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # jupyter_server shuts its kernels down on SIGTERM
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    try:  # anything the server left behind (a stuck kernel) is in the group we created
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture(scope="session")
def lab_server(e2e_tmp) -> LabServer:
    if not CHROMIUM:
        pytest.skip(NO_CHROMIUM_MESSAGE)
    from descentlab.course import Course
    from descentlab.start import sync_workspace

    course = Course(REPO)
    workspace = e2e_tmp / "learner-workspace"
    sync_workspace(course, workspace)

    from descentlab.start import lab_environment
    from descentlab.workspace import Workspace

    env = lab_environment(Workspace(workspace), base=_jupyter_env(e2e_tmp / "jupyter"))
    _write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    _hide_instructor_server_extensions(env)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        plugins_hidden = pool.submit(_hide_instructor_lab_plugins, env)
        yield from _serve(workspace, env, e2e_tmp, plugins_hidden)


def _serve(workspace: Path, env: dict[str, str], e2e_tmp: Path, plugins_hidden):
    """Start JupyterLab in ``workspace`` (its cwd too: the Validate button reads the
    learner's nbgrader_config.py from there), wait for /api/status, stop it afterwards."""
    from descentlab.start import lab_options
    from descentlab.workspace import Workspace

    port = _free_port()
    token = secrets.token_hex(24)
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        *lab_options(Workspace(workspace)),  # what `descentlab start` gives: root_dir, terminals' PATH
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--ServerApp.shutdown_no_activity_timeout=0",
        # Skip the per-page-load "is the build up to date?" check: it spawns node/yarn each
        # time (seconds of CPU on a loaded machine) and a learner never rebuilds anyway.
        "--ServerApp.tornado_settings={'page_config_data': {'buildCheck': False, 'buildAvailable': False}}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = e2e_tmp / "jupyterlab.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            command, cwd=str(workspace), env=env, stdout=log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    server = LabServer(
        url=f"http://127.0.0.1:{port}", token=token, workspace=workspace,
        course_root=REPO, pid=proc.pid, log=log,
    )
    try:
        _wait_until_ready(server, proc)
        plugins_hidden.result()
        yield server
    finally:
        _stop(proc)


# --------------------------------------------------------------------------------------
# The page every e2e test drives.
# --------------------------------------------------------------------------------------

# Console errors proven unrelated to the course. Each entry: (regex, why it is harmless).
# Keep this list short; anything not matched fails the test.
ALLOWED_CONSOLE_ERRORS: tuple[tuple[str, str], ...] = ()


def _allowed(text: str) -> bool:
    return any(re.search(pattern, text) for pattern, _why in ALLOWED_CONSOLE_ERRORS)


@dataclass
class LabPage:
    """A Playwright page on the session's JupyterLab, plus what the test needs around it."""

    page: object
    server: LabServer
    name: str
    console_errors: list[str]

    def open(self, relpath: str, **kwargs):
        from labdriver import open_notebook

        return open_notebook(self.page, self.server.lab_url(relpath, self.name), **kwargs)


def _slug(nodeid: str) -> str:
    name = nodeid.split("::", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:120]


def _watch_console(page, errors: list[str]) -> None:
    """Record the page's JavaScript console errors and uncaught exceptions in ``errors``."""
    def on_console(message) -> None:
        if message.type == "error":
            location = message.location or {}
            text = f"console.error: {message.text} (at {location.get('url', '?')}:{location.get('lineNumber', '?')})"
            if not _allowed(text):
                errors.append(text)

    def on_pageerror(error) -> None:
        text = f"uncaught exception: {error}"
        if not _allowed(text):
            errors.append(text)

    page.on("console", on_console)
    page.on("pageerror", on_pageerror)
    page.set_default_timeout(30_000)


def _screenshot(page, nodeid: str) -> None:
    """tests/e2e/artifacts/<test>.png; a screenshot must never hide the test's own result."""
    name = _slug(nodeid)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, timeout=15_000)
    except Exception as exc:
        sys.stderr.write(f"e2e: could not save a screenshot for {name}: {exc}\n")


def _fail_on_console_errors(errors: list[str]) -> None:
    if errors:
        pytest.fail(
            "JavaScript errors in the browser during this test:\n  " + "\n  ".join(errors),
            pytrace=False,
        )


def _shutdown_kernels(server: LabServer, what: str) -> None:
    try:
        server.shutdown_kernels()
    except Exception as exc:
        sys.stderr.write(f"e2e: could not shut kernels down after {what}: {exc}\n")


@pytest.fixture
def lab_page(page, lab_server, request) -> LabPage:
    """The test's page: console errors recorded (and failing the test at the end), a
    screenshot in tests/e2e/artifacts/<test>.png, kernels shut down afterwards."""
    errors: list[str] = []
    _watch_console(page, errors)
    workspace_name = "e2e-" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    handle = LabPage(page=page, server=lab_server, name=workspace_name, console_errors=errors)
    yield handle
    _screenshot(page, request.node.nodeid)
    try:
        page.close()  # before the kernels go, so their shutdown cannot log errors on the page
    except Exception:
        pass
    _shutdown_kernels(lab_server, _slug(request.node.nodeid))
    _fail_on_console_errors(errors)


@dataclass
class SharedLab:
    """One JupyterLab page load that several tests of a module use in turn, one notebook at
    a time (a page load is seconds of CPU): the first ``open`` loads JupyterLab on the
    notebook, every later one closes the open notebook's tab (File > Close Tab, discarding
    the outputs), shuts its kernel down and opens the next with File > Open from Path, as a
    learner would, without reloading the page."""

    page: object
    server: LabServer
    name: str
    console_errors: list[str]
    loaded: bool = False

    def open(self, relpath: str):
        from labdriver import NOTEBOOK, menu_command, notebook, open_notebook, wait_for_kernel

        if not self.loaded:
            self.loaded = True
            return open_notebook(self.page, self.server.lab_url(relpath, self.name))
        page = self.page
        if page.locator(NOTEBOOK).count():
            # Closing the last test's notebook belongs to no test (lab_page closes the whole
            # page instead): ipywidgets logs "Could not send widget sync message" for every
            # live widget of a notebook whose tab closes, so what the console logs while the
            # tab closes is not counted. Run All left the notebook changed: JupyterLab asks
            # to save, and the workspace copy stays clean.
            closing = len(self.console_errors)
            menu_command(page, "File", "Close Tab")
            ask = page.locator(".jp-Dialog")
            expect(ask).to_contain_text("Save your work")
            ask.locator("button", has_text=re.compile(r"^\s*Discard\s*$")).click()
            expect(ask).to_have_count(0)
            expect(page.locator(NOTEBOOK)).to_have_count(0)
            _shutdown_kernels(self.server, relpath)
            page.wait_for_timeout(500)  # the closed views' last messages
            del self.console_errors[closing:]
        menu_command(page, "File", "Open from Path")
        dialog = page.locator(".jp-Dialog")
        dialog.locator("input").fill(relpath)
        dialog.get_by_role("button", name="Open", exact=True).click()
        expect(dialog).to_have_count(0)
        panel = notebook(page)
        expect(panel).to_have_count(1, timeout=60_000)
        expect(panel.locator(".jp-Cell").first).to_be_visible(timeout=30_000)
        wait_for_kernel(page)
        return panel


@pytest.fixture(scope="module")
def _shared_lab(browser, browser_context_args, lab_server, request) -> SharedLab:
    context = browser.new_context(**browser_context_args)
    page = context.new_page()
    errors: list[str] = []
    _watch_console(page, errors)
    name = "e2e-" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]
    yield SharedLab(page=page, server=lab_server, name=name, console_errors=errors)
    try:
        context.close()
    except Exception:
        pass
    _shutdown_kernels(lab_server, request.node.nodeid)


@pytest.fixture
def shared_lab_page(_shared_lab, request) -> SharedLab:
    """``lab_page`` for a test that shares its module's page (SharedLab): the console errors
    logged while THIS test ran fail it, and it leaves its own screenshot."""
    errors = _shared_lab.console_errors
    errors.clear()
    yield _shared_lab
    _screenshot(_shared_lab.page, request.node.nodeid)
    mine = list(errors)
    errors.clear()
    _fail_on_console_errors(mine)
