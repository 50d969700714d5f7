"""One submission graded in a process of its own, with a hard timeout: the Dask task.

A Dask worker runs several tasks at once in threads of one process. Judges there would
share what is process-wide (stdout redirection, tracemalloc, signal handlers), so one
learner's verdict could depend on another's timing, and a judge that spins (a hash flood
in what it decodes) holds the worker forever. So every task is graded in a process of its
own, killed (with its sandbox) when it outlives the submission's timeout plus a margin.

Starting that process fresh (a Python, numpy, the judge, a sandbox's warm template) cost
about 250 ms per task, ten times a local round's fixed cost. So each Dask worker process
keeps one *host*: a child process that has imported the judge, numpy and the course's
modules and keeps the sandbox templates (zygotes) it started, one per set of protected
folders, limits and imports. The host never grades: for every task it forks a fresh
process that grades that one submission and exits, as a local round's workers are forks of
the round. Nothing a submission's grading touches (a module global, a file, a cache)
outlives its fork; learner code runs in forks of the zygote, in the sandbox, as everywhere.

Per task: the worker's thread sends the host a request (the zygote's settings and one end
of a new socket pair, SCM_RIGHTS); the host forks; the fork writes its pid on that socket,
reads the pickled task to its end, grades it and writes the verdict (JSON). The thread
kills the fork's process group when the time is up. A host that died is started again.

    python -I -m descentlab.grade.isolated PARENT_PID   (the host; requests on fd 0)
"""
from __future__ import annotations

import gc
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time

from .task import SubmissionTask
from .verdict import GRADER_ERROR, TIMED_OUT, SubmissionVerdict

HARD_MARGIN = 30.0  # at most this many seconds past the submission's own timeout
MAX_VERDICT_BYTES = 64 * 1024 * 1024
START_TIMEOUT = 60.0  # for the host to start, or a fork of it to say its pid
MAX_ZYGOTES = 4  # templates a host keeps (rounds of different assignments or limits)


class HostError(Exception):
    """The worker's grading host could not start or answer."""


# -- the Dask worker's side --------------------------------------------------------------

class _Host:
    """The worker process's handle on its host (one per worker process, shared by its threads)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-m", "descentlab.grade.isolated", str(os.getpid())],
                stdin=theirs.fileno(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True)
        finally:
            theirs.close()
        self.requests = ours

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, task: SubmissionTask) -> tuple[socket.socket, int]:
        """A fresh fork of the host for ``task``: the socket to it and its pid. The host's
        own start and its sandbox's are not the submission's time."""
        settings = pickle.dumps((task.mode, tuple(task.protected), task.limits, tuple(task.imports)))
        mine, its = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self.requests, [settings], [its.fileno()])
        except OSError as exc:
            mine.close()
            raise HostError(f"the grading host is gone ({exc})") from None
        finally:
            its.close()
        try:
            mine.settimeout(START_TIMEOUT)
            line = b""
            while not line.endswith(b"\n") and len(line) < 32:
                chunk = mine.recv(32 - len(line))
                if not chunk:
                    break
                line += chunk
            pid = int(line)
        except (OSError, ValueError):
            mine.close()
            raise HostError("the grading host did not start a process for the submission") from None
        return mine, pid

    def kill(self) -> None:
        self.requests.close()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        self.process.wait()


_host: _Host | None = None
_host_lock = threading.Lock()


def _current_host(broken: _Host | None = None) -> _Host:
    """This worker's host, started if there is none, or if the one there died or is ``broken``."""
    global _host
    with _host_lock:
        if _host is not None and (_host is broken or not _host.alive()):
            _host.kill()
            _host = None
        if _host is None:
            _host = _Host()
        return _host


def grade_isolated(task: SubmissionTask) -> SubmissionVerdict:
    """``task.grade_submission(task)`` in a fresh fork of this worker's host, killed after
    the timeout."""
    limit = float(task.timeout) + min(HARD_MARGIN, 5.0 + float(task.timeout))
    host = _current_host()
    try:
        try:
            sock, pid = host.fork(task)
        except HostError:  # a host that died or hung between tasks: once more, with a new one
            sock, pid = _current_host(broken=host).fork(task)
    except HostError as exc:
        return task.failure(GRADER_ERROR, str(exc))
    deadline = time.monotonic() + limit
    data = bytearray()
    try:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        sock.sendall(pickle.dumps(task))
        sock.shutdown(socket.SHUT_WR)
        while len(data) <= MAX_VERDICT_BYTES:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    except (TimeoutError, socket.timeout):
        return task.failure(TIMED_OUT, f"grading took longer than {limit:g} s and was stopped")
    except OSError:
        pass  # the fork died: no verdict, reported below
    finally:
        sock.close()
        _kill_group(pid)
    try:
        if len(data) > MAX_VERDICT_BYTES:
            raise ValueError("verdict too large")
        return SubmissionVerdict.from_json(json.loads(data))
    except (ValueError, RecursionError):
        return task.failure(GRADER_ERROR, "the grading process exited without a verdict")


def _kill_group(pid: int) -> None:
    """The fork and everything it started (its process group); the host reaps it."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


# -- the host ---------------------------------------------------------------------------

def serve(parent: int) -> None:
    """The host's loop: one fork per request, until the worker closes its end or dies."""
    from pathlib import Path

    from . import zygote as zygotes
    from .sandbox import open_sandbox
    from .task import grade_submission  # noqa: F401 - imported once, here, for every fork

    zygotes._call("prctl", zygotes.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the worker died before the line above
        os._exit(0)
    requests = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    warm: dict[tuple, object] = {}  # (protected, limits, imports) -> a zygote, or None if it failed
    preloaded: set[str] = set()
    try:
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(requests, 1 << 20, 1)
            except InterruptedError:
                continue
            except OSError:
                break
            zygotes._reap(block=False)  # forks that ended
            if not message:
                break  # the worker closed its end
            if len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                continue
            mode, protected, limits, imports = pickle.loads(message)  # from our own worker: trusted
            zygote = None
            if mode == "bwrap":
                key = (protected, limits, imports)
                if key in warm and warm[key] is not None and warm[key].process.poll() is not None:
                    del warm[key]  # the template died: start it again
                if key not in warm:
                    if len(warm) >= MAX_ZYGOTES:
                        oldest = warm.pop(next(iter(warm)))
                        if oldest is not None:
                            oldest.close()
                    warm[key], _ = open_sandbox([Path(p) for p in protected], limits, list(imports))
                zygote = warm[key]
            if not preloaded.issuperset(imports):
                zygotes.preload(list(imports))  # the judge runs setup and test cells here
                preloaded.update(imports)
            gc.freeze()  # a fork's collector would otherwise touch (so copy) the host's whole heap
            pid = os.fork()
            if pid == 0:
                try:
                    requests.close()
                    _grade_one(fds[0], zygote)
                finally:
                    os._exit(0)
            os.close(fds[0])
    finally:
        for zygote in warm.values():
            if zygote is not None:
                zygote.close()
        zygotes._reap(block=False)


def _grade_one(fd: int, zygote) -> None:
    """In a fresh fork of the host: say our pid, read the task, grade it, write the verdict."""
    from . import zygote as zygotes
    from .task import grade_submission

    os.setpgid(0, 0)  # the worker kills this group when the time is up
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sock = socket.socket(fileno=fd)
    sock.sendall(f"{os.getpid()}\n".encode())
    data = bytearray()
    while chunk := sock.recv(1 << 20):
        data += chunk
    task = pickle.loads(data)  # from our own worker: trusted
    zygotes.set_shared(zygote)  # None if it failed: the judge tries its own and reports why
    verdict = grade_submission(task)
    sock.sendall(json.dumps(verdict.to_json()).encode())
    sock.close()


def main() -> None:
    serve(int(sys.argv[1]))


if __name__ == "__main__":
    main()
