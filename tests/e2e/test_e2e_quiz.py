"""The Quiz widget in the browser: a right and a wrong answer each get the right verdict
and the chosen option's explanation, and the score follows."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from labdriver import code_cell, normalized_text, own_workspace, plain_snippet, problems, run_cell, write_notebook

LESSON = "01_objective_functions"


def shown_position(folder, lesson: str, q, index: int) -> int:
    """Where bank choice ``index`` is shown: the widget shuffles by the workspace's seed."""
    from descentlab.learner_seed import read_seed
    from descentlab.quiz import choice_order

    return choice_order(read_seed(folder / ".descentlab"), lesson, q).index(index)


def choose_and_check(question, position: int) -> None:
    question.locator(".dl-choice-box input[type=checkbox]").nth(position).check()
    question.locator(".dl-check").click()


def test_quiz_right_and_wrong_answers_feedback_and_score(lab_page):
    from descentlab.quiz_bank import load_quiz

    page = lab_page.page
    folder = own_workspace(lab_page.server.workspace, "e2e_quiz")
    bank = load_quiz(folder / "lessons" / "quizzes" / f"{LESSON}.yml")  # the sealed copy the widget reads
    singles = [q for q in bank.questions if q.type == "single"]
    assert len(singles) >= 2, f"the {LESSON} quiz needs two single-choice questions for this test"
    right_q, wrong_q = singles[0], singles[1]
    total = len(bank.questions)

    write_notebook(folder / "quiz.ipynb", [f'from descentlab import Quiz\nQuiz("{LESSON}")'])
    lab_page.open("e2e_quiz/quiz.ipynb")
    cell = code_cell(page, 0)
    run_cell(page, cell)

    quiz = cell.locator(".dl-quiz")
    expect(quiz).to_be_visible()
    expect(quiz.locator(".dl-question")).to_have_count(total)
    score = quiz.locator(".dl-score")
    expect(score).to_contain_text(f"Score: 0 / {total} · 0 answered")

    # A right answer: "Correct", the option's own explanation, the score goes up.
    question = quiz.locator(f".dl-q-{right_q.id}")
    index = right_q.correct_choices[0]
    choose_and_check(question, shown_position(folder, LESSON, right_q, index))
    feedback = question.locator(".dl-feedback")
    expect(feedback).to_have_class(re.compile(r"\bdl-correct\b"))
    expect(feedback).to_contain_text("Correct.")
    expect(feedback).to_contain_text(plain_snippet(right_q.choices[index].explanation, 4))
    expect(score).to_contain_text(f"Score: 1 / {total} · 1 answered · 1 right at the first try")

    # A wrong answer: "Not quite", why that option is wrong, no point; the answer stays hidden.
    question = quiz.locator(f".dl-q-{wrong_q.id}")
    index = next(i for i, c in enumerate(wrong_q.choices) if not c.correct)
    choose_and_check(question, shown_position(folder, LESSON, wrong_q, index))
    feedback = question.locator(".dl-feedback")
    expect(feedback).to_have_class(re.compile(r"\bdl-wrong\b"))
    expect(feedback).to_contain_text("Not quite.")
    expect(feedback).to_contain_text(plain_snippet(wrong_q.choices[index].explanation, 4))
    expect(feedback).to_contain_text("Retry")
    right_text = wrong_q.choices[wrong_q.correct_choices[0]].explanation
    assert plain_snippet(right_text, 4) not in normalized_text(feedback), "a first wrong try revealed the answer"
    expect(score).to_contain_text(f"Score: 1 / {total} · 2 answered · 1 right at the first try")

    assert not problems(page), "\n".join(map(str, problems(page)))
