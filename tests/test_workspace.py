"""Where a learner workspace is and which files the learner commands and widgets read."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from descentlab.course import find_course
from descentlab.start import sync_workspace
from descentlab.workspace import (
    NoWorkspaceError, Workspace, glossary_file, progress_file, quiz_bank_file,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_with_workspace(tmp_path):
    """A folder laid out like the repository root after `make lab`: descentlab-course/ in it."""
    root = tmp_path / "repo"
    sync_workspace(find_course(REPO), root / "descentlab-course")
    return root


def test_found_from_any_folder_inside_it(tmp_path):
    (tmp_path / "ws" / ".descentlab").mkdir(parents=True)
    deep = tmp_path / "ws" / "exercises" / "01"
    deep.mkdir(parents=True)
    ws = Workspace.find(deep)
    assert ws.root == tmp_path / "ws"
    assert ws.progress_file == tmp_path / "ws" / ".descentlab" / "progress.json"
    assert progress_file(deep) == ws.progress_file


def test_from_the_repository_root_the_workspace_is_descentlab_course(repo_with_workspace):
    ws = Workspace.find(repo_with_workspace)
    assert ws.root == repo_with_workspace / "descentlab-course"
    assert Workspace.named(repo_with_workspace) == ws


def test_a_sibling_workspace_is_not_used_from_inside_another_folder(repo_with_workspace):
    lessons = repo_with_workspace / "lessons"  # the checkout's own lessons, not the workspace
    lessons.mkdir()
    assert Workspace.locate(lessons) is None
    assert progress_file(lessons) == lessons / ".descentlab" / "progress.json"


def test_no_workspace_says_how_to_make_one(tmp_path):
    with pytest.raises(NoWorkspaceError, match="descentlab start"):
        Workspace.find(tmp_path)
    with pytest.raises(NoWorkspaceError, match="is not a learner workspace"):
        Workspace.named(tmp_path)
    with pytest.raises(NoWorkspaceError, match="no such folder"):
        Workspace.named(tmp_path / "missing")


def test_layout(repo_with_workspace):
    ws = Workspace.find(repo_with_workspace)
    lesson = "02_gradient_descent"
    assert ws.quiz_bank(lesson).is_file() and ws.quiz_bank(lesson) == ws.root / "lessons/quizzes/02_gradient_descent.yml"
    assert ws.glossary.is_file() and ws.nbgrader_config.is_file()
    assert ws.exercise_notebooks(lesson) == [ws.exercise_notebook(lesson)]
    (ws.exercise_dir(lesson) / "02_gradient_descent_exercise.new-version.ipynb").write_text("{}")
    assert ws.exercise_notebooks(lesson) == [ws.exercise_notebook(lesson)]
    assert ws.relative(ws.exercise_notebook(lesson)) == "exercises/02_gradient_descent/02_gradient_descent_exercise.ipynb"


def test_widget_files_are_the_workspace_copies(repo_with_workspace):
    ws = Workspace.find(repo_with_workspace)
    assert glossary_file(ws.lessons) == ws.glossary
    assert quiz_bank_file("01_objective_functions", ws.lessons) == ws.quiz_bank("01_objective_functions")
    outside = repo_with_workspace / "elsewhere"
    outside.mkdir()
    assert glossary_file(outside) == find_course(REPO).glossary


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "descentlab", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_learner_commands_from_the_repository_root_report_on_the_workspace(repo_with_workspace):
    ws = repo_with_workspace / "descentlab-course"
    glossary = ws / "glossary.yml"
    glossary.write_text(glossary.read_text() + "\n- term: workspace-only rate\n"
                        "  definition: A term only this workspace's glossary has.\n"
                        "  topic: 02_gradient_descent\n")
    result = _run("glossary", "workspace-only", cwd=repo_with_workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"descentlab glossary: workspace {ws}"
    assert "workspace-only rate" in result.stdout

    result = _run("progress", "--no-run", cwd=repo_with_workspace)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"descentlab progress: workspace {ws}"


def test_check_a_relative_path_from_the_repository_root_reads_the_workspace_copy(repo_with_workspace):
    from descentlab.check import resolve_notebook

    rel = "exercises/01_objective_functions/01_objective_functions_exercise.ipynb"
    ws, path = resolve_notebook(rel, cwd=repo_with_workspace)
    assert ws.root == repo_with_workspace / "descentlab-course" and path == ws.root / rel
    ws, path = resolve_notebook("1", cwd=repo_with_workspace)
    assert path == ws.root / rel
    inside = repo_with_workspace / "descentlab-course" / "exercises"
    ws, path = resolve_notebook("01_objective_functions/01_objective_functions_exercise.ipynb", cwd=inside)
    assert path == ws.root / rel
