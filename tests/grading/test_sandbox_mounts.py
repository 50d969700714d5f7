"""What the sandbox mounts: Python and the package, never a folder that holds a course.

Under `python -m ...` the current directory is on sys.path; when that is a course checkout,
mounting it would show the sandbox every reference solution and hidden test.
"""
from __future__ import annotations

import sys
from pathlib import Path

from descentlab.grade.sandbox import _mount_sources

REPO = Path(__file__).resolve().parents[2]


def _visible(mounts: list[str], folder: Path) -> bool:
    return any(folder == Path(m) or folder.is_relative_to(m) for m in mounts)


def test_a_course_on_sys_path_is_not_mounted(tmp_path, monkeypatch):
    other = tmp_path / "another-course"
    (other / "solutions").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(other))
    monkeypatch.syspath_prepend(str(REPO))
    mounts = _mount_sources([])
    assert not _visible(mounts, other / "solutions"), mounts
    assert not _visible(mounts, REPO / "solutions"), mounts


def test_python_and_the_package_are_mounted():
    import descentlab

    mounts = _mount_sources([])
    assert _visible(mounts, Path(sys.prefix).resolve())
    assert _visible(mounts, Path(descentlab.__file__).resolve().parent)
