"""Quizzes that test: choices in a per-learner shuffled order, sealed keys in the workspace."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from descentlab import Quiz
from descentlab.course import LESSON_IDS, find_course
from descentlab.learner_seed import SEED_FILE, read_seed
from descentlab.quiz import choice_order
from descentlab.quiz_bank import QuizError, load_quiz
from descentlab.quiz_seal import choice_key, seal_bank_text
from descentlab.start import sync_workspace

REPO = Path(__file__).resolve().parents[1]


def shown_texts(view) -> list[str]:
    if view.question.type == "numeric":
        return []
    return [row.children[1].value for row in view.children[1].children]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("learner") / "ws"
    sync_workspace(find_course(REPO), target)
    return target


def test_the_right_choice_is_not_always_shown_first():
    firsts = []
    for lesson_id in LESSON_IDS:
        quiz = Quiz(lesson_id, progress_path=Path("/nonexistent/.descentlab/progress.json"), seed="a" * 32)
        for view in quiz.views:
            if view.question.type != "numeric":
                firsts.append(view.order[0] in view.question.correct_choices)
                assert sorted(view.order) == list(range(len(view.question.choices)))
    # The course source lists a right choice first in every question; shuffled, far from all are.
    assert all(q.choices[0].correct for i in LESSON_IDS for q in load_quiz(i).questions if q.choices)
    assert 0 < sum(firsts) < 0.6 * len(firsts), (sum(firsts), len(firsts))


def test_order_is_stable_for_one_seed_and_differs_between_seeds():
    bank = load_quiz("02_gradient_descent")
    orders = {seed: [choice_order(seed, bank.lesson, q) for q in bank.questions] for seed in ("1" * 32, "2" * 32)}
    assert orders["1" * 32] == [choice_order("1" * 32, bank.lesson, q) for q in bank.questions]
    assert orders["1" * 32] != orders["2" * 32]


def test_letters_follow_the_shown_order_and_answers_use_bank_indices(tmp_path):
    quiz = Quiz("01", progress_path=tmp_path / ".descentlab" / "progress.json", seed="c" * 32)
    view = next(v for v in quiz.views if v.question.type == "single" and v.order[0] != v.question.correct_choices[0])
    right = view.question.correct_choices[0]
    assert shown_texts(view)[0] != view.question.choices[right].text
    assert view.boxes[right].description == view.letter(right) != "A"
    assert quiz.answer(view.question.id, [right]) is True
    assert f"<b>{view.letter(right)}</b>" in view.feedback.value


def test_workspace_seed_is_made_once_and_orders_its_quizzes(workspace):
    state = workspace / ".descentlab"
    seed = (state / SEED_FILE).read_text().strip()
    assert len(seed) == 32 and read_seed(state) == seed
    sync_workspace(find_course(REPO), workspace)
    assert (state / SEED_FILE).read_text().strip() == seed
    progress = state / "progress.json"
    one, two = Quiz("03", progress_path=progress), Quiz("03", progress_path=progress)
    assert one.seed == seed
    assert [shown_texts(v) for v in one.views] == [shown_texts(v) for v in two.views]


def test_saved_answers_come_back_in_the_shuffled_order(tmp_path):
    progress = tmp_path / "ws" / ".descentlab" / "progress.json"
    quiz = Quiz("01", progress_path=progress, seed="d" * 32)
    q = next(v.question for v in quiz.views if v.question.type == "multiple")
    picks = list(q.correct_choices)
    assert quiz.answer(q.id, picks) is True
    # progress written by the old, unshuffled widget had the same shape: choice texts
    saved = json.loads(progress.read_text())["quizzes"]["01_objective_functions"][q.id]
    assert saved["answer"] == [q.choices[i].text for i in picks]
    again = Quiz("01", progress_path=progress, seed="d" * 32)
    assert again.view(q.id).picked() == picks and again.view(q.id).correct is True
    assert shown_texts(again.view(q.id)) == shown_texts(quiz.view(q.id))


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_sealed_workspace_bank_keeps_no_key_in_plain_text_and_grades_the_same(workspace, lesson_id):
    path = workspace / "lessons" / "quizzes" / f"{lesson_id}.yml"
    text = path.read_text()
    data = yaml.safe_load(text)
    for q in data["questions"]:
        assert "answer" not in q and "salt" in q
        for c in q.get("choices", []):
            assert "correct" not in c and len(c["key"]) == 32
    source, sealed = load_quiz(lesson_id), load_quiz(path)
    for a in source.questions:
        b = sealed.question(a.id)
        assert {c.text for c in b.choices} == {c.text for c in a.choices}
        assert {b.choices[i].text for i in b.correct_choices} == {a.choices[i].text for i in a.correct_choices}
        if a.type == "numeric":
            assert b.answer == a.answer and b.tolerance == a.tolerance
            sealed_value = next(q for q in data["questions"] if q["id"] == a.id)["sealed_answer"]
            assert len(sealed_value) == 16 and str(a.answer) not in sealed_value


def test_quiz_in_a_workspace_reads_the_sealed_copy(workspace, monkeypatch):
    monkeypatch.chdir(workspace / "lessons")
    quiz = Quiz("01")
    assert quiz.bank.path == workspace / "lessons" / "quizzes" / "01_objective_functions.yml"
    q = quiz.bank.question("objective-vs-machinery")
    right = [c.text for c in q.choices if c.correct]
    assert right == ["The objective function"]
    assert quiz.answer(q.id, [q.choices.index(next(c for c in q.choices if not c.correct))]) is False


def test_a_tampered_key_is_reported_with_file_line_and_question(tmp_path):
    course = (REPO / "lessons" / "quizzes" / "01_objective_functions.yml").read_text()
    sealed = seal_bank_text(course, "e" * 32)
    data = yaml.safe_load(sealed)
    q = data["questions"][0]
    wrong = next(c for c in q["choices"] if c["key"] != choice_key(q["salt"], c["text"], True))
    tampered = sealed.replace(wrong["key"], "0" * 32)
    path = tmp_path / "01_objective_functions.yml"
    path.write_text(tampered)
    with pytest.raises(QuizError) as info:
        load_quiz(path)
    (fault,) = info.value.faults
    assert fault.subject == f"question {q['id']!r}" and fault.line > 0
    assert "matches neither verdict" in fault.message
    assert tampered.splitlines()[fault.line - 1].strip() == f"key: {'0' * 32}"


def test_a_sealed_field_in_a_plain_bank_is_a_fault(tmp_path):
    path = tmp_path / "01_objective_functions.yml"
    path.write_text((REPO / "lessons" / "quizzes" / "01_objective_functions.yml").read_text().replace(
        "        correct: true\n", "        key: abc\n", 1))
    with pytest.raises(QuizError, match="'key' belongs to sealed banks"):
        load_quiz(path)


def test_resync_refreshes_an_old_plain_copy_the_learner_never_changed(tmp_path):
    """A workspace made before sealing has plain copies; the next start seals them."""
    target = tmp_path / "ws"
    sync_workspace(find_course(REPO), target)
    plain = (REPO / "lessons" / "quizzes" / "02_gradient_descent.yml").read_bytes()
    rel = "lessons/quizzes/02_gradient_descent.yml"
    (target / rel).write_bytes(plain)
    import hashlib

    # the first manifests were path -> SHA-256 of the copied file, as the old start wrote them
    (target / ".descentlab" / "manifest.json").write_text(json.dumps({rel: hashlib.sha256(plain).hexdigest()}))
    report = sync_workspace(find_course(REPO), target)
    assert report.refreshed == [rel]
    assert "correct: true" not in (target / rel).read_text()
