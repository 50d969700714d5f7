"""Forged measurements (class 1) and honest exception subclasses, on exercise 05.

Exercise 05's hidden tests once measured memory with tracemalloc inside the learner's
process, where a submission could reset the peak, stop the tracing or do the work in a
forked child. They now count the activations alive at once through layer functions the
judge runs (sealed boxes), so nothing the learner's process reports decides the score.
Each forger below keeps every activation and tries to hide it; each must lose exactly the
test of the function it forges, under `descentlab grade`, in one batch with honest work.
Honest variants (an exception class of the learner's own deriving from ValueError) must
score what real `nbgrader autograde` gives them, which is full marks.
"""
from __future__ import annotations

import pytest
from grading_support import make_course

from gradehelp import grade, reference_sources, scores_of, stored_result, submit

EX05 = "05_gradient_checkpointing"
FULL = 13.0

_KEEP_ALL = ("def checkpointed_forward(x, weights, checkpoints):\n"
             "    acts = [np.asarray(x, dtype=float)]\n"
             "    for W in weights:\n"
             "        acts.append(layer_forward(acts[-1], W))\n"
             "    out, saved = acts[-1], {int(c): acts[int(c)] for c in checkpoints}\n"
             "{hide}"
             "    return out, saved\n")


def _keep_all(hide: str) -> str:
    return _KEEP_ALL.replace("{hide}", hide)


FORGED_FORWARD = {
    # The old tracemalloc measurement believed all of these.
    "reset_peak": "import tracemalloc\n" + _keep_all("    del acts\n    tracemalloc.reset_peak()\n"),
    "stop_tracing": "import tracemalloc\n" + _keep_all("    del acts\n    tracemalloc.stop()\n"),
    # Work done privately (plain numpy, a captured layer function, a forked child): what comes
    # back was not built by the layer functions the test counts.
    "private_numpy": ("def checkpointed_forward(x, weights, checkpoints):\n"
                      "    acts = [np.asarray(x, dtype=float)]\n"
                      "    for W in weights:\n"
                      "        acts.append(np.tanh(acts[-1] @ W))\n"
                      "    return acts[-1], {int(c): acts[int(c)] for c in checkpoints}\n"),
    "fork_child": ("import os, pickle\n"
                   "def checkpointed_forward(x, weights, checkpoints):\n"
                   "    r, w = os.pipe()\n"
                   "    if os.fork() == 0:\n"
                   "        acts = [np.asarray(x, dtype=float)]\n"
                   "        for W in weights:\n"
                   "            acts.append(np.tanh(acts[-1] @ W))\n"
                   "        os.write(w, pickle.dumps((acts[-1], {int(c): acts[int(c)] for c in checkpoints})))\n"
                   "        os._exit(0)\n"
                   "    os.close(w)\n"
                   "    data = b''\n"
                   "    while chunk := os.read(r, 1 << 16):\n"
                   "        data += chunk\n"
                   "    os.wait()\n"
                   "    return pickle.loads(data)\n"),
    # Keep every box but tell the judge each was let go as soon as the next one exists.
    "fake_release": ("def checkpointed_forward(x, weights, checkpoints):\n"
                     "    acts = [np.asarray(x, dtype=float)]\n"
                     "    for W in weights:\n"
                     "        acts.append(layer_forward(acts[-1], W))\n"
                     "        if len(acts) > 2 and hasattr(type(acts[-2]), '__del__'):\n"
                     "            type(acts[-2]).__del__(acts[-2])\n"
                     "    return acts[-1], {int(c): acts[int(c)] for c in checkpoints}\n"),
}
FORGED_BACKWARD = {
    "backward_reset_peak": (
        "import tracemalloc\n"
        "def checkpointed_backward(dout, weights, saved, output):\n"
        "    n = len(weights)\n"
        "    acts, count = [None] * (n + 1), 0\n"
        "    acts[n] = output\n"
        "    for i in range(n):\n"
        "        if i in saved:\n"
        "            acts[i] = saved[i]\n"
        "        else:\n"
        "            acts[i] = layer_forward(acts[i - 1], weights[i - 1])\n"
        "            count += 1\n"
        "    tracemalloc.reset_peak()\n"
        "    grads, grad = [None] * n, dout\n"
        "    for i in reversed(range(n)):\n"
        "        grad, grads[i] = layer_backward(grad, acts[i], acts[i + 1], weights[i])\n"
        "    return grad, grads, count\n"),
}


def _honest_subclass(root) -> dict:
    """The reference answers, raising a ValueError subclass of the learner's own."""
    refs = reference_sources(root, EX05)[f"{EX05}_exercise"]
    return {
        "segments": "class PlanError(ValueError):\n    pass\n\n" + refs["segments"].replace("raise ValueError(", "raise PlanError("),
        "choose_checkpoints": ("class BudgetError(ValueError):\n    pass\n\n"
                               + refs["choose_checkpoints"].replace("raise ValueError(", "raise BudgetError(")),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("measure"), EX05)
    submit(root, "honest", assignment_id=EX05)
    submit(root, "honest_subclass", _honest_subclass(root), assignment_id=EX05)
    for name, source in FORGED_FORWARD.items():
        submit(root, name, {"checkpointed_forward": source}, assignment_id=EX05)
    for name, source in FORGED_BACKWARD.items():
        submit(root, name, {"checkpointed_backward": source}, assignment_id=EX05)
    return root, grade(root, EX05, timeout=90.0, call_timeout=20.0)


def test_honest_work_scores_full_marks_with_its_own_exception_classes(batch, bwrap_available):
    root, summary = batch
    assert summary.exit_code == 0
    for student in ("honest", "honest_subclass"):
        outcome = summary.by_student()[student]
        assert outcome.score == FULL and outcome.status == "graded", (outcome, scores_of(stored_result(root, student, EX05)))


def test_nbgrader_agrees_on_the_honest_subclasses(batch, bwrap_available):
    from grading_support import nbgrader, read_scores

    root, summary = batch
    nbgrader(root, "autograde", EX05, "--force")
    for student in ("honest", "honest_subclass"):
        expected = {gid: s for gid, (s, _) in read_scores(root, EX05, student).items()}
        assert scores_of(stored_result(root, student, EX05)) == expected


@pytest.mark.parametrize("student", sorted(FORGED_FORWARD))
def test_a_forged_forward_measurement_loses_the_forward_test(batch, student, bwrap_available):
    root, summary = batch
    scores = scores_of(stored_result(root, student, EX05))
    assert scores["test_checkpointed_forward"] == 0.0, scores
    assert summary.by_student()[student].score == FULL - 2, scores
    assert summary.by_student()[student].status in ("graded", "crashed")


@pytest.mark.parametrize("student", sorted(FORGED_BACKWARD))
def test_a_forged_backward_measurement_loses_the_backward_test(batch, student, bwrap_available):
    root, summary = batch
    scores = scores_of(stored_result(root, student, EX05))
    assert scores["test_checkpointed_backward"] == 0.0 and summary.by_student()[student].score == FULL - 4, scores


def test_the_old_tracemalloc_forwarding_is_gone():
    import importlib.util

    assert importlib.util.find_spec("descentlab.grade.memory") is None
    from descentlab.grade import runner

    assert not hasattr(runner, "_measure")
