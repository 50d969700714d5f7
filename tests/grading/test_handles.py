"""Objects of the learner's classes through the hardened grader: what works, and attacks.

Each test grades a small nbgrader notebook (one answer cell, a few test cells) with the
real judge and a real bubblewrap sandbox. The learner's objects stay in the sandbox; the
test cells hold handles. The attacks (forged ids, handles from another submission,
private and special names, lying objects, objects returning themselves, cycles, huge
fan-out, a runner taken over) must each end as a clear message or status and never raise
a score or reach the judge's objects.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest

from descentlab.grade.handles import MAX_HANDLES, HandleError, HandleTable, RemoteObject, check_name
from descentlab.grade.judge import JudgeConfig, judge_notebook
from descentlab.grade.sandbox import Limits

REPO = Path(__file__).resolve().parents[2]


def _cell(kind: str, source: str, grade_id: str | None = None, points: float = 0) -> dict:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
    if kind == "setup":
        meta = {"grade": False, "locked": True, "solution": False}
    elif kind == "answer":
        meta = {"grade": False, "locked": False, "solution": True}
    else:
        meta = {"grade": True, "locked": True, "solution": False, "points": points}
    cell["metadata"]["nbgrader"] = {**meta, "grade_id": grade_id or kind, "schema_version": 3, "task": False}
    return cell


def _notebook(answer: str, tests: list[str]) -> dict:
    cells = [_cell("setup", "import numpy as np"), _cell("answer", answer, "answer")]
    cells += [_cell("test", source, f"test_{i}", 1) for i, source in enumerate(tests)]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def judge(answer: str, tests: list[str], reference: str = "pass", call_timeout: float = 20.0):
    """Grade ``answer`` (the learner's cell) against ``tests``; returns the verdict."""
    config = JudgeConfig("bwrap", Limits(), (REPO,), call_timeout, time.monotonic() + 120)
    return judge_notebook("handles", _notebook(reference, tests), _notebook(answer, tests), [], config)


def scores(verdict) -> list[float]:
    return [t.score for t in verdict.tests]


def errors(verdict) -> list[str]:
    return [t.error for t in verdict.tests]


VECTOR = '''
class Vec:
    """A 2-vector with operators, a method returning a new object, and plain attributes."""

    def __init__(self, x, y):
        self.x, self.y = float(x), float(y)
        self.history = []

    def __add__(self, other):
        other = other if isinstance(other, Vec) else Vec(other, other)
        return Vec(self.x + other.x, self.y + other.y)

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, k):
        return Vec(self.x * k, self.y * k)

    __rmul__ = __mul__

    def __truediv__(self, k):
        return Vec(self.x / k, self.y / k)

    def __pow__(self, k):
        return Vec(self.x ** k, self.y ** k)

    def __neg__(self):
        return Vec(-self.x, -self.y)

    def __lt__(self, other):
        return self.norm() < other.norm()

    def norm(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5

    def scaled(self, k=1.0):
        self.history.append(k)
        return self * k

    def me(self):
        return self


def midpoint(a, b):
    return (a + b) / 2


def apply_to(f, v):
    return f(v)
'''


def test_objects_work_through_handles_and_in_one_kernel(bwrap_available):
    """Operators on either side, methods, attributes read and set, handles passed back as
    arguments and returned again, isinstance, comparisons; the same cells pass in one
    Python namespace (as under nbgrader), so nothing here is grader-only."""
    tests = [
        "v = Vec(3, 4)\nassert (v.x, v.y) == (3.0, 4.0) and v.norm() == 5.0",
        "w = 2 * Vec(1, 2) + 1\nassert (w.x, w.y) == (3.0, 5.0)\nu = 1 - Vec(1, 2)\nassert (u.x, u.y) == (0.0, -1.0)",
        "w = (-Vec(1, 2)) ** 2 / 2 - Vec(0.5, 1)\nassert (w.x, w.y) == (0.0, 1.0)",
        "v = Vec(1, 1)\nv.x = 10\nassert v.x == 10.0 and v.norm() > 10",
        "a, b = Vec(0, 0), Vec(2, 4)\nm = midpoint(a, b)\nassert (m.x, m.y) == (1.0, 2.0)",
        "v = Vec(1, 0)\nv.partner = Vec(0, 1)\nassert v.partner.y == 1.0\nv.partner.partner = v\nassert v.partner.partner == v",
        "v = Vec(1, 2)\nassert v.me() == v and v.me() is v.me() and v != Vec(1, 2)",
        "assert isinstance(Vec(1, 2), Vec) and not isinstance(3.0, Vec)",
        "assert Vec(1, 1) < Vec(3, 3) and not (Vec(3, 3) < Vec(1, 1))",
        "v = Vec(1, 2)\ns = v.scaled(k=3)\nassert (s.x, s.y, v.history) == (3.0, 6.0, [3])",
        # A test's callable, called by learner code with a learner object: it gets a handle.
        "assert apply_to(lambda v: v.x + 1, Vec(2, 0)) == 3.0",
    ]
    namespace: dict = {}
    exec(VECTOR, namespace)  # noqa: S102 - the same cells in one namespace, as in a kernel
    for source in tests:
        exec(source, namespace)  # noqa: S102
    verdict = judge(VECTOR, tests)
    assert scores(verdict) == [1.0] * len(tests), errors(verdict)
    assert not verdict.events and not verdict.answer_errors


LIAR = '''
class Liar:
    """Says it equals everything, is true, converts to any number and sneaks in a pickle."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __bool__(self): return True
    def __lt__(self, other): return True
    def __float__(self): return 0.25
    def __len__(self): return 3
    def __array__(self, dtype=None): return np.full(3, 0.25)
    def __reduce__(self): return (exec, ("import os; os.system('touch /tmp/descentlab-pwned')",))
    def __getattr__(self, name): return 0.25

def mse(a, b):
    return Liar()
'''


@pytest.mark.parametrize("check", [
    "assert mse([1], [2]) == 0.25",
    "assert not (mse([1], [2]) != 0.25)",
    "assert mse([1], [2])",
    "from descentlab.expect import expect_close\nexpect_close('mse', mse([1], [2]), 0.25)",
    "assert float(mse([1], [2])) == 0.25",
    "assert np.allclose(np.asarray(mse([1], [2]), dtype=float), 0.25)",
    "assert mse([1], [2]) < 0.3",
    "import pickle\npickle.loads(pickle.dumps(mse([1], [2])))\nassert True",
    "import copy\ncopy.deepcopy(mse([1], [2]))",
    "assert mse([1], [2])._anything == 0.25",
])
def test_a_lying_object_passes_nothing(check, bwrap_available):
    verdict = judge(LIAR, [check])
    assert scores(verdict) == [0.0], errors(verdict)
    assert not Path("/tmp/descentlab-pwned").exists()


def test_private_and_special_names_are_refused_with_a_clear_message(bwrap_available):
    tests = [f"Vec(1, 2).{name}" for name in ("_x", "__class__.__name__", "__dict__", "__reduce__", "__getattr__",
                                              "__init__.__globals__")]
    tests.append("getattr(Vec(1, 2), '__reduce_ex__')(2)")
    tests.append("Vec(1, 2).__setattr__('_hidden', 1)")
    verdict = judge(VECTOR, tests)
    # '__class__' answers with the judge-side proxy class itself (isinstance needs it), whose
    # __name__ says what it is; everything else is refused.
    assert scores(verdict)[0] == 0.0 and all(s == 0.0 for s in scores(verdict)[2:]), errors(verdict)
    for message in errors(verdict)[:1] + errors(verdict)[2:]:
        assert "private and special attributes" in message, message
    assert not verdict.events


def test_only_public_names_pass_the_name_check():
    assert check_name("grad") == "grad"
    for name in ("_x", "__class__", "__dict__", "a.b", "", 3):
        with pytest.raises(HandleError):
            check_name(name)


def test_objects_returning_themselves_and_cycles_stay_bounded(bwrap_available):
    answer = VECTOR + '''
class Knot:
    def __init__(self):
        self.loop = []
        self.loop.append(self.loop)
        self.me = self
'''
    tests = [
        # 2000 calls that return the same object give the same handle every time.
        "v = Vec(1, 2)\nw = v\nfor _ in range(2000):\n    w = w.me()\nassert w == v",
        # An object whose attribute is itself, and a list containing itself.
        "k = Knot()\nassert k.me.me.me == k",
        "Knot().loop",
    ]
    verdict = judge(answer, tests)
    assert scores(verdict) == [1.0, 1.0, 0.0], errors(verdict)
    assert "Knot.loop cannot be sent to the tests: data nested deeper" in errors(verdict)[2]
    assert not verdict.events


FAN_OUT = '''
class Leaf:
    pass

def many(n):
    return [Leaf() for _ in range(n)]
'''


def test_huge_fan_out_is_refused_in_the_sandbox(bwrap_available):
    verdict = judge(FAN_OUT, ["assert len(many(1000)) == 1000", "many(1_000_000)", "assert len(many(10)) == 10"])
    assert scores(verdict) == [1.0, 0.0, 1.0], errors(verdict)
    assert f"more than {MAX_HANDLES} objects" in errors(verdict)[1]
    assert not verdict.events  # a clear error in that test, the sandbox kept serving


HIJACK = '''
import gc
from descentlab.grade import handles as _h
_table = next(o for o in gc.get_objects() if type(o) is _h.HandleTable)

class Leaf:
    pass

def flood(n):
    _table.limit = 10 ** 9          # lift the sandbox's own limit
    return [Leaf() for _ in range(n)]

def forged(kind):
    real = _table.tag
    def tag(value):
        if kind == "bad id":
            return {"$": "obj", "id": "../../judge", "cls": "Leaf"}
        if kind == "callback":
            return {"$": "cb", "id": 1}
        if kind == "function":
            return {"$": "fn", "name": "expect_close"}
        return real(value)
    _table.tag = tag
    return Leaf()

def fine():
    return 1.0
'''


@pytest.mark.parametrize("attack, status_word", [
    ("flood(MAX + 10)", f"more than {MAX_HANDLES} learner objects"),
    ("forged('bad id')", "bad handle id"),
    ("forged('callback')", "a function the judge never sent"),
    ("forged('function')", "'fn' reference"),
])
def test_a_taken_over_runner_cannot_forge_handles_or_flood_the_judge(attack, status_word, bwrap_available):
    """Learner code rewires the sandbox's handle table: a flood past the judge's own bound,
    a malformed id, and tags naming the judge's callbacks or functions. Each is a protocol
    error: the sandbox is stopped, that test scores 0, the cell before it keeps its point,
    and the status says why."""
    tests = ["assert fine() == 1.0", f"MAX = {MAX_HANDLES}\n{attack}"]
    verdict = judge(HIJACK, tests, call_timeout=60)
    assert scores(verdict) == [1.0, 0.0], errors(verdict)
    assert verdict.events and verdict.events[0].kind == "crash", verdict.events
    assert status_word in verdict.events[0].message, verdict.events[0].message


SHARED = '''
class Box:
    def __init__(self, value):
        self.value = value
'''

# A course cell that (wrongly) keeps an object in a module between submissions: the next
# submission's test finds the previous learner's handle there.
LEAKY_TEST = '''
import descentlab.expect as _module
_previous = getattr(_module, "KEY", None)
setattr(_module, "KEY", Box(SECRET))
if _previous is not None:
    USE
'''


def test_a_handle_from_another_submission_is_refused(bwrap_available):
    import descentlab.expect as module

    uses = ["assert _previous.value != SECRET", "assert Box(_previous).value.value != SECRET"]
    try:
        cells = [LEAKY_TEST.replace("USE", use).replace("KEY", f"_leaked_box_{i}") for i, use in enumerate(uses)]
        first = judge(SHARED, [cell.replace("SECRET", "'first'") for cell in cells])
        second = judge(SHARED, [cell.replace("SECRET", "'second'") for cell in cells])
    finally:
        for i in range(len(uses)):
            module.__dict__.pop(f"_leaked_box_{i}", None)
    assert scores(first) == [1.0, 1.0]
    assert scores(second) == [0.0, 0.0]
    for message in errors(second):
        assert "another submission" in message, errors(second)


def test_handles_of_a_crashed_sandbox_are_refused_after_the_restart(bwrap_available):
    answer = SHARED + "\nimport os\n\ndef crash():\n    os._exit(3)\n"
    tests = ["b = Box(1.0)\ntry:\n    crash()\nexcept Exception:\n    pass\nb.value"]
    verdict = judge(answer, tests)
    assert scores(verdict) == [0.0]
    assert "lost when the learner's process stopped" in errors(verdict)[0], errors(verdict)


def test_the_sandbox_table_resolves_only_its_own_random_ids():
    table, other = HandleTable(), HandleTable()
    namespace: dict = {"__name__": "__main__"}
    exec("class Thing:\n    pass\nthing = Thing()", namespace)  # noqa: S102 - a class defined in __main__
    tag = table.tag(namespace["thing"])
    assert table.tag(namespace["thing"]) == tag and len(tag["id"]) == 32
    assert table.resolve(tag) is namespace["thing"]
    for forged in ({**tag, "id": "0" * 32}, {**tag, "id": tag["id"].upper()}, {"$": "obj"}, {**tag, "id": 7}):
        with pytest.raises(HandleError):
            table.resolve(forged)
    with pytest.raises(HandleError):
        other.resolve(tag)  # another session's table never saw it
    assert other.tag(namespace["thing"])["id"] != tag["id"]  # ids are random per session


def test_a_remote_object_cannot_be_copied_or_pickled_in_the_judge():
    import pickle

    ref = RemoteObject(None, None, "0" * 32, "Thing")
    for attempt in (lambda: pickle.dumps(ref), lambda: copy.deepcopy(ref), lambda: copy.copy(ref), lambda: bool(ref)):
        with pytest.raises((HandleError, pickle.PicklingError, TypeError)):
            attempt()
    with pytest.raises(HandleError):
        ref._client  # noqa: B018 - private names are refused even on the judge's side
    assert ref == ref and ref != RemoteObject(None, None, "1" * 32, "Thing")
