"""`descentlab start [DIR]`: a learner's own workspace copy of the course, then JupyterLab.

Learners never work in the committed exercises/. The workspace (:mod:`descentlab.workspace`)
gets lessons/, exercises/, glossary.yml, a learner nbgrader_config.py and START_HERE.ipynb.
Re-running it (after a course update, say) adds new files and brings every file up to date
*unless it holds the learner's work*:

* a file whose content is what we copied gets the course's new version;
* a notebook whose editable sources are what we copied (it was only run: outputs, counts
  and metadata changed, see :mod:`descentlab.learner_work`) gets the new version too;
* a notebook with the learner's own code or answers is kept as it is, and when the course
  has a newer version it is written beside it as ``<name>.new-version.ipynb``.

The manifest ``.descentlab/manifest.json`` records, per file, the course version copied and
the digest of its editable sources, which is how the three cases are told apart.

JupyterLab is then started in the workspace, quietly (warnings only; the address to open
is the last thing printed), with the venv's ``bin`` on PATH for kernels and terminals.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .atomicfile import write_bytes, write_text
from .course import Course, CourseError, find_course
from .learner_seed import ensure_seed
from .learner_work import work_digest
from .nbgrader_settings import LEARNER_CONFIG
from .save_hook import HOOK as SAVE_HOOK
from .workspace import DEFAULT_NAME, NEW_VERSION_MARK, Workspace, new_version_path

FIRST_NOTEBOOK = "START_HERE.ipynb"
TERMINAL_RC = "terminal-rc.sh"
SERVER_START_TIMEOUT = 180  # seconds; a cold JupyterLab on a busy 2-core machine takes ~30 s


@dataclass
class SyncReport:
    copied: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (your file, new version beside it or "")

    def format(self) -> str:
        lines = []
        if self.copied:
            lines.append(f"copied {len(self.copied)} new file(s)")
        if self.refreshed:
            lines.append(f"updated {len(self.refreshed)} file(s) without work of yours in them "
                         "(running a notebook is not a change; only your code and answers count)")
        for rel, beside in self.kept:
            if beside:
                lines.append(f"kept your work in {rel}; the course's new version is beside it: {beside}")
            else:
                lines.append(f"kept your work in {rel}; the course's new version is in "
                             f"{rel}'s folder already, and you changed that copy too, so it was left alone")
        return "\n".join(lines) or "workspace is up to date"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def course_materials(course: Course) -> dict[str, bytes]:
    """Workspace-relative path -> content, for everything a learner gets."""
    files: dict[str, bytes] = {}
    for folder in (course.lessons, course.exercises):
        for path in sorted(folder.rglob("*")):
            skip = ".ipynb_checkpoints" in path.parts or "__pycache__" in path.parts
            if path.is_file() and not skip and NEW_VERSION_MARK not in path.name:
                files[path.relative_to(course.root).as_posix()] = path.read_bytes()
    if course.glossary.is_file():
        files["glossary.yml"] = course.glossary.read_bytes()
    files["nbgrader_config.py"] = LEARNER_CONFIG.encode()
    from .course_map import start_here_notebook  # the course map's own module writes it

    files[FIRST_NOTEBOOK] = start_here_notebook().encode()
    return files


def workspace_bytes(rel: str, data: bytes, seed: str) -> bytes:
    """What the workspace gets for one course file: ``data``, except that a quiz bank's
    answer keys are sealed (:mod:`descentlab.quiz_seal`; the seed keeps the bytes stable)."""
    if rel.startswith("lessons/quizzes/") and rel.endswith((".yml", ".yaml")):
        from .quiz_seal import seal_bank_text

        return seal_bank_text(data.decode("utf-8"), seed).encode("utf-8")
    return data


def _holds_work(dest: Path, record: dict | None, new: bytes) -> bool:
    """True when ``dest`` holds something of the learner's that ``new`` would destroy."""
    if record is None:
        return True  # we never copied it: whatever is there is the learner's
    current = dest.read_bytes()
    if _sha256(current) == record["course"]:
        return False  # exactly what we copied
    work = work_digest(dest)
    if work is None:
        return True  # not a notebook (or unreadable): any change is the learner's
    copied_work = record["work"]
    if copied_work is None:  # a manifest from before work digests: compare with the course
        copied_work = work_digest(dest, new)
    return work != copied_work


def _record(dest: Path, data: bytes) -> dict:
    return {"course": _sha256(data), "work": work_digest(dest)}


def sync_workspace(course: Course, target: Path) -> SyncReport:
    """Copy the course into ``target`` without ever destroying a learner's work."""
    workspace = Workspace.create(target)
    manifest = workspace.read_manifest()
    report = SyncReport()
    seed = ensure_seed(workspace.state_dir)
    for rel, data in course_materials(course).items():
        data = workspace_bytes(rel, data, seed)
        dest = workspace.root / rel
        record = manifest.get(rel)
        if not dest.exists():
            write_bytes(dest, data, durable=False)
            manifest[rel] = _record(dest, data)
            report.copied.append(rel)
        elif dest.read_bytes() == data:
            manifest[rel] = _record(dest, data)
        elif record is not None and record["course"] == _sha256(data):
            pass  # the course has not changed since we copied it; the learner's copy stays
        elif not _holds_work(dest, record, data):
            write_bytes(dest, data, durable=False)
            manifest[rel] = _record(dest, data)
            report.refreshed.append(rel)
        else:
            report.kept.append((rel, _write_beside(workspace, manifest, rel, data)))
    workspace.write_manifest(manifest)
    _write_terminal_rc(workspace)
    return report


def _write_beside(workspace: Workspace, manifest: dict, rel: str, data: bytes) -> str:
    """Write the course's new version of ``rel`` beside the learner's; its relative path,
    or "" when the copy beside it holds work of the learner's too."""
    beside = new_version_path(workspace.root / rel)
    beside_rel = workspace.relative(beside)
    if beside.exists() and beside.read_bytes() != data and _holds_work(beside, manifest.get(beside_rel), data):
        return ""
    write_bytes(beside, data, durable=False)
    manifest[beside_rel] = _record(beside, data)
    return beside_rel


# ----------------------------------------------------------------------------- JupyterLab

def venv_bin() -> Path:
    """The folder of this Python's scripts (``descentlab``, ``jupyter``): the venv's bin."""
    return Path(sys.executable).parent


def _write_terminal_rc(workspace: Workspace) -> Path:
    """The start-up file of a JupyterLab terminal: what a login shell reads, then the venv's
    bin first on PATH. (Without it the terminal is a login shell, and /etc/profile resets
    PATH to the system's, so `descentlab` would be "command not found".)"""
    bin_dir = shlex.quote(str(venv_bin()))
    text = f"""# Written by `descentlab start`: JupyterLab terminals read this file first.
[ -r /etc/profile ] && . /etc/profile
if [ -r "$HOME/.bash_profile" ]; then . "$HOME/.bash_profile"
elif [ -r "$HOME/.profile" ]; then . "$HOME/.profile"
elif [ -r "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi
PATH={bin_dir}:"$PATH"
export PATH
VIRTUAL_ENV={shlex.quote(str(venv_bin().parent))}
export VIRTUAL_ENV
"""
    path = workspace.state_dir / TERMINAL_RC
    write_text(path, text, durable=False)
    return path


def terminal_shell(workspace: Workspace) -> list[str]:
    """The command a JupyterLab terminal runs: an interactive shell reading our rc file."""
    rc = str(workspace.state_dir / TERMINAL_RC)
    bash = shutil.which("bash")
    if bash:
        return [bash, "--rcfile", rc, "-i"]
    return [shutil.which("sh") or "/bin/sh", "-i"]  # reads $ENV: see lab_environment


def lab_environment(workspace: Workspace, base: dict[str, str] | None = None) -> dict[str, str]:
    """The server's environment: the venv's bin first on PATH (kernels, `!descentlab`)."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{venv_bin()}{os.pathsep}{env.get('PATH', '')}"
    env["ENV"] = str(workspace.state_dir / TERMINAL_RC)  # a POSIX sh's interactive rc file
    return env


def lab_options(workspace: Workspace) -> list[str]:
    """JupyterLab options every learner server needs (the browser tests use them too)."""
    return [
        f"--ServerApp.root_dir={workspace.root}",
        f"--ServerApp.terminado_settings={ {'shell_command': terminal_shell(workspace)}!r}",
        f"--ContentsManager.pre_save_hook={SAVE_HOOK}",  # no dead widget views in saved notebooks
        # Encrypted kernel sockets: without them every kernel prints "running over TCP
        # without encryption" into the console `make lab` runs in.
        "--KernelManager.transport_encryption=auto",
    ]


def lab_command(workspace: Workspace, extra: list[str]) -> list[str]:
    command = [sys.executable, "-m", "jupyterlab", *lab_options(workspace), *extra]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        command.append("--allow-root")
    if (workspace.root / FIRST_NOTEBOOK).exists():
        command.append(FIRST_NOTEBOOK)
    return command


def _free_port(preferred: int = 8888, tries: int = 20) -> int:
    for port in [*range(preferred, preferred + tries), 0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise CourseError("no free port for JupyterLab; pass --port N")


def _wait_until_serving(proc: subprocess.Popen, port: int, token: str) -> bool:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status",
                                     headers={"Authorization": f"token {token}"})
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(request, timeout=2):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


def serve(workspace: Workspace, port: int | None, open_browser: bool) -> int:
    """Run JupyterLab in the workspace until it stops; print its address once it answers."""
    port = port or _free_port()
    token = secrets.token_hex(24)
    env = lab_environment(workspace)
    env["JUPYTER_TOKEN"] = token  # our own token: Jupyter then prints no banner of its own
    extra = [f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--ServerApp.log_level=WARN", "--LabApp.log_level=WARN"]
    if not open_browser:
        extra.append("--no-browser")
    proc = subprocess.Popen(lab_command(workspace, extra), cwd=workspace.root, env=env)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is JupyterLab's to answer
    try:
        if _wait_until_serving(proc, port, token):
            print(f"\nJupyterLab is running in {workspace.root}. Open this address in your browser:\n"
                  f"\n    http://127.0.0.1:{port}/lab/tree/{FIRST_NOTEBOOK}?token={token}\n"
                  f"\nStop it with Control-C (twice).", flush=True)
        return proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
        if proc.poll() is None:
            proc.terminate()


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "start",
        help="copy the course into your workspace and start JupyterLab",
        description="Copy the lessons and exercises into DIR (default ./descentlab-course) "
        "without overwriting your work, then start JupyterLab there.",
    )
    parser.add_argument("dir", nargs="?", type=Path, default=Path(DEFAULT_NAME))
    parser.add_argument("--no-lab", action="store_true", help="only copy; do not start JupyterLab")
    parser.add_argument("--port", type=int, default=None, help="port for JupyterLab (default: 8888 or the next free one)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    course = find_course(Path.cwd())
    target = args.dir.resolve()
    report = sync_workspace(course, target)
    workspace = Workspace(target)
    print(f"{workspace.describe()}\n{report.format()}", flush=True)
    if args.no_lab:
        return 0
    return serve(workspace, args.port, open_browser=not args.no_browser)
