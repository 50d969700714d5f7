"""`descentlab grade ID`: autograde a class's submissions into nbgrader's gradebook.

Submissions live where nbgrader expects them, ``autograder/submitted/<student>/<ID>/``.
This round uses nbgrader itself (autograde, export, generate_feedback), so the gradebook,
the CSV and the feedback are exactly nbgrader's.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..course import find_course, resolve_lesson_id
from .nbgrader_round import grade_assignment


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "grade",
        help="autograde every submission of an assignment (instructor)",
        description="Autograde every submission in autograder/submitted/<student>/ID/ into "
        "the gradebook (autograder/gradebook.db), write the grades CSV and per-learner "
        "feedback. Re-running regrades; a broken notebook is reported, never fatal.",
    )
    parser.add_argument("assignment", metavar="ID", help="lesson id, e.g. 01_objective_functions or 1")
    parser.add_argument("--course", type=Path, default=None, help="course repository (default: this one)")
    parser.add_argument(
        "--csv", type=Path, default=None, help="where to write grades (default autograder/grades.csv)"
    )
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    course = find_course(args.course or Path.cwd())
    assignment_id = resolve_lesson_id(args.assignment)
    summary = grade_assignment(course, assignment_id, csv_path=args.csv)
    print(summary.format())
    return 0
