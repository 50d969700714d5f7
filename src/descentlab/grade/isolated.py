"""One submission graded in a process of its own, with a hard timeout: the Dask task.

A Dask worker runs several tasks at once in threads of one process. Judges there would
share what is process-wide (stdout redirection, tracemalloc, signal handlers), so one
learner's verdict could depend on another's timing, and a judge that spins (a hash flood
in what it decodes) holds the worker forever. So a task starts this module as a child
process, hands it the spec, and waits at most the submission's timeout (plus a margin):
past it, the child and its sandbox are killed and the task returns a "timed out" verdict.
The child starts one sandbox (a zygote) for the submission's notebooks.

    python -I -m descentlab.grade.isolated   (spec as pickle on stdin, verdict as JSON on stdout)
"""
from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys

from .task import SubmissionTask
from .verdict import GRADER_ERROR, TIMED_OUT, SubmissionVerdict

HARD_MARGIN = 30.0  # at most this many seconds past the submission's own timeout
MAX_VERDICT_BYTES = 64 * 1024 * 1024


def grade_isolated(task: SubmissionTask) -> SubmissionVerdict:
    """``task.grade_submission(task)`` in a child process, killed after the timeout."""
    limit = float(task.timeout) + min(HARD_MARGIN, 5.0 + float(task.timeout))
    child = subprocess.Popen(
        [sys.executable, "-I", "-m", "descentlab.grade.isolated"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        out, _ = child.communicate(pickle.dumps(task), timeout=limit)
    except subprocess.TimeoutExpired:
        return task.failure(TIMED_OUT, f"grading took longer than {limit:g} s and was stopped")
    finally:
        _kill_group(child)
    try:
        if len(out) > MAX_VERDICT_BYTES:
            raise ValueError("verdict too large")
        return SubmissionVerdict.from_json(json.loads(out))
    except (ValueError, RecursionError):
        return task.failure(GRADER_ERROR,
                            f"the grading process exited without a verdict (exit status {child.returncode})")


def _kill_group(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except OSError:
        pass
    child.wait()


def main() -> None:
    from pathlib import Path

    from . import zygote as zygotes
    from .sandbox import open_sandbox
    from .task import grade_submission

    task = pickle.loads(sys.stdin.buffer.read())  # from the worker that started us: trusted
    out = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_RDWR), 1)  # nothing but the verdict on stdout
    zygote = None
    if task.mode == "bwrap":
        zygote, _ = open_sandbox([Path(p) for p in task.protected], task.limits,
                                 zygotes.imported_modules(task.sources))
        zygotes.set_shared(zygote)  # if it failed, the judge tries its own and reports why
    try:
        verdict = grade_submission(task)
    finally:
        if zygote is not None:
            zygote.close()
    out.write(json.dumps(verdict.to_json()))
    out.close()


if __name__ == "__main__":
    main()
