"""A grading round: every submission of one assignment, in parallel, resumable.

``grade_assignment`` runs these steps in order (``GradingRound`` has one method each):

1. collect: the ``submitted/<student>/<ID>/`` folders and their files; the source
   notebooks in solutions/<ID>/ are parsed once for the whole round;
2. reuse: a key from each submission's files, the sources and the limits; a verdict already
   stored under ``autograder/.descentlab/<ID>/`` with the same key is kept (unless --force),
   so killing the grader loses nothing graded;
3. run: grade the rest in forked local workers or on a Dask cluster (``pool``), while the
   gradebook opens and, when its cells are missing or changed, nbgrader generate_assignment
   registers the assignment (into a temporary folder);
4. record: each verdict, as soon as it arrives, is stored atomically, then written to the
   gradebook and the learner's feedback page, by this process only;
5. export: the grades CSV, with nbgrader's exporter.

Only an instructor's error (no submissions, a broken course, an unreachable gradebook)
raises; whatever a learner's notebook does ends as that submission's status.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..atomicfile import write_json, write_text
from ..course import Course, CourseError
from ..notebook import read_sources
from .autograded import write_autograded
from .feedback import write_feedback
from .gradebook import course_settings, export_csv, is_registered, open_gradebook, record, register_assignment
from .late import apply_late_penalty
from .pool import default_workers, run_dask, run_local
from .sandbox import Limits, probe
from .task import SubmissionTask
from .verdict import GRADED, GRADER_ERROR, SubmissionVerdict

GRADER_VERSION = "descentlab-grade-2"
MAX_SUBMISSION_BYTES = 50 * 1024 * 1024
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}


@dataclass
class GradeOptions:
    workers: int | None = None
    timeout: float = 120.0
    call_timeout: float | None = None
    memory_mb: int = 1024
    db_url: str | None = None
    dask_scheduler: str | None = None
    force: bool = False
    sandbox: str = "auto"  # auto | bwrap | none
    progress: bool = True
    csv_path: Path | None = None


@dataclass
class Outcome:
    student: str
    status: str
    score: float
    max_score: float
    messages: list[str] = field(default_factory=list)
    reused: bool = False
    seconds: float = 0.0


@dataclass
class GradeSummary:
    assignment_id: str
    csv_path: Path
    feedback_dir: Path
    sandbox: str
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if any(o.status == GRADER_ERROR for o in self.outcomes) else 0

    def by_student(self) -> dict[str, Outcome]:
        return {o.student: o for o in self.outcomes}

    def format(self) -> str:
        lines = [f"{self.assignment_id}: {len(self.outcomes)} submission(s) in {self.seconds:.1f} s "
                 f"(sandbox: {self.sandbox})"]
        lines += [f"WARNING: {w}" for w in self.warnings]
        width = max([len("student")] + [len(o.student) for o in self.outcomes])
        for o in sorted(self.outcomes, key=lambda o: o.student):
            score = f"{o.score:g}/{o.max_score:g}"
            reused = "  (unchanged, kept)" if o.reused else ""
            lines.append(f"  {o.student:<{width}}  {score:>9}  {o.status}{reused}")
            for message in o.messages[:5]:
                lines.append("      " + message.replace("\n", "\n      ")[:600])
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        lines.append("statuses: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        lines.append(f"grades CSV: {self.csv_path}")
        lines.append(f"feedback:   {self.feedback_dir}/<student>/{self.assignment_id}/")
        return "\n".join(lines)


def _collect_files(folder: Path) -> list[tuple[str, bytes]]:
    files: list[tuple[str, bytes]] = []
    total = 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in SKIP_DIRS for part in rel.parts) or path.is_symlink() or not path.is_file():
            continue
        if rel.name == "timestamp.txt" and len(rel.parts) == 1:
            continue
        data = path.read_bytes()
        total += len(data)
        if total > MAX_SUBMISSION_BYTES:
            break  # the rest is not needed to grade; the notebook comes first alphabetically rarely matters
        files.append((rel.as_posix(), data))
    return files


def _sources_digest(sources: dict[str, dict]) -> str:
    return hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()


def _key(sources_digest: str, files: list[tuple[str, bytes]], limits: Limits, timeouts: tuple) -> str:
    """What a verdict was computed from: the grader, the sources, the limits, the files."""
    digest = hashlib.sha256(GRADER_VERSION.encode())
    digest.update(json.dumps([sources_digest, asdict(limits), list(timeouts)], sort_keys=True).encode())
    for path, data in files:
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _read_verdict(path: Path) -> SubmissionVerdict | None:
    """The verdict stored at ``path``, or None when there is none (or it is unreadable)."""
    try:
        return SubmissionVerdict.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, RecursionError):
        return None


def progress_bar(total: int, label: str, enabled: bool = True, stream=None) -> tqdm:
    """The round's progress bar on stderr: count, rate, time left; the number of submissions
    that did not grade cleanly goes in its postfix."""
    return tqdm(total=total, desc=label, unit="submission", file=stream or sys.stderr,
                disable=not enabled, dynamic_ncols=True, mininterval=0.5)


def grade_assignment(course: Course, assignment_id: str, options: GradeOptions | None = None) -> GradeSummary:
    return GradingRound(course, assignment_id, options or GradeOptions()).grade()


class GradingRound:
    """One round's settings and state; ``grade`` runs its steps in order."""

    def __init__(self, course: Course, assignment_id: str, options: GradeOptions):
        course.require_checkout("descentlab grade")
        self.started = time.monotonic()
        self.course, self.assignment_id, self.options = course, assignment_id, options
        self.settings = course_settings(course)
        self.db_url = options.db_url or self.settings.db_url
        self.state = course.grader_state / assignment_id
        self.protected = sorted({course.root, course.solutions, course.autograder, self.settings.submitted,
                                 self.settings.feedback, Path.home()})
        self.timeout = float(options.timeout)
        self.call_timeout = float(options.call_timeout or max(1.0, self.timeout / 4))
        self.limits = Limits(memory_mb=options.memory_mb, cpu_seconds=int(self.timeout) + 5)
        csv_path = Path(options.csv_path or course.autograder / "grades.csv").resolve()
        self.summary = GradeSummary(assignment_id, csv_path, self.settings.feedback, sandbox="?")
        self.sources: dict[str, dict] = {}
        self.sources_digest = ""
        self.mode = "?"
        self.gradebook = None  # opened by open_gradebook, while the first workers grade
        self.problems = 0

    def grade(self) -> GradeSummary:
        folders = self.collect()
        self.mode = self.summary.sandbox = self.choose_sandbox()
        tasks, kept = self.reuse(folders)
        progress = progress_bar(len(tasks), f"grading {self.assignment_id}", self.options.progress and bool(tasks))
        try:
            self.run(tasks, kept, progress)
            self.export()
        finally:
            progress.close()
            if self.gradebook is not None:
                self.gradebook.close()
        self.summary.seconds = time.monotonic() - self.started
        return self.summary

    # -- 1. collect ---------------------------------------------------------------------
    def collect(self) -> list[Path]:
        """The submissions' folders; the source notebooks, parsed once for every student."""
        self.sources = read_sources(self.course.solutions / self.assignment_id)
        self.sources_digest = _sources_digest(self.sources)
        submitted = self.settings.submitted
        folders = sorted(p for p in submitted.glob(f"*/{self.assignment_id}") if p.is_dir())
        if not folders:
            raise CourseError(
                f"no submissions of {self.assignment_id!r}: expected notebooks in {submitted}/<student>/"
                f"{self.assignment_id}/ (collect them with nbgrader collect, or copy each learner's folder there)"
            )
        return folders

    def choose_sandbox(self) -> str:
        mode = self.options.sandbox
        if mode != "auto":
            return mode
        mode, why = probe(self.protected)
        if mode == "none":
            self.summary.warnings.append(
                f"NO SANDBOX: {why}. Learner code ran with your rights, unconfined (no network or file "
                "isolation). Install bubblewrap and re-run with --force before trusting these grades.")
            print("descentlab grade: WARNING: " + self.summary.warnings[-1], file=sys.stderr)
        return mode

    # -- 2. reuse -----------------------------------------------------------------------
    def reuse(self, folders: list[Path]) -> tuple[list[SubmissionTask], list[SubmissionVerdict]]:
        """The submissions to grade, and the stored verdicts kept for unchanged ones."""
        tasks, kept = [], []
        for folder in folders:
            student = folder.parent.name
            files = _collect_files(folder)
            key = _key(self.sources_digest, files, self.limits, (self.timeout, self.call_timeout, self.mode))
            stored = _read_verdict(self.state / f"{student}.json")
            if not self.options.force and stored and stored.key == key:
                kept.append(stored)
                continue
            timestamp_file = folder / "timestamp.txt"
            tasks.append(SubmissionTask(
                assignment=self.assignment_id, student=student, key=key, sources=self.sources, files=files,
                mode=self.mode, limits=self.limits, timeout=self.timeout, call_timeout=self.call_timeout,
                protected=tuple(str(p) for p in self.protected),
                timestamp=timestamp_file.read_text(errors="replace").strip() if timestamp_file.is_file() else None,
            ))
        return tasks, kept

    # -- 3. run -------------------------------------------------------------------------
    def run(self, tasks: list[SubmissionTask], kept: list[SubmissionVerdict], progress: tqdm) -> None:
        def prepare() -> None:
            self.open_gradebook()
            for verdict in kept:
                self.record(verdict, was_reused=True)

        def on_result(task: SubmissionTask, verdict: SubmissionVerdict) -> None:
            verdict.timestamp = task.timestamp
            self.record(verdict)
            if verdict.status != GRADED:
                self.problems += 1
                progress.set_postfix_str(f"{self.problems} not graded cleanly", refresh=False)
            progress.update(1)

        if self.options.dask_scheduler:
            prepare()
            run_dask(tasks, self.options.dask_scheduler, on_result)
        else:
            run_local(tasks, self.options.workers or default_workers(), self.timeout + 30.0, on_result, prepare)

    def open_gradebook(self) -> None:
        """Open the gradebook and register the assignment. Runs while the first workers
        already grade (importing nbgrader takes seconds; the workers do not need it)."""
        course_id = self.settings.course_id
        gradebook = open_gradebook(self.db_url, course_id)
        if not is_registered(gradebook, self.assignment_id, self.sources):
            gradebook.close()
            register_assignment(self.course, self.assignment_id, self.db_url)
            gradebook = open_gradebook(self.db_url, course_id)
            if not is_registered(gradebook, self.assignment_id, self.sources):
                gradebook.close()
                raise CourseError(
                    f"the gradebook {self.db_url} still lacks the cells of {self.assignment_id!r} after "
                    "nbgrader generate_assignment; was the assignment renamed?")
        self.gradebook = gradebook

    # -- 4. record ----------------------------------------------------------------------
    def record(self, verdict: SubmissionVerdict, was_reused: bool = False) -> None:
        """Store the verdict (before anything else), then the gradebook and feedback page;
        a kept verdict already recorded into this gradebook is not written again."""
        student = verdict.student
        if not was_reused:
            write_json(self.state / f"{student}.json", verdict.to_json())
        marker = self.state / f"{student}.recorded"
        stamp = hashlib.sha256((verdict.key + "\0" + self.db_url).encode()).hexdigest()
        autograded = self.settings.autograded / student / self.assignment_id
        if not (was_reused and marker.is_file() and marker.read_text() == stamp and autograded.is_dir()):
            try:
                record(self.gradebook, verdict, verdict.timestamp)
            except ValueError as exc:  # an unreadable timestamp.txt
                self.gradebook.db.rollback()
                verdict.messages.append(f"timestamp.txt ignored: {exc}")
                record(self.gradebook, verdict, None)
            verdict.messages.extend(write_autograded(
                self.gradebook, verdict, self.settings.submitted / student / self.assignment_id, autograded,
                self.course.solutions / self.assignment_id))
            write_feedback(verdict, self.settings.feedback / student / self.assignment_id)
            write_text(marker, stamp)
        late = apply_late_penalty(self.gradebook, self.course, self.assignment_id, student)  # deadlines may change
        if late:
            verdict.messages.append(late)
        self.summary.outcomes.append(Outcome(
            student, verdict.status, verdict.score, verdict.max_score, list(verdict.messages),
            reused=was_reused, seconds=verdict.seconds))

    # -- 5. export ----------------------------------------------------------------------
    def export(self) -> None:
        export_csv(self.gradebook, self.summary.csv_path)
