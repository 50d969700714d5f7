"""The learner's sandbox: a bubblewrap container holding a warm template process.

One bubblewrap sandbox per grading round (or per judge, when no round started one) holds
the *zygote* (``zygote.py``): a Python with numpy and the course's imports done that never
runs learner code. Each learner notebook gets a fork of it with fresh mount, pid, network,
IPC and UTS namespaces, a fresh tmpfs home, /tmp and /dev/shm, no /proc, its own uid
(leased here, unique among every grader on this host), no capabilities, and only its
protocol socket open. So the fixed cost per submission is a fork, not a sandbox + Python +
numpy, and nothing passes from one learner to the next.

What the sandbox sees and may do:
- no network, no IPC, its own pid namespace, a new session (no terminal injection); it dies
  with its parent (``--die-with-parent``);
- read-only: /usr, /lib*, the Python installation, the venv and the descentlab package,
  mounted at fixed neutral paths (``/opt/python``, ``/opt/venv``, ``/opt/descentlab``), so a
  learner's ``sys.prefix``, ``sys.path`` and ``__file__`` say nothing of the instructor's
  machine; never the course root, its solutions/, the gradebook, other learners' folders
  or the instructor's home;
- writable: a size-limited tmpfs home (its own copy of its files, sent over the wire) and
  a size-limited tmpfs /tmp, both private to the one submission;
- limits for the submission as a whole, kept by a privileged keeper process outside the
  learner's namespaces (``zygote.keep``): memory (the sum of all its processes'
  proportional set size) and CPU time (all its processes, live and reaped); per process
  rlimits on address space, CPU time and file size; RLIMIT_NPROC on its own uid.

As an ordinary user bwrap makes a user namespace; the uid cannot change there, and the
limits hold inside it.

Where bubblewrap is missing or cannot start (no user namespaces), ``mode="none"`` runs the
runner as a plain child with the same rlimits but no confinement; the caller warns loudly.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
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
        (0: none; see ``lease_uid``) and its working folder."""
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



NEUTRAL_PYTHON = "/opt/python"
NEUTRAL_VENV = "/opt/venv"
NEUTRAL_PACKAGE = "/opt/descentlab"


@dataclass
class Layout:
    """Where the sandbox shows Python, the venv and the package: host path -> neutral path,
    the interpreter to run there, and the files bubblewrap lays over the binds."""

    binds: list[tuple[str, str]]
    symlinks: list[tuple[str, str]]  # (target, link)
    files: list[tuple[str, str]]  # (content, path in the sandbox)
    python: str
    package_path: str | None
    library_path: str | None

    def neutral(self, host_path: str) -> str:
        for source, target in sorted(self.binds, key=lambda b: -len(b[0])):
            if host_path == source or host_path.startswith(source + "/"):
                return target + host_path[len(source):]
        return host_path


def _outside_usr(path: Path) -> bool:
    return not (str(path) == "/usr" or str(path).startswith("/usr/"))


def neutral_layout(protected: list[Path]) -> Layout:
    """The binds of ``_mount_sources`` under neutral names. A venv is rebuilt at
    /opt/venv (its lib/ bound, a pyvenv.cfg naming /opt/python, bin/python a link to the
    neutral interpreter), so Python computes neutral prefixes itself."""
    import descentlab

    allowed = set(_mount_sources(protected))
    base = Path(sys.base_prefix).resolve()
    venv = Path(sys.prefix).resolve() if sys.prefix != sys.base_prefix else None
    base_exe = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    binds: list[tuple[str, str]] = []
    symlinks: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    library_path = None
    if _outside_usr(base):
        binds.append((str(base), NEUTRAL_PYTHON))
        python = NEUTRAL_PYTHON + "/" + str(base_exe.relative_to(base)) if base_exe.is_relative_to(base) else str(base_exe)
        if (base / "lib").is_dir():
            library_path = NEUTRAL_PYTHON + "/lib"  # a shared libpython found by RUNPATH on the host
        base_bin = NEUTRAL_PYTHON + "/bin"
    else:
        python = str(base_exe)
        base_bin = str(base_exe.parent)
    if venv is not None and str(venv) in allowed:
        for entry in ("lib", "lib64", "include", "share"):
            host = venv / entry
            if host.is_symlink():
                symlinks.append((os.readlink(host), f"{NEUTRAL_VENV}/{entry}"))
            elif host.is_dir():
                binds.append((str(host), f"{NEUTRAL_VENV}/{entry}"))
        version = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
        files.append((f"home = {base_bin}\ninclude-system-site-packages = false\nversion = {version}\n",
                      f"{NEUTRAL_VENV}/pyvenv.cfg"))
        symlinks.append((python, f"{NEUTRAL_VENV}/bin/python3"))
        python = f"{NEUTRAL_VENV}/bin/python3"
    package_root = Path(descentlab.__file__).resolve().parent.parent
    package_path = None
    if str(package_root) in allowed and not any(package_root.is_relative_to(s) for s, _ in binds):
        binds.append((str(package_root / "descentlab"), NEUTRAL_PACKAGE + "/descentlab"))
        package_path = NEUTRAL_PACKAGE
    return Layout(binds, symlinks, files, python, package_path, library_path)


def bwrap_command(limits: Limits, layout: Layout, file_fds: dict[str, int]) -> list[str]:
    """The bubblewrap sandbox that holds the zygote. As root it keeps only the capabilities
    the zygote's keepers need (namespaces and mounts, switching to a learner's uid,
    killing and measuring the learner's processes); the learner's process drops them all."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise FileNotFoundError("bwrap")
    cmd = [
        bwrap,
        "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
    ]
    if os.geteuid() != 0:
        cmd += ["--unshare-user"]
    for cap in ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_SYS_PTRACE"):
        cmd += ["--cap-add", cap]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            cmd += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            cmd += ["--ro-bind", str(top), str(top)]
    size = str(limits.tmpfs_mb * 1024 * 1024)
    cmd += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
        "--perms", "0755", "--dir", "/home",
        "--perms", "0755", "--dir", HOME,
    ]
    targets = [t for _, t in layout.binds] + [link for _, link in layout.symlinks] + list(file_fds)
    parents = {str(parent) for t in targets for parent in Path(t).parents if str(parent) != "/"}
    for parent in sorted(parents, key=lambda p: p.count("/")):
        cmd += ["--perms", "0755", "--dir", parent]  # bwrap would make them 0700
    for source, target in layout.binds:
        cmd += ["--ro-bind", source, target]
    for target, link in layout.symlinks:
        cmd += ["--symlink", target, link]
    for path, fd in file_fds.items():
        cmd += ["--ro-bind-data", str(fd), path]
    cmd += ["--remount-ro", "/", "--chdir", "/", "--clearenv"]
    env = sandbox_env()
    if layout.library_path:
        env["LD_LIBRARY_PATH"] = layout.library_path
    for key, value in env.items():
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




def start_unconfined(limits: Limits, workdir: str) -> subprocess.Popen:
    """The runner as a plain child (``--no-sandbox``): rlimits, no confinement."""
    env = dict(os.environ, **{k: v for k, v in sandbox_env().items() if k not in ("HOME", "PATH")})
    return subprocess.Popen(
        [sys.executable, "-I", "-m", "descentlab.grade.runner", limits.runner_arg(0, workdir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env=env, close_fds=True, start_new_session=True,
    )


def open_sandbox(protected: list[Path], limits: Limits | None = None, preload: list[str] = ()):
    """(a started zygote, '') when a sandboxed runner starts here (the zygote answered and
    one fork of it did), else (None, why not)."""
    if shutil.which("bwrap") is None:
        return None, "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    from .zygote import Zygote, ZygoteError

    try:
        zygote = Zygote.start(limits or Limits(), protected, preload)
    except (ZygoteError, OSError) as exc:
        return None, f"bwrap could not start a sandbox here: {exc}"
    try:
        zygote.check()
    except (ZygoteError, OSError) as exc:
        zygote.close()
        return None, f"the sandbox could not fork a learner's process here: {exc}"
    return zygote, ""


def probe(protected: list[Path]) -> tuple[str, str]:
    """('bwrap', '') when a sandboxed runner starts here, else ('none', why not)."""
    zygote, why = open_sandbox(protected)
    if zygote is None:
        return "none", why
    zygote.close()
    return "bwrap", ""


# -- uids ------------------------------------------------------------------------------

UID_BASE = 200000
UID_COUNT = 100000


def _lease_dir() -> Path:
    for folder in (Path("/run/descentlab-uids"), Path(tempfile.gettempdir()) / "descentlab-uids"):
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except OSError:
            continue
    raise OSError("no writable folder for uid leases (/run or the temporary folder)")


class UidLease:
    """A host uid held by one submission for as long as its processes live: a lock file
    per uid, flock-ed, so two concurrent submissions (in this grader, another grader on the
    same host, a Dask worker) never share a uid, and RLIMIT_NPROC counts one learner only.
    Released when the keeper reports every process of the submission gone."""

    def __init__(self, uid: int, fd: int, path: Path | None = None):
        self.uid, self._fd, self._path = uid, fd, path

    def release(self) -> None:
        if self._fd >= 0:
            if self._path is not None:
                try:
                    self._path.unlink()  # while locked: see lease_uid for why that is safe
                except OSError:
                    pass
            os.close(self._fd)
            self._fd = -1


def lease_uid() -> UidLease:
    import fcntl

    if os.geteuid() != 0:
        return UidLease(0, -1)  # an ordinary user's sandbox has one uid, inside its user namespace
    folder = _lease_dir()
    start = int.from_bytes(os.urandom(4), "little") % UID_COUNT
    for step in range(UID_COUNT):
        uid = UID_BASE + (start + step) % UID_COUNT
        path = folder / str(uid)
        fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The holder unlinks its file before it unlocks (so the folder stays small):
            # a lock won on a file that is no longer at its path is not a lease.
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            os.close(fd)
            continue
        return UidLease(uid, fd, path)
    raise OSError(f"all {UID_COUNT} sandbox uids are in use")
