"""`descentlab submit ID`: the learner's hand-in, one timestamped zip archive.

The archive holds the workspace's exercise notebook(s) of one assignment and the learner's
progress file (quiz answers and flashcard schedule, for the instructor's class report),
with a small manifest saying who, what and when; `descentlab collect` reads it back::

    descentlab-submission.json     {"format": 1, "assignment": ..., "student": ..., "timestamp": ...}
    <ID>/<ID>_exercise.ipynb
    progress.json                  (when the learner has one)

The timestamp is nbgrader's own format (``2026-01-10 09:00:00.000000 UTC``), so it becomes
the submission's ``timestamp.txt`` unchanged and counts for deadlines.
"""
from __future__ import annotations

import argparse
import getpass
import io
import json
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from .atomicfile import write_bytes
from .course import CourseError, resolve_lesson_id
from .workspace import PROGRESS_FILE, Workspace

MANIFEST = "descentlab-submission.json"
FORMAT = 1
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def nbgrader_timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def check_student_id(student: str) -> str:
    if not STUDENT_ID.match(student or ""):
        raise CourseError(f"student id {student!r}: use 1-64 letters, digits, '_', '.' or '-', starting with a "
                          "letter or digit (the id your instructor gave you)")
    return student


def build_archive(workspace: Path, assignment_id: str, student: str, now: datetime | None = None) -> tuple[str, bytes]:
    """(file name, zip bytes) of one submission from the workspace folder ``workspace``."""
    check_student_id(student)
    space = Workspace(Path(workspace))
    folder = space.exercise_dir(assignment_id)
    notebooks = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())
    if not notebooks:
        raise CourseError(f"{folder}: no exercise notebook to submit (is this your course workspace? "
                          "run `descentlab start` first)")
    moment = now or datetime.now(timezone.utc)
    manifest = {"format": FORMAT, "assignment": assignment_id, "student": student,
                "timestamp": nbgrader_timestamp(moment), "notebooks": [p.name for p in notebooks]}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in notebooks:
            text = path.read_text(encoding="utf-8")
            json.loads(text)  # a broken notebook is better caught now than at grading
            archive.writestr(f"{assignment_id}/{path.name}", text)
        progress = space.progress_file
        if progress.is_file() and not progress.is_symlink():
            archive.writestr(PROGRESS_FILE, progress.read_bytes())
            manifest["progress"] = PROGRESS_FILE
        archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
    name = f"{assignment_id}-{student}-{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}.zip"
    return name, buffer.getvalue()


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "submit",
        help="pack one exercise and your quiz progress into a zip to hand in (learner)",
        description="Write <workspace>/submissions/<ID>-<student>-<time>.zip with your exercise "
        "notebook(s) for ID and your progress file (quiz answers, flashcards). Hand the zip in "
        "as your instructor asks; they import it with `descentlab collect`.",
    )
    parser.add_argument("assignment", metavar="ID", help="lesson id, e.g. 01_objective_functions or 1")
    parser.add_argument("--student", default=None, help="your student id (default: your login name)")
    parser.add_argument("--workspace", type=Path, default=None, help="your course workspace (default: the one you are in)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the zip (default <workspace>/submissions)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    assignment_id = resolve_lesson_id(args.assignment)
    space = Workspace.named(args.workspace) if args.workspace else Workspace.find()
    workspace = space.root.resolve()
    print(f"workspace: {workspace}")
    student = args.student or getpass.getuser()
    name, data = build_archive(workspace, assignment_id, student)
    path = write_bytes((args.out or workspace / "submissions") / name, data)
    print(f"wrote {path} ({len(data) // 1024 + 1} KB): hand this file in")
    return 0
