"""The learner's progress file: ``<workspace>/.descentlab/progress.json`` (where it is:
:mod:`descentlab.workspace`).

One small JSON file holds flashcard schedules, quiz answers and cached exercise checks::

    {"version": 1,
     "cards":   {"<term>": {"box": 2, "due": "...", "last": "...", "reviews": 3, "lapses": 1}},
     "quizzes": {"<lesson id>": {"<question id>": {"answer": ..., "correct": true, ...}}},
     "checks":  {"exercises/<id>/<id>_exercise.ipynb": {"digest": "...", "passed": 3, ...}}}

Why it is safe to use from several widgets and kernels at once:

* Writes are atomic: the new content goes to a temporary file in the same folder, is
  flushed to disk, then ``os.replace``-d over the old file. A reader sees the old file or
  the new one, never half of one.
* Saves never overwrite each other's work: :meth:`ProgressStore.update` takes an
  exclusive lock (``progress.json.lock``, an OS advisory lock that dies with its process,
  so a crashed kernel cannot leave it stuck), re-reads the file, applies *only this
  change* and writes. Two widgets that each record a different card both survive.
* A missing file is an empty progress. A corrupt one (bad JSON, wrong shape) is moved
  aside to ``progress.json.corrupt-<time>``, progress starts fresh, and a note saying so
  is kept in :attr:`ProgressStore.notes` for the widget to show. A folder we cannot write
  to gives a note too; nothing here raises into a notebook.
"""
from __future__ import annotations

import copy
import json
import os
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from .atomicfile import write_json
from .workspace import progress_file

VERSION = 1
SECTIONS = ("cards", "quizzes", "checks")
LOCK_TIMEOUT = 10.0  # seconds; after that we save without the lock and say so


def empty_progress() -> dict:
    return {"version": VERSION, **{section: {} for section in SECTIONS}}


def _shape_problem(data: object) -> str:
    if not isinstance(data, dict):
        return f"expected a JSON object, found {type(data).__name__}"
    version = data.get("version", VERSION)
    if version != VERSION:
        return f"unknown version {version!r} (this descentlab writes version {VERSION})"
    for section in SECTIONS:
        if not isinstance(data.get(section, {}), dict):
            return f"'{section}' should be an object"
    return ""


@contextmanager
def _exclusive_lock(lock_path: Path, timeout: float) -> Iterator[bool]:
    """Hold an exclusive advisory lock on ``lock_path``; yields False if it timed out."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+b")
    locked = False
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if os.name == "nt":  # pragma: no cover - exercised on Windows only
                    import msvcrt

                    handle.seek(0)
                    msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                else:
                    import fcntl

                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
                break
            except OSError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
        yield locked
    finally:
        if locked:
            if os.name == "nt":  # pragma: no cover
                import msvcrt

                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


class ProgressStore:
    """Read and update one progress file; see the module docstring for the guarantees."""

    def __init__(self, path: Path | str | None = None, clock: Callable[[], datetime] | None = None):
        self.path = Path(path) if path is not None else progress_file()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.notes: list[str] = []

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _read(self) -> dict:
        """The file's content; missing -> empty; corrupt -> moved aside, empty, noted."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return empty_progress()
        except OSError as exc:
            self._note(f"Could not read your progress file {self.path} ({exc}); starting fresh for now.")
            return empty_progress()
        try:
            data = json.loads(raw.decode("utf-8"))
            problem = _shape_problem(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            data, problem = None, f"not valid JSON ({exc})"
        if not problem:
            for section in SECTIONS:
                data.setdefault(section, {})
            data["version"] = VERSION
            return data
        stamp = self.clock().strftime("%Y%m%d-%H%M%S")
        backup = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            os.replace(self.path, backup)
            kept = f"it was kept as {backup.name}"
        except OSError:
            kept = "it could not be moved aside"
        self._note(
            f"Your progress file {self.path} could not be read: {problem}. {kept.capitalize()}, "
            "and your progress starts fresh."
        )
        return empty_progress()

    def _write(self, data: dict) -> None:
        write_json(self.path, data, sort_keys=True)

    def load(self) -> dict:
        """A snapshot of the saved progress (a corrupt file is moved aside under the lock)."""
        if not self.path.exists():
            return empty_progress()
        try:
            with _exclusive_lock(self.lock_path, LOCK_TIMEOUT):
                return self._read()
        except OSError:  # cannot even create the lock file: read without it
            return self._read()

    def update(self, change: Callable[[dict], None]) -> dict:
        """Apply ``change`` (a function that edits the data in place) to the latest saved
        progress and save it atomically. Returns the new data. Never raises OSError: if
        saving fails the change is kept in memory only and a note says so."""
        try:
            with _exclusive_lock(self.lock_path, LOCK_TIMEOUT) as locked:
                if not locked:
                    self._note(
                        f"Another program held {self.lock_path.name} for over {LOCK_TIMEOUT:g} s; "
                        "saved without waiting for it."
                    )
                data = self._read()
                change(data)
                self._write(data)
                return data
        except OSError as exc:
            self._note(f"Could not save your progress to {self.path} ({exc}); it is kept only until the kernel stops.")
            data = self._read() if self.path.exists() else empty_progress()
            change(data)
            return data

    def section(self, name: str) -> dict:
        return copy.deepcopy(self.load().get(name, {}))
