"""What a learner workspace is, where it is, and where its files are.

A workspace is the folder ``descentlab start`` copies the course into (``descentlab-course/``
by default). It is recognised by its state folder ``.descentlab/``, which holds the
manifest of what was copied and the learner's progress file. Its layout::

    <workspace>/
      .descentlab/manifest.json       what `descentlab start` copied (path -> SHA-256)
      .descentlab/progress.json       quiz answers, flashcard schedules, cached checks
      lessons/<id>.ipynb              the lessons
      lessons/quizzes/<id>.yml        the quiz banks
      exercises/<id>/*.ipynb          the exercises
      glossary.yml                    the flashcards' glossary
      nbgrader_config.py              the learner's nbgrader settings (Validate button)

Every learner command (check, progress, glossary) and every widget reads the workspace's
own copies through this module, never the checkout's or the installed package's.

How a workspace is found (:meth:`Workspace.find`): the nearest folder at or above the
start folder (default: the current directory, which is a kernel's notebook folder) that
holds ``.descentlab/``; else, when the start folder itself holds ``descentlab-course/``
with a ``.descentlab/`` inside (the repository root after ``make lab``), that one. The
second rule looks only at the start folder, so a kernel running the checkout's own
``lessons/`` never writes into a learner's workspace next door.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .atomicfile import write_json
from .course import CourseError, Materials, find_course

STATE_DIR = ".descentlab"
MANIFEST = "manifest.json"
PROGRESS_FILE = "progress.json"
DEFAULT_NAME = "descentlab-course"
NBGRADER_CONFIG = "nbgrader_config.py"


class NoWorkspaceError(CourseError):
    """No learner workspace at or above a folder; the message says how to make one."""


def _is_workspace(folder: Path) -> bool:
    return (folder / STATE_DIR).is_dir()


@dataclass(frozen=True)
class Workspace(Materials):
    """One learner workspace; ``root`` is its folder (absolute)."""

    root: Path

    # ------------------------------------------------------------------ finding one
    @classmethod
    def locate(cls, start: Path | str | None = None) -> "Workspace | None":
        """The workspace for ``start`` (see the module docstring), or None."""
        start = Path(start if start is not None else Path.cwd()).resolve()
        for folder in (start, *start.parents):
            if _is_workspace(folder):
                return cls(folder)
        child = start / DEFAULT_NAME
        if _is_workspace(child):
            return cls(child)
        return None

    @classmethod
    def find(cls, start: Path | str | None = None) -> "Workspace":
        """Like :meth:`locate`, but raise :class:`NoWorkspaceError` when there is none."""
        found = cls.locate(start)
        if found is None:
            where = Path(start if start is not None else Path.cwd()).resolve()
            raise NoWorkspaceError(
                f"no learner workspace at or above {where} (a workspace is a folder with "
                f"{STATE_DIR}/ in it). Make one with `descentlab start` (or `make lab`) and "
                f"run this inside it, or pass --workspace DIR."
            )
        return found

    @classmethod
    def named(cls, path: Path | str) -> "Workspace":
        """The workspace a learner named: ``path`` itself, or ``path/descentlab-course``."""
        path = Path(path).resolve()
        if _is_workspace(path):
            return cls(path)
        if _is_workspace(path / DEFAULT_NAME):
            return cls(path / DEFAULT_NAME)
        if not path.is_dir():
            raise NoWorkspaceError(f"{path}: no such folder")
        raise NoWorkspaceError(
            f"{path} is not a learner workspace (it has no {STATE_DIR}/ folder); "
            f"`descentlab start {path}` makes it one"
        )

    @classmethod
    def create(cls, path: Path | str) -> "Workspace":
        """Make ``path`` a workspace (its state folder); existing files are left alone."""
        path = Path(path).resolve()
        if path.exists() and not path.is_dir():
            raise CourseError(f"{path}: exists and is not a folder")
        (path / STATE_DIR).mkdir(parents=True, exist_ok=True)
        return cls(path)

    # ------------------------------------------------------------------ its layout
    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def manifest_path(self) -> Path:
        return self.state_dir / MANIFEST

    @property
    def progress_file(self) -> Path:
        return self.state_dir / PROGRESS_FILE

    @property
    def nbgrader_config(self) -> Path:
        return self.root / NBGRADER_CONFIG

    def exercise_dir(self, lesson_id: str) -> Path:
        return self.exercises / lesson_id

    def exercise_notebook(self, lesson_id: str) -> Path:
        """The lesson's main exercise notebook (``<id>_exercise.ipynb``)."""
        return self.exercise_dir(lesson_id) / f"{lesson_id}_exercise.ipynb"

    def exercise_notebooks(self, lesson_id: str) -> list[Path]:
        """Every exercise notebook of the lesson (not the ``*.new-version.ipynb`` copies
        a course update writes beside edited work)."""
        folder = self.exercise_dir(lesson_id)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob("*.ipynb") if not p.name.endswith(NEW_VERSION_SUFFIX))

    def relative(self, path: Path) -> str:
        """``path`` relative to the workspace (posix), or absolute when outside it."""
        path = Path(path).resolve()
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def contains(self, path: Path) -> bool:
        path = Path(path).resolve()
        return path == self.root or self.root in path.parents

    def read_manifest(self) -> dict[str, dict]:
        """What ``descentlab start`` copied: workspace-relative path -> ``{"course": SHA-256
        of the course file copied, "work": digest of its editable sources (notebooks; see
        :mod:`descentlab.learner_work`) or None}``. A missing or unreadable manifest is
        empty: every existing file then counts as the learner's. The first manifests
        (path -> SHA-256) read as ``{"course": SHA-256, "work": None}``."""
        try:
            data = json.loads(self.manifest_path.read_text())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            return {}
        if not isinstance(data, dict):
            return {}
        files = data.get("files") if data.get("version") == MANIFEST_VERSION else data
        entries = {}
        for rel, value in (files if isinstance(files, dict) else {}).items():
            if isinstance(value, str):
                entries[rel] = {"course": value, "work": None}
            elif isinstance(value, dict) and isinstance(value.get("course"), str):
                work = value.get("work")
                entries[rel] = {"course": value["course"], "work": work if isinstance(work, str) else None}
        return entries

    def write_manifest(self, entries: dict[str, dict]) -> None:
        write_json(self.manifest_path, {"version": MANIFEST_VERSION, "files": entries}, sort_keys=True)

    def describe(self) -> str:
        """The line every learner command prints first: which folder it reports on."""
        return f"workspace: {self.root}"


NEW_VERSION_MARK = ".new-version"
NEW_VERSION_SUFFIX = NEW_VERSION_MARK + ".ipynb"
MANIFEST_VERSION = 2


def new_version_path(path: Path) -> Path:
    """Where a course update goes when ``path`` holds the learner's work:
    ``x.ipynb`` -> ``x.new-version.ipynb``."""
    return path.with_name(path.stem + NEW_VERSION_MARK + path.suffix)


# ---------------------------------------------------------------------- for kernels
# Widgets run in a kernel whose cwd is the notebook's folder. Inside a workspace they use
# its files; outside one (the course's own lessons/, a test's temp folder) they fall back
# to the course's files and keep progress under the current folder, as before.

def glossary_file(start: Path | str | None = None) -> Path:
    """The glossary the learner studies: the workspace's, else the course's."""
    found = Workspace.locate(start)
    return found.glossary if found else find_course(Path(start) if start else Path.cwd()).glossary


def quiz_bank_file(lesson_id: str, start: Path | str | None = None) -> Path:
    """A lesson's quiz bank: the workspace's copy, else the course's."""
    found = Workspace.locate(start)
    if found:
        return found.quiz_bank(lesson_id)
    return find_course(Path(start) if start else Path.cwd()).quizzes / f"{lesson_id}.yml"


def progress_file(start: Path | str | None = None) -> Path:
    """The progress file: the workspace's, else ``<start>/.descentlab/progress.json``."""
    found = Workspace.locate(start)
    if found:
        return found.progress_file
    return Path(start if start is not None else Path.cwd()).resolve() / STATE_DIR / PROGRESS_FILE
