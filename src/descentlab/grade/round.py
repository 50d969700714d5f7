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
from functools import cached_property
from pathlib import Path

from tqdm import tqdm

from ..atomicfile import write_json, write_text
from ..course import Course, CourseError
from ..notebook import autograded_tests, read_sources
from . import verdict_limits
from .autograded import source_cells, write_autograded
from .feedback import write_feedback
from .gradebook import (GradebookWriter, course_settings, export_csv, is_registered, open_gradebook, parse_timestamp,
                        register_assignment)
from .intake import collect, folder_problem, read_timestamp
from .judge import compile_course_cells
from .late import apply_late_penalty
from .pool import default_workers, run_dask, run_local
from .safetext import clean_tree, for_terminal, student_id_problem
from . import zygote as zygotes
from .sandbox import Limits, open_sandbox, probe
from .task import SubmissionTask
from .verdict import GRADED, GRADER_ERROR, CellVerdict, NotebookVerdict, SubmissionVerdict

GRADER_VERSION = "descentlab-grade-3"
NOT_GRADED = "not graded"  # the folder's name cannot be a student id: nothing is recorded


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
        """The instructor's summary; every string that came from a submission is escaped."""
        t = for_terminal
        lines = [f"{self.assignment_id}: {len(self.outcomes)} submission(s) in {self.seconds:.1f} s "
                 f"(sandbox: {self.sandbox})"]
        lines += [f"WARNING: {t(w)}" for w in self.warnings]
        width = min(40, max([len("student")] + [len(t(o.student)) for o in self.outcomes]))
        for o in sorted(self.outcomes, key=lambda o: o.student):
            score = f"{o.score:g}/{o.max_score:g}"
            reused = "  (unchanged, kept)" if o.reused else ""
            lines.append(f"  {t(o.student)[:200]:<{width}}  {score:>9}  {t(o.status)}{reused}")
            for message in o.messages[:5]:
                lines.append("      " + t(message[:600]).replace("\n", "\n      "))
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        lines.append("statuses: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        lines.append(f"grades CSV: {self.csv_path}")
        lines.append(f"feedback:   {self.feedback_dir}/<student>/{self.assignment_id}/")
        return "\n".join(lines)


def _sources_digest(sources: dict[str, dict]) -> str:
    return hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()


def _key(sources_digest: str, files: list[tuple[str, bytes]], limits: Limits, timeouts: tuple) -> str:
    """What a verdict was computed from: the grader, the sources, the limits, the files."""
    digest = hashlib.sha256(GRADER_VERSION.encode())
    digest.update(json.dumps([sources_digest, asdict(limits), list(timeouts)], sort_keys=True).encode())
    for path, data in files:
        digest.update(path.encode("utf-8", "surrogateescape") + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def complete(verdict: SubmissionVerdict, sources: dict[str, dict]) -> None:
    """Give ``verdict`` a notebook for every source notebook and a test for every graded
    cell (0 where it has none), so recording it replaces the previous verdict whatever its
    status: a submission that now times out, is refused or whose worker died must not keep
    an old full score or an old feedback page."""
    for name, source_nb in sources.items():
        notebook = verdict.notebooks.setdefault(name, NotebookVerdict(
            name, invalid=f"this notebook was not graded (status: {verdict.status}); it scores 0"))
        have = {t.grade_id for t in notebook.tests}
        notebook.tests += [CellVerdict(t.grade_id, t.points, 0.0) for t in autograded_tests(source_nb)
                           if t.grade_id not in have]


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


COMMIT_EVERY = 32  # submissions per gradebook transaction ...
COMMIT_SECONDS = 2.0  # ... or this long after the first of them was staged


@dataclass
class _Staged:
    """A verdict in the open gradebook transaction, and what to write once it is committed."""

    verdict: SubmissionVerdict
    was_reused: bool
    since: float
    marker: Path | None = None
    stamp: str = ""
    timestamp: object = None
    written: dict | None = None
    fresh: bool = False  # recorded now (not a kept verdict already in this gradebook)
    late: str | None = None


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
        self.writer: GradebookWriter | None = None  # writes the verdicts into it
        self.source_cells: dict = {}  # what the gradebook holds of the source notebooks' cells
        self.pending: list[_Staged] = []  # verdicts staged in the gradebook, not yet committed
        self.problems = 0
        self.refused: list[Outcome] = []  # folders whose names cannot be student ids
        self.zygote = None  # the round's warm sandbox (see choose_sandbox)

    def grade(self) -> GradeSummary:
        folders = self.collect()
        self.mode = self.summary.sandbox = self.choose_sandbox()
        tasks, kept = self.reuse(folders)
        progress = progress_bar(len(tasks), f"grading {self.assignment_id}", self.options.progress and bool(tasks))
        zygotes.set_shared(self.zygote)  # forked workers inherit it
        try:
            self.run(tasks, kept, progress)
            self.export()
        finally:
            zygotes.set_shared(None)
            if self.zygote is not None:
                self.zygote.close()
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
        self.kernelspecs = {name: nb.get("metadata", {}).get("kernelspec") for name, nb in self.sources.items()}
        compile_course_cells(self.sources)  # once here; the forked workers inherit the code
        submitted = self.settings.submitted
        folders = sorted(p for p in submitted.glob(f"*/{self.assignment_id}") if p.is_dir())
        if not folders:
            raise CourseError(
                f"no submissions of {self.assignment_id!r}: expected notebooks in {submitted}/<student>/"
                f"{self.assignment_id}/ (collect them with nbgrader collect, or copy each learner's folder there)"
            )
        return folders

    @cached_property
    def imports(self) -> list[str]:
        """The modules the source notebooks import: the sandbox's template and the judge's
        workers both start with them loaded."""
        return zygotes.imported_modules(self.sources)

    def choose_sandbox(self) -> str:
        """The sandbox mode; for a local round with the sandbox on, its warm template
        (``self.zygote``), started once: every learner notebook is a fork of it."""
        mode = self.options.sandbox
        if mode == "none":
            return mode
        if self.options.dask_scheduler:
            if mode != "auto":
                return mode
            mode, why = probe(self.protected)  # here; the workers start their own sandboxes
        else:
            self.zygote, why = open_sandbox(self.protected, self.limits, self.imports)
            if self.zygote is None and mode == "bwrap":
                raise CourseError(f"the sandbox cannot start: {why}")
            mode = "bwrap" if self.zygote is not None else "none"
        if mode == "none":
            self.summary.warnings.append(
                f"NO SANDBOX: {why}. Learner code ran with your rights, unconfined (no network or file "
                "isolation). Install bubblewrap and re-run with --force before trusting these grades.")
            print("descentlab grade: WARNING: " + self.summary.warnings[-1], file=sys.stderr)
        return mode

    # -- 2. reuse -----------------------------------------------------------------------
    def reuse(self, folders: list[Path]) -> tuple[list[SubmissionTask], list[SubmissionVerdict]]:
        """The submissions to grade, and the stored verdicts kept for unchanged ones. A folder
        whose name cannot be a student id is only reported; a folder that is a link is graded
        as an empty submission (its previous grade must not stay)."""
        tasks, kept = [], []
        for folder in folders:
            student = folder.parent.name
            problem = student_id_problem(student)
            if problem is not None:  # not a name for the gradebook, a file name or a terminal
                self.refused.append(Outcome(student, NOT_GRADED, 0.0, 0.0, [
                    f"the folder submitted/{student} was not graded: {problem}; rename it to the learner's id"]))
                continue
            refused = folder_problem(folder)
            intake = collect(folder) if refused is None else None
            files = intake.files if intake is not None else []
            key = _key(self.sources_digest, files, self.limits, (self.timeout, self.call_timeout, self.mode, refused))
            stored = _read_verdict(self.state / f"{student}.json")
            if not self.options.force and stored and stored.key == key:
                kept.append(stored)
                continue
            tasks.append(SubmissionTask(
                assignment=self.assignment_id, student=student, key=key, sources=self.sources, files=files,
                mode=self.mode, limits=self.limits, timeout=self.timeout, call_timeout=self.call_timeout,
                protected=tuple(str(p) for p in self.protected),
                timestamp=read_timestamp(folder) if refused is None else None,
                skipped=tuple(intake.skipped) if intake is not None else (), refused=refused,
                imports=tuple(self.imports),
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
            # The judge runs the source's setup and test cells in every forked worker: their
            # imports (a library such as scikit-learn can take over a second) are done once, here.
            zygotes.preload(self.imports)
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
        self.writer = GradebookWriter(gradebook, self.assignment_id)
        self.source_cells = source_cells(gradebook, self.assignment_id)

    # -- 4. record ----------------------------------------------------------------------
    def record(self, verdict: SubmissionVerdict, was_reused: bool = False) -> None:
        """Store the verdict (before anything else), write the autograded copy and stage the
        gradebook rows; the batch is committed every ``COMMIT_EVERY`` submissions or
        ``COMMIT_SECONDS``, then each one's feedback page and marker are written. A kept
        verdict already recorded into this gradebook is not written again. A failure here is
        that submission's status, never the round's."""
        try:
            staged = self._stage(verdict, was_reused)
        except Exception as exc:  # noqa: BLE001 - one submission's failure is its own status
            self._failed(verdict.student, exc)
            self._restage()  # the rollback dropped the batch's other rows
            return
        self.pending.append(staged)
        if len(self.pending) >= COMMIT_EVERY or time.monotonic() - self.pending[0].since > COMMIT_SECONDS:
            self.commit()

    def _stage(self, verdict: SubmissionVerdict, was_reused: bool) -> _Staged:
        student = verdict.student
        if not was_reused:
            complete(verdict, self.sources)
            verdict = SubmissionVerdict.from_json(clean_tree(verdict_limits.bound(verdict).to_json()))
            write_json(self.state / f"{student}.json", verdict.to_json())
        staged = _Staged(verdict, was_reused, time.monotonic())
        staged.marker = self.state / f"{student}.recorded"
        staged.stamp = hashlib.sha256((verdict.key + "\0" + self.db_url).encode()).hexdigest()
        autograded = self.settings.autograded / student / self.assignment_id
        if not (was_reused and staged.marker.is_file() and staged.marker.read_text() == staged.stamp
                and autograded.is_dir()):
            try:
                staged.timestamp = parse_timestamp(verdict.timestamp)
            except ValueError as exc:  # an unreadable timestamp.txt
                verdict.messages.append(f"timestamp.txt ignored: {exc}")
            notes, staged.written = write_autograded(
                self.source_cells, verdict, self.settings.submitted / student / self.assignment_id, autograded,
                self.course.solutions / self.assignment_id, self.kernelspecs)
            verdict.messages.extend(notes)
            staged.fresh = True
        self._to_gradebook(staged)
        return staged

    def _to_gradebook(self, staged: _Staged) -> None:
        verdict = staged.verdict
        if staged.fresh:
            submission = self.writer.stage(verdict, staged.timestamp, staged.written)
        else:
            submission = self.writer.submissions.get(verdict.student)
        if submission is not None:  # deadlines may change between rounds
            staged.late = apply_late_penalty(self.gradebook, self.course, self.assignment_id, submission)

    def _restage(self) -> None:
        """Roll back and stage the batch again (every one of it staged cleanly before)."""
        self.writer.reset()
        batch, self.pending = self.pending, []
        for staged in batch:
            try:
                self._to_gradebook(staged)
                self.pending.append(staged)
            except Exception as exc:  # noqa: BLE001
                self.writer.reset()
                self._failed(staged.verdict.student, exc)

    def commit(self) -> None:
        """Commit the staged batch, then write its feedback pages, markers and outcomes. If
        the commit fails, each submission is committed alone, so only a failing one fails."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            self.writer.commit()
        except Exception:  # noqa: BLE001
            self.writer.reset()
            done = []
            for staged in batch:
                try:
                    self._to_gradebook(staged)
                    self.writer.commit()
                    done.append(staged)
                except Exception as exc:  # noqa: BLE001
                    self.writer.reset()
                    self._failed(staged.verdict.student, exc)
            batch = done
        for staged in batch:
            verdict = staged.verdict
            if staged.fresh:
                write_feedback(verdict, self.settings.feedback / verdict.student / self.assignment_id)
                write_text(staged.marker, staged.stamp)
            if staged.late:
                verdict.messages.append(staged.late)
            self.summary.outcomes.append(Outcome(
                verdict.student, verdict.status, verdict.score, verdict.max_score, list(verdict.messages),
                reused=staged.was_reused, seconds=verdict.seconds))

    def _failed(self, student: str, exc: Exception) -> None:
        self.summary.outcomes.append(Outcome(student, GRADER_ERROR, 0.0, 0.0, [
            f"its verdict could not be recorded: {type(exc).__name__}: {exc}"]))

    # -- 5. export ----------------------------------------------------------------------
    def export(self) -> None:
        self.commit()
        self.summary.outcomes.extend(self.refused)
        if self.writer is not None:
            self.writer.done()
        export_csv(self.gradebook, self.summary.csv_path)
