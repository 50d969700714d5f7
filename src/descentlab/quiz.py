"""The Quiz widget: a lesson's questions with Check / Retry, feedback and a running score.

``Quiz("01_objective_functions")`` (or ``Quiz("01")``) shows every question of the lesson's
bank (:mod:`descentlab.quiz_bank` loads and checks it; in a workspace the sealed copy) with
its own Check and Retry buttons, immediate feedback with explanations, and a running
score. After a wrong answer the learner sees why the option they picked is wrong; the
right answer is revealed after the second wrong try.

The choices of a question are shown in a shuffled order (:func:`choice_order`) drawn from
the workspace's seed (:mod:`descentlab.learner_seed`), the lesson and the question: the same
for one learner on every reload, different between learners, so the right answer is no longer
always choice A. Letters (A, B, ...) name the *shown* positions; the Python API
(:meth:`Quiz.answer`, :meth:`QuestionView.picked`) speaks in the bank's choice indices.

Answers are saved in the workspace's progress file (:mod:`descentlab.progress_store`) as
choice texts, so they come back in any order and survive a reshuffle.
"""
from __future__ import annotations

import hashlib
import random
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import ipywidgets as widgets

from .course import LESSONS
from .learner_seed import read_seed
from .progress_store import ProgressStore
from .quiz_bank import (  # noqa: F401  (re-exported: the names quiz.py always offered)
    QUESTION_TYPES, Choice, Question, QuizBank, QuizError, load_quiz, quiz_path,
)
from .richtext import to_html

CSS_CLASSES = (
    "dl-quiz", "dl-quiz-title", "dl-score", "dl-note", "dl-question", "dl-question-prompt",
    "dl-choices", "dl-choice", "dl-choice-box", "dl-choice-text", "dl-numeric", "dl-check",
    "dl-retry", "dl-feedback", "dl-correct", "dl-wrong", "dl-retry-all",
)


def choice_order(seed: str, lesson: str, question: Question) -> list[int]:
    """The bank indices of ``question``'s choices in the order one learner sees them."""
    order = list(range(len(question.choices)))
    digest = hashlib.sha256(f"{seed}/{lesson}/{question.id}".encode("utf-8")).digest()
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
    return order


def parse_number(text: str) -> float | None:
    """A learner's typed number: '0.25', '-1e-3', '1/3', ' 2 '; None if it is not one."""
    text = text.strip().replace("−", "-")
    if not text:
        return None
    try:
        return float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        return None


# ------------------------------------------------------------------------------- widget

class QuestionView(widgets.VBox):
    """One question: prompt, inputs, Check / Retry, feedback."""

    def __init__(self, question: Question, number: int, on_result: Callable[["QuestionView"], None],
                 order: Sequence[int] | None = None):
        super().__init__()
        self.question = question
        # order[k]: the bank index of the choice shown k-th; boxes[i]: bank choice i's box
        self.order: list[int] = list(order) if order is not None else list(range(len(question.choices)))
        self._on_result = on_result
        self.attempts = 0
        self.misses = 0  # wrong attempts; the answer is revealed from the second on
        self.first_try: bool | None = None
        self.correct: bool | None = None  # None: not answered (or retried)
        self.response: list[int] | float | None = None
        self._syncing = False
        hint = {"single": "Pick one.", "multiple": "Pick all that apply.", "numeric": "Type a number."}[question.type]
        self.prompt = widgets.HTMLMath(
            f"<b>{number}.</b> {to_html(question.prompt)} <i style='opacity:0.7'>{hint}</i>")
        self.prompt.add_class("dl-question-prompt")
        self.boxes: list[widgets.Checkbox] = []
        rows = []
        self.number_box: widgets.Text | None = None
        if question.type == "numeric":
            self.number_box = widgets.Text(placeholder="a number, e.g. 0.25 or 1/3",
                                           layout=widgets.Layout(width="18em"))
            self.number_box.add_class("dl-numeric")
            inputs = self.number_box
        else:
            for i, choice in enumerate(question.choices):
                box = widgets.Checkbox(value=False, indent=False, description=self.letter(i),
                                       layout=widgets.Layout(width="3.5em"))
                box.add_class("dl-choice-box")
                box.observe(self._exclusive(i), names="value")
                self.boxes.append(box)
            for i in self.order:
                label = widgets.HTMLMath(to_html(question.choices[i].text))
                label.add_class("dl-choice-text")
                row = widgets.HBox([self.boxes[i], label])
                row.add_class("dl-choice")
                rows.append(row)
            inputs = widgets.VBox(rows)
            inputs.add_class("dl-choices")
        self.check_button = widgets.Button(description="Check", button_style="primary", layout=widgets.Layout(width="auto"))
        self.check_button.add_class("dl-check")
        self.retry_button = widgets.Button(description="Retry", layout=widgets.Layout(width="auto"))
        self.retry_button.add_class("dl-retry")
        self.feedback = widgets.HTMLMath()
        self.feedback.add_class("dl-feedback")
        self.check_button.on_click(lambda _: self.check())
        self.retry_button.on_click(lambda _: self.retry())
        self.children = [self.prompt, inputs, widgets.HBox([self.check_button, self.retry_button]), self.feedback]
        self.layout = widgets.Layout(border="1px solid #d0d0d0", padding="6px 12px", margin="4px 0")
        self.add_class("dl-question")
        self.add_class(f"dl-question-{question.type}")
        self.add_class(f"dl-q-{question.id}")
        self._set_locked(False)

    def letter(self, index: int) -> str:
        """The letter shown beside bank choice ``index``."""
        return chr(65 + self.order.index(index))

    def _exclusive(self, index: int):
        def changed(change):
            if self._syncing or self.question.type != "single" or not change["new"]:
                return
            self._syncing = True
            for j, other in enumerate(self.boxes):
                if j != index:
                    other.value = False
            self._syncing = False
        return changed

    # -- reading and setting the inputs
    def picked(self) -> list[int]:
        return [i for i, box in enumerate(self.boxes) if box.value]

    def set_response(self, response: Sequence[int] | float | str) -> None:
        """Fill in the inputs as a learner would: choice indices, or a number/text."""
        if self.number_box is not None:
            self.number_box.value = str(response)
        else:
            wanted = set(response)
            self._syncing = True
            for i, box in enumerate(self.boxes):
                box.value = i in wanted
            self._syncing = False

    def _set_locked(self, locked: bool) -> None:
        for box in self.boxes:
            box.disabled = locked
        if self.number_box is not None:
            self.number_box.disabled = locked
        self.check_button.disabled = locked
        self.retry_button.disabled = not locked

    def _show(self, html: str, correct: bool | None) -> None:
        self.feedback.value = html
        self.feedback.remove_class("dl-correct")
        self.feedback.remove_class("dl-wrong")
        if correct is not None:
            self.feedback.add_class("dl-correct" if correct else "dl-wrong")

    # -- actions
    def check(self) -> None:
        q = self.question
        if q.type == "numeric":
            value = parse_number(self.number_box.value)
            if value is None:
                self._show("Type a number, for example <code>0.25</code>, <code>-1e-3</code> or <code>1/3</code>.", None)
                return
            response: list[int] | float = value
        else:
            response = self.picked()
            if not response:
                self._show("Pick an option first." if q.type == "single" else "Pick at least one option first.", None)
                return
        self.attempts += 1
        self.response = response
        self.correct = q.is_correct(response)
        self.misses += not self.correct
        if self.first_try is None:
            self.first_try = self.correct
        self._set_locked(True)
        self._show(self.feedback_html(), self.correct)
        self._on_result(self)

    def retry(self) -> None:
        """Clear the answer and feedback so the question can be answered again."""
        self.correct = None
        self.response = None
        if self.number_box is not None:
            self.number_box.value = ""
        else:
            self.set_response([])
        self._set_locked(False)
        self._show("", None)
        self._on_result(self)

    def feedback_html(self) -> str:
        q, response = self.question, self.response
        reveal = not self.correct and self.misses >= 2
        if q.type == "numeric":
            if self.correct:
                return (f"✔ <b>Correct.</b> The answer is {q.answer:g} (accepted within ±{q.tolerance:g}). "
                        f"{to_html(q.explanation)}")
            text = f"✘ <b>Not quite</b>: you gave {response:g}. "
            if reveal:
                return text + f"The answer is {q.answer:g}. {to_html(q.explanation)}"
            return text + (to_html(q.hint) + " " if q.hint else "") + "Press <b>Retry</b> to try again."
        lines = []
        for i in sorted(response, key=self.order.index):
            choice = q.choices[i]
            mark = "✔" if choice.correct else "✘"
            lines.append(f"{mark} <b>{self.letter(i)}</b>: {to_html(choice.explanation)}")
        if self.correct:
            head = "✔ <b>Correct.</b>"
            extra = [to_html(q.explanation)] if q.explanation else []
            return "<br>".join([head, *lines, *extra])
        head = "✘ <b>Not quite.</b>"
        missing = [i for i in q.correct_choices if i not in response]
        if q.type == "multiple" and missing and not reveal:
            lines.append(f"You left out {len(missing)} right option{'s' if len(missing) > 1 else ''}.")
        if reveal:
            shown = sorted(q.correct_choices, key=self.order.index)
            right = ", ".join(self.letter(i) for i in shown)
            lines.append(f"The answer: <b>{right}</b>. " + " ".join(
                to_html(q.choices[i].explanation) for i in shown if i not in response))
        else:
            lines.append("Press <b>Retry</b> to try again.")
        return "<br>".join([head, *lines])

    # -- persistence
    def to_json(self, now: datetime) -> dict:
        q = self.question
        answer: object = None
        if self.response is not None:
            answer = self.response if q.type == "numeric" else [q.choices[i].text for i in self.response]
        return {"answer": answer, "correct": self.correct, "attempts": self.attempts,
                "misses": self.misses, "first_try": self.first_try, "at": now.isoformat()}

    def restore(self, record: object) -> None:
        """Show a saved answer again (silently ignores records that no longer fit)."""
        if not isinstance(record, dict):
            return
        q = self.question
        attempts = record.get("attempts")
        self.attempts = attempts if isinstance(attempts, int) and attempts >= 0 else 0
        misses = record.get("misses")
        self.misses = misses if isinstance(misses, int) and 0 <= misses <= self.attempts else 0
        first = record.get("first_try")
        self.first_try = first if isinstance(first, bool) else None
        answer = record.get("answer")
        if q.type == "numeric":
            response = float(answer) if isinstance(answer, (int, float)) and not isinstance(answer, bool) else None
        else:
            texts = [c.text for c in q.choices]
            response = sorted(texts.index(t) for t in answer if t in texts) if isinstance(answer, list) and all(
                isinstance(t, str) and t in texts for t in answer) and answer else None
        if response is None:
            return
        self.set_response(response if q.type != "numeric" else f"{response:g}")
        self.response = response
        self.correct = q.is_correct(response)
        self._set_locked(True)
        self._show(self.feedback_html(), self.correct)


class Quiz(widgets.VBox):
    """A lesson's quiz; ``.questions`` lists the bank's questions in order."""

    def __init__(
        self,
        lesson: str | Path = "01_objective_functions",
        *,
        progress_path: Path | str | None = None,
        clock: Callable[[], datetime] | None = None,
        bank: QuizBank | None = None,
        seed: str | None = None,
    ):
        super().__init__()
        self.bank = bank if bank is not None else load_quiz(lesson)
        self.questions: list[Question] = list(self.bank.questions)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.store = ProgressStore(progress_path, clock=self.clock)
        self.seed = seed if seed is not None else read_seed(self.store.path.parent)
        self.title = widgets.HTML(f"<h3 style='margin:4px 0'>Quiz: {LESSONS.get(self.bank.lesson, self.bank.lesson)}</h3>")
        self.title.add_class("dl-quiz-title")
        self.score_label = widgets.HTML()
        self.score_label.add_class("dl-score")
        self.note = widgets.HTML()
        self.note.add_class("dl-note")
        self.views = [QuestionView(q, n, self._record, choice_order(self.seed, self.bank.lesson, q))
                      for n, q in enumerate(self.questions, start=1)]
        saved = self.store.load().get("quizzes", {}).get(self.bank.lesson, {})
        if isinstance(saved, dict):
            for view in self.views:
                view.restore(saved.get(view.question.id))
        self.retry_all_button = widgets.Button(description="Start over", tooltip="clear every answer",
                                               layout=widgets.Layout(width="auto"))
        self.retry_all_button.add_class("dl-retry-all")
        self.retry_all_button.on_click(lambda _: self.retry_all())
        self.children = [self.title, self.score_label, self.note, *self.views, self.retry_all_button]
        self.add_class("dl-quiz")
        self._render_score()

    def __repr__(self) -> str:
        return f"Quiz({self.bank.lesson!r}: {len(self.questions)} questions, score {self.score}/{len(self.questions)})"

    def view(self, question_id: str) -> QuestionView:
        for v in self.views:
            if v.question.id == question_id:
                return v
        raise KeyError(question_id)

    def answer(self, question_id: str, response: Sequence[int] | float | str) -> bool | None:
        """Answer one question from Python (as a learner would) and return whether it was
        right: ``quiz.answer("mse-by-hand", 2.5)``, ``quiz.answer("pick-losses", [0, 2])``."""
        view = self.view(question_id)
        if view.correct is not None:
            view.retry()
        view.set_response(response)
        view.check()
        return view.correct

    def retry_all(self) -> None:
        for view in self.views:
            if view.correct is not None:
                view.retry()

    @property
    def score(self) -> int:
        return sum(v.correct is True for v in self.views)

    @property
    def answered(self) -> int:
        return sum(v.correct is not None for v in self.views)

    def _record(self, view: QuestionView) -> None:
        record = view.to_json(self.clock())
        lesson, qid = self.bank.lesson, view.question.id

        def change(data: dict) -> None:
            data["quizzes"].setdefault(lesson, {})[qid] = record

        self.store.update(change)
        self._render_score()

    def _render_score(self) -> None:
        first = sum(v.first_try is True for v in self.views)
        self.score_label.value = (f"<b>Score: {self.score} / {len(self.views)}</b> · {self.answered} answered"
                                  f" · {first} right at the first try")
        if self.store.notes:
            self.note.value = "<br>".join(f"⚠ {to_html(n)}" for n in self.store.notes)
            self.note.layout.display = ""
        else:
            self.note.value = ""
            self.note.layout.display = "none"
