"""Scale-out: the same per-submission task on a Dask cluster of worker processes."""
from __future__ import annotations

import csv

import distributed  # dask[distributed] is in the test extra
from gradehelp import STUB, grade, scores_of, stored_result, submit


def test_grade_on_a_local_dask_cluster(course_copy, bwrap_available):
    root = course_copy()
    submit(root, "ada")
    submit(root, "bob", {"mae": "def mae(y_pred, y_true):\n    return 0.0\n"})
    submit(root, "cy", {"mse": STUB, "log_softmax": "def log_softmax(z):\n    while True:\n        pass\n"})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        summary = grade(root, dask_scheduler=cluster.scheduler_address, timeout=30.0, call_timeout=3.0)
    outcomes = summary.by_student()
    assert {s: o.score for s, o in outcomes.items()} == {"ada": 14.0, "bob": 12.0, "cy": 6.0}
    assert outcomes["cy"].status == "timed out" and outcomes["ada"].status == "graded"
    assert scores_of(stored_result(root, "cy"))["test_cross_entropy"] == 0.0  # it calls log_softmax
    rows = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(open(root / "autograder" / "grades.csv"))}
    assert rows == {"ada": 14.0, "bob": 12.0, "cy": 6.0}
