"""The fault suite: every way a submission can break, graded in ONE batch with honest work.

Each broken submission must end with its own status and an actionable message, and the
honest submissions in the same batch must get exactly their scores.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time

from grading_support import REPO
from gradehelp import (
    EX01, FULL, NB01, STUB, grade, learner_notebook, reference_sources, scores_of, state_dir, stored_result, submit, submit_raw,
)

from descentlab.notebook import Role, autograded_tests, cell_role, grade_id, read_notebook

TESTS = [t.grade_id for t in autograded_tests(read_notebook(REPO / "solutions" / EX01 / f"{NB01}.ipynb"))]

# Each fault replaces the `mae` answer (2 points); everything else is the reference answer,
# so a fault that is contained costs exactly test_mae: 12 of 14.
FAULTS_IN_MAE = {
    "infinite_loop": ("def mae(y_pred, y_true):\n    while True:\n        pass\n", "timed out"),
    "memory_bomb": ("def mae(y_pred, y_true):\n    hog = []\n    while True:\n        hog.append(bytearray(50_000_000))\n",
                    "crashed"),
    "fork_bomb": ("import os\ndef mae(y_pred, y_true):\n    while True:\n        os.fork()\n", "crashed"),
    "dying_process": ("import os\nos._exit(3)\n", "crashed"),
    # Closes every file (its end of the judge's channel too), then takes its time to exit:
    # the status reported is still its own, not the SIGKILL of a judge that did not wait.
    "slow_exit": ("import os, time\nos.closerange(0, 65536)\ntime.sleep(0.5)\nos._exit(3)\n", "crashed"),
    "dying_call": ("import os, signal\ndef mae(y_pred, y_true):\n    os.kill(os.getpid(), signal.SIGKILL)\n", "crashed"),
    "huge_output": ("for _i in range(100):\n    print('x' * 1_000_000)\n" + "def mae(y_pred, y_true):\n"
                    "    print('y' * 50_000_000)\n    return 0.0\n", "graded"),
}


def _reference(root, answer_id: str) -> str:
    return reference_sources(root, EX01)[NB01][answer_id]


def _answer_cells(nb: dict) -> list[int]:
    return [i for i, c in enumerate(nb["cells"]) if cell_role(c) is Role.ANSWER]


def _fill(root, nb: dict) -> dict:
    references = reference_sources(root, EX01)[NB01]
    for i in _answer_cells(nb):
        cell = nb["cells"][i]
        cell["source"] = references[grade_id(cell)]
    return nb


def test_every_fault_gets_a_status_and_the_batch_grades_the_rest(course_copy, bwrap_available):
    root = course_copy()
    submit(root, "honest_a")
    submit(root, "honest_b", {"mae": "def mae(y_pred, y_true):\n    return 0.0\n"})
    for student, (source, _) in FAULTS_IN_MAE.items():
        submit(root, student, {"mae": source})

    # Warnings on stderr from correct code (nbgrader would zero a cell that prints to stderr).
    submit(root, "stderr_warnings", {
        "mse": "import sys, warnings\n" + _reference(root, "mse").replace(
            "    ### BEGIN SOLUTION", "    ### BEGIN SOLUTION\n    warnings.warn('careful')\n"
            "    print('to stderr', file=sys.stderr)"),
    })
    submit_raw(root, "invalid_json", '{"cells": [ {"cell_type": "code", ')
    submit_raw(root, "not_a_notebook", json.dumps({"hello": "world"}))
    submit_raw(root, "renamed", json.dumps(_fill(root, learner_notebook(root))), name="my_copy.ipynb")

    nb = _fill(root, learner_notebook(root))
    deleted = copy.deepcopy(nb)
    mae_cell = next(i for i in _answer_cells(deleted) if grade_id(deleted["cells"][i]) == "mae")
    del deleted["cells"][mae_cell]
    del deleted["cells"][0]  # and a markdown cell
    setup = next(i for i, c in enumerate(deleted["cells"]) if grade_id(c) == "setup")
    del deleted["cells"][setup]  # the read-only setup cell too: the course's copy is used
    submit_raw(root, "deleted_cells", json.dumps(deleted))

    duplicated = copy.deepcopy(nb)
    first = _answer_cells(duplicated)[0]
    duplicated["cells"].insert(first + 1, copy.deepcopy(duplicated["cells"][first]))
    submit_raw(root, "duplicated_cells", json.dumps(duplicated))

    split = copy.deepcopy(nb)
    index = _answer_cells(split)[2]  # mae: cut the function in the middle of its body
    lines = "".join(split["cells"][index]["source"]).splitlines(keepends=True)
    top, bottom = copy.deepcopy(split["cells"][index]), copy.deepcopy(split["cells"][index])
    top["source"], bottom["source"] = "".join(lines[:8]), "".join(lines[8:])
    split["cells"][index:index + 1] = [top, bottom]
    submit_raw(root, "split_cells", json.dumps(split))

    # call_timeout leaves the memory bomb time to pass 768 MB on a loaded machine: at 4 s it
    # was once still allocating (a fresh-clone run with both test workers grading), and
    # ended "timed out" instead of "crashed" for its memory.
    summary = grade(root, timeout=40.0, call_timeout=8.0, memory_mb=768)
    outcomes = summary.by_student()
    assert summary.exit_code == 0

    def check(student: str, status: str, score: float, words: tuple[str, ...] = ()) -> None:
        outcome = outcomes[student]
        assert outcome.status == status, (student, outcome)
        assert outcome.score == score, (student, outcome)
        text = " ".join(outcome.messages + stored_result(root, student)["notebooks"].get(NB01, {}).get("notes", []))
        for word in words:
            assert word in text, (student, word, text)

    check("honest_a", "graded", FULL)
    check("honest_b", "graded", FULL - 2)
    check("infinite_loop", "timed out", FULL - 2, ("mae()", "did not finish within 8 s"))
    check("memory_bomb", "crashed", FULL - 2, ("memory",))
    check("fork_bomb", "crashed", FULL - 2, ("processes",))
    check("dying_process", "crashed", FULL - 2, ("cell 'mae'", "exited with status 3"))
    check("slow_exit", "crashed", FULL - 2, ("cell 'mae'", "exited with status 3"))
    check("dying_call", "crashed", FULL - 2, ("mae()", "SIGKILL"))
    check("huge_output", "graded", FULL - 2, ("printed more than",))
    check("stderr_warnings", "graded", FULL)
    check("invalid_json", "invalid notebook", 0.0, ("not valid JSON", "line 1"))
    check("not_a_notebook", "invalid notebook", 0.0, ("not a notebook",))
    check("renamed", "invalid notebook", 0.0, (f"no {NB01}.ipynb",))
    check("deleted_cells", "graded", FULL - 2, ("answer cell 'mae' is missing",))
    check("duplicated_cells", "graded", FULL, ("appears 2 times",))
    check("split_cells", "graded", FULL, ("appears 2 times",))

    # Per test cell, a contained fault costs only its own function's test.
    for student in ("infinite_loop", "memory_bomb", "fork_bomb", "dying_call"):
        scores = scores_of(stored_result(root, student))
        assert scores["test_mae"] == 0 and all(scores[t] == 2 for t in TESTS if t != "test_mae"), (student, scores)

    # The grades CSV has every learner, invalid ones at 0.
    rows = {r["student_id"]: r for r in csv.DictReader(open(root / "autograder" / "grades.csv"))}
    assert float(rows["honest_a"]["raw_score"]) == FULL and float(rows["invalid_json"]["raw_score"]) == 0.0
    assert set(rows) == set(outcomes)
    # Feedback exists for every learner and never shows a hidden test's source.
    source_text = (root / "solutions" / EX01 / f"{NB01}.ipynb").read_text()
    assert "_rng = np.random.default_rng()" in source_text  # a line of the hidden tests only
    page = (root / "autograder" / "feedback" / "honest_b" / EX01 / f"{NB01}.html").read_text()
    assert "Score: <strong>12 / 14</strong>" in page and "wrong value from mae" in page
    page = (root / "autograder" / "feedback" / "infinite_loop" / EX01 / f"{NB01}.html").read_text()
    assert "Status: timed out" in page and "mae()" in page
    for student in outcomes:
        page = (root / "autograder" / "feedback" / student / EX01 / f"{NB01}.html").read_text()
        assert "default_rng()" not in page and "BEGIN HIDDEN" not in page and "np.log1p(np.exp(-np.abs(z)))" not in page


def test_rerun_is_idempotent_and_force_regrades(course_copy, bwrap_available):
    root = course_copy()
    submit(root, "ada")
    submit(root, "bob", {"mae": STUB})
    first = grade(root)
    csv_first = (root / "autograder" / "grades.csv").read_text()
    second = grade(root)
    assert all(o.reused for o in second.outcomes)
    assert {o.student: o.score for o in second.outcomes} == {o.student: o.score for o in first.outcomes} == {"ada": 14.0, "bob": 12.0}
    assert (root / "autograder" / "grades.csv").read_text() == csv_first
    # A changed submission is regraded, the unchanged one kept.
    submit(root, "bob")
    third = grade(root).by_student()
    assert third["ada"].reused and not third["bob"].reused and third["bob"].score == 14.0
    assert not any(o.reused for o in grade(root, force=True).outcomes)


def test_killing_the_grader_mid_batch_loses_nothing(course_copy, bwrap_available):
    """Kill `descentlab grade` after some verdicts are stored; the next run keeps them and
    grades only the rest."""
    root = course_copy()
    students = [f"s{i:02d}" for i in range(8)]
    for student in students:
        submit(root, student, {"mae": "import time\ndef mae(y_pred, y_true):\n    time.sleep(0.5)\n    return 0.0\n"})
    state = state_dir(root)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    process = subprocess.Popen(
        [sys.executable, "-m", "descentlab", "grade", EX01, "--workers", "1", "--quiet"],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(state.glob("*.json"))) < 3:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kept = {p.stem for p in state.glob("*.json")}
    assert 3 <= len(kept) < len(students), kept
    summary = grade(root, timeout=120.0)  # the CLI's default limits: the same keys
    outcomes = summary.by_student()
    assert {s for s, o in outcomes.items() if o.reused} == kept
    assert all(o.status == "graded" and o.score == 12.0 for o in outcomes.values())
    assert not list(state.glob(".*.tmp"))


def test_a_submission_the_gradebook_refuses_is_its_own_status_and_the_batch_is_recorded(course_copy, bwrap_available):
    """The gradebook is written in batches of submissions: when the database refuses one
    submission's rows (here a real SQLite trigger), that learner ends as a grader error
    naming the cause, and every other learner of the same batch is in the gradebook with
    its score; the next run records the refused one once the database takes it."""
    import sqlite3

    from grading_support import read_scores

    root = course_copy()
    students = ["ada", "bob", "refused", "cy", "dee"]
    for student in students:
        submit(root, student, {"mae": STUB} if student == "bob" else None)
    database = root / "autograder" / "gradebook.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON submitted_assignment WHEN NEW.student_id = 'refused' "
                   "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END")
    outcomes = grade(root).by_student()
    assert outcomes["refused"].status == "grader error", outcomes["refused"]
    assert "refused by the test trigger" in " ".join(outcomes["refused"].messages)
    expected = {"ada": 14.0, "bob": 12.0, "cy": 14.0, "dee": 14.0}
    assert {s: (outcomes[s].status, outcomes[s].score) for s in expected} == {s: ("graded", v) for s, v in expected.items()}
    for student, total in expected.items():
        assert sum(got for got, _ in read_scores(root, EX01, student).values()) == total, student
    with sqlite3.connect(database) as db:
        db.execute("DROP TRIGGER refuse")
    again = grade(root).by_student()
    assert again["refused"].status == "graded" and again["refused"].score == 14.0
    assert sum(got for got, _ in read_scores(root, EX01, "refused").values()) == 14.0


def test_without_bubblewrap_it_warns_loudly_and_still_grades(course_copy, monkeypatch, capsys):
    """No bwrap on PATH: the round says so on stderr and in the summary, and grades unconfined."""
    import descentlab.grade.sandbox as sandbox

    real_which = sandbox.shutil.which
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None if name == "bwrap" else real_which(name))
    root = course_copy()
    submit(root, "ada")
    submit(root, "bob", {"mae": STUB})
    summary = grade(root)
    assert summary.sandbox == "none"
    assert any("NO SANDBOX" in w and "bubblewrap" in w for w in summary.warnings)
    assert "NO SANDBOX" in capsys.readouterr().err and "NO SANDBOX" in summary.format()
    assert {s: o.score for s, o in summary.by_student().items()} == {"ada": 14.0, "bob": 12.0}
