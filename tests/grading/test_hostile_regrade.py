"""Stale grades (class 6) and judge resources (class 5), through `descentlab grade`.

A regrade replaces the previous verdict in the gradebook, the CSV and the feedback page
whatever the new status: timed out, invalid, refused (a folder that became a link),
crashed grader worker, or simply zero. And what a submission sends back to the judge is
bounded: a message of millions of items, a hash-colliding dict, a callback flood each end
as that submission's status while its neighbours are graded.
"""
from __future__ import annotations

import csv
import json
import os
import shutil

import pytest
from grading_support import make_course

from gradehelp import EX01, FULL, NB01, STUB, grade, scores_of, stored_result, submit

STUDENTS = ["timed_out", "invalid", "linked_away", "worker_died", "zero", "steady"]
LOOP_ALL = {gid: f"def {gid}(*args, **kwargs):\n    while True:\n        pass\n"
            for gid in ("mse", "mse_grad", "mae", "binary_cross_entropy", "log_softmax", "cross_entropy",
                        "cross_entropy_grad")}


def _csv(root) -> dict[str, float]:
    rows = csv.DictReader(open(root / "autograder" / "grades.csv", encoding="utf-8"))
    return {r["student_id"]: float(r["raw_score"]) for r in rows}


def _page(root, student: str) -> str:
    return (root / "autograder" / "feedback" / student / EX01 / f"{NB01}.html").read_text()


@pytest.fixture(scope="module")
def regraded(tmp_path_factory):
    import descentlab.grade.pool as pool_module

    root = make_course(tmp_path_factory.mktemp("regrade"), EX01)
    for student in STUDENTS:
        submit(root, student)
    first = grade(root, timeout=10.0, call_timeout=4.0)
    assert {o.student: o.score for o in first.outcomes} == {s: FULL for s in STUDENTS}
    assert set(_csv(root).values()) == {FULL}

    submitted = root / "autograder" / "submitted"
    shutil.rmtree(submitted / "timed_out")
    submit(root, "timed_out", LOOP_ALL)
    (submitted / "invalid" / EX01 / f"{NB01}.ipynb").write_text('{"cells": [')
    shutil.rmtree(submitted / "linked_away")
    (submitted / "linked_away").symlink_to(submitted / "steady", target_is_directory=True)
    (submitted / "worker_died" / EX01 / "notes.txt").write_text("changed, so it is regraded")
    shutil.rmtree(submitted / "zero")
    submit(root, "zero", {gid: STUB for gid in LOOP_ALL})

    real = pool_module.grade_submission

    def dying(task):  # the worker of one submission dies without a verdict
        if task.student == "worker_died":
            os._exit(1)
        return real(task)

    pool_module.grade_submission = dying
    try:
        # 10 s per submission (as in the first round: the same options, so the unchanged
        # one is reused): the looping one ends "timed out" within two calls of 4 s.
        second = grade(root, timeout=10.0, call_timeout=4.0)
    finally:
        pool_module.grade_submission = real
    return root, second.by_student()


@pytest.mark.parametrize("student,status", [
    ("timed_out", "timed out"), ("invalid", "invalid notebook"), ("linked_away", "invalid notebook"),
    ("worker_died", "grader error"), ("zero", "graded")])
def test_a_regrade_replaces_the_old_verdict_whatever_its_status(regraded, student, status, bwrap_available):
    root, outcomes = regraded
    assert outcomes[student].status == status and outcomes[student].score == 0.0, outcomes[student]
    assert _csv(root)[student] == 0.0
    assert set(scores_of(stored_result(root, student)).values()) == {0.0}
    page = _page(root, student)
    assert "Score: <strong>0 / 14</strong>" in page, page[:2000]
    if status != "graded":
        assert f"Status: {status}" in page


def test_an_unchanged_neighbour_keeps_its_grade(regraded, bwrap_available):
    root, outcomes = regraded
    assert outcomes["steady"].reused and outcomes["steady"].score == FULL
    assert _csv(root)["steady"] == FULL


# -- judge resources ----------------------------------------------------------------------

RESOURCE_ATTACKS = {
    # 1.5 million items in one reply: the judge refuses the frame before json builds it.
    "many_items": "def mse(y_pred, y_true):\n    return [[] for _ in range(1_500_000)]\n",
    # Integer keys sharing one hash: inserting them is quadratic for whoever builds the dict.
    "hash_flood": ("_P = (1 << 61) - 1\n_FLOOD = {i * _P: 0 for i in range(1, 3000)}\n"
                   "def mse(y_pred, y_true):\n    return _FLOOD\n"),
}


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("resources"), EX01)
    submit(root, "honest")
    for name, source in RESOURCE_ATTACKS.items():
        submit(root, name, {"mse": source})
    return root, grade(root, timeout=60.0, call_timeout=10.0)


@pytest.mark.parametrize("student", sorted(RESOURCE_ATTACKS))
def test_what_the_judge_decodes_is_bounded(resources, student, bwrap_available):
    root, summary = resources
    outcomes = summary.by_student()
    assert outcomes["honest"].score == FULL and summary.exit_code == 0
    assert outcomes[student].score == FULL - 2, (student, scores_of(stored_result(root, student)))
    assert _csv(root)["honest"] == FULL


def test_a_callback_flood_ends_as_the_submissions_status(tmp_path, bwrap_available, monkeypatch):
    """A learner function that calls the judge's callback without end is stopped after
    MAX_CALLBACKS requests (here lowered so the test is quick), as a crash of that call."""
    from descentlab.grade import judge as judge_module
    from descentlab.grade.sandbox import Limits
    import time

    monkeypatch.setattr(judge_module, "MAX_CALLBACKS", 500)

    def cell(kind, source, gid=None, points=None):
        meta = {}
        if gid:
            meta = {"nbgrader": {"grade_id": gid, "solution": kind == "answer", "grade": kind == "test",
                                 "locked": kind != "answer", "schema_version": 3, "task": False,
                                 **({"points": points} if points else {})}}
        return {"cell_type": "code", "metadata": meta, "source": source, "outputs": [], "execution_count": None}

    source = {"cells": [cell("answer", "def f(g):\n    raise NotImplementedError()\n", "f"),
                        cell("test", "assert f(lambda v: v) == 1\n", "test_f", 1)],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    submission = json.loads(json.dumps(source))
    submission["cells"][0]["source"] = "def f(g):\n    while True:\n        g(1)\n"
    config = judge_module.JudgeConfig("bwrap", Limits(), (tmp_path / "x",), call_timeout=60.0,
                                      deadline=time.monotonic() + 60.0)
    verdict = judge_module.judge_notebook("flood", source, submission, [], config)
    assert verdict.tests[0].score == 0.0
    assert any("more than 500 callbacks" in e.message for e in verdict.events), verdict.events
