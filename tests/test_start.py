"""`descentlab start`: course updates that respect the learner's work, the terminal's PATH,
a quiet start-up.

The notebooks here are the course's own, and "only run" means really run: executed in a
kernel (nbclient), as JupyterLab would before autosaving them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from descentlab.check import kernel_config
from descentlab.course import Course
from descentlab.start import lab_environment, sync_workspace, terminal_shell
from descentlab.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
LESSON = "lessons/01_objective_functions.ipynb"
EXERCISE = "exercises/01_objective_functions/01_objective_functions_exercise.ipynb"
NEW_EXERCISE = "exercises/01_objective_functions/01_objective_functions_exercise.new-version.ipynb"
NEW_LESSON = "lessons/01_objective_functions.new-version.ipynb"


@pytest.fixture
def course(tmp_path) -> Course:
    """A copy of the course that a test can 'update' as an instructor would."""
    root = tmp_path / "course"
    for folder in ("lessons", "exercises"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy(REPO / "glossary.yml", root / "glossary.yml")
    return Course(root)


def run_notebook(path: Path) -> None:
    """Execute ``path`` in a real kernel and save it with its outputs (errors allowed: a
    fresh exercise's tests fail)."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}, config=kernel_config()).execute()
    nbformat.write(nb, path)


def update_course(course: Course, rel: str, marker: str) -> None:
    """The instructor improves a notebook: new prose in its first markdown cell."""
    path = course.root / rel
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    first.source += f"\n\n{marker}"
    nbformat.write(nb, path)


def edit_answer(path: Path, grade_id: str, source: str) -> None:
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    cell.source = source
    nbformat.write(nb, path)


def test_notebooks_that_were_only_run_get_course_updates(course, tmp_path):
    ws = tmp_path / "ws"
    sync_workspace(course, ws)
    run_notebook(ws / EXERCISE)
    run_notebook(ws / LESSON)
    assert any(c.get("outputs") for c in nbformat.read(ws / LESSON, 4).cells if c.cell_type == "code")

    again = sync_workspace(course, ws)  # the course has not changed: nothing to say
    assert again.format() == "workspace is up to date"

    update_course(course, EXERCISE, "A clearer hint from the course.")
    update_course(course, LESSON, "A new paragraph from the course.")
    report = sync_workspace(course, ws)
    assert sorted(report.refreshed) == sorted([EXERCISE, LESSON]) and report.kept == []
    assert "A clearer hint from the course." in (ws / EXERCISE).read_text()
    assert "A new paragraph from the course." in (ws / LESSON).read_text()
    assert not (ws / NEW_EXERCISE).exists() and not (ws / NEW_LESSON).exists()


def test_an_exercise_with_edited_answers_is_kept_and_the_new_version_written_beside_it(course, tmp_path):
    ws = tmp_path / "ws"
    sync_workspace(course, ws)
    answer = "def mse(y_pred, y_true):\n    return 0.0  # my first try\n"
    edit_answer(ws / EXERCISE, "mse", answer)
    run_notebook(ws / EXERCISE)
    mine = (ws / EXERCISE).read_bytes()

    assert sync_workspace(course, ws).kept == []  # no newer course version: no message
    update_course(course, EXERCISE, "Version 2 of the exercise.")
    report = sync_workspace(course, ws)
    assert report.kept == [(EXERCISE, NEW_EXERCISE)]
    assert f"kept your work in {EXERCISE}; the course's new version is beside it: {NEW_EXERCISE}" in report.format()
    assert (ws / EXERCISE).read_bytes() == mine
    assert "Version 2 of the exercise." in (ws / NEW_EXERCISE).read_text()
    assert Workspace(ws.resolve()).exercise_notebooks("01_objective_functions") == [(ws / EXERCISE).resolve()]

    # A later update refreshes the copy beside it (untouched) and still keeps the learner's.
    update_course(course, EXERCISE, "Version 3.")
    report = sync_workspace(course, ws)
    assert report.kept == [(EXERCISE, NEW_EXERCISE)] and (ws / EXERCISE).read_bytes() == mine
    assert "Version 3." in (ws / NEW_EXERCISE).read_text()

    # Once the learner works in the new version too, neither is overwritten.
    edit_answer(ws / NEW_EXERCISE, "mse", answer)
    theirs = (ws / NEW_EXERCISE).read_bytes()
    update_course(course, EXERCISE, "Version 4.")
    report = sync_workspace(course, ws)
    assert report.kept == [(EXERCISE, "")] and (ws / NEW_EXERCISE).read_bytes() == theirs
    assert "you changed that copy too" in report.format()


def test_a_lesson_whose_code_the_learner_changed_is_kept(course, tmp_path):
    ws = tmp_path / "ws"
    sync_workspace(course, ws)
    nb = nbformat.read(ws / LESSON, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.source += "\nprint('my experiment')"
    nbformat.write(nb, ws / LESSON)
    update_course(course, LESSON, "New prose.")
    report = sync_workspace(course, ws)
    assert report.kept == [(LESSON, NEW_LESSON)]
    assert "my experiment" in (ws / LESSON).read_text() and "New prose." in (ws / NEW_LESSON).read_text()


def test_prose_and_metadata_edits_are_not_work(course, tmp_path):
    ws = tmp_path / "ws"
    sync_workspace(course, ws)
    nb = nbformat.read(ws / LESSON, as_version=4)
    nb.metadata["widgets"] = {"state": "left by a widget"}
    next(c for c in nb.cells if c.cell_type == "markdown").source += "\n\nmy note"
    nbformat.write(nb, ws / LESSON)
    update_course(course, LESSON, "New prose.")
    assert sync_workspace(course, ws).refreshed == [LESSON]


def test_an_unreadable_notebook_is_the_learners(course, tmp_path):
    ws = tmp_path / "ws"
    sync_workspace(course, ws)
    (ws / EXERCISE).write_text('{"cells": [')
    update_course(course, EXERCISE, "Version 2.")
    report = sync_workspace(course, ws)
    assert report.kept == [(EXERCISE, NEW_EXERCISE)] and (ws / EXERCISE).read_text() == '{"cells": ['


def test_a_manifest_from_before_work_digests_still_tells_run_from_edited(course, tmp_path):
    ws = tmp_path / "ws"
    sync_workspace(course, ws)
    manifest = ws / ".descentlab/manifest.json"
    entries = json.loads(manifest.read_text())["files"]
    manifest.write_text(json.dumps({rel: e["course"] for rel, e in entries.items()}))  # the old format
    run_notebook(ws / EXERCISE)
    edit_answer(ws / "exercises/02_gradient_descent/02_gradient_descent_exercise.ipynb", "gradient_descent", "def gradient_descent(): pass\n")
    update_course(course, EXERCISE, "Version 2.")
    update_course(course, "exercises/02_gradient_descent/02_gradient_descent_exercise.ipynb", "Version 2.")
    report = sync_workspace(course, ws)
    assert report.refreshed == [EXERCISE]
    assert [rel for rel, _ in report.kept] == ["exercises/02_gradient_descent/02_gradient_descent_exercise.ipynb"]


def test_the_workspace_gets_a_clean_start_here_notebook_and_a_learner_config(course, tmp_path):
    ws = tmp_path / "ws"
    sync_workspace(course, ws)
    nb = nbformat.read(ws / "START_HERE.ipynb", as_version=4)
    assert all(c.get("outputs") == [] and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    assert "CourseMap()" in nb.cells[-1].source
    assert "ValidateMessages" in (ws / "nbgrader_config.py").read_text()


def test_a_terminal_has_the_venv_first_on_path_even_when_the_profile_resets_it(course, tmp_path):
    """JupyterLab runs the terminal's shell as a login shell unless told otherwise, and
    /etc/profile then sets PATH to the system's; our rc file puts the venv back first."""
    ws = Workspace(tmp_path / "ws")
    sync_workspace(course, ws.root)
    shell = terminal_shell(ws)
    env = lab_environment(ws, base={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "TERM": "dumb"})
    result = subprocess.run([*shell], input="command -v descentlab\nexit\n", env=env, cwd=ws.root,
                            capture_output=True, text=True, timeout=60)
    assert f"{Path(sys.executable).parent}/descentlab" in result.stdout, result.stdout + result.stderr


@pytest.mark.slow
def test_start_is_quiet_and_ends_with_the_address(tmp_path):
    """`descentlab start` prints the workspace, what it copied, and the address to open as
    its last lines: no extension logs."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_DATA_DIR": str(tmp_path / "data"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lw"), "IPYTHONDIR": str(tmp_path / "ipy")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "descentlab", "start", str(tmp_path / "ws"), "--no-browser", f"--port={port}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "Stop it with Control-C" in line or len(lines) > 60:
                break
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)
    text = "\n".join(lines)
    assert lines[0] == f"workspace: {tmp_path / 'ws'}", text
    assert f"http://127.0.0.1:{port}/lab/tree/START_HERE.ipynb?token=" in text, text
    assert len(lines) <= 10 and "[I " not in text, text
