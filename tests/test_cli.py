"""The `descentlab` command line, run as a learner or instructor runs it (a subprocess)."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from grading_support import REPO, make_course, nbgrader, read_scores, write_submission

from descentlab.assign import nbgrader_env
from descentlab.cli import build_parser
from descentlab.notebook import answer_ids, read_notebook

EXERCISE = REPO / "exercises/01_objective_functions/01_objective_functions_exercise.ipynb"
SOLUTION = REPO / "solutions/01_objective_functions/01_objective_functions_exercise.ipynb"


def descentlab(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "descentlab", *args],
        cwd=cwd, env=nbgrader_env(), capture_output=True, text=True, timeout=600,
    )


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


@pytest.mark.parametrize("command", ["", *subcommands()])
def test_every_command_has_help(command):
    result = descentlab(*([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: descentlab" in result.stdout
    if not command:
        for name in subcommands():
            assert name in result.stdout


def test_check_reference_solution_passes_every_visible_test():
    result = descentlab("check", str(SOLUTION))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "14/14 points (7 of 7 functions pass)" in result.stdout.splitlines()[-1]  # ends with the summary
    assert "without encryption" not in result.stderr  # the kernel's sockets are encrypted
    assert "FAIL" not in result.stdout
    assert "Hidden tests run only at grading" in result.stdout


def test_check_stub_fails_every_function_with_a_clear_message():
    result = descentlab("check", str(EXERCISE), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["score"] == 0 and report["max_score"] == 14
    assert [r["function"] for r in report["results"]] == answer_ids(read_notebook(SOLUTION))
    assert all("not implemented yet" in r["message"] for r in report["results"])


def test_check_reports_the_failing_function_and_its_teaching_message(tmp_path):
    nb = nbformat.read(SOLUTION, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "mse_grad":
            cell.source = cell.source.replace("2.0 * (y_pred - y_true)", "2.0 * (y_true - y_pred)")
    broken = tmp_path / "learner.ipynb"
    nbformat.write(nb, broken)
    result = descentlab("check", str(broken))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    row = next(line for line in lines if line.strip().startswith("mse_grad "))
    assert "0/2" in row and "FAIL" in row
    assert "wrong value from mse_grad" in result.stdout and "mind the sign" in result.stdout
    assert "12/14 points (6 of 7 functions pass)" in result.stdout


def test_check_invalid_notebook_names_file_and_line(tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text('{\n  "cells": [\n    {"cell_type": "code",,}\n  ]\n}\n')
    result = descentlab("check", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "line 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_missing_notebook(tmp_path):
    result = descentlab("check", str(tmp_path / "nope.ipynb"))
    assert result.returncode == 2 and "nope.ipynb: no such notebook" in result.stderr


def test_check_a_notebook_without_tests_says_so():
    result = descentlab("check", str(REPO / "lessons/01_objective_functions.ipynb"))
    assert result.returncode == 2 and "no graded test cells" in result.stderr


def test_assign_unknown_id_suggests_the_right_one():
    result = descentlab("assign", "01_objective_function")
    assert result.returncode == 2
    assert "unknown lesson id '01_objective_function'" in result.stderr
    assert "Did you mean '01_objective_functions'" in result.stderr


def test_assign_regenerates_into_the_course(tmp_path):
    root = make_course(tmp_path, "01_objective_functions")
    shutil.rmtree(root / "exercises")
    result = descentlab("assign", "1", cwd=root)
    assert result.returncode == 0, result.stderr
    assert (root / "exercises/01_objective_functions/01_objective_functions_exercise.ipynb").is_file()


def test_grade_without_submissions_names_the_folder(tmp_path):
    root = make_course(tmp_path, "01_objective_functions")
    result = descentlab("grade", "01_objective_functions", cwd=root)
    assert result.returncode == 2
    assert "no submissions" in result.stderr and "autograder/submitted" in result.stderr


def test_grade_a_class_and_export_csv(tmp_path):
    """Two honest learners and one broken notebook: the batch grades, the broken one is
    reported, the CSV is nbgrader's, and the exit status is 0 (a learner's fault is not the
    instructor's)."""
    root = make_course(tmp_path, "01_objective_functions")
    write_submission(root, "01_objective_functions", "ada", {})
    write_submission(root, "01_objective_functions", "bob", {"mae": "def mae(a, b):\n    return 0.0"})
    broken = root / "autograder/submitted/cy/01_objective_functions"
    broken.mkdir(parents=True)
    (broken / "01_objective_functions_exercise.ipynb").write_text("{not json")
    result = descentlab("grade", "01_objective_functions", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {r["student_id"]: r for r in csv.DictReader(open(root / "autograder/grades.csv"))}
    assert float(rows["ada"]["raw_score"]) == 14.0
    assert float(rows["bob"]["raw_score"]) == 12.0
    assert "cy" in result.stdout and "invalid notebook" in result.stdout
    assert "01_objective_functions_exercise.ipynb" in result.stdout


def test_stderr_warnings_do_not_cost_points(tmp_path):
    """nbgrader zeroes a test cell with stderr output; the course config prevents that."""
    root = make_course(tmp_path, "01_objective_functions")
    noisy = (
        "def mse(y_pred, y_true):\n"
        "    import sys, warnings\n"
        "    import numpy as np\n"
        "    warnings.warn('just a warning')\n"
        "    print('progress...', file=sys.stderr)\n"
        "    d = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)\n"
        "    return float(np.mean(d ** 2))\n"
    )
    folder = write_submission(root, "01_objective_functions", "noisy", {"mse": noisy})
    notebook = next(folder.glob("*.ipynb"))
    validate = subprocess.run(
        [sys.executable, "-m", "nbgrader", "validate", str(notebook)],
        cwd=root, env=nbgrader_env(), capture_output=True, text=True,
    )
    assert "Success! Your notebook passes all the tests." in validate.stdout, validate.stdout[-2000:]
    nbgrader(root, "autograde", "01_objective_functions", "--force")
    assert read_scores(root, "01_objective_functions", "noisy")["test_mse"] == (2.0, 2.0)
