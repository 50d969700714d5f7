"""The instructor's JupyterLab: nbgrader's formgrader on a round graded by descentlab.

`descentlab instructor`'s own command and configuration start a real JupyterLab over a
course copy, on top of a learner configuration that hides the instructor's tools (as `make
lab` leaves the venv). Through formgrader's REST API (what its Manual Grading page calls)
the written answer gets a hand-given score; the gradebook's total and `nbgrader export`
must then include it.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from grading_support import nbgrader
from gradehelp import EX01, NB01, grade, submit
from nbgrader.api import Gradebook

from descentlab import instructor

WRITTEN = "written_mse_vs_mae"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _learner_config(folder: Path) -> Path:
    """What `make lab` leaves at the venv level: the instructor's tools switched off."""
    (folder / "labconfig").mkdir(parents=True)
    (folder / "labconfig" / "page_config.json").write_text(json.dumps({
        "disabledExtensions": dict.fromkeys(instructor.INSTRUCTOR_LAB_PLUGINS, True),
        "lockedExtensions": dict.fromkeys(instructor.INSTRUCTOR_LAB_PLUGINS, True)}))
    (folder / "jupyter_server_config.d").mkdir()
    (folder / "jupyter_server_config.d" / "nbgrader.json").write_text(json.dumps({
        "ServerApp": {"jpserver_extensions": dict.fromkeys(instructor.INSTRUCTOR_SERVER_EXTENSIONS, False)}}))
    return folder


def _digest(folder: Path) -> str:
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.rglob("*.json")))).hexdigest()


class Server:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def request(self, path: str, method: str = "GET", body: dict | None = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def json(self, path: str, method: str = "GET", body: dict | None = None):
        status, data = self.request(path, method, body)
        assert status == 200, (path, status, data[:500])
        return json.loads(data)


def test_manual_grading_in_formgrader_counts_in_gradebook_and_export(course_copy, bwrap_available, tmp_path):
    root = course_copy()
    submit(root, "ada")
    submit(root, "bob", {"mae": "def mae(y_pred, y_true):\n    return 0.0\n"})
    summary = grade(root)
    tests_score = summary.by_student()["ada"].score

    learner = _learner_config(tmp_path / "learner-config")
    before = _digest(learner)
    folder = instructor.write_config(tmp_path / "instructor-config")
    base = dict(os.environ, JUPYTER_CONFIG_PATH=str(learner), JUPYTER_DATA_DIR=str(tmp_path / "data"),
                JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), IPYTHONDIR=str(tmp_path / "ipython"))
    env = instructor.environment(folder, base)
    port, token = _free_port(), secrets.token_hex(16)
    command = instructor.lab_command(root, ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                                            f"--IdentityProvider.token={token}"])
    log = (tmp_path / "lab.log").open("w")
    process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", token)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if server.request("/api/status")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "lab.log").read_text()[-3000:]
            time.sleep(1)

        status, page = server.request("/lab")
        config = json.loads(re.search(rb'id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S).group(1))
        disabled = set(config.get("disabledExtensions", []))
        assert not disabled & set(instructor.INSTRUCTOR_LAB_PLUGINS), disabled

        # formgrader's Manual Grading lists both submissions (it lists only autograded ones).
        listed = {s["student"]: s for s in server.json(f"/formgrader/api/submitted_notebooks/{EX01}/{NB01}")}
        assert set(listed) == {"ada", "bob"} and all(s["index"] is not None for s in listed.values()), listed
        assert listed["ada"]["needs_manual_grade"] is True
        status, html = server.request(f"/formgrader/submissions/{listed['ada']['id']}/")
        assert status == 200 and b"The mean squared error lets the bad point pull" in html

        grades = {g["name"]: g for g in server.json(f"/formgrader/api/grades?submission_id={listed['ada']['id']}")}
        assert grades[WRITTEN]["auto_score"] is None and grades[WRITTEN]["needs_manual_grade"] is True
        updated = server.json(f"/formgrader/api/grade/{grades[WRITTEN]['id']}", "PUT", {"manual_score": 1.5})
        assert updated["manual_score"] == 1.5 and updated["needs_manual_grade"] is False
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()
    assert _digest(learner) == before, "the instructor's JupyterLab changed the learner's configuration"

    with Gradebook("sqlite:///" + str(root / "autograder" / "gradebook.db")) as gradebook:
        assert gradebook.find_submission(EX01, "ada").score == tests_score + 1.5
    nbgrader(root, "export", "--to", str(tmp_path / "grades.csv"))
    rows = {r["student_id"]: r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    assert float(rows["ada"]["score"]) == tests_score + 1.5
    assert float(rows["bob"]["score"]) == summary.by_student()["bob"].score
