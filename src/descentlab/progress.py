"""`descentlab progress`: where a learner stands: exercises, quizzes, flashcards.

Exercises are judged by their *visible* tests, honestly and without waiting minutes:

* A notebook whose answers are still what ``descentlab start`` copied (the digest of its
  editable sources matches ``.descentlab/manifest.json`` or the course's own copy; running
  it does not count) is reported "not started" without running it: an untouched exercise is
  all stubs and scores 0 (the course's test suite checks that for every assignment).
* Any other notebook is run with :func:`descentlab.check.run_check`, the same code as
  ``descentlab check``, and the result is cached in the progress file together with the
  notebook's SHA-256. The next ``descentlab progress`` re-runs only notebooks whose content
  changed since, so a report is never older than the file it describes.
* ``--no-run`` never starts a kernel: changed notebooks are shown as "changed since last
  check" with their last result.

Quiz scores and flashcard counts come from ``.descentlab/progress.json``, written by the
widgets (see :mod:`descentlab.progress_store`).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .course import LESSON_IDS, LESSONS, Course, CourseError, find_course
from .card_schedule import CardState
from .digest import file_digest
from .learner_work import work_digest
from .progress_store import ProgressStore
from .workspace import Workspace


@dataclass
class ExerciseStatus:
    lesson: str
    notebook: str  # workspace-relative
    state: str  # "not started" | "checked" | "changed since last check" | "not checked yet" | "missing ..."
    passed: int = 0
    total: int = 0
    score: float = 0.0
    max_score: float = 0.0
    checked_at: str = ""
    problems: list[str] = field(default_factory=list)


@dataclass
class QuizStatus:
    lesson: str
    questions: int
    answered: int
    correct: int
    first_try: int
    error: str = ""


@dataclass
class CardStatus:
    total: int
    new: int
    due: int  # includes new cards: everything to study now
    mastered: int
    error: str = ""


@dataclass
class ProgressSummary:
    workspace: str
    exercises: list[ExerciseStatus]
    quizzes: list[QuizStatus]
    cards: CardStatus
    notes: list[str]

    def to_json(self) -> dict:
        return asdict(self)


def _untouched(workspace: Workspace, course: Course, rel: str, digest: str) -> bool:
    """True when the learner has not written anything in the notebook yet: its editable
    sources (see :mod:`descentlab.learner_work`) are what was copied, or what the course
    has, even if it was run (outputs are not work)."""
    path = workspace.root / rel
    record = workspace.read_manifest().get(rel)
    original = course.root / rel
    if record and digest == record["course"]:
        return True
    work = work_digest(path)
    if work is None:
        return False
    if record and work == record["work"]:
        return True
    return original.is_file() and work == work_digest(original)


def _default_runner(path: Path):
    from .check import run_check  # nbclient is heavy: import only when a notebook must run

    return run_check(path)


def exercise_statuses(
    workspace: Workspace,
    store: ProgressStore,
    course: Course,
    *,
    run: bool = True,
    runner: Callable[[Path], object] = _default_runner,
    now: datetime,
) -> list[ExerciseStatus]:
    checks = store.load().get("checks", {})
    statuses = []
    for lesson_id in LESSON_IDS:
        path = workspace.exercise_notebook(lesson_id)
        rel = workspace.relative(path)
        if not path.is_file():
            if (course.root / rel).is_file():  # the course has it; the workspace lost it
                statuses.append(ExerciseStatus(lesson_id, rel, "missing (`descentlab start` copies it again)"))
            continue
        digest = file_digest(path)
        if _untouched(workspace, course, rel, digest):
            statuses.append(ExerciseStatus(lesson_id, rel, "not started"))
            continue
        cached = checks.get(rel) if isinstance(checks.get(rel), dict) else None
        if cached and cached.get("digest") == digest:
            statuses.append(_from_cache(lesson_id, rel, "checked", cached))
            continue
        if not run:
            state = "changed since last check" if cached else "not checked yet"
            statuses.append(_from_cache(lesson_id, rel, state, cached or {}))
            continue
        try:
            record = check_record(digest, runner(path), now)
        except CourseError as exc:
            record = {"digest": digest, "passed": 0, "total": 0, "score": 0.0, "max_score": 0.0,
                      "at": now.isoformat(), "problems": [str(exc)]}
        save_check(store, rel, record)
        statuses.append(_from_cache(lesson_id, rel, "checked", record))
    return statuses


def check_record(digest: str, report, now: datetime) -> dict:
    """What the progress file keeps of one check of a notebook whose SHA-256 is ``digest``."""
    return {
        "digest": digest,
        "passed": sum(r.passed for r in report.results),
        "total": len(report.results),
        "score": report.score,
        "max_score": report.max_score,
        "at": now.isoformat(),
        "problems": list(report.problems),
    }


def save_check(store: ProgressStore, rel: str, record: dict) -> None:
    def change(data: dict) -> None:
        data["checks"][rel] = record

    store.update(change)


def remember_check(workspace: Workspace, path: Path, report) -> None:
    """Keep a `descentlab check` result of a workspace exercise, so `descentlab progress`
    and the course map show it without running the notebook again."""
    rel = workspace.relative(path)
    lesson_ids = [i for i in LESSON_IDS if workspace.relative(workspace.exercise_notebook(i)) == rel]
    if not lesson_ids or not path.is_file():
        return
    record = check_record(file_digest(path), report, datetime.now(timezone.utc))
    save_check(ProgressStore(workspace.progress_file), rel, record)


def _from_cache(lesson_id: str, rel: str, state: str, record: dict) -> ExerciseStatus:
    def number(key: str) -> float:
        value = record.get(key, 0)
        return value if isinstance(value, (int, float)) else 0

    problems = record.get("problems", [])
    return ExerciseStatus(
        lesson_id, rel, state,
        passed=int(number("passed")), total=int(number("total")),
        score=float(number("score")), max_score=float(number("max_score")),
        checked_at=str(record.get("at", "")),
        problems=[str(p) for p in problems] if isinstance(problems, list) else [],
    )


def quiz_statuses(saved: dict, workspace: Workspace) -> list[QuizStatus]:
    from .quiz_bank import QuizError, load_quiz

    statuses = []
    for lesson_id in LESSON_IDS:
        answers = saved.get(lesson_id, {}) if isinstance(saved.get(lesson_id), dict) else {}
        try:
            bank = load_quiz(workspace.quiz_bank(lesson_id))
        except QuizError as exc:
            statuses.append(QuizStatus(lesson_id, 0, 0, 0, 0, error=str(exc).splitlines()[0]))
            continue
        records = [answers.get(q.id) for q in bank.questions]
        records = [r for r in records if isinstance(r, dict)]
        statuses.append(QuizStatus(
            lesson_id,
            questions=len(bank.questions),
            answered=sum(r.get("correct") is not None for r in records),
            correct=sum(r.get("correct") is True for r in records),
            first_try=sum(r.get("first_try") is True for r in records),
        ))
    return statuses


def card_status(saved: dict, now: datetime, glossary_path: Path | None = None) -> CardStatus:
    from .glossary import GlossaryError, load_glossary

    try:
        glossary = load_glossary(glossary_path)
    except GlossaryError as exc:
        return CardStatus(0, 0, 0, 0, error=str(exc).splitlines()[0])
    states = [CardState.from_json(saved.get(e.term)) for e in glossary]
    return CardStatus(
        total=len(states),
        new=sum(s.is_new for s in states),
        due=sum(s.is_due(now) for s in states),
        mastered=sum(s.mastered for s in states),
    )


def summarize(
    workspace: Workspace | Path | None = None,
    *,
    run: bool = True,
    runner: Callable[[Path], object] = _default_runner,
    clock: Callable[[], datetime] | None = None,
    glossary_path: Path | None = None,
) -> ProgressSummary:
    """Collect a learner's progress in ``workspace`` (default: found from the cwd)."""
    if not isinstance(workspace, Workspace):
        workspace = Workspace.named(workspace) if workspace is not None else Workspace.find()
    now = (clock or (lambda: datetime.now(timezone.utc)))()
    store = ProgressStore(workspace.progress_file, clock=lambda: now)
    course = find_course(workspace.root)
    exercises = exercise_statuses(workspace, store, course, run=run, runner=runner, now=now)
    saved = store.load()
    return ProgressSummary(
        workspace=str(workspace.root),
        exercises=exercises,
        quizzes=quiz_statuses(saved.get("quizzes", {}), workspace),
        cards=card_status(saved.get("cards", {}), now, glossary_path or workspace.glossary),
        notes=list(store.notes),
    )


def format_summary(summary: ProgressSummary) -> str:
    name = lambda lesson_id: f"{lesson_id[:2]} {LESSONS[lesson_id]}"  # noqa: E731
    width = max(len(name(i)) for i in LESSON_IDS) + 2
    lines = [f"descentlab progress: workspace {summary.workspace}", ""]
    lines.append("Exercises (visible tests; hidden tests run only at grading)")
    if not summary.exercises:
        lines.append("  no exercise notebooks in this folder (is it your workspace? see --workspace)")
    for ex in summary.exercises:
        if ex.state in ("checked", "changed since last check") and ex.total:
            result = f"{ex.passed}/{ex.total} functions pass ({ex.score:g}/{ex.max_score:g} points)"
            if ex.state != "checked":
                result += f", {ex.state}"
        elif ex.state == "checked":
            result = "could not be checked"
        else:
            result = ex.state
        lines.append(f"  {name(ex.lesson):<{width}}{result}")
        for problem in ex.problems[:2]:
            lines.append(f"  {'':<{width}}note: {problem}")
    lines.append("")
    lines.append("Quizzes")
    for q in summary.quizzes:
        if q.error:
            result = f"bank cannot be loaded: {q.error}"
        elif not q.answered:
            result = f"not started ({q.questions} questions)"
        else:
            result = f"{q.correct}/{q.questions} right · {q.answered} answered · {q.first_try} at the first try"
        lines.append(f"  {name(q.lesson):<{width}}{result}")
    lines.append("")
    c = summary.cards
    lines.append("Flashcards")
    if c.error:
        lines.append(f"  glossary cannot be loaded: {c.error}")
    else:
        lines.append(f"  {c.total} cards · {c.mastered} mastered · {c.due} due now ({c.new} never studied)")
    for note in summary.notes:
        lines.append(f"\nnote: {note}")
    return "\n".join(lines)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "progress",
        help="summarise your progress: exercises, quizzes, flashcards",
        description="Summarise a learner workspace: which exercises pass their visible tests "
        "(notebooks changed since the last look are run again), quiz scores, and flashcards "
        "mastered and due.",
    )
    parser.add_argument("--workspace", type=Path, help="the workspace folder (default: found from the current folder)")
    parser.add_argument("--no-run", action="store_true", help="never run notebooks; show the last results")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    summary = summarize(args.workspace, run=not args.no_run)
    print(json.dumps(summary.to_json(), indent=2) if args.json else format_summary(summary))
    return 0
