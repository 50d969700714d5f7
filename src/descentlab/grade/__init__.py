"""`descentlab grade ID`: grade a class's submissions, in parallel, confined and unforgeable.

Submissions live where nbgrader expects them, ``autograder/submitted/<student>/<ID>/``;
scores go into nbgrader's gradebook, the grades CSV has the form of ``nbgrader export``,
and each learner gets an HTML feedback page under ``autograder/feedback/<student>/<ID>/``.

The package follows the path of one submission:

- ``round``: the batch, in steps: collect, reuse (resume), run, record, export;
- ``pool``: where submissions run: forked local workers or a Dask cluster (where each task
  grades in a fresh fork of the worker's warm grading host, with a hard timeout: ``isolated``);
- ``task``: one submission, as data in and data out (what a worker runs);
- ``program``: which cells run where (course cells from solutions/, answers from the
  learner; cell roles come from ``descentlab.notebook``);
- ``sandbox`` + ``zygote`` + ``runner``: the learner's code in a bubblewrap sandbox, each
  notebook a fork of one warm template process, its limits kept for all its processes;
- ``judge``: the course's test cells, outside the sandbox, calling the learner's functions
  through proxies;
- ``wire``: the strict plain-data format between the two;
- ``learner_exceptions``: a learner's exception rebuilt in the judge, keeping its builtin base;
- ``handles``: objects of the learner's classes, kept in the sandbox and used from the
  judge by unforgeable handle;
- ``verdict``: the typed result of one submission, and its JSON form (what is stored);
- ``intake``, ``safetext``, ``verdict_limits``: what is read from submitted/, hostile
  strings made safe for the terminal, a page or a file name, and what is stored per submission;
- ``gradebook`` and ``feedback``: nbgrader's gradebook and CSV, the learner's HTML page;
- ``autograded``: ``autograder/autograded/<student>/<ID>/`` as nbgrader autograde writes it
  (what formgrader's Manual Grading and nbgrader generate_feedback read);
- ``late`` and ``penalty``: deadlines into the gradebook, and the late-penalty rule as an
  nbgrader late-submission plugin.

This module stays light: the sandboxed runner imports ``descentlab.grade.runner`` through it.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "grade",
        help="autograde every submission of an assignment (instructor)",
        description="Grade every submission in autograder/submitted/<student>/ID/ in parallel, "
        "each in its own sandbox, into nbgrader's gradebook; write the grades CSV and per-learner "
        "feedback. A broken submission gets a status (timed out, crashed, invalid notebook), "
        "never stops the batch; re-running skips what is already graded and unchanged.",
    )
    parser.add_argument("assignment", metavar="ID", help="lesson id, e.g. 01_objective_functions or 1")
    parser.add_argument("--course", type=Path, default=None, help="course repository (default: this one)")
    parser.add_argument("--csv", type=Path, default=None, help="where to write grades (default autograder/grades.csv)")
    parser.add_argument("--workers", type=int, default=None, help="parallel submissions (default: one per core)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds one submission may take in all (default 120)")
    parser.add_argument("--call-timeout", type=float, default=None,
                        help="seconds one cell or one call of a learner function may take (default: --timeout / 4)")
    parser.add_argument("--memory", type=int, default=1024, help="memory limit per submission in MB (default 1024)")
    parser.add_argument("--db", default=None,
                        help="gradebook SQLAlchemy URL (default: nbgrader_config.py's CourseDirectory.db_url)")
    parser.add_argument("--dask-scheduler", default=None, metavar="ADDRESS",
                        help="run the submissions on this Dask distributed scheduler (e.g. tcp://host:8786)")
    parser.add_argument("--force", action="store_true", help="regrade submissions already graded and unchanged")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run learner code unconfined (only for machines without bubblewrap; never for untrusted work)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from ..course import find_course, resolve_lesson_id
    from .round import GradeOptions, grade_assignment

    course = find_course(args.course or Path.cwd())
    options = GradeOptions(
        workers=args.workers,
        timeout=args.timeout,
        call_timeout=args.call_timeout,
        memory_mb=args.memory,
        db_url=args.db,
        dask_scheduler=args.dask_scheduler,
        force=args.force,
        sandbox="none" if args.no_sandbox else "auto",
        progress=not args.quiet,
        csv_path=args.csv,
    )
    summary = grade_assignment(course, resolve_lesson_id(args.assignment), options)
    print(summary.format())
    return summary.exit_code
