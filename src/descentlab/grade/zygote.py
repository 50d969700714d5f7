"""The warm template ("zygote"): one sandboxed Python, forked once per learner notebook.

Starting a sandbox, a Python and numpy for every notebook cost more than grading it. The
zygote is started once, in the bubblewrap sandbox of ``sandbox.bwrap_command``, imports
numpy, the runner and the modules the course's notebooks import, and then only forks. It
never runs learner code, so every fork starts from the same pristine state.

Processes per learner notebook, one per role:

- the *zygote* (pid 1 or 2 of the sandbox, root there with a few capabilities): receives a
  request (the limits, the learner's uid, two sockets as SCM_RIGHTS) and forks a keeper;
- the *keeper* (root, outside the learner's namespaces): unshares fresh mount, pid, network,
  IPC and UTS namespaces, mounts a private tmpfs home, /tmp and /dev/shm, hides /proc,
  forks the learner's process, then watches it: it measures the memory (proportional set
  size) and CPU time of all the learner's processes together and kills the namespace when
  one is over its limit, kills it when the judge asks or goes away, and reports the exit;
- *init*, pid 1 of the learner's pid namespace (so its death ends every process the
  learner started): switches to the leased uid, drops every capability, sets no_new_privs,
  closes every descriptor but the protocol socket, forks the runner and reaps orphans;
- the *runner*, the learner's process: sets rlimits, reseeds the random generators and
  serves the runner's protocol (``runner.serve``).

The judge side is ``Zygote.start`` (once per round or judge) and ``Zygote.spawn`` (once per
runner), which returns a ``ForkedRunner`` that the judge's Session uses like a process.
"""
from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .sandbox import HOME, Limits, UidLease, bwrap_command, lease_uid, neutral_layout, sandbox_env

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 2, 4, 1 << 14, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
WATCH_INTERVAL = 0.05  # seconds between two measurements of a submission's memory and CPU
START_TIMEOUT = 60.0
EXIT_GRACE = 0.1  # seconds a process whose channel closed has to finish exiting


class ZygoteError(Exception):
    """The zygote could not start, or stopped answering."""


# -- judge side ------------------------------------------------------------------------

class _Stream:
    """The one protocol socket, as the pair of file objects a Session expects."""

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()


class ForkedRunner:
    """A learner's runner forked from the zygote, seen from the judge like a Popen: the
    protocol socket (``stdin``/``stdout``), ``kill``, ``wait``, ``poll``, and the limit
    the keeper enforced when it killed the submission (``limit_hit``)."""

    def __init__(self, protocol: socket.socket, control: socket.socket, lease: UidLease):
        self._protocol, self._control, self._lease = protocol, control, lease
        self.stdin = self.stdout = _Stream(protocol)
        self.returncode: int | None = None
        self.limit_hit: str | None = None

    def _report(self, timeout: float | None) -> None:
        if self.returncode is not None:
            return
        ready, _, _ = select.select([self._control], [], [], timeout)
        if not ready:
            return
        try:
            data = self._control.recv(4096)
            report = json.loads(data) if data else {}
        except (OSError, ValueError):
            report = {}
        returncode = report.get("returncode")
        if type(returncode) is int:
            self.returncode = returncode
        else:
            self.returncode = -signal.SIGKILL  # the keeper itself went away
        reason = report.get("limit")
        self.limit_hit = reason if reason in ("memory", "cpu") else None
        self._control.close()
        self._lease.release()  # every process of the submission is gone

    def poll(self) -> int | None:
        self._report(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._report(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("learner runner", timeout)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            try:
                self._control.send(b"kill")
            except OSError:
                pass


class Zygote:
    """The judge's handle on one zygote: ``spawn`` forks a fresh learner runner."""

    def __init__(self, process: subprocess.Popen, requests: socket.socket):
        self.process, self.requests = process, requests
        self.owner = os.getpid()

    @classmethod
    def start(cls, limits: Limits, protected: list[Path], preload: list[str] = ()) -> "Zygote":
        layout = neutral_layout(protected)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        data_fds: dict[str, int] = {}
        pipes: list[int] = []
        try:
            for content, path in layout.files:
                read_fd, write_fd = os.pipe()
                os.write(write_fd, content.encode())
                os.close(write_fd)
                data_fds[path] = read_fd
                pipes.append(read_fd)
            config = {"fd": theirs.fileno(), "preload": sorted(set(preload)), "tmpfs_mb": limits.tmpfs_mb,
                      "package_path": layout.package_path}
            boot = ("import sys; p = sys.argv[1]; p != '-' and sys.path.insert(0, p); "
                    "from descentlab.grade.zygote import main; main()")
            command = bwrap_command(limits, layout, data_fds) + [
                layout.python, "-I", "-c", boot, layout.package_path or "-", json.dumps(config)]
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, pass_fds=[theirs.fileno(), *pipes])
        finally:
            theirs.close()
            for fd in pipes:
                os.close(fd)
        zygote = cls(process, ours)
        ready, _, _ = select.select([ours], [], [], START_TIMEOUT)
        hello = ours.recv(64) if ready else b""
        if hello != b"ready":
            zygote.close()
            why = process.stderr.read(2000).decode(errors="replace").strip() if process.poll() is not None else ""
            raise ZygoteError(f"the sandbox's template process did not start ({why or 'no answer'})")
        process.stderr.close()  # the zygote writes nothing after "ready"
        return zygote

    def spawn(self, limits: Limits) -> ForkedRunner:
        lease = lease_uid()
        protocol, protocol_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        control, control_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = json.dumps({"uid": lease.uid, "limits": json.loads(limits.runner_arg(0))}).encode()
        try:
            socket.send_fds(self.requests, [request], [protocol_theirs.fileno(), control_theirs.fileno()])
        except OSError as exc:
            lease.release()
            protocol.close()
            control.close()
            raise ZygoteError(f"the sandbox's template process is gone ({exc})") from None
        finally:
            protocol_theirs.close()
            control_theirs.close()
        return ForkedRunner(protocol, control, lease)

    def check(self) -> None:
        """Fork one runner and see it answer (the probe)."""
        from .wire import Channel

        runner = self.spawn(Limits())
        try:
            hello = Channel(runner.stdout.fileno(), runner.stdin.fileno()).recv(time.monotonic() + START_TIMEOUT)
            if hello.get("op") != "ready":
                raise ZygoteError("a forked runner did not start")
        finally:
            runner.kill()
            runner.wait(10)
            runner.stdout.close()

    def close(self) -> None:
        if os.getpid() != self.owner:
            return  # a forked worker's copy: the round owns the zygote
        self.requests.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "Zygote":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def imported_modules(notebooks: dict[str, dict]) -> list[str]:
    """The modules the course's own notebooks import, for the zygote to import once."""
    import ast

    names: set[str] = set()
    for notebook in notebooks.values():
        for cell in notebook.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            try:
                tree = ast.parse("".join(source) if isinstance(source, list) else source)
            except (SyntaxError, ValueError):
                continue  # magics: nothing to preload
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module)
    return sorted(names)


def preload(names: list[str]) -> None:
    """Import ``names`` (from ``imported_modules``) now, so that every fork of this process
    starts with them; a module the course may not have installed is left out."""
    import importlib

    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an import error is the cell's own, when it runs
            pass


_shared: Zygote | None = None


def shared() -> Zygote | None:
    """The zygote of this grading round, if one was started (inherited by forked workers)."""
    return _shared


def set_shared(zygote: Zygote | None) -> None:
    global _shared
    _shared = zygote


# -- inside the sandbox -----------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def _call(name: str, *args) -> None:
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _call("mount", enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))


def _drop_capabilities() -> None:
    """Empty effective, permitted and inheritable sets (capset, version 3)."""

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    header, data = Header(0x20080522, 0), (Data * 2)()
    _call("capset", ctypes.byref(header), ctypes.byref(data))


def main() -> None:
    config = json.loads(sys.argv[2])
    requests = socket.socket(fileno=int(config["fd"]))
    import numpy  # noqa: F401 - the point of the zygote: imported once
    import numpy.fft  # noqa: F401 - numpy loads these on first use, which would be per fork
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401

    from . import runner  # noqa: F401

    preload(config.get("preload", []))
    os.environ.pop("LD_LIBRARY_PATH", None)  # libpython is loaded; the learner sees a plain environment
    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    requests.send(b"ready")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(requests, 65536, 2)
        except InterruptedError:
            continue
        except OSError:
            break
        if not message:
            break  # every grader process closed its end
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            try:
                requests.close()
                keep(json.loads(message), fds[0], fds[1], config)
            finally:
                os._exit(1)
        for fd in fds:
            os.close(fd)
        _reap(block=False)
    _reap(block=True)
    os._exit(0)


def _reap(block: bool) -> None:
    """Collect ended children (a zygote's keepers, a Dask grading host's forks): waited for,
    not ignored, so their CPU time and their learners' is counted in this process's children
    and so in the grader's."""
    while True:
        try:
            pid, _ = os.waitpid(-1, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def keep(request: dict, protocol_fd: int, control_fd: int, config: dict) -> None:
    """The keeper: fresh namespaces and mounts for one submission, then watch it."""
    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    uid = int(request["uid"])
    limits = request["limits"]
    _call("unshare", CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    size = int(config.get("tmpfs_mb", 64)) * 1024 * 1024
    owner = f",uid={uid},gid={uid}" if uid else ""
    _mount("tmpfs", HOME, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=0700{owner}")
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)  # the keeper's view, for accounting
    _call("umount2", b"/proc", MNT_DETACH)  # the learner sees no processes, mounts or host paths
    pid = os.fork()
    if pid == 0:
        try:
            os.close(control_fd)
            os.close(proc)
            init(uid, limits, protocol_fd)
        finally:
            os._exit(1)
    os.close(protocol_fd)
    watch(pid, uid, limits, control_fd, proc)


def init(uid: int, limits: dict, protocol_fd: int) -> None:
    """Pid 1 of the learner's namespace: drops every privilege, forks the runner, and reaps
    orphans until the runner ends, then exits with its status (a signal as 128 + number).
    The runner is not pid 1 itself: pid 1 ignores the signals it sends itself, and a
    learner's ``os.kill(os.getpid(), SIGKILL)`` must end it as it would anywhere else."""
    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if protocol_fd <= 2:
        protocol_fd = os.dup(protocol_fd)
    os.closerange(3, protocol_fd)
    os.closerange(protocol_fd + 1, 1 << 16)
    os.environ.clear()
    os.environ.update(sandbox_env())
    os.chdir(HOME)
    if uid:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    _drop_capabilities()
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if uid and (os.getuid() == 0 or os.geteuid() == 0):
        raise SystemExit("could not drop root privileges")
    runner_pid = os.fork()
    if runner_pid == 0:
        try:
            become_runner(limits, protocol_fd)
        finally:
            os._exit(1)
    os.close(protocol_fd)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
        if pid == runner_pid:
            os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def become_runner(limits: dict, protocol_fd: int) -> None:
    from . import runner

    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _reseed()
    runner.MAIN_PID = os.getpid()
    runner.serve(protocol_fd, protocol_fd, dict(limits, uid=0, workdir=HOME))


def _reseed() -> None:
    """A fork shares the zygote's random state; a fresh Python would not."""
    import random

    import numpy as np

    random.seed()
    np.random.seed(int.from_bytes(os.urandom(4), "little"))


def _usage(proc: int, uid: int) -> tuple[int, float]:
    """(bytes, CPU seconds) of every process running as ``uid``: proportional set size
    (pages a fork shares are counted once), and user + system time of the live processes
    and of the children they reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = []
    for name in os.listdir(proc):
        if not name.isdigit():
            continue
        try:
            with open(os.open(f"{name}/status", os.O_RDONLY, dir_fd=proc), "rb") as fh:
                status = fh.read()
        except OSError:
            continue
        line = next((ln for ln in status.split(b"\n") if ln.startswith(b"Uid:")), b"")
        if line.split()[1:2] == [str(uid).encode()]:
            pids.append(name)
    memory, cpu = 0, 0.0
    for name in pids:
        try:
            with open(os.open(f"{name}/stat", os.O_RDONLY, dir_fd=proc), "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            cpu += sum(int(v) for v in fields[11:15]) / ticks
            source = "smaps_rollup" if len(pids) > 1 else "statm"
            with open(os.open(f"{name}/{source}", os.O_RDONLY, dir_fd=proc), "rb") as fh:
                text = fh.read()
        except (OSError, ValueError, IndexError):
            continue
        if source == "statm":
            memory += int(text.split()[1]) * os.sysconf("SC_PAGE_SIZE")
        else:
            line = next((ln for ln in text.split(b"\n") if ln.startswith(b"Pss:")), b"Pss: 0 kB")
            memory += int(line.split()[1]) * 1024
    return memory, cpu


def watch(pid: int, uid: int, limits: dict, control_fd: int, proc: int) -> None:
    """Until the learner's process ends: kill it (and with it its pid namespace) when the
    judge asks or goes away, or when the submission is over its memory or CPU limit; then
    tell the judge how it ended."""
    memory_limit = int(limits.get("memory_mb") or 0) * 1024 * 1024
    cpu_limit = float(limits.get("cpu_seconds") or 0)
    pidfd = os.pidfd_open(pid)
    limit = None
    killed = False
    while True:
        ready, _, _ = select.select([pidfd, control_fd], [], [], WATCH_INTERVAL)
        if pidfd in ready:
            break
        if control_fd in ready:
            try:
                os.read(control_fd, 64)
            except OSError:
                pass
            # Asked to, or the judge is gone (end of file). The judge asks as soon as the
            # channel closes, which a process that exits on its own does a moment before
            # its exit can be collected: give it that moment, so its own status is reported.
            if not select.select([pidfd], [], [], EXIT_GRACE)[0]:
                os.kill(pid, signal.SIGKILL)
            killed = True
            continue
        if uid and not killed:
            memory, cpu = _usage(proc, uid)
            if memory_limit and memory > memory_limit:
                limit = "memory"
            elif cpu_limit and cpu > cpu_limit:
                limit = "cpu"
            if limit:
                os.kill(pid, signal.SIGKILL)
                killed = True
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        returncode = -os.WTERMSIG(status)  # the namespace was killed
    else:
        code = os.WEXITSTATUS(status)
        returncode = -(code - 128) if code > 128 else code  # the runner's status, from init
    try:
        os.write(control_fd, json.dumps({"returncode": returncode, "limit": limit}).encode())
    except OSError:
        pass
    os._exit(0)
