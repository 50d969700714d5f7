"""A grading round: every submission of one assignment, in parallel, resumable.

1. Read the course's nbgrader settings (gradebook URL, submitted/ and feedback/ folders) and
   make sure the assignment's cells are in the gradebook (nbgrader generate_assignment into
   a temporary folder, only when they are missing or changed).
2. For each ``submitted/<student>/<ID>/`` compute a key from its files, the source
   notebooks and the limits. A verdict already stored under ``autograder/.descentlab/<ID>/``
   with the same key is reused (unless --force): killing the grader loses nothing graded.
3. Grade the rest: forked local workers (one sandbox each) or tasks on a Dask cluster.
   Each verdict is stored atomically as soon as it arrives, then written to the gradebook
   and the learner's feedback page, by this process only.
4. Export the grades CSV with nbgrader's exporter.

Only an instructor's error (no submissions, a broken course, an unreachable gradebook)
raises; whatever a learner's notebook does ends as that submission's status.
"""
from __future__ import annotations

import hashlib
import json
import os
import selectors
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..atomicfile import write_json
from ..course import Course, CourseError
from .feedback import write_feedback
from .gradebook import course_settings, export_csv, is_registered, load_sources, open_gradebook, record, register_assignment
from .progress import Progress
from .sandbox import Limits, probe
from .task import GRADER_ERROR, TIMED_OUT, grade_submission

GRADER_VERSION = "descentlab-grade-1"
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


def _key(sources: dict[str, str], files: list[tuple[str, bytes]], limits: dict, timeouts: tuple) -> str:
    digest = hashlib.sha256(GRADER_VERSION.encode())
    digest.update(json.dumps([sources, limits, list(timeouts)], sort_keys=True).encode())
    for path, data in files:
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def grade_assignment(course: Course, assignment_id: str, options: GradeOptions | None = None) -> GradeSummary:
    options = options or GradeOptions()
    started = time.monotonic()
    course.require_checkout("descentlab grade")
    settings = course_settings(course)
    db_url = options.db_url or settings.db_url
    sources = load_sources(course, assignment_id)
    source_nbs = {name: json.loads(text) for name, text in sources.items()}
    folders = sorted(p for p in (settings.submitted).glob(f"*/{assignment_id}") if p.is_dir())
    if not folders:
        raise CourseError(
            f"no submissions of {assignment_id!r}: expected notebooks in {settings.submitted}/<student>/{assignment_id}/ "
            "(collect them with nbgrader collect, or copy each learner's folder there)"
        )
    state = course.autograder / ".descentlab" / assignment_id
    protected = sorted({course.root, course.solutions, course.autograder, settings.submitted,
                        settings.feedback, Path.home()})
    summary = GradeSummary(assignment_id, Path(options.csv_path or course.autograder / "grades.csv").resolve(),
                           settings.feedback, sandbox="?")

    mode = options.sandbox
    if mode == "auto":
        mode, why = probe(protected)
        if mode == "none":
            summary.warnings.append(
                f"NO SANDBOX: {why}. Learner code ran with your rights, unconfined (no network or file "
                "isolation). Install bubblewrap and re-run with --force before trusting these grades.")
            print("descentlab grade: WARNING: " + summary.warnings[-1], file=sys.stderr)
    summary.sandbox = mode

    timeout = float(options.timeout)
    call_timeout = float(options.call_timeout or max(1.0, timeout / 4))
    limits = asdict(Limits(memory_mb=options.memory_mb, cpu_seconds=int(timeout) + 5))

    specs, reused = [], []
    for folder in folders:
        student = folder.parent.name
        files = _collect_files(folder)
        key = _key(sources, files, limits, (timeout, call_timeout, mode))
        stored = _read_json(state / f"{student}.json")
        if not options.force and stored and stored.get("key") == key:
            reused.append(stored)
            continue
        timestamp_file = folder / "timestamp.txt"
        specs.append({
            "assignment": assignment_id, "student": student, "key": key,
            "notebooks": sources, "files": files, "mode": mode, "limits": limits,
            "timeout": timeout, "call_timeout": call_timeout,
            "protected": [str(p) for p in protected],
            "timestamp": timestamp_file.read_text(errors="replace").strip() if timestamp_file.is_file() else None,
        })

    books: list = []  # the open gradebook, once prepare() ran

    def prepare() -> None:
        """Open the gradebook and register the assignment. Runs while the first workers
        already grade (importing nbgrader takes seconds; the workers do not need it)."""
        gradebook = open_gradebook(db_url, settings.course_id)
        if not is_registered(gradebook, assignment_id, source_nbs):
            gradebook.close()
            register_assignment(course, assignment_id, db_url)
            gradebook = open_gradebook(db_url, settings.course_id)
            if not is_registered(gradebook, assignment_id, source_nbs):
                gradebook.close()
                raise CourseError(
                    f"the gradebook {db_url} still lacks the cells of {assignment_id!r} after "
                    "nbgrader generate_assignment; was the assignment renamed?")
        books.append(gradebook)
        for stored in reused:
            finish(stored, was_reused=True)

    def finish(result: dict, was_reused: bool = False) -> None:
        gradebook = books[0]
        student = result["student"]
        if not was_reused:
            write_json(state / f"{student}.json", result)  # persisted before anything else
        marker = state / f"{student}.recorded"
        stamp = hashlib.sha256((result["key"] + "\0" + db_url).encode()).hexdigest()
        if not (was_reused and marker.is_file() and marker.read_text() == stamp):
            try:
                record(gradebook, result, result.get("timestamp"))
            except ValueError as exc:  # an unreadable timestamp.txt
                gradebook.db.rollback()
                result.setdefault("messages", []).append(f"timestamp.txt ignored: {exc}")
                record(gradebook, result, None)
            write_feedback(result, settings.feedback / student / assignment_id)
            marker.write_text(stamp)
        summary.outcomes.append(Outcome(
            student, result["status"], result.get("score", 0.0), result.get("max_score", 0.0),
            list(result.get("messages", [])), reused=was_reused, seconds=result.get("seconds", 0.0)))

    progress = Progress(len(specs), f"grading {assignment_id}", enabled=options.progress and bool(specs))

    def on_result(spec: dict, result: dict) -> None:
        result["timestamp"] = spec.get("timestamp")
        finish(result)
        progress.advance(result["status"])

    try:
        if options.dask_scheduler:
            prepare()
            run_dask(specs, options.dask_scheduler, on_result)
        else:
            run_local(specs, options.workers or default_workers(), timeout + 30.0, on_result, prepare)
        progress.close()
        export_csv(books[0], summary.csv_path)
    finally:
        for gradebook in books:
            gradebook.close()
    summary.seconds = time.monotonic() - started
    return summary


def _failure(spec: dict, status: str, message: str) -> dict:
    return {
        "assignment": spec["assignment"], "student": spec["student"], "key": spec["key"],
        "sandbox": spec["mode"], "status": status, "messages": [message], "notebooks": {},
        "score": 0.0, "max_score": 0.0, "seconds": 0.0,
    }


def run_local(specs: list[dict], workers: int, hard_timeout: float,
              on_result: Callable[[dict, dict], None], prepare: Callable[[], None] = lambda: None) -> None:
    """Grade ``specs`` in forked worker processes, ``workers`` at a time.

    A fork of this process starts warm (numpy and the judge already imported); each child
    grades one submission and sends its verdict back through a pipe. A child that outlives
    ``hard_timeout`` is killed (its sandbox dies with it)."""
    queue = list(specs)
    running: dict[int, dict] = {}
    selector = selectors.DefaultSelector()
    prepared = False
    try:
        while queue or running or not prepared:
            while queue and len(running) < workers:
                spec = queue.pop(0)
                read_fd, write_fd = os.pipe()
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:  # the worker
                    code = 0
                    try:
                        os.close(read_fd)
                        signal.signal(signal.SIGINT, signal.SIG_DFL)
                        data = json.dumps(grade_submission(spec)).encode()
                        view = memoryview(data)
                        while view:
                            view = view[os.write(write_fd, view):]
                    except BaseException:  # noqa: BLE001 - the parent reports a missing verdict
                        code = 1
                    finally:
                        os._exit(code)
                os.close(write_fd)
                os.set_blocking(read_fd, False)
                running[pid] = {"spec": spec, "fd": read_fd, "data": bytearray(), "start": time.monotonic()}
                selector.register(read_fd, selectors.EVENT_READ, pid)
            if not prepared:
                prepare()  # the first workers are already grading
                prepared = True
                continue
            for key, _ in selector.select(timeout=0.5):
                pid = key.data
                job = running[pid]
                try:
                    chunk = os.read(job["fd"], 1 << 20)
                except BlockingIOError:
                    continue
                if chunk:
                    job["data"] += chunk
                    continue
                selector.unregister(job["fd"])
                os.close(job["fd"])
                _, status = os.waitpid(pid, 0)
                del running[pid]
                try:
                    result = json.loads(job["data"])
                except ValueError:
                    result = _failure(job["spec"], GRADER_ERROR,
                                      f"the grading worker exited without a verdict (wait status {status})")
                on_result(job["spec"], result)
            now = time.monotonic()
            for pid, job in list(running.items()):
                if now - job["start"] > hard_timeout:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    selector.unregister(job["fd"])
                    os.close(job["fd"])
                    del running[pid]
                    on_result(job["spec"], _failure(
                        job["spec"], TIMED_OUT, f"grading took longer than {hard_timeout:g} s and was stopped"))
    finally:
        for pid in running:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass


def run_dask(specs: list[dict], address: str, on_result: Callable[[dict, dict], None]) -> None:
    """Grade ``specs`` as tasks on a Dask distributed cluster (the same task as locally)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise CourseError("--dask-scheduler needs dask[distributed]: pip install 'descentlab[dask]'") from None
    try:
        client = Client(address, timeout=30)
    except Exception as exc:  # noqa: BLE001 - an unreachable scheduler is the instructor's to fix
        raise CourseError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        futures = {}
        for spec in specs:
            future = client.submit(grade_submission, spec, pure=False,
                                   key=f"descentlab-grade-{spec['student']}-{spec['key'][:12]}-{os.getpid()}")
            futures[future] = spec
        for future in as_completed(futures):
            spec = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker, say
                result = _failure(spec, GRADER_ERROR, f"the Dask task failed: {type(exc).__name__}: {exc}")
            on_result(spec, result)
    finally:
        client.close()
