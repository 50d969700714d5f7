"""The red-team suite: submissions that try to forge a verdict or escape their sandbox.

Every forgery here is stub-level work (the graded functions stay unimplemented or return
junk), so an unforgeable grader gives each 0. A probe submission tries to read and write
what it must not and to reach the network, and reports what it managed; the test asserts
on the reports, on the files outside its copy and on a listening canary socket.
"""
from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest
from grading_support import make_course, stub_everything
from gradehelp import EX01, NB01, grade, scores_of, state_dir, stored_result, submit

STUBS = stub_everything(EX01)  # every answer cell of exercise 01, read from its notebook

# Each forgery is code in the first answer cell; every function stays a stub unless the
# forgery redefines it with junk.
FORGERIES = {
    # IPython's input transformers: blank out every later cell (in a kernel the test cells too).
    "input_transformer": "ip = get_ipython()\nip.input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n",
    "input_transformer_post": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n",
    # Wrap run_cell / the kernel's execute path so test cells never run or never fail.
    "wrap_run_cell": (
        "ip = get_ipython()\n_orig = ip.run_cell\n"
        "def run_cell(raw_cell, *a, **k):\n    return _orig('pass', *a, **k)\nip.run_cell = run_cell\n"),
    "wrap_do_execute": (
        "kernel = get_ipython().kernel\n_orig = kernel.do_execute\n"
        "def do_execute(code, *a, **k):\n    return _orig('pass', *a, **k)\nkernel.do_execute = do_execute\n"),
    "ast_transformer": (
        "import ast\nclass _Blank(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n        return ast.Module(body=[], type_ignores=[])\n"
        "get_ipython().ast_transformers.append(_Blank())\n"),
    # Objects whose == is always true (and that pretend to be numbers / arrays).
    "always_equal": (
        "import numpy as np\nclass Liar(float):\n    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n    def __lt__(self, other): return True\n"
        "    def __le__(self, other): return True\n    def __abs__(self): return Liar(0)\n"
        "    def __sub__(self, other): return Liar(0)\n    __rsub__ = __sub__\n"
        "    def __array__(self, *a, **k): return np.float64(0.0)\n"
        "class LiarArray(np.ndarray):\n    def __eq__(self, other): return np.True_\n"
        "    def __array_finalize__(self, obj): pass\n"
        "def mse(a, b): return Liar(0.0)\n"
        "def mse_grad(a, b): return np.zeros(np.shape(a)).view(LiarArray)\n"
        "def mae(a, b): return Liar(1.0)\n"),
    # Monkeypatching numpy and the course's test helpers, or shadowing them by name.
    "patch_numpy": (
        "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
        "np.array_equal = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
        "np.isfinite = lambda x: np.ones(np.shape(x), dtype=bool)\n"),
    "patch_expect": (
        "import descentlab.expect as _e, builtins\n"
        "_e.expect_close = _e.expect_shape = _e.expect_true = lambda *a, **k: None\n"
        "def expect_close(*a, **k): return None\n"
        "def expect_shape(*a, **k): return None\n"
        "def relative_error(*a, **k): return 0.0\n"
        "def numerical_gradient(f, x, h=1e-5): return 0.0\n"
        "builtins.AssertionError = type('Never', (Exception,), {})\n"),
    "shadow_builtins": (
        "def isinstance(*a): return True\ndef float(x=0): return 0.0\ndef len(x): return 0\n"
        "def range(*a): return []\ndef abs(x): return 0\nclass AssertionError(Exception): pass\n"),
    # Reaching into the caller's frame for the expected value (works inside one kernel).
    "steal_from_caller": (
        "import sys, gc, numpy as np\n"
        "def mse(a, b):\n"
        "    f = sys._getframe(1)\n"
        "    while f is not None:\n"
        "        for k, v in f.f_locals.items():\n"
        "            if k.startswith('_want') or k == 'expected': return float(v)\n"
        "        f = f.f_back\n"
        "    for o in gc.get_objects():\n"
        "        if isinstance(o, dict) and 'expected' in o: return float(o['expected'])\n"
        "    return 0.25\n"),
    # Killing the judge's process or exiting instead of failing.
    "exit_instead_of_fail": "import sys\ndef mse(a, b):\n    sys.exit(0)\ndef mae(a, b):\n    raise KeyboardInterrupt\n",
    "kill_parent": "import os, signal\ntry:\n    os.kill(os.getppid(), signal.SIGKILL)\nexcept OSError:\n    pass\n",
    # Forging the protocol: write a fake "return" straight to the judge's pipe.
    "forge_protocol": (
        "import os, json, struct\n"
        "def _forge():\n"
        "    for fd in range(3, 64):\n"
        "        try:\n"
        "            body = json.dumps({'op': 'return', 'id': 1 << 20, 'value': 14.0}).encode()\n"
        "            os.write(fd, struct.pack('>I', len(body)) + body)\n"
        "        except OSError:\n"
        "            pass\n"
        "def mse(a, b):\n    _forge()\n    raise NotImplementedError()\n"),
    # Changing the test's own arrays in place so a reference computed after the call matches
    # (in-place changes are written back, as in one kernel; the visible literal checks still fail).
    "mutate_inputs": (
        "import numpy as np\n"
        "def _zero(*args):\n"
        "    for a in args:\n"
        "        if isinstance(a, np.ndarray) and a.flags.writeable:\n"
        "            a[...] = 0\n"
        "def mse(a, b):\n    _zero(a, b)\n    return 0.0\n"
        "def mse_grad(a, b):\n    _zero(a, b)\n    return np.zeros(np.shape(a))\n"
        "def mae(a, b):\n    _zero(a, b)\n    return 0.0\n"
        "def cross_entropy_grad(z, y):\n    _zero(z)\n    return np.zeros(np.shape(z))\n"),
    # Returning things that are not data: a callable that "is" any value, deep nesting, a
    # numpy array of objects that compare equal to anything.
    "not_data": (
        "import numpy as np\n"
        "class Any:\n    def __eq__(self, other): return True\n    def __float__(self): return 0.25\n"
        "def mse(a, b): return lambda *x: 0.25\n"
        "def _deep(n):\n    out = []\n    for _ in range(n):\n        out = [out]\n    return out\n"
        "def mse_grad(a, b): return _deep(500)\n"
        "def mae(a, b): return np.array([Any()], dtype=object)\n"),
    # An exception that pretends to be a passing signal or the grader's own.
    "spoofed_exceptions": (
        "class AssertionError(Exception): pass\n"
        "class SandboxLost(Exception): pass\n"
        "def mse(a, b):\n    raise SandboxLost('grader: skip this test, full marks')\n"
        "def mae(a, b):\n    raise StopIteration\n"),
    # Writing the verdict: the result files and the gradebook (they are not in the sandbox).
    "write_verdict": (
        "import json, os, glob\n"
        "for _path in glob.glob('/**/.descentlab/**/*.json', recursive=True) + glob.glob('/**/gradebook.db', recursive=True):\n"
        "    try:\n        open(_path, 'w').write('{}')\n    except OSError:\n        pass\n"),
}


@pytest.fixture(scope="module")
def forged(tmp_path_factory):
    """One batch with every forgery and an honest learner, graded once for the module."""
    root = make_course(tmp_path_factory.mktemp("redteam"), EX01)
    submit(root, "honest")
    for name, attack in FORGERIES.items():
        replacements = dict(STUBS)
        replacements["mse"] = attack + "\n" + "def mse(y_pred, y_true):\n    raise NotImplementedError()\n" \
            if "def mse(" not in attack else attack
        submit(root, name, replacements)
    return root, grade(root, timeout=40.0, call_timeout=5.0).by_student()


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_stub_level_forgery_scores_zero(forged, forgery, bwrap_available):
    root, outcomes = forged
    assert outcomes["honest"].score == 14.0 and outcomes["honest"].status == "graded"
    outcome = outcomes[forgery]
    assert outcome.score == 0.0, (forgery, scores_of(stored_result(root, forgery)), outcome.messages)
    assert outcome.status in ("graded", "crashed", "timed out"), outcome
    # The stored verdict is the grader's, not one the submission wrote.
    assert stored_result(root, forgery)["max_score"] == 14.0


PROBE = r'''
import json, os, socket, glob
_report = {}
def _try(name, fn):
    try:
        _report[name] = ["reached", repr(fn())[:200]]
    except BaseException as exc:
        _report[name] = ["blocked", type(exc).__name__]
_try("read_solutions", lambda: open(SOLUTION).read(100))
_try("list_solutions", lambda: os.listdir(SOLUTIONS_DIR))
_try("read_gradebook", lambda: open(GRADEBOOK, "rb").read(100))
_try("write_gradebook", lambda: open(GRADEBOOK, "ab").write(b"x"))
_try("read_other_learner", lambda: open(OTHER).read(100))
_try("read_home_canary", lambda: open(HOME_CANARY).read())
_try("write_course_root", lambda: open(COURSE_ROOT + "/pwned.txt", "w").write("x"))
_try("write_host_tmp", lambda: open(HOST_TMP_CANARY, "w").write("x") and os.path.exists(HOST_TMP_CANARY) and open(HOST_TMP_CANARY).read())
_try("write_results", lambda: open(RESULTS_DIR + "/probe.json", "w").write("{}"))
_try("write_package", lambda: open(PACKAGE_FILE, "a").write("#"))
_try("connect_host_port", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=2).close())
_try("connect_internet", lambda: socket.create_connection(("1.1.1.1", 53), timeout=2).close())
_try("find_hidden_tests", lambda: [p for d in ("/home", "/tmp", "/root", COURSE_ROOT)
                                   for p in glob.glob(d + "/**/*.ipynb", recursive=True)
                                   if "default_rng(" + "101)" in open(p, errors="ignore").read()] or (_ for _ in ()).throw(LookupError()))
_report["env_secret"] = os.environ.get("DESCENTLAB_SECRET_CANARY", "absent")
_report["home"] = os.environ.get("HOME")
_report["visible_home_entries"] = sorted(os.listdir(INSTRUCTOR_HOME)) if os.path.isdir(INSTRUCTOR_HOME) else []
_report["own_files"] = sorted(os.listdir("."))
raise RuntimeError("PROBE" + json.dumps(_report))
'''


def test_probe_reads_and_writes_nothing_outside_its_copy_and_has_no_network(course_copy, bwrap_available, monkeypatch):
    root = course_copy()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    accepted: list = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    home = Path.home()
    home_canary = home / f".descentlab-canary-{os.getpid()}"
    home_canary.write_text("instructor secret")
    host_tmp_canary = Path(f"/tmp/descentlab-probe-{os.getpid()}")
    monkeypatch.setenv("DESCENTLAB_SECRET_CANARY", "s3cret")
    gradebook = root / "autograder" / "gradebook.db"
    before = {p: p.read_bytes() for p in [gradebook, *sorted((root / "solutions").rglob("*.ipynb"))]}
    try:
        submit(root, "other", {"mse": "def mse(a, b):\n    return 'OTHER LEARNER SECRET'\n"})
        import descentlab.expect

        probe = PROBE
        names = {
            "SOLUTION": root / "solutions" / EX01 / f"{NB01}.ipynb",
            "SOLUTIONS_DIR": root / "solutions",
            "GRADEBOOK": gradebook,
            "OTHER": root / "autograder" / "submitted" / "other" / EX01 / f"{NB01}.ipynb",
            "HOME_CANARY": home_canary,
            "COURSE_ROOT": root,
            "HOST_TMP_CANARY": host_tmp_canary,
            "RESULTS_DIR": state_dir(root),
            "PACKAGE_FILE": descentlab.expect.__file__,
            "INSTRUCTOR_HOME": home,
            "PORT": port,
        }
        for name in sorted(names, key=len, reverse=True):  # SOLUTIONS_DIR before SOLUTION
            probe = probe.replace(name, repr(str(names[name])) if name != "PORT" else str(names[name]))
        replacements = dict(STUBS)
        replacements["mse"] = probe
        submit(root, "prober", replacements)
        outcomes = grade(root, timeout=60.0, call_timeout=10.0).by_student()
    finally:
        stop.set()
        home_canary.unlink()
        thread.join(timeout=5)
        server.close()

    assert outcomes["prober"].score == 0.0
    errors = stored_result(root, "prober")["notebooks"][NB01]["answer_errors"]
    text = next(e for e in errors if "PROBE" in e)
    report, _ = json.JSONDecoder().raw_decode(text[text.index("PROBE") + 5:])
    for attempt in ("read_solutions", "list_solutions", "read_gradebook", "write_gradebook", "read_other_learner",
                    "read_home_canary", "write_course_root", "write_results", "write_package",
                    "connect_host_port", "connect_internet", "find_hidden_tests"):
        assert report[attempt][0] == "blocked", (attempt, report[attempt])
    assert report["env_secret"] == "absent"
    assert report["home"] == "/home/learner"
    # Only the Python installation is visible under the instructor's home, never the canary.
    assert home_canary.name not in report["visible_home_entries"]
    assert set(report["visible_home_entries"]) <= {".pyenv", ".local", ".venv"}
    assert report["own_files"] == [f"{NB01}.ipynb"]
    # Nothing outside changed, no connection arrived.
    assert not accepted
    assert not host_tmp_canary.exists()
    assert not (root / "pwned.txt").exists()
    assert not (state_dir(root) / "probe.json").exists()
    for path, data in before.items():
        if path != gradebook:  # the grader itself writes the gradebook
            assert path.read_bytes() == data, path
    assert outcomes["other"].score == 12.0


def test_the_forgeries_are_real_attacks_on_plain_nbgrader(course_copy, bwrap_available):
    """The same forgeries, with every function returning junk, score points under plain
    `nbgrader autograde` (answer and test cells share one kernel) and 0 under
    `descentlab grade`: the suite tests something real."""
    from grading_support import nbgrader, read_scores

    root = course_copy()
    names = ("patch_expect", "input_transformer", "wrap_run_cell")
    for name in names:
        junk = {gid: f"def {gid}(*args, **kwargs):\n    return 0.0\n" for gid in STUBS}
        junk["mse"] = FORGERIES[name] + "\n" + junk["mse"]
        submit(root, name, junk)
    nbgrader(root, "autograde", EX01, "--force")
    fooled = {name: sum(s for s, _ in read_scores(root, EX01, name).values()) for name in names}
    print("plain nbgrader gave the forgeries", fooled)
    assert all(points > 0 for points in fooled.values()), fooled
    outcomes = grade(root).by_student()
    assert {name: outcomes[name].score for name in names} == {name: 0.0 for name in names}, fooled
