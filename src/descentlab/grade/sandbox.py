"""Start the runner in a bubblewrap sandbox, one fresh process per learner notebook.

What the sandboxed process sees and may do:
- no network, no IPC, its own pid namespace (``--unshare-all`` minus the user namespace
  when we are root, see below), a new session (no terminal injection), and it dies with
  its parent (``--die-with-parent``);
- read-only: /usr, the Python installation and the directories on ``sys.path`` (the venv
  and the descentlab package, which holds no solutions); never the course root, its
  solutions/, the gradebook, other learners' folders or the instructor's home;
- writable: a size-limited tmpfs home (its own copy of its files, sent over the wire) and
  a size-limited tmpfs /tmp;
- rlimits on address space, CPU time, processes and file size, set by the runner before
  any learner code runs.

RLIMIT_NPROC does not bind uid 0 of the host, so when the grader runs as root the runner
(given CAP_SETUID/CAP_SETGID only for that) switches to a uid of its own first; as an
ordinary user bwrap makes a user namespace and the limit counts inside it.

Where bubblewrap is missing or cannot start (no user namespaces), ``mode="none"`` runs the
runner as a plain child with the same rlimits but no confinement; the caller warns loudly.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

HOME = "/home/learner"


@dataclass(frozen=True)
class Limits:
    """What one learner process may use. Shared by every sandbox of a round, so never
    changed: the per-sandbox uid travels beside it (``runner_arg``)."""

    memory_mb: int = 1024
    cpu_seconds: int = 120
    nproc: int = 64
    fsize_mb: int = 32
    tmpfs_mb: int = 64
    output_chars: int = 20000

    def runner_arg(self, uid: int = 0, workdir: str | None = HOME) -> str:
        """The runner's one command-line argument, JSON: these limits, the uid it switches to
        (0: none; see ``sandbox_uid``) and its working folder."""
        return json.dumps({**asdict(self), "uid": uid, "workdir": workdir})


def _looks_like_a_course(path: Path) -> bool:
    """A folder holding an nbgrader course (its config or its solutions) is never mounted,
    whoever it belongs to: the sandbox must not see any course's reference answers."""
    return (path / "nbgrader_config.py").exists() or (path / "solutions").is_dir()


def _mount_sources(protected: list[Path]) -> list[str]:
    """Read-only directories the runner needs: the Python installation, the venv, and the
    folder the descentlab package is imported from. Other sys.path entries (the current
    directory under `python -m`, a test runner's folders) are never mounted: they may be a
    course checkout with its solutions."""
    import descentlab

    prefixes = [Path(p).resolve() for p in {sys.base_prefix, sys.prefix, sys.exec_prefix}]
    package_root = Path(descentlab.__file__).resolve().parent.parent
    candidates = [*prefixes, package_root]
    for entry in sys.path:
        if entry and os.path.isdir(entry):
            resolved = Path(entry).resolve()
            if any(resolved == p or resolved.is_relative_to(p) for p in prefixes):
                candidates.append(resolved)
    roots: list[str] = []
    for path in candidates:
        if not path.is_dir() or str(path) in ("/", "/usr") or str(path).startswith("/usr/"):
            continue
        if any(path == p or p.is_relative_to(path) for p in protected):
            continue  # never mount a folder that contains the course's secrets
        if _looks_like_a_course(path):
            continue
        roots.append(str(path))
    # Keep only the outermost of nested folders.
    roots = sorted(set(roots))
    outer: list[str] = []
    for root in roots:
        if not any(root.startswith(o + "/") for o in outer):
            outer.append(root)
    return outer


def _python_executable() -> str:
    return sys.executable


def bwrap_command(limits: Limits, protected: list[Path]) -> list[str]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise FileNotFoundError("bwrap")
    as_root = os.geteuid() == 0
    cmd = [
        bwrap,
        "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
    ]
    if as_root:
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--unshare-user"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            cmd += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            cmd += ["--ro-bind", str(top), str(top)]
    size = str(limits.tmpfs_mb * 1024 * 1024)
    # The private /tmp and home come before the read-only binds, so a course (and its venv)
    # that lives under /tmp stays visible instead of being hidden by the fresh tmpfs.
    cmd += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
        "--perms", "1777", "--size", size, "--tmpfs", HOME,
    ]
    mounts = _mount_sources(protected)
    parents: set[str] = set()
    for mount in mounts:
        for parent in Path(mount).parents:
            if str(parent) != "/":
                parents.add(str(parent))
    parents.add("/home")
    for parent in sorted(parents, key=lambda p: p.count("/")):
        cmd += ["--perms", "0755", "--dir", parent]
    for mount in mounts:
        cmd += ["--ro-bind", mount, mount]
    cmd += [
        "--chdir", HOME,
        "--clearenv",
    ]
    for key, value in sandbox_env().items():
        cmd += ["--setenv", key, value]
    return cmd


def sandbox_env() -> dict[str, str]:
    return {
        "HOME": HOME,
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def runner_command(mode: str, limits: Limits, protected: list[Path], uid: int = 0,
                   workdir: str | None = None) -> list[str]:
    """The command that starts the runner; ``workdir`` is the unconfined fallback's folder
    (in the sandbox the runner works in its private home)."""
    if mode == "bwrap":
        python = [_python_executable(), "-I", "-m", "descentlab.grade.runner", limits.runner_arg(uid)]
        return bwrap_command(limits, protected) + python
    return [_python_executable(), "-I", "-m", "descentlab.grade.runner", limits.runner_arg(0, workdir)]


def start_runner(mode: str, limits: Limits, protected: list[Path], uid: int = 0,
                 workdir: str | None = None) -> subprocess.Popen:
    """The runner process (stdin/stdout are the protocol pipes), running as ``uid`` when the
    grader is root and ``mode`` is bwrap."""
    env = None
    if mode == "none":
        env = dict(os.environ, **{k: v for k, v in sandbox_env().items() if k not in ("HOME", "PATH")})
    return subprocess.Popen(
        runner_command(mode, limits, protected, uid, workdir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        close_fds=True,
        start_new_session=(mode == "none"),
    )


def probe(protected: list[Path]) -> tuple[str, str]:
    """('bwrap', '') when a sandboxed runner starts here, else ('none', why not)."""
    if shutil.which("bwrap") is None:
        return "none", "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    limits = Limits()
    command = bwrap_command(limits, protected) + [
        _python_executable(), "-I", "-c",
        "import numpy, descentlab.grade.runner as r, json, sys, os; "
        "l = json.loads(sys.argv[1]); (l.get('uid') and os.getuid() == 0) and r.drop_privileges(l['uid']); "
        "print('ok', os.getuid())",
        limits.runner_arg(_probe_uid()),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "none", f"bwrap could not start: {exc}"
    if done.returncode != 0 or not done.stdout.startswith("ok"):
        return "none", "bwrap could not start a sandbox here: " + (done.stderr.strip()[-500:] or f"exit {done.returncode}")
    return "bwrap", ""


def _probe_uid() -> int:
    return sandbox_uid() if os.geteuid() == 0 else 0


def sandbox_uid() -> int:
    """A host uid no one uses, distinct for each concurrent grader process (and thread: a
    Dask worker runs tasks in threads) on this host, so RLIMIT_NPROC counts one learner's
    processes only."""
    if os.geteuid() != 0:
        return 0
    import threading

    return 200000 + (os.getpid() * 7919 + threading.get_ident()) % 100000
