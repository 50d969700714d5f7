"""`descentlab report`: the class report's statistics are right and its HTML is safe.

Verdicts and progress files are written directly (the report reads only files), so the
numbers are known: the item statistics are checked against numpy's correlation."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from descentlab.cli import main
from descentlab.course import Course
from descentlab.grade.verdict import CellVerdict, NotebookVerdict, SubmissionVerdict
from descentlab.item_analysis import analyse
from descentlab.report import mistake_key, render

REPO = Path(__file__).resolve().parents[1]
EX01 = "01_objective_functions"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def course(tmp_path) -> Course:
    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    shutil.copytree(REPO / "solutions" / EX01, root / "solutions" / EX01)
    shutil.copytree(REPO / "lessons" / "quizzes", root / "lessons" / "quizzes")
    return Course(root)


def _verdict(student: str, mae_ok: bool, status: str = "graded", error: str = "") -> SubmissionVerdict:
    tests = [CellVerdict("test_mse", 2, 2), CellVerdict("test_mae", 2, 2 if mae_ok else 0, "" if mae_ok else error)]
    return SubmissionVerdict(EX01, student, status=status, notebooks={"nb": NotebookVerdict("nb", tests=tests)})


def _store(course: Course, verdicts: list[SubmissionVerdict]) -> None:
    folder = course.grader_state / EX01
    folder.mkdir(parents=True)
    for v in verdicts:
        (folder / f"{len(list(folder.iterdir()))}.json").write_text(json.dumps(v.to_json()))


def _progress(course: Course, student: str, items: dict[str, tuple[bool, str]]) -> None:
    folder = course.autograder / "progress" / EX01
    folder.mkdir(parents=True, exist_ok=True)
    quiz = {q: {"answer": [text], "correct": right, "first_try": right} for q, (right, text) in items.items()}
    (folder / f"{student}.json").write_text(json.dumps({"version": 1, "quizzes": {EX01: quiz}}))


def test_report_counts_statuses_mistakes_and_escapes(course, tmp_path):
    _store(course, [
        _verdict("ada", True),
        _verdict("bob", False, error="AssertionError: wrong value from mae for [1, 2]: got 0.5, expected 0.25"),
        _verdict("cy", False, error="AssertionError: wrong value from mae for [1, 2]: got 0.7, expected 0.25"),
        _verdict(HOSTILE, False, status="timed out", error=f"mae took too long {HOSTILE}"),
    ])
    _progress(course, "ada", {"mse-by-hand": (True, "0.25"), "mae-outlier": (True, "MAE")})
    _progress(course, "bob", {"mse-by-hand": (False, "0.5"), "mae-outlier": (True, "MAE")})
    _progress(course, "cy", {"mse-by-hand": (False, "0.5"), "mae-outlier": (False, HOSTILE)})
    (course.autograder / "progress" / EX01 / "broken.json").write_text("{not json")

    page = render(course, EX01)
    assert HOSTILE not in page and html_escaped(HOSTILE) in page
    assert page.count("data:image/png;base64,") == 2  # score histogram, pass rates
    assert "timed out" in page and "test_mae" in page and "25 %" in page  # 1 of 4 pass mae
    # Two messages that differ only in their numbers are one mistake, seen twice.
    key = mistake_key("AssertionError: wrong value from mae for [1, 2]: got 0.5, expected 0.25")
    assert f"<td>2</td><td><span class=\"msg\">{html_escaped(key)}</span>" in page
    assert "broken.json: unreadable progress file" in page
    assert "0.5 (2)" in page  # the most chosen wrong answer of mse-by-hand

    assert main(["report", "1", "--course", str(course.root), "--to", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text() == page


def html_escaped(text: str) -> str:
    import html

    return html.escape(text)


def test_item_statistics_match_their_definitions():
    rng = np.random.default_rng(3)
    ability = rng.normal(size=40)
    questions = [f"q{i}" for i in range(6)]
    answers = {}
    for s, a in enumerate(ability):
        answers[f"s{s}"] = {q: {"answer": ["x"] if (right := bool(a + rng.normal() > i * 0.3 - 0.8)) else ["wrong"],
                                "correct": right, "first_try": right} for i, q in enumerate(questions)}
    stats = {s.question_id: s for s in analyse(answers, questions)}
    matrix = np.array([[answers[s][q]["first_try"] for q in questions] for s in answers], dtype=float)
    totals = matrix.sum(axis=1)
    for i, q in enumerate(questions):
        assert stats[q].difficulty == pytest.approx(matrix[:, i].mean())
        assert stats[q].point_biserial == pytest.approx(np.corrcoef(matrix[:, i], totals - matrix[:, i])[0, 1])
        order = np.argsort(totals, kind="stable")  # lowest total first, ties in learner order
        group = round(len(order) * 0.27)
        upper, lower = matrix[order[-group:], i].mean(), matrix[order[:group], i].mean()
        assert stats[q].upper_lower == pytest.approx(upper - lower)
        assert stats[q].wrong_answer == ("wrong" if matrix[:, i].min() == 0 else None)
    # The simulated items depend on ability, so they discriminate: positive on average.
    assert np.mean([s.point_biserial for s in stats.values()]) > 0.2


def test_item_without_variance_has_no_discrimination():
    answers = {f"s{i}": {"q": {"answer": ["a"], "correct": True, "first_try": True}} for i in range(5)}
    (item,) = analyse(answers, ["q"])
    assert item.difficulty == 1.0 and item.point_biserial is None and item.wrong_answer is None
