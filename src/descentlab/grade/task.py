"""One submission, graded: the unit of work a local worker or a Dask worker runs.

``grade_submission(task)`` takes everything as data (the trusted source notebooks, already
parsed once for the round; the learner's files; the limits) and returns the verdict, so the
same task runs in a forked local worker or on a remote Dask worker with no shared filesystem.
"""
from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path

from ..notebook import InvalidNotebook, autograded_tests, parse_submission
from .judge import JudgeConfig, judge_notebook
from .sandbox import Limits
from .verdict import CRASHED, GRADER_ERROR, INVALID, TIMED_OUT, CellVerdict, NotebookVerdict, SubmissionVerdict


@dataclass(frozen=True)
class SubmissionTask:
    """Everything needed to grade one submission, as plain data (it is pickled to Dask)."""

    assignment: str
    student: str
    key: str
    sources: dict[str, dict]  # notebook name -> the source notebook's JSON, from solutions/<ID>/
    files: list[tuple[str, bytes]]  # the submission's files: relative path, content
    mode: str  # "bwrap" | "none"
    limits: Limits
    timeout: float  # seconds for the whole submission
    call_timeout: float  # seconds for one cell or call
    protected: tuple[str, ...] = ()
    timestamp: str | None = None  # its timestamp.txt
    skipped: tuple[str, ...] = ()  # files of the folder that were not read, and why (see intake)
    refused: str | None = None  # why the folder itself was not read: graded as empty, scores 0
    imports: tuple[str, ...] = ()  # the modules the sources import (zygote.imported_modules), to preload

    def failure(self, status: str, message: str) -> SubmissionVerdict:
        return SubmissionVerdict.failure(self.assignment, self.student, self.key, self.mode, status, message)


def grade_submission(task: SubmissionTask) -> SubmissionVerdict:
    started = time.monotonic()
    verdict = SubmissionVerdict(task.assignment, task.student, task.key, task.mode, timestamp=task.timestamp)
    try:
        if task.refused:
            verdict.worsen(INVALID, f"not graded: {task.refused}")
            for name, source_nb in task.sources.items():
                verdict.notebooks[name] = _unjudged(name, source_nb, f"not graded: {task.refused}")
        else:
            _grade(task, verdict, started)
            for why in task.skipped:
                verdict.messages.append(f"skipped: {why}")
                for notebook in verdict.notebooks.values():
                    notebook.notes.append(f"skipped: {why}")
    except Exception:  # noqa: BLE001 - a bug of the grader, never the learner's fault
        verdict.worsen(GRADER_ERROR, "internal error in the grader:\n" + traceback.format_exc()[-3000:])
    verdict.seconds = round(time.monotonic() - started, 3)
    return verdict


def _unjudged(name: str, source_nb: dict, why: str | None) -> NotebookVerdict:
    """A notebook not judged (yet, or at all: ``why``): each of its tests scores 0."""
    tests = [CellVerdict(t.grade_id, t.points, 0.0) for t in autograded_tests(source_nb)]
    return NotebookVerdict(name, tests=tests, invalid=why)


def _grade(task: SubmissionTask, verdict: SubmissionVerdict, started: float) -> None:
    config = JudgeConfig(task.mode, task.limits, tuple(Path(p) for p in task.protected),
                         float(task.call_timeout), started + float(task.timeout))
    by_name = dict(task.files)
    for name, source_nb in task.sources.items():
        filename = f"{name}.ipynb"
        try:
            if filename not in by_name:
                raise InvalidNotebook(f"no {filename} in the submission (renamed or not saved?); it scores 0")
            submission_nb = parse_submission(by_name[filename], filename)
        except InvalidNotebook as exc:
            verdict.notebooks[name] = _unjudged(name, source_nb, str(exc))
            verdict.worsen(INVALID, str(exc))
            continue
        verdict.notebooks[name] = _unjudged(name, source_nb, None)  # kept if the judge fails
        workdir = tempfile.mkdtemp(prefix="descentlab-unconfined-") if task.mode == "none" else None
        try:
            notebook = judge_notebook(name, source_nb, submission_nb, task.files,
                                      replace(config, fallback_workdir=workdir))
        finally:
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
        verdict.notebooks[name] = notebook
        for event in notebook.events:
            verdict.worsen(TIMED_OUT if event.kind == "timeout" else CRASHED, f"{name}: {event.message}")
        if any("printed more than" in n for n in notebook.notes):
            verdict.messages.append(f"{name}: output over the limit was discarded")
