"""Lesson quizzes: the question banks (``lessons/quizzes/<lesson id>.yml``) and the widget.

A bank is a YAML mapping::

    lesson: 01_objective_functions        # must match the file name
    concepts:                             # the lesson's syllabus concepts, by key
      objective: what an objective function is
    questions:
      - id: objective-vs-machinery        # lower-case words joined by '-'
        concept: objective                # a key of `concepts`
        type: single                      # single | multiple | numeric
        prompt: Which one is the function the model minimizes?
        choices:                          # single and multiple
          - text: the objective function
            correct: true
            explanation: why this one is right
          - text: synchronous updates
            explanation: why this one is not
        explanation: optional words shown once the question is answered right
      - id: mse-by-hand
        concept: mse
        type: numeric
        prompt: ...
        answer: 2.5                       # numeric
        tolerance: 0.01                   # accepted absolute error, > 0
        explanation: how to get there     # required for numeric
        hint: shown after a wrong try     # optional

Every concept needs at least one question. Faults are reported like the glossary's: one
line each, naming the file, the line and the question (:class:`QuizError`).

``Quiz("01_objective_functions")`` (or ``Quiz("01")``) shows every question with its own
Check and Retry buttons, immediate feedback with explanations, and a running score. After a
wrong answer the learner sees why the option they picked is wrong; the right answer is
revealed after the second wrong try. Answers are saved in the workspace's progress file
(:mod:`descentlab.progress_store`) and shown again when the quiz is re-opened.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import ipywidgets as widgets
import yaml

from .course import LESSON_IDS, LESSONS, resolve_lesson_id
from .progress_store import ProgressStore
from .richtext import to_html
from .workspace import quiz_bank_file
from .yamlfile import Fault, MappingReader, YamlSchemaError, compose_file, kind_of, line_of

QUESTION_TYPES = ("single", "multiple", "numeric")
QUESTION_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CSS_CLASSES = (
    "dl-quiz", "dl-quiz-title", "dl-score", "dl-note", "dl-question", "dl-question-prompt",
    "dl-choices", "dl-choice", "dl-choice-box", "dl-choice-text", "dl-numeric", "dl-check",
    "dl-retry", "dl-feedback", "dl-correct", "dl-wrong", "dl-retry-all",
)


class QuizError(YamlSchemaError):
    """A quiz bank breaks its schema; the message names file, line and question per fault."""


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool
    explanation: str


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    prompt: str
    concept: str
    choices: tuple[Choice, ...] = ()
    answer: float | None = None
    tolerance: float | None = None
    explanation: str = ""
    hint: str = ""
    line: int = 0

    @property
    def correct_choices(self) -> tuple[int, ...]:
        return tuple(i for i, c in enumerate(self.choices) if c.correct)

    def is_correct(self, response: Sequence[int] | float) -> bool:
        """``response``: the picked choice indices (single, multiple) or a number (numeric)."""
        if self.type == "numeric":
            return abs(float(response) - self.answer) <= self.tolerance
        return set(response) == set(self.correct_choices)


@dataclass(frozen=True)
class QuizBank:
    lesson: str
    concepts: dict[str, str]
    questions: tuple[Question, ...]
    path: Path

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)


def load_quiz(source: str | Path) -> QuizBank:
    """Load and validate a bank: a lesson id or number ("01", "01_objective_functions"),
    or the path of a ``.yml`` file."""
    path = Path(source)
    if path.suffix not in (".yml", ".yaml"):
        path = quiz_bank_file(resolve_lesson_id(str(source)))
    root = compose_file(path, QuizError)
    if root is None:
        raise QuizError([Fault(path, 0, "", "the file is empty; expected 'lesson:', 'concepts:' and 'questions:'")])
    if not isinstance(root, yaml.MappingNode):
        raise QuizError([Fault(path, line_of(root), "", f"expected a mapping with 'lesson:', 'concepts:' and 'questions:', found {kind_of(root)}")])
    faults: list[Fault] = []
    top = MappingReader(root, path, "", faults, ("lesson", "concepts", "questions"))
    lesson = top.text("lesson")
    if lesson and lesson not in LESSONS:
        close = difflib.get_close_matches(lesson, LESSON_IDS, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        top.fault(top.node_of("lesson"), f"unknown lesson {lesson!r}{hint}")
    elif lesson and path.stem in LESSONS and path.stem != lesson:
        top.fault(top.node_of("lesson"), f"lesson {lesson!r} does not match the file name {path.name!r}")

    concepts: dict[str, str] = {}
    concepts_node = top.node_of("concepts")
    if concepts_node is not None:
        if not isinstance(concepts_node, yaml.MappingNode) or not concepts_node.value:
            top.fault(concepts_node, f"'concepts' must map concept keys to descriptions, not {kind_of(concepts_node)}")
        else:
            names = tuple(k.value for k, _ in concepts_node.value if isinstance(k, yaml.ScalarNode))
            reader = MappingReader(concepts_node, path, "concepts", faults, names)
            concepts = {key: reader.text(key) for key in reader.values}

    questions: list[Question] = []
    concept_used: set[str] = set()
    seen_ids: dict[str, int] = {}
    questions_node = top.node_of("questions")
    if questions_node is not None and (not isinstance(questions_node, yaml.SequenceNode) or not questions_node.value):
        top.fault(questions_node, f"'questions' must be a non-empty list, not {kind_of(questions_node)}")
    elif questions_node is not None:
        for position, node in enumerate(questions_node.value, start=1):
            question = _read_question(node, position, path, faults, concepts, seen_ids, concept_used)
            if question is not None:
                questions.append(question)
    # A question whose concept is missing may be the one meant to cover a concept: then
    # the missing field is the fault to report, not the uncovered concept.
    if concepts and isinstance(questions_node, yaml.SequenceNode) and questions_node.value and "" not in concept_used:
        for key, _ in concepts_node.value:
            if key.value in concepts and key.value not in concept_used:
                faults.append(Fault(path, line_of(key), f"concept {key.value!r}", "has no question; every concept needs at least one"))
    if faults:
        raise QuizError(sorted(faults, key=lambda f: f.line))
    return QuizBank(lesson, concepts, tuple(questions), path)


def _read_question(node, position, path, faults, concepts, seen_ids, concept_used) -> Question | None:
    if not isinstance(node, yaml.MappingNode):
        faults.append(Fault(path, line_of(node), f"question {position}", f"expected 'id: ...' fields, found {kind_of(node)}"))
        concept_used.add("")
        return None
    id_node = next((v for k, v in node.value if getattr(k, "value", None) == "id"), None)
    named = isinstance(id_node, yaml.ScalarNode) and id_node.value.strip()
    subject = f"question {id_node.value.strip()!r}" if named else f"question {position}"
    r = MappingReader(node, path, subject, faults, ("id", "type", "concept", "prompt"),
                      ("choices", "answer", "tolerance", "explanation", "hint"))
    qid = r.text("id")
    if qid and not QUESTION_ID.match(qid):
        r.fault(r.node_of("id"), f"question id {qid!r} must be lower-case letters and digits joined by '-'")
    if qid in seen_ids:
        r.fault(r.node_of("id"), f"duplicate question id {qid!r} (first used on line {seen_ids[qid]})")
    elif qid:
        seen_ids[qid] = line_of(r.node_of("id"))
    qtype = r.text("type")
    if qtype and qtype not in QUESTION_TYPES:
        close = difflib.get_close_matches(qtype, QUESTION_TYPES, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        r.fault(r.node_of("type"), f"unknown question type {qtype!r}{hint}; types: {', '.join(QUESTION_TYPES)}")
    concept = r.text("concept")
    concept_used.add(concept)
    if concept and concepts and concept not in concepts:
        close = difflib.get_close_matches(concept, list(concepts), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        r.fault(r.node_of("concept"), f"unknown concept {concept!r}{hint}; the bank's concepts: {', '.join(concepts)}")
    prompt = r.text("prompt")
    explanation = r.text("explanation", required=qtype == "numeric")
    hint_text = r.text("hint", required=False)
    choices: list[Choice] = []
    answer = tolerance = None
    if qtype in ("single", "multiple"):
        for key in ("answer", "tolerance"):
            if r.has(key):
                r.fault(r.node_of(key), f"{key!r} belongs to numeric questions; a {qtype} question has 'choices'")
        choices = _read_choices(r, qtype)
    elif qtype == "numeric":
        if r.has("choices"):
            r.fault(r.node_of("choices"), "a numeric question has 'answer' and 'tolerance', not 'choices'")
        for key in ("answer", "tolerance"):
            if not r.has(key):
                r.fault(node, f"missing field {key!r} (numeric questions need 'answer' and 'tolerance')")
        if not r.has("explanation"):
            r.fault(node, "missing field 'explanation' (numeric questions explain how to get the answer)")
        answer, tolerance = r.number("answer"), r.number("tolerance")
        if tolerance is not None and not tolerance > 0:
            r.fault(r.node_of("tolerance"), f"tolerance must be greater than 0, not {tolerance:g}")
    if not (qid and qtype in QUESTION_TYPES and concept and prompt):
        return None
    return Question(qid, qtype, prompt, concept, tuple(choices), answer, tolerance, explanation, hint_text, line_of(node))


def _read_choices(r: MappingReader, qtype: str) -> list[Choice]:
    node = r.node_of("choices")
    if node is None:
        r.fault(r.node, f"missing field 'choices' (a {qtype} question needs at least two)")
        return []
    if not isinstance(node, yaml.SequenceNode) or len(node.value) < 2:
        found = f"{len(node.value)} option" if isinstance(node, yaml.SequenceNode) else kind_of(node)
        r.fault(node, f"'choices' must be a list of at least two options, not {found}")
        return []
    choices: list[Choice] = []
    seen: set[str] = set()
    readable = True  # every 'correct' could be read, so counting them means something
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            r.fault(item, f"each choice needs 'text:' and 'explanation:', found {kind_of(item)}")
            continue
        c = MappingReader(item, r.path, r.subject, r.faults, ("text", "explanation"), ("correct",))
        text, explanation = c.text("text"), c.text("explanation")
        before = len(r.faults)
        correct = c.flag("correct")
        readable = readable and len(r.faults) == before
        if text.lower() in seen:
            c.fault(item, f"choice {text!r} appears twice")
        seen.add(text.lower())
        choices.append(Choice(text, correct, explanation))
    right = sum(c.correct for c in choices)
    readable = readable and len(choices) == len(node.value)
    if qtype == "single" and readable and right != 1:
        r.fault(node, f"a single-choice question needs exactly one choice with 'correct: true', found {right}")
    if qtype == "multiple" and readable and right == 0:
        r.fault(node, "a multiple-choice question needs at least one choice with 'correct: true'")
    return choices


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

    def __init__(self, question: Question, number: int, on_result: Callable[["QuestionView"], None]):
        super().__init__()
        self.question = question
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
                box = widgets.Checkbox(value=False, indent=False, description=f"{chr(65 + i)}",
                                       layout=widgets.Layout(width="3.5em"))
                box.add_class("dl-choice-box")
                box.observe(self._exclusive(i), names="value")
                label = widgets.HTMLMath(to_html(choice.text))
                label.add_class("dl-choice-text")
                row = widgets.HBox([box, label])
                row.add_class("dl-choice")
                self.boxes.append(box)
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
        for i in response:
            choice = q.choices[i]
            mark = "✔" if choice.correct else "✘"
            lines.append(f"{mark} <b>{chr(65 + i)}</b>: {to_html(choice.explanation)}")
        if self.correct:
            head = "✔ <b>Correct.</b>"
            extra = [to_html(q.explanation)] if q.explanation else []
            return "<br>".join([head, *lines, *extra])
        head = "✘ <b>Not quite.</b>"
        missing = [i for i in q.correct_choices if i not in response]
        if q.type == "multiple" and missing and not reveal:
            lines.append(f"You left out {len(missing)} right option{'s' if len(missing) > 1 else ''}.")
        if reveal:
            right = ", ".join(chr(65 + i) for i in q.correct_choices)
            lines.append(f"The answer: <b>{right}</b>. " + " ".join(
                to_html(q.choices[i].explanation) for i in q.correct_choices if i not in response))
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
    ):
        super().__init__()
        self.bank = bank if bank is not None else load_quiz(lesson)
        self.questions: list[Question] = list(self.bank.questions)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.store = ProgressStore(progress_path, clock=self.clock)
        self.title = widgets.HTML(f"<h3 style='margin:4px 0'>Quiz: {LESSONS.get(self.bank.lesson, self.bank.lesson)}</h3>")
        self.title.add_class("dl-quiz-title")
        self.score_label = widgets.HTML()
        self.score_label.add_class("dl-score")
        self.note = widgets.HTML()
        self.note.add_class("dl-note")
        self.views = [QuestionView(q, n, self._record) for n, q in enumerate(self.questions, start=1)]
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
