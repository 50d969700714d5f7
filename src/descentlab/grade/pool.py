"""Where submissions are graded: forked local workers, or tasks on a Dask cluster.

Both run the same ``task.grade_submission`` (on Dask in a fresh fork of the worker's
grading host, ``isolated``) and hand each verdict to ``on_result`` in this
process, as soon as it arrives; a worker that dies or hangs ends as that submission's status.
"""
from __future__ import annotations

import gc
import json
import os
import selectors
import signal
import sys
import time
from typing import Callable

from ..course import CourseError
from .task import SubmissionTask, grade_submission
from .verdict import GRADER_ERROR, TIMED_OUT, SubmissionVerdict


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


OnResult = Callable[[SubmissionTask, SubmissionVerdict], None]


def run_local(specs: list[SubmissionTask], workers: int, hard_timeout: float,
              on_result: OnResult, prepare: Callable[[], None] = lambda: None) -> None:
    """Grade ``specs`` in forked worker processes, ``workers`` at a time.

    A fork of this process starts warm (numpy and the judge already imported); each child
    grades one submission and sends its verdict back through a pipe. A child that outlives
    ``hard_timeout`` is killed (its sandbox dies with it)."""
    queue = list(specs)
    running: dict[int, dict] = {}
    # Objects that exist now are never collected in a fork: its garbage collector would
    # otherwise touch (and so copy) every page of this process's heap, in every worker.
    gc.freeze()
    selector = selectors.DefaultSelector()
    prepared = False
    try:
        while queue or running or not prepared:
            while queue and len(running) < workers:
                spec = queue.pop(0)
                read_fd, write_fd = os.pipe()
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:  # the worker
                    code = 0
                    try:
                        os.close(read_fd)
                        signal.signal(signal.SIGINT, signal.SIG_DFL)
                        data = json.dumps(grade_submission(spec).to_json()).encode()
                        view = memoryview(data)
                        while view:
                            view = view[os.write(write_fd, view):]
                    except BaseException:  # noqa: BLE001 - the parent reports a missing verdict
                        code = 1
                    finally:
                        os._exit(code)
                os.close(write_fd)
                os.set_blocking(read_fd, False)
                running[pid] = {"spec": spec, "fd": read_fd, "data": bytearray(), "start": time.monotonic()}
                selector.register(read_fd, selectors.EVENT_READ, pid)
            if not prepared:
                prepare()  # the first workers are already grading
                prepared = True
                continue
            for key, _ in selector.select(timeout=0.5):
                pid = key.data
                job = running[pid]
                try:
                    chunk = os.read(job["fd"], 1 << 20)
                except BlockingIOError:
                    continue
                if chunk:
                    job["data"] += chunk
                    continue
                selector.unregister(job["fd"])
                os.close(job["fd"])
                _, status = os.waitpid(pid, 0)
                del running[pid]
                try:
                    result = SubmissionVerdict.from_json(json.loads(job["data"]))
                except (ValueError, RecursionError):
                    result = job["spec"].failure(
                        GRADER_ERROR, f"the grading worker exited without a verdict (wait status {status})")
                on_result(job["spec"], result)
            now = time.monotonic()
            for pid, job in list(running.items()):
                if now - job["start"] > hard_timeout:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    selector.unregister(job["fd"])
                    os.close(job["fd"])
                    del running[pid]
                    on_result(job["spec"], job["spec"].failure(
                        TIMED_OUT, f"grading took longer than {hard_timeout:g} s and was stopped"))
    finally:
        gc.unfreeze()
        for pid in running:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass


def run_dask(specs: list[SubmissionTask], address: str, on_result: OnResult) -> None:
    """Grade ``specs`` as tasks on a Dask distributed cluster. Each task grades its
    submission in a fresh fork of the worker's grading host, with a hard timeout (``isolated``), so
    concurrent tasks share no process state and none can hold a worker forever."""
    from .isolated import grade_isolated

    try:
        from distributed import Client, as_completed
    except ImportError:
        raise CourseError("--dask-scheduler needs dask[distributed]: pip install 'descentlab[dask]'") from None
    try:
        client = Client(address, timeout=30)
    except Exception as exc:  # noqa: BLE001 - an unreachable scheduler is the instructor's to fix
        raise CourseError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        futures = {}
        for spec in specs:
            future = client.submit(grade_isolated, spec, pure=False,
                                   key=f"descentlab-grade-{spec.student}-{spec.key[:12]}-{os.getpid()}")
            futures[future] = spec
        for future in as_completed(futures):
            spec = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker, say
                result = spec.failure(GRADER_ERROR, f"the Dask task failed: {type(exc).__name__}: {exc}")
            on_result(spec, result)
    finally:
        client.close()
