"""`descentlab submit` (learner) and `descentlab collect` (instructor): hand-ins into
autograder/submitted/, from descentlab archives and Canvas / Moodle downloads, with hostile
archives bounded and sanitized."""
from __future__ import annotations

import io
import json
import shutil
import stat
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from descentlab import collect as collect_module
from descentlab.cli import main
from descentlab.collect import collect
from descentlab.course import Course
from descentlab.submit import build_archive

REPO = Path(__file__).resolve().parents[1]
EX01 = "01_objective_functions"
NB01 = f"{EX01}_exercise.ipynb"
NOTEBOOK = (REPO / "exercises" / EX01 / NB01).read_bytes()


@pytest.fixture
def course(tmp_path) -> Course:
    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    shutil.copytree(REPO / "solutions" / EX01, root / "solutions" / EX01)
    return Course(root)


@pytest.fixture
def workspace(tmp_path) -> Path:
    ws = tmp_path / "ws"
    (ws / "exercises" / EX01).mkdir(parents=True)
    (ws / "exercises" / EX01 / NB01).write_bytes(NOTEBOOK)
    (ws / ".descentlab").mkdir()
    (ws / ".descentlab" / "progress.json").write_text(json.dumps(
        {"version": 1, "cards": {}, "checks": {},
         "quizzes": {EX01: {"q1": {"answer": ["The objective function"], "correct": True, "first_try": True}}}}))
    return ws


def _zip(path: Path, members: dict) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            if isinstance(data, zipfile.ZipInfo):
                archive.writestr(data, b"target")
            else:
                archive.writestr(name, data)
    return path


def submitted(course: Course, student: str) -> Path:
    return course.autograder / "submitted" / student / EX01


def test_submit_then_collect_round_trip(course, workspace, tmp_path, capsys):
    assert main(["submit", "1", "--student", "ada", "--workspace", str(workspace), "--out", str(tmp_path / "out")]) == 0
    archive = next((tmp_path / "out").glob("*.zip"))
    assert archive.name.startswith(f"{EX01}-ada-")
    report = collect(course, [archive])
    assert [s.student for s in report.collected] == ["ada"] and not report.skipped, report.format()
    folder = submitted(course, "ada")
    assert (folder / NB01).read_bytes() == NOTEBOOK
    stamp = (folder / "timestamp.txt").read_text()
    assert abs((datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f UTC").replace(tzinfo=timezone.utc)
                - datetime.now(timezone.utc)).total_seconds()) < 600
    progress = json.loads((course.autograder / "progress" / EX01 / "ada.json").read_text())
    assert progress["quizzes"][EX01]["q1"]["correct"] is True

    again = collect(course, [archive])  # the same learner twice: refused, and said why
    assert not again.collected and "already has" in again.skipped[0] and "--replace" in again.skipped[0]
    assert collect(course, [archive], replace=True).collected


def test_submit_names_a_missing_exercise(workspace, tmp_path):
    from descentlab.course import CourseError

    with pytest.raises(CourseError, match="no exercise notebook"):
        build_archive(tmp_path / "empty", EX01, "ada")
    with pytest.raises(CourseError, match="student id"):
        build_archive(workspace, EX01, "../evil")


def test_canvas_and_moodle_downloads(course, tmp_path):
    canvas = _zip(tmp_path / "canvas.zip", {
        f"lovelaceada_1001_5001_{NB01}": NOTEBOOK,
        f"hopper_LATE_1002_5002_{EX01}_exercise-1.ipynb": NOTEBOOK,  # a re-submission, renamed by Canvas
        "babbage_1003_5003_notes.txt": b"not a notebook",
        "README.txt": b"no student in this name",
    })
    moodle = _zip(tmp_path / "moodle.zip", {
        f"Émilie du Châtelet_77_assignsubmission_file_/{NB01}": NOTEBOOK,
        f"Alan Turing_78_assignsubmission_file_{NB01}": NOTEBOOK,
    })
    report = collect(course, [canvas, moodle])
    got = {s.student: s.lms_id for s in report.collected}
    assert got == {"lovelaceada": "1001", "hopper": "1002", "emilie_du_chatelet": "77", "alan_turing": "78"}, report.format()
    for student in got:
        assert (submitted(course, student) / NB01).read_bytes() == NOTEBOOK
        assert (submitted(course, student) / "timestamp.txt").read_text().endswith(" UTC")
    skipped = "\n".join(report.skipped)
    assert "notes.txt: not one of the course's exercise notebooks" in skipped
    assert "README.txt: not named like a Canvas or Moodle submission" in skipped
    with Gradebook(f"sqlite:///{course.autograder / 'gradebook.db'}") as gradebook:
        assert gradebook.find_student("emilie_du_chatelet").lms_user_id == "77"
        assert gradebook.find_student("alan_turing").last_name == "Turing"


def test_hostile_archive_members_are_skipped_with_reasons(course, tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "MAX_MEMBER_BYTES", 4 * 1024 * 1024)
    link = zipfile.ZipInfo(f"mallory_2001_6001_{NB01}")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    hostile = _zip(tmp_path / "hostile.zip", {
        f"../../evil_2002_6002_{NB01}": NOTEBOOK,  # zip slip
        f"/etc/evil_2003_6003_{NB01}": NOTEBOOK,
        "link": link,
        f"huge_2004_6004_{NB01}": b"x" * (5 * 1024 * 1024),
        f"___2005_6005_{NB01}": NOTEBOOK,  # no usable student id
        f"terminal\x1b[31m_2006_6006_{NB01}": NOTEBOOK,
    })
    report = collect(course, [hostile])
    assert not report.collected, report.format()
    skipped = "\n".join(report.skipped)
    assert skipped.count("an absolute or parent-directory path") == 2
    assert "a symbolic link" in skipped and "larger than 4 MB" in skipped
    assert "\x1b" not in skipped and "\\x1b" in skipped
    assert not (tmp_path / "evil_2002_6002_" ).exists() and not list(tmp_path.rglob("evil*"))
    assert not (course.autograder / "submitted").exists() or not any((course.autograder / "submitted").iterdir())


def test_a_member_that_lies_about_its_size_is_bounded(course, tmp_path, monkeypatch):
    monkeypatch.setattr(collect_module, "MAX_MEMBER_BYTES", 1024 * 1024)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"bomb_3001_7001_{NB01}", b"\0" * (8 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    # Rewrite the declared uncompressed size (central directory and local header) to 100 bytes.
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()[0]
    size = info.file_size.to_bytes(4, "little")
    data = data.replace(size, (100).to_bytes(4, "little"))
    path = tmp_path / "bomb.zip"
    path.write_bytes(bytes(data))
    report = collect(course, [path])
    assert not report.collected
    assert any("bomb" in line and ("larger than" in line or "unreadable" in line) for line in report.skipped), report.skipped


def test_forged_manifest_is_refused(course, tmp_path):
    forged = _zip(tmp_path / "forged.zip", {
        "descentlab-submission.json": json.dumps({"format": 1, "assignment": EX01, "student": "../../root",
                                                  "timestamp": "2026-01-10 09:00:00.000000 UTC"}),
        f"{EX01}/{NB01}": NOTEBOOK,
    })
    not_json = _zip(tmp_path / "broken.zip", {"descentlab-submission.json": b"\xff\xfe{", f"{EX01}/{NB01}": NOTEBOOK})
    report = collect(course, [forged, not_json, tmp_path / "missing.zip"])
    assert not report.collected
    skipped = "\n".join(report.skipped)
    assert "bad student id" in skipped and "not a descentlab submission manifest" in skipped
    assert "missing.zip: not a zip archive" in skipped
