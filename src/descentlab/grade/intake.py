"""Reading one student's folder of submitted/: only regular files that live inside it.

A collected folder can hold things that are not what they seem: a symbolic link to another
learner's notebook or to a file of solutions/, a hard link to one (the same file under a
second name), a FIFO that blocks a reader forever, a device. Only regular files with a
single link, reached without following any link, are read; each of the others is reported
(to the instructor's summary and the learner's feedback) and skipped. Every file is opened
with O_NOFOLLOW and checked on the open descriptor, so swapping a file for a link between
the check and the read does not help.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", ".git"}
MAX_SUBMISSION_BYTES = 50 * 1024 * 1024
MAX_FILES = 2000


@dataclass
class Intake:
    files: list[tuple[str, bytes]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # what was not read, and why, for the learner


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def folder_problem(folder: Path) -> str | None:
    """Why the student folder ``submitted/<student>/<ID>`` must not be read at all, or None."""
    for path in (folder.parent, folder):
        try:
            mode = os.lstat(path).st_mode
        except OSError as exc:
            return f"{path.name} cannot be read ({exc.strerror})"
        if stat.S_ISLNK(mode):
            return (f"the folder {path.name} is a symbolic link (to another folder); only folders that are "
                    "really the learner's own are graded")
        if not stat.S_ISDIR(mode):
            return f"{path.name} is not a folder"
    return None


def _read_regular(path: Path, limit: int) -> tuple[bytes | None, str | None]:
    """(the bytes, None) of a regular single-link file, or (None, why it was skipped)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None, f"cannot be read ({exc.strerror})"
        return None, f"is {_kind(mode)}" if not stat.S_ISREG(mode) else f"cannot be read ({exc.strerror})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, f"is {_kind(info.st_mode)}"
        if info.st_nlink > 1:
            return None, "is a hard link (the same file as another one elsewhere)"
        if info.st_size > limit:
            return None, f"is larger than the {MAX_SUBMISSION_BYTES // (1024 * 1024)} MB a submission may hold"
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                return None, f"is larger than the {MAX_SUBMISSION_BYTES // (1024 * 1024)} MB a submission may hold"
            chunks.append(chunk)
        return b"".join(chunks), None
    finally:
        os.close(fd)


def collect(folder: Path) -> Intake:
    """The learner's files under ``folder`` (relative POSIX paths, sorted), without following
    links, and what was skipped. timestamp.txt at the top is the collector's, not a file."""
    intake = Intake()
    total = 0
    for top, dirs, names in os.walk(folder, followlinks=False):
        here = Path(top)
        rel_dir = here.relative_to(folder)
        for name in sorted(dirs):
            if name in SKIP_DIRS or (here / name).is_symlink():
                if name not in SKIP_DIRS:
                    intake.skipped.append(f"{(rel_dir / name).as_posix()} is a symbolic link to a folder; not read")
                dirs.remove(name)
        dirs.sort()
        for name in sorted(names):
            rel = (rel_dir / name).as_posix()
            if rel == "timestamp.txt":
                continue
            if len(intake.files) >= MAX_FILES:
                intake.skipped.append(f"more than {MAX_FILES} files: the rest were not read")
                return intake
            data, why = _read_regular(here / name, MAX_SUBMISSION_BYTES - total)
            if why is not None:
                intake.skipped.append(f"{rel} {why}; not read")
                continue
            total += len(data)
            intake.files.append((rel, data))
    intake.files.sort()
    return intake


def read_timestamp(folder: Path) -> str | None:
    """The collector's timestamp.txt, read under the same rules (a link is ignored)."""
    data, why = _read_regular(folder / "timestamp.txt", 4096)
    if data is None:
        return None
    return data.decode("utf-8", errors="replace").strip()
