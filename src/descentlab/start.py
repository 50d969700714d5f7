"""`descentlab start [DIR]`: a learner's own workspace copy of the course, then JupyterLab.

Learners never work in the committed exercises/. The workspace gets lessons/, exercises/
and glossary.yml. Re-running it (after a course update, say) adds new files and refreshes
files the learner never changed, but never overwrites a file the learner edited: a record
of what was copied (``.descentlab/manifest.json``) tells the two apart. Progress files for
flashcards and quizzes live in ``DIR/.descentlab/`` too.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .atomicfile import write_json
from .course import Course, CourseError, find_course
from .digest import file_digest
from .nbgrader_settings import LEARNER_CONFIG
from .workspace import DEFAULT_NAME, Workspace

FIRST_NOTEBOOK = "lessons/01_objective_functions.ipynb"


@dataclass
class SyncReport:
    copied: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def format(self) -> str:
        lines = []
        if self.copied:
            lines.append(f"copied {len(self.copied)} new file(s)")
        if self.refreshed:
            lines.append(f"updated {len(self.refreshed)} file(s) you had not changed")
        for rel in self.kept:
            lines.append(f"kept your work in {rel} (the course has a newer version; yours is untouched)")
        return "\n".join(lines) or "workspace is up to date"


def course_materials(course: Course) -> dict[str, Path]:
    """Workspace-relative path -> course file, for everything a learner gets."""
    files: dict[str, Path] = {}
    for folder in (course.lessons, course.exercises):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts and "__pycache__" not in path.parts:
                files[path.relative_to(course.root).as_posix()] = path
    if course.glossary.is_file():
        files["glossary.yml"] = course.glossary
    return files


def sync_workspace(course: Course, target: Path) -> SyncReport:
    """Copy the course into ``target`` without ever overwriting a learner's changes."""
    workspace = Workspace.create(target)
    target = workspace.root
    manifest = workspace.read_manifest()  # unknown history: every existing file is the learner's
    report = SyncReport()
    for rel, source in course_materials(course).items():
        dest = target / rel
        new_digest = file_digest(source)
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            report.copied.append(rel)
        elif file_digest(dest) == new_digest:
            pass
        elif manifest.get(rel) == file_digest(dest):
            shutil.copyfile(source, dest)  # untouched since we copied it: safe to update
            report.refreshed.append(rel)
        else:
            report.kept.append(rel)
            continue
        manifest[rel] = new_digest
    write_json(workspace.manifest_path, manifest, sort_keys=True)
    config = workspace.nbgrader_config
    if not config.exists():
        config.write_text(LEARNER_CONFIG)
    return report


def lab_command(target: Path, extra: list[str]) -> list[str]:
    command = [
        sys.executable, "-m", "jupyter", "lab",
        f"--ServerApp.root_dir={target}",
        *extra,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        command.append("--allow-root")
    if (target / FIRST_NOTEBOOK).exists():
        command.append(FIRST_NOTEBOOK)
    return command


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "start",
        help="copy the course into your workspace and start JupyterLab",
        description="Copy the lessons and exercises into DIR (default ./descentlab-course) "
        "without overwriting anything you changed, then start JupyterLab there.",
    )
    parser.add_argument("dir", nargs="?", type=Path, default=Path(DEFAULT_NAME))
    parser.add_argument("--no-lab", action="store_true", help="only copy; do not start JupyterLab")
    parser.add_argument("--port", type=int, default=None, help="port for JupyterLab (default: its own choice)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    course = find_course(Path.cwd())
    target = args.dir.resolve()
    report = sync_workspace(course, target)
    print(f"workspace: {target}\n{report.format()}")
    if args.no_lab:
        return 0
    extra = [f"--ServerApp.port={args.port}"] if args.port else []
    if args.no_browser:
        extra.append("--no-browser")
    command = lab_command(target, extra)
    os.chdir(target)
    os.execv(command[0], command)
    return 0  # not reached
