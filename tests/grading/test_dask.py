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


def _task(root, student: str, sources: dict, timeout: float):
    from pathlib import Path

    from descentlab.grade.sandbox import Limits
    from descentlab.grade.task import SubmissionTask
    from gradehelp import EX01

    folder = root / "autograder" / "submitted" / student / EX01
    files = [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.ipynb"))]
    return SubmissionTask(assignment=EX01, student=student, key=student, sources=sources, files=files,
                          mode="bwrap", limits=Limits(), timeout=timeout, call_timeout=timeout / 4,
                          protected=(str(Path(root)),))


def test_a_task_whose_judge_hangs_ends_timed_out_and_the_cluster_grades_the_rest(course_copy, bwrap_available):
    """A judge that never returns (here a test cell that spins, as a hash flood in what the
    judge decodes would) is a process of its own on the worker: it is killed after the
    submission's timeout, and tasks running beside it on the same worker are not held."""
    import copy
    import time

    from descentlab.grade.pool import run_dask
    from descentlab.notebook import Role, cell_role, read_sources
    from gradehelp import EX01

    root = course_copy()
    submit(root, "ada")
    submit(root, "bob")
    submit(root, "hang")
    sources = read_sources(root / "solutions" / EX01)
    spinning = copy.deepcopy(sources)
    for notebook in spinning.values():
        test = next(c for c in notebook["cells"] if cell_role(c) == Role.TEST)
        test["source"] = "while True:\n    pass\n" + "".join(test["source"])
    tasks = [_task(root, "hang", spinning, 4.0), _task(root, "ada", sources, 30.0), _task(root, "bob", sources, 30.0)]
    verdicts = {}
    started = time.monotonic()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster:
        run_dask(tasks, cluster.scheduler_address, lambda task, verdict: verdicts.setdefault(task.student, verdict))
    elapsed = time.monotonic() - started
    assert verdicts["hang"].status == "timed out", verdicts["hang"].messages
    assert "was stopped" in " ".join(verdicts["hang"].messages)
    assert verdicts["ada"].status == verdicts["bob"].status == "graded"
    assert verdicts["ada"].score == verdicts["bob"].score == 14.0
    assert elapsed < 60, elapsed  # the hanging task was stopped, not waited for


def _host_pid() -> int | None:
    """On a Dask worker: the pid of its grading host (None before its first task)."""
    from descentlab.grade import isolated

    return isolated._host.process.pid if isolated._host is not None and isolated._host.alive() else None


def test_colluding_submissions_graded_by_one_warm_host_cannot_pass_anything(course_copy, bwrap_available):
    """A Dask worker grades every task in a fresh fork of one warm host: the writer's round
    and then the reader's, on the same worker and the same host, leave nothing for each other
    (the control plants and searches in one submission and must find every channel)."""
    from gradehelp import FULL, NB01, PLANT, mae_that_reports_leaks, reference_sources

    root = course_copy()
    reference = reference_sources(root, "01_objective_functions")[NB01]["mae"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        submit(root, "a_writer", {"mae": PLANT + reference})
        first = grade(root, dask_scheduler=cluster.scheduler_address)
        (host,) = client.run(_host_pid).values()
        submit(root, "b_reader", {"mae": mae_that_reports_leaks(root)})
        submit(root, "c_self", {"mae": PLANT + mae_that_reports_leaks(root)})
        second = grade(root, dask_scheduler=cluster.scheduler_address)
        assert host is not None and client.run(_host_pid) == {w: host for w in client.run(_host_pid)}
    assert first.sandbox == second.sandbox == "bwrap"
    outcomes = {**first.by_student(), **second.by_student()}
    control = stored_result(root, "c_self")["notebooks"][NB01]["tests"]
    message = next(t["error"] for t in control if t["grade_id"] == "test_mae")
    for channel in ("numpy attribute", "builtins attribute", "sys.modules", "environment", "file in /tmp",
                    "abstract socket"):
        assert channel in message, message
    assert outcomes["c_self"].score == FULL - 2
    assert outcomes["a_writer"].score == FULL, outcomes["a_writer"].messages
    reader = stored_result(root, "b_reader")["notebooks"][NB01]["tests"]
    assert outcomes["b_reader"].score == FULL, [t["error"] for t in reader if t["error"]]


def _kill_host() -> None:
    """On a Dask worker: kill its grading host, as a crash would."""
    import os
    import signal

    from descentlab.grade import isolated

    os.kill(isolated._host.process.pid, signal.SIGKILL)
    isolated._host.process.wait()


def test_a_worker_whose_grading_host_died_starts_a_new_one(course_copy, bwrap_available):
    root = course_copy()
    submit(root, "ada")
    submit(root, "bob", {"mae": "def mae(y_pred, y_true):\n    return 0.0\n"})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        first = grade(root, dask_scheduler=cluster.scheduler_address)
        (old,) = client.run(_host_pid).values()
        client.run(_kill_host)
        assert set(client.run(_host_pid).values()) == {None}
        second = grade(root, dask_scheduler=cluster.scheduler_address, force=True)
        (new,) = client.run(_host_pid).values()
    assert None not in (old, new) and old != new
    for summary in (first, second):
        assert {s: (o.status, o.score) for s, o in summary.by_student().items()} == {
            "ada": ("graded", 14.0), "bob": ("graded", 12.0)}
