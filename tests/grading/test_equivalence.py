"""Equivalence: on honest work, `descentlab grade` gives exactly nbgrader autograde's scores.

For every assignment in solutions/, the same honest submissions (the reference solution,
the untouched stubs, and partly wrong work: some answers wrong, some missing) are graded by
real `nbgrader autograde` and by the hardened grader, and compared per test cell.
"""
from __future__ import annotations

import ast

import pytest
from grading_support import REPO, nbgrader, read_scores
from gradehelp import STUB, grade, reference_sources, scores_of, stored_result, submit

from descentlab.course import Course

ASSIGNMENTS = Course(REPO).assignment_ids()


def _wrong(source: str) -> str:
    """A plausible wrong answer with the same signature: every function returns 0.0."""
    tree = ast.parse(source)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    lines = []
    for fn in functions:
        lines.append(f"def {fn.name}({ast.unparse(fn.args)}):\n    return 0.0\n")
    return "\n".join(lines) or source


def _honest_submissions(assignment_id: str) -> dict[str, dict]:
    answers = {gid: src for cells in reference_sources(REPO, assignment_id).values() for gid, src in cells.items()}
    ids = list(answers)
    partly = {gid: (_wrong(answers[gid]) if i % 3 == 0 else STUB if i % 3 == 1 else answers[gid])
              for i, gid in enumerate(ids)}
    return {
        "correct": {},
        "stubs": {gid: STUB for gid in ids},
        "partly_wrong": partly,
    }


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_same_scores_as_nbgrader_autograde(assignment_id, course_copy, bwrap_available):
    root = course_copy(assignment_id)
    submissions = _honest_submissions(assignment_id)
    for student, replacements in submissions.items():
        submit(root, student, replacements, assignment_id=assignment_id)
    nbgrader(root, "autograde", assignment_id, "--force")
    expected = {student: {gid: s for gid, (s, _) in read_scores(root, assignment_id, student).items()}
                for student in submissions}

    summary = grade(root, assignment_id)
    for student in submissions:
        got = scores_of(stored_result(root, student, assignment_id))
        assert got == expected[student], (assignment_id, student, got, expected[student])
        assert summary.by_student()[student].status == "graded"
    # The hardened grader wrote the same scores into the gradebook nbgrader uses.
    for student in submissions:
        in_gradebook = {gid: s for gid, (s, _) in read_scores(root, assignment_id, student).items()}
        assert in_gradebook == expected[student]
    # Sanity: the three kinds of work differ (the comparison can fail).
    totals = {student: sum(scores.values()) for student, scores in expected.items()}
    assert totals["stubs"] == 0 < totals["partly_wrong"] < totals["correct"]


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


def _object_cases(assignment_id: str):
    """WRONG and CORRECT of tests/cases/<id>_objects.py (the graded classes)."""
    import importlib.util

    path = REPO / "tests" / "cases" / f"{assignment_id}_objects.py"
    spec = importlib.util.spec_from_file_location(f"cases_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WRONG, module.CORRECT


@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", ["02_gradient_descent", "03_backpropagation"])
def test_graded_classes_score_as_under_nbgrader_autograde(assignment_id, course_copy, bwrap_available):
    """The Adam and Scalar classes: objects live in the sandbox and the tests hold handles,
    yet every honest submission (the reference, correct variants written differently, and
    plausible wrong answers) gets exactly the scores real nbgrader gives in one kernel."""
    wrong, correct = _object_cases(assignment_id)
    root = course_copy(assignment_id)
    submissions = {"reference": {}} | {case.name: {case.answer_id: case.source} for case in (*wrong, *correct)}
    for student, replacements in submissions.items():
        submit(root, student, replacements, assignment_id=assignment_id)
    nbgrader(root, "autograde", assignment_id, "--force")
    expected = {student: {gid: s for gid, (s, _) in read_scores(root, assignment_id, student).items()}
                for student in submissions}

    summary = grade(root, assignment_id, timeout=300.0)
    for student in submissions:
        assert summary.by_student()[student].status == "graded", (student, summary.by_student()[student])
        assert scores_of(stored_result(root, student, assignment_id)) == expected[student], student
    # The comparison can fail: every wrong class loses points on its test, every variant none.
    full = expected["reference"]
    for case in wrong:
        assert expected[case.name][case.target] < full[case.target], case.name
    for case in correct:
        assert expected[case.name] == full, case.name
