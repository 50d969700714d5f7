"""One submission, graded: the unit of work a local worker or a Dask worker runs.

``grade_submission(spec)`` takes everything as data (the trusted source notebooks, the
learner's files, the limits) and returns the verdict as JSON-ready data, so the same task
runs in a forked local worker or on a remote Dask worker with no shared filesystem.
"""
from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from .judge import judge_notebook
from .program import InvalidNotebook, parse_notebook
from .sandbox import Limits

GRADED, TIMED_OUT, CRASHED, INVALID, GRADER_ERROR = "graded", "timed out", "crashed", "invalid notebook", "grader error"
STATUS_ORDER = (GRADED, CRASHED, TIMED_OUT, INVALID, GRADER_ERROR)


def grade_submission(spec: dict) -> dict:
    started = time.monotonic()
    result = {
        "assignment": spec["assignment"],
        "student": spec["student"],
        "key": spec.get("key", ""),
        "sandbox": spec["mode"],
        "status": GRADED,
        "messages": [],
        "notebooks": {},
    }
    try:
        _grade(spec, result, started)
    except Exception:  # noqa: BLE001 - a bug of the grader, never the learner's fault
        result["status"] = GRADER_ERROR
        result["messages"].append("internal error in the grader:\n" + traceback.format_exc()[-3000:])
    result["seconds"] = round(time.monotonic() - started, 3)
    score = max_score = 0.0
    for notebook in result["notebooks"].values():
        for test in notebook["tests"]:
            score += test["score"]
            max_score += test["points"]
    result["score"], result["max_score"] = score, max_score
    return result


def _worse(a: str, b: str) -> str:
    return a if STATUS_ORDER.index(a) >= STATUS_ORDER.index(b) else b


def _grade(spec: dict, result: dict, started: float) -> None:
    limits = Limits(**spec["limits"])
    deadline = started + float(spec["timeout"])
    files = [(path, data) for path, data in spec["files"]]
    protected = [Path(p) for p in spec.get("protected", [])]
    by_name = {path: data for path, data in files}
    for name, source_text in spec["notebooks"].items():
        source_nb = parse_notebook(source_text.encode("utf-8"), f"solutions/{spec['assignment']}/{name}.ipynb")
        tests = [c for c in source_nb["cells"] if c.get("cell_type") == "code"
                 and (c.get("metadata", {}).get("nbgrader", {}) or {}).get("grade")
                 and not (c.get("metadata", {}).get("nbgrader", {}) or {}).get("solution")]
        zero = [{"grade_id": c["metadata"]["nbgrader"]["grade_id"], "points": float(c["metadata"]["nbgrader"].get("points", 0)),
                 "score": 0.0, "error": ""} for c in tests]
        entry = {"tests": zero, "answer_errors": [], "notes": [], "unchanged_answers": [], "answer_ids": [], "invalid": None}
        result["notebooks"][name] = entry
        filename = f"{name}.ipynb"
        if filename not in by_name:
            entry["invalid"] = f"no {filename} in the submission (renamed or not saved?); it scores 0"
            result["status"] = _worse(result["status"], INVALID)
            result["messages"].append(entry["invalid"])
            continue
        try:
            submission_nb = parse_notebook(by_name[filename], filename)
        except InvalidNotebook as exc:
            entry["invalid"] = str(exc)
            result["status"] = _worse(result["status"], INVALID)
            result["messages"].append(str(exc))
            continue
        workdir = tempfile.mkdtemp(prefix="descentlab-unconfined-") if spec["mode"] == "none" else None
        try:
            verdict = judge_notebook(
                source_nb, submission_nb, name, files, spec["mode"], limits, protected,
                float(spec["call_timeout"]), deadline, fallback_workdir=workdir,
            )
        finally:
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
        entry.update(
            tests=[asdict(t) for t in verdict.tests],
            answer_errors=verdict.answer_errors,
            notes=verdict.notes,
            unchanged_answers=verdict.unchanged_answers,
            answer_ids=verdict.answer_ids,
        )
        for event in verdict.events:
            status = TIMED_OUT if event.kind == "timeout" else CRASHED
            result["status"] = _worse(result["status"], status)
            result["messages"].append(f"{name}: {event.message}")
        if any("printed more than" in n for n in verdict.notes):
            result["messages"].append(f"{name}: output over the limit was discarded")
