"""`descentlab assign`: regenerate the learner's exercises/ from solutions/ through nbgrader."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from .course import Course, CourseError, find_course, resolve_lesson_id
from .notebook import MARKERS


def nbgrader_env() -> dict[str, str]:
    """The environment for nbgrader subprocesses: the venv's bin first on PATH (nbgrader runs
    its `alembic` migrations as a command, so it must be found even when the venv is not
    activated)."""
    env = dict(os.environ)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(course: Course, *args: str, quiet: bool = True) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course root (where nbgrader_config.py is)."""
    command = [sys.executable, "-m", "nbgrader", *args]
    if quiet:
        command.append("--log-level=WARN")
    return subprocess.run(
        command, cwd=course.root, env=nbgrader_env(), capture_output=True, text=True
    )


def generate(
    course: Course,
    assignment_id: str,
    release_dir: Path | None = None,
    db_url: str | None = None,
) -> Path:
    """Generate one assignment's learner copy; returns the folder it was written to.

    ``release_dir`` and ``db_url`` redirect the output and the gradebook (tests regenerate
    into a temporary folder to compare with the committed exercises/)."""
    course.require_checkout("descentlab assign")
    source = course.solutions / assignment_id
    if not any(source.glob("*.ipynb")):
        raise CourseError(f"{source}: no source notebooks for assignment {assignment_id!r}")
    course.autograder.mkdir(exist_ok=True)  # nbgrader's sqlite gradebook lives there
    args = ["generate_assignment", assignment_id, "--force"]
    if release_dir is not None:
        args.append(f"--CourseDirectory.release_directory={release_dir}")
    if db_url is not None:
        args.append(f"--CourseDirectory.db_url={db_url}")
    result = run_nbgrader(course, *args)
    out = (Path(release_dir) if release_dir is not None else course.exercises) / assignment_id
    if result.returncode != 0:
        raise CourseError(
            f"nbgrader could not generate {assignment_id!r} from {source}:\n"
            + (result.stderr or result.stdout).strip()[-3000:]
        )
    for notebook in sorted(out.glob("*.ipynb")):
        text = notebook.read_text(encoding="utf-8")
        leaked = [m for m in MARKERS if m in text]
        if leaked:
            raise CourseError(f"{notebook}: generated copy still contains {leaked[0]!r}")
    return out


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "assign",
        help="regenerate exercises/ from solutions/ (instructor)",
        description="Regenerate the learner copies in exercises/ from the nbgrader sources in "
        "solutions/: reference solutions become stubs and hidden tests are removed.",
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="lesson ids (default: every assignment)")
    parser.add_argument("--course", type=Path, default=None, help="course repository (default: this one)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    course = find_course(args.course or Path.cwd())
    course.require_checkout("descentlab assign")
    ids = [resolve_lesson_id(i) for i in args.ids] or course.assignment_ids()
    if not ids:
        raise CourseError(f"{course.solutions}: no assignments found")
    for assignment_id in ids:
        out = generate(course, assignment_id)
        names = ", ".join(p.name for p in sorted(out.glob("*.ipynb")))
        print(f"{assignment_id}: wrote {out.relative_to(course.root)}/ ({names})")
    return 0
