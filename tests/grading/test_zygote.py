"""The warm sandbox: every learner notebook is a fork of one template, and nothing passes
from one learner to the next; limits hold for a submission's processes together."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from gradehelp import EX01, FULL, NB01, PLANT, grade, mae_that_reports_leaks, reference_sources, stored_result, submit

from descentlab.grade.sandbox import Limits, lease_uid
from descentlab.grade.wire import Channel
from descentlab.grade.zygote import Zygote


def test_two_colluding_submissions_cannot_pass_anything(course_copy, bwrap_available):
    root = course_copy()
    reader = mae_that_reports_leaks(root)
    reference = reference_sources(root, EX01)[NB01]["mae"]
    submit(root, "a_writer", {"mae": PLANT + reference})  # graded first (one worker, sorted)
    submit(root, "b_reader", {"mae": reader})
    # The control: the same planting and the same search in ONE process must find the leaks,
    # or the search above proves nothing.
    submit(root, "c_self", {"mae": PLANT + reader})
    summary = grade(root, workers=1, timeout=60.0)
    outcomes = summary.by_student()
    assert summary.sandbox == "bwrap"
    control = stored_result(root, "c_self")["notebooks"][NB01]["tests"]
    message = next(t["error"] for t in control if t["grade_id"] == "test_mae")
    for channel in ("numpy attribute", "builtins attribute", "sys.modules", "environment", "file in /tmp",
                    "file in /home/learner", "abstract socket"):
        assert channel in message, message
    assert outcomes["c_self"].score == FULL - 2
    assert outcomes["a_writer"].score == FULL, outcomes["a_writer"].messages
    reader_tests = stored_result(root, "b_reader")["notebooks"][NB01]["tests"]
    assert outcomes["b_reader"].score == FULL, [t["error"] for t in reader_tests if t["error"]]


def _runner(zygote: Zygote, limits: Limits):
    runner = zygote.spawn(limits)
    channel = Channel(runner.stdout.fileno(), runner.stdin.fileno())
    os.set_blocking(runner.stdout.fileno(), False)
    assert channel.recv(time.monotonic() + 30)["op"] == "ready"
    return runner, channel


def _run(channel: Channel, source: str, timeout: float = 60.0) -> dict:
    channel.send({"op": "run", "id": 1, "label": "probe", "source": source}, time.monotonic() + 5)
    return channel.recv(time.monotonic() + timeout)


@pytest.fixture(scope="module")
def zygote(bwrap_available):
    with Zygote.start(Limits(), [Path(__file__).resolve().parents[2]]) as started:
        yield started


# Children that each stay under the per-process limit while together they go over it.
HOLD_MEMORY = '''
import os, time
for _ in range(3):
    if os.fork() == 0:
        block = bytearray(150 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        while True:
            time.sleep(1)
time.sleep(120)
'''

BURN_CPU = '''
import os, time
for _ in range(3):
    if os.fork() == 0:
        start = time.process_time()
        while time.process_time() - start < 1.2:
            pass
        while True:
            time.sleep(1)
time.sleep(120)
'''


@pytest.mark.parametrize("source, limits, limit", [
    (HOLD_MEMORY, Limits(memory_mb=300), "memory"),
    (BURN_CPU, Limits(cpu_seconds=2), "cpu"),
], ids=["memory held by forks", "cpu burnt by forks"])
def test_limits_hold_for_all_processes_of_a_submission(zygote, source, limits, limit):
    runner, channel = _runner(zygote, limits)
    started = time.monotonic()
    with pytest.raises(Exception):
        _run(channel, source, timeout=90.0)  # the keeper kills the whole namespace
    assert runner.wait(10) == -9
    assert runner.limit_hit == limit
    assert time.monotonic() - started < 90


def test_the_same_work_under_the_limit_is_left_alone(zygote):
    runner, channel = _runner(zygote, Limits(memory_mb=1024, cpu_seconds=30))
    reply = _run(channel, HOLD_MEMORY.replace("range(3)", "range(2)").replace("time.sleep(120)", "time.sleep(3)"))
    assert reply["op"] == "ran" and reply["error"] is None
    runner.kill()
    assert runner.wait(10) == -9 and runner.limit_hit is None


def test_the_learner_sees_neutral_paths_only(zygote):
    runner, channel = _runner(zygote, Limits())
    reply = _run(channel, '''
import os, sys, numpy, descentlab
print(repr([sys.prefix, sys.base_prefix, sys.executable, *sys.path, numpy.__file__, descentlab.__file__,
            os.getcwd(), *os.environ.values(), str(os.path.exists("/proc/self/mountinfo"))]))
''')
    runner.kill()
    printed = reply["output"]
    assert "/opt/venv" in printed and "False" in printed, printed
    import sys

    import descentlab

    host = {str(Path(descentlab.__file__).resolve().parents[1]), str(Path(sys.prefix).resolve()),
            str(Path(sys.base_prefix).resolve()), str(Path(__file__).resolve().parents[2]), str(Path.home())}
    for path in host - {"/", "/usr"}:
        assert path not in printed, (path, printed)


def test_uids_are_unique_among_concurrent_submissions():
    leases = [lease_uid() for _ in range(40)]
    uids = [lease.uid for lease in leases]
    if os.geteuid() == 0:
        assert len(set(uids)) == len(uids) and all(uid >= 200000 for uid in uids)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # another grader process on the same host
            others = [lease_uid().uid for _ in range(40)]
            os.write(write_fd, repr(others).encode())
            os._exit(0)
        os.close(write_fd)
        others = eval(os.read(read_fd, 1 << 16))  # noqa: S307 - our own child's list of ints
        os.waitpid(pid, 0)
        assert not set(others) & set(uids)
        for lease in leases:
            lease.release()
    else:
        assert uids == [0] * len(uids)


def test_a_released_uid_leaves_no_lock_file_and_can_be_leased_again():
    if os.geteuid() != 0:
        pytest.skip("an ordinary user's sandbox never switches uid")
    from descentlab.grade.sandbox import _lease_dir

    lease = lease_uid()
    path = _lease_dir() / str(lease.uid)
    assert path.exists()
    lease.release()
    assert not path.exists()


def test_the_template_imports_what_the_course_notebooks_import():
    from descentlab.grade.zygote import imported_modules

    notebooks = {"nb": {"cells": [
        {"cell_type": "code", "source": ["import numpy as np\n", "from sklearn.datasets import load_digits\n"]},
        {"cell_type": "code", "source": "%matplotlib inline\nimport os"},  # a magic: not parsed, skipped
        {"cell_type": "markdown", "source": "import not_code"},
        {"cell_type": "code", "source": "from . import relative\nfrom scipy.stats import norm"},
    ]}}
    assert imported_modules(notebooks) == ["numpy", "scipy.stats", "sklearn.datasets"]
