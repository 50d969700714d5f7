"""`descentlab collect ARCHIVES...`: hand-ins into ``autograder/submitted/<student>/<ID>/``.

Three kinds of zip are understood:

- a `descentlab submit` archive (its manifest names the student, the assignment and the
  time; its progress file goes to ``autograder/progress/<ID>/<student>.json`` for the
  class report);
- a Canvas "Download Submissions" zip: one file per learner named
  ``<name>[_LATE]_<user id>_<file id>_<file name>`` (Canvas may add ``-1``, ``-2`` to a
  re-submitted file name);
- a Moodle "Download all submissions" zip: ``<Full Name>_<participant id>_assignsubmission_file_/<file>``
  (a folder per learner, or the same as one flat file name).

Each submission gets a ``timestamp.txt`` (the manifest's time; for LMS zips the file's
time in the zip, taken as UTC), the learner's LMS id goes into the gradebook (the exports
need it), and a learner already collected for that assignment is refused unless
``--replace``. Every member not imported is named with the reason.

Archive contents are hostile. Names are never used as paths: only a checked student id and
the course's own notebook names are. Symlinks, directories, absolute or ``..`` paths, more
than MAX_MEMBERS members, members over MAX_MEMBER_BYTES (counted while reading, whatever
the header claims) and archives over MAX_TOTAL_BYTES uncompressed are skipped or refused.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from .atomicfile import write_bytes, write_text
from .course import Course, CourseError, find_course, resolve_lesson_id
from .submit import MANIFEST, PROGRESS_FILE, STUDENT_ID, TIMESTAMP_FORMAT

MAX_MEMBERS = 2000
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_SHOWN = 120  # characters of a hostile name shown in a message

CANVAS = re.compile(r"^(?P<name>[A-Za-z0-9]+?)(?:_LATE)?_(?P<uid>\d+)_(?P<file>\d+)_(?P<rest>.+)$")
MOODLE = re.compile(r"^(?P<name>[^/]+?)_(?P<uid>\d+)_assignsubmission_(?:file|onlinetext)_/?(?P<rest>.*)$")
RESUBMITTED = re.compile(r"^(?P<stem>.+?)-\d+$")


def shown(text: str) -> str:
    """A hostile name, safe for a terminal: control characters escaped, length bounded."""
    clean = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return clean if len(clean) <= MAX_SHOWN else clean[:MAX_SHOWN] + "..."


def student_id(raw: str) -> str | None:
    """A learner id from an LMS name: ASCII letters, digits and '_', lower case; None if
    nothing usable is left."""
    ascii_name = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:64]
    return slug if slug and STUDENT_ID.match(slug) else None


@dataclass
class Submission:
    student: str
    assignment: str
    timestamp: str
    origin: str
    files: dict[str, bytes] = field(default_factory=dict)  # notebook file name -> content
    progress: bytes | None = None
    lms_id: str | None = None
    full_name: str | None = None


@dataclass
class CollectReport:
    collected: list[Submission] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def format(self) -> str:
        lines = [f"collected {len(self.collected)} submission(s)"]
        for s in self.collected:
            lines.append(f"  {s.student:<24} {s.assignment}  {s.timestamp}  from {shown(s.origin)}")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)}:")
            lines += [f"  {line}" for line in self.skipped]
        return "\n".join(lines)


class Archive:
    """A zip opened with bounds: members listed once, read at most MAX_MEMBER_BYTES each."""

    def __init__(self, path: Path, report: CollectReport):
        self.path, self.report = path, report
        self.zip = zipfile.ZipFile(path)
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise CourseError(f"{path}: {len(infos)} members, more than {MAX_MEMBERS}; not a submissions zip")
        self.total = 0
        self.members: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        for info in infos:
            name = info.filename.replace("\\", "/")
            where = f"{path.name}: {shown(name)}"
            if info.is_dir():
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                self.skip(where, "a symbolic link")
                continue
            parts = PurePosixPath(name)
            if name.startswith("/") or ".." in parts.parts or "\0" in name or re.match(r"^[A-Za-z]:", name):
                self.skip(where, "an absolute or parent-directory path")
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                self.skip(where, f"larger than {MAX_MEMBER_BYTES // 2**20} MB")
                continue
            self.members.append((info, parts))

    def skip(self, where: str, why: str) -> None:
        self.report.skipped.append(f"{where}: {why}")

    def read(self, info: zipfile.ZipInfo) -> bytes | None:
        where = f"{self.path.name}: {shown(info.filename)}"
        try:
            with self.zip.open(info) as handle:
                data = handle.read(MAX_MEMBER_BYTES + 1)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
            self.skip(where, f"unreadable ({shown(str(exc))})")
            return None
        if len(data) > MAX_MEMBER_BYTES:
            self.skip(where, f"larger than {MAX_MEMBER_BYTES // 2**20} MB once uncompressed")
            return None
        self.total += len(data)
        if self.total > MAX_TOTAL_BYTES:
            raise CourseError(f"{self.path}: more than {MAX_TOTAL_BYTES // 2**20} MB uncompressed; refused")
        return data


def _zip_time(info: zipfile.ZipInfo) -> str:
    try:
        moment = datetime(*info.date_time, tzinfo=timezone.utc)
    except ValueError:
        moment = datetime.now(timezone.utc)
    return moment.strftime(TIMESTAMP_FORMAT)


def _notebook_name(filename: str, notebooks: dict[str, set[str]]) -> tuple[str, str] | None:
    """(assignment, course notebook file name) that an uploaded file name stands for."""
    stem = PurePosixPath(filename).name
    if not stem.endswith(".ipynb"):
        return None
    base = stem[: -len(".ipynb")]
    candidates = [base]
    match = RESUBMITTED.match(base)
    if match:
        candidates.append(match["stem"])
    for assignment, names in notebooks.items():
        for candidate in candidates:
            if candidate in names:
                return assignment, f"{candidate}.ipynb"
    return None


def _descentlab(archive: Archive, notebooks: dict[str, set[str]]) -> Submission | None:
    by_name = {str(parts): info for info, parts in archive.members}
    where = f"{archive.path.name}: {MANIFEST}"
    raw = archive.read(by_name[MANIFEST])
    try:
        manifest = json.loads(raw or b"")
        assignment, student, stamp = manifest["assignment"], manifest["student"], manifest["timestamp"]
        if not all(isinstance(v, str) for v in (assignment, student, stamp)):
            raise TypeError("fields must be strings")
        datetime.strptime(stamp, TIMESTAMP_FORMAT)
    except (ValueError, KeyError, TypeError) as exc:
        archive.skip(where, f"not a descentlab submission manifest ({shown(str(exc))}); archive refused")
        return None
    if assignment not in notebooks:
        archive.skip(where, f"unknown assignment {shown(assignment)!r}; archive refused")
        return None
    if not STUDENT_ID.match(student):
        archive.skip(where, f"bad student id {shown(student)!r}; archive refused")
        return None
    submission = Submission(student, assignment, stamp, archive.path.name)
    for info, parts in archive.members:
        name = str(parts)
        if name == MANIFEST:
            continue
        if name == PROGRESS_FILE:
            submission.progress = archive.read(info)
            continue
        found = _notebook_name(name, {assignment: notebooks[assignment]}) if parts.parent.name == assignment else None
        if found is None:
            archive.skip(f"{archive.path.name}: {shown(name)}", f"not a notebook of {assignment}")
            continue
        data = archive.read(info)
        if data is not None:
            submission.files[found[1]] = data
    return submission


def _lms(archive: Archive, notebooks: dict[str, set[str]], assignment_hint: str | None) -> list[Submission]:
    found: dict[tuple[str, str], Submission] = {}
    for info, parts in archive.members:
        name = str(parts)
        where = f"{archive.path.name}: {shown(name)}"
        match = MOODLE.match(name) or CANVAS.match(parts.name)
        if match is None:
            archive.skip(where, "not named like a Canvas or Moodle submission (<name>_<id>_...)")
            continue
        student = student_id(match["name"])
        if student is None:
            archive.skip(where, f"bad student id {shown(match['name'])!r}")
            continue
        target = _notebook_name(match["rest"], notebooks)
        if target is None and assignment_hint and match["rest"].endswith(".ipynb"):
            only = sorted(notebooks[assignment_hint])
            target = (assignment_hint, f"{only[0]}.ipynb") if len(only) == 1 else None
        if target is None:
            archive.skip(where, "not one of the course's exercise notebooks")
            continue
        assignment, filename = target
        data = archive.read(info)
        if data is None:
            continue
        key = (student, assignment)
        if key not in found:
            found[key] = Submission(student, assignment, _zip_time(info), archive.path.name,
                                    lms_id=match["uid"], full_name=match["name"])
        submission = found[key]
        if filename in submission.files:
            archive.skip(where, f"a second copy of {filename} for {student}; the first was kept")
            continue
        submission.files[filename] = data
        submission.timestamp = max(submission.timestamp, _zip_time(info))
    return list(found.values())


def read_archive(path: Path, notebooks: dict[str, set[str]], report: CollectReport,
                 assignment_hint: str | None = None) -> list[Submission]:
    """The submissions in one zip; problems go to ``report.skipped``."""
    try:
        archive = Archive(path, report)
    except (zipfile.BadZipFile, OSError) as exc:
        report.skipped.append(f"{shown(str(path))}: not a zip archive ({shown(str(exc))})")
        return []
    with archive.zip:
        if any(str(parts) == MANIFEST for _, parts in archive.members):
            submission = _descentlab(archive, notebooks)
            return [submission] if submission else []
        return _lms(archive, notebooks, assignment_hint)


def course_notebooks(course: Course) -> dict[str, set[str]]:
    """assignment id -> the stems of its source notebooks."""
    return {a: {p.stem for p in (course.solutions / a).glob("*.ipynb")} for a in course.assignment_ids()}


def store(course: Course, submitted: Path, submission: Submission, replace: bool) -> str | None:
    """Write one submission; returns why not, or None."""
    folder = submitted / submission.student / submission.assignment
    if not submission.files:
        return "no notebook of the assignment in it"
    if folder.exists():
        if not replace:
            return f"{submission.student} already has {submission.assignment} in {folder} (use --replace to overwrite)"
        shutil.rmtree(folder)
    for filename, data in submission.files.items():
        write_bytes(folder / filename, data)
    write_text(folder / "timestamp.txt", submission.timestamp)
    if submission.progress is not None:
        write_bytes(course.autograder / "progress" / submission.assignment / f"{submission.student}.json",
                    submission.progress)
    return None


def collect(course: Course, archives: list[Path], replace: bool = False, assignment: str | None = None,
            submitted: Path | None = None, db_url: str | None = None) -> CollectReport:
    from .grade.gradebook import course_settings

    settings = course_settings(course)
    submitted = submitted or settings.submitted
    notebooks = course_notebooks(course)
    report = CollectReport()
    seen: set[tuple[str, str]] = set()
    for path in archives:
        for submission in read_archive(Path(path), notebooks, report, assignment):
            key = (submission.student, submission.assignment)
            where = f"{shown(submission.origin)}: {submission.student}/{submission.assignment}"
            if key in seen:
                report.skipped.append(f"{where}: a second submission in this run; the first was kept")
                continue
            why = store(course, submitted, submission, replace)
            if why:
                report.skipped.append(f"{where}: {why}")
                continue
            seen.add(key)
            report.collected.append(submission)
    if any(s.lms_id for s in report.collected):
        _record_students(db_url or settings.db_url, settings.course_id, report.collected)
    return report


def _record_students(db_url: str, course_id: str, submissions: list[Submission]) -> None:
    """The learners' LMS ids and names, in the gradebook's student table (for the exports)."""
    from .grade.gradebook import open_gradebook

    gradebook = open_gradebook(db_url, course_id)
    try:
        for s in submissions:
            if s.lms_id:
                first, _, last = (s.full_name or "").replace("_", " ").strip().rpartition(" ")
                gradebook.update_or_create_student(s.student, lms_user_id=s.lms_id,
                                                   first_name=(first or last)[:128] or None,
                                                   last_name=(last if first else "")[:128] or None)
    finally:
        gradebook.close()


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "collect",
        help="import hand-ins (descentlab submit zips, Canvas or Moodle downloads) into autograder/submitted/",
        description="Import `descentlab submit` archives and Canvas / Moodle 'download all "
        "submissions' zips into autograder/submitted/<student>/<ID>/ with timestamp.txt. A "
        "learner already collected for an assignment is refused unless --replace; every file "
        "not imported is listed with the reason.",
    )
    parser.add_argument("archives", nargs="+", type=Path, metavar="ARCHIVE")
    parser.add_argument("--replace", action="store_true", help="overwrite submissions already collected")
    parser.add_argument("--assignment", default=None, metavar="ID",
                        help="the assignment of an LMS zip whose file names do not say it")
    parser.add_argument("--course", type=Path, default=None, help="course repository (default: this one)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    course = find_course(args.course or Path.cwd())
    course.require_checkout("descentlab collect")
    for path in args.archives:
        if not path.is_file():
            raise CourseError(f"{path}: no such file")
    assignment = resolve_lesson_id(args.assignment) if args.assignment else None
    report = collect(course, args.archives, replace=args.replace, assignment=assignment)
    print(report.format())
    return 0
