"""Equivalence cases the verdict suite does not cover: a learner's in-place change to an
argument is seen by the test as in one kernel.

The main equivalence check (the reference, the untouched stubs, partly wrong work and every
wrong answer and correct variant of every lesson, graded by real `nbgrader autograde` and by
`descentlab grade` and compared per test cell) is tests/test_verdicts.py.
"""
from __future__ import annotations


from grading_support import REPO, nbgrader, read_scores
from gradehelp import grade, scores_of, stored_result, submit

from descentlab.course import Course

ASSIGNMENTS = Course(REPO).assignment_ids()


MUTATES_ITS_INPUT = '''def cross_entropy_grad(logits, labels):
    logits -= np.max(logits, axis=1, keepdims=True)   # changes the caller's array
    probs = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    labels = np.asarray(labels, dtype=int)
    probs[np.arange(len(labels)), labels] -= 1.0
    return probs / len(labels)
'''


def test_in_place_changes_to_arguments_are_seen_as_in_one_kernel(course_copy, bwrap_available):
    """A function that changes its input array passes every value check but fails the
    hidden "must not change its input" check under nbgrader; the sandbox copies arguments,
    so the grader writes such changes back into the test's arrays to judge the same."""
    root = course_copy("01_objective_functions")
    submit(root, "mutator", {"cross_entropy_grad": MUTATES_ITS_INPUT})
    nbgrader(root, "autograde", "01_objective_functions", "--force")
    expected = {gid: s for gid, (s, _) in read_scores(root, "01_objective_functions", "mutator").items()}
    assert expected["test_cross_entropy_grad"] == 0.0 and sum(expected.values()) == 12.0
    grade(root)
    assert scores_of(stored_result(root, "mutator")) == expected
