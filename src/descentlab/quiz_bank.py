"""Quiz banks: the schema of ``lessons/quizzes/<lesson id>.yml``, loaded and checked.

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

A learner's workspace holds *sealed* copies (:mod:`descentlab.quiz_seal`): each question
has a ``salt:``, each choice a ``key:`` instead of ``correct:``, and a numeric question a
``sealed_answer:`` instead of ``answer:``. Both forms load into the same :class:`QuizBank`.

Every concept needs at least one question. Faults are reported like the glossary's: one
line each, naming the file, the line and the question (:class:`QuizError`).
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import yaml

from .course import LESSON_IDS, LESSONS, find_course, resolve_lesson_id
from .quiz_seal import choice_key, unseal_number
from .workspace import Workspace
from .yamlfile import Fault, MappingReader, YamlSchemaError, compose_file, kind_of, line_of

QUESTION_TYPES = ("single", "multiple", "numeric")
QUESTION_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


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


def quiz_path(lesson_id: str) -> Path:
    """The bank a learner's quiz reads: the workspace's (sealed) copy when the current
    directory is in a workspace that has one (:mod:`descentlab.workspace`), else the course's
    (a folder made a workspace only for its progress, as the e2e tests do, has no copy)."""
    workspace = Workspace.locate(Path.cwd())
    if workspace is not None and workspace.quiz_bank(lesson_id).is_file():
        return workspace.quiz_bank(lesson_id)
    return find_course(Path.cwd()).quizzes / f"{lesson_id}.yml"


def load_quiz(source: str | Path) -> QuizBank:
    """Load and validate a bank: a lesson id or number ("01", "01_objective_functions"),
    or the path of a ``.yml`` file."""
    path = Path(source)
    if path.suffix not in (".yml", ".yaml"):
        path = quiz_path(resolve_lesson_id(str(source)))
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
                      ("choices", "answer", "tolerance", "explanation", "hint", "salt", "sealed_answer"))
    salt = r.text("salt") if r.has("salt") else None
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
        if r.has("sealed_answer"):
            r.fault(r.node_of("sealed_answer"), f"'sealed_answer' belongs to numeric questions; a {qtype} question has 'choices'")
        choices = _read_choices(r, qtype, salt)
    elif qtype == "numeric":
        if r.has("choices"):
            r.fault(r.node_of("choices"), "a numeric question has 'answer' and 'tolerance', not 'choices'")
        answer_key = "answer" if salt is None else "sealed_answer"
        for key in (answer_key, "tolerance"):
            if not r.has(key):
                r.fault(node, f"missing field {key!r} (numeric questions need {answer_key!r} and 'tolerance')")
        other = "sealed_answer" if salt is None else "answer"
        if r.has(other):
            r.fault(r.node_of(other), f"{other!r} does not belong here: a bank with 'salt' has 'sealed_answer', one without has 'answer'")
        if not r.has("explanation"):
            r.fault(node, "missing field 'explanation' (numeric questions explain how to get the answer)")
        answer, tolerance = _numeric_answer(r, salt), r.number("tolerance")
        if tolerance is not None and not tolerance > 0:
            r.fault(r.node_of("tolerance"), f"tolerance must be greater than 0, not {tolerance:g}")
    if not (qid and qtype in QUESTION_TYPES and concept and prompt):
        return None
    return Question(qid, qtype, prompt, concept, tuple(choices), answer, tolerance, explanation, hint_text, line_of(node))


def _numeric_answer(r: MappingReader, salt: str | None) -> float | None:
    if salt is None:
        return r.number("answer")
    sealed = r.text("sealed_answer")
    value = unseal_number(salt, sealed) if sealed else None
    if sealed and value is None:
        r.fault(r.node_of("sealed_answer"), "'sealed_answer' must be 16 hex digits, as descentlab start writes it")
    return value


def _choice_correct(c: MappingReader, text: str, salt: str | None) -> bool:
    """Whether a choice is right: its ``correct:`` flag, or (sealed) which digest its key is."""
    if salt is None:
        if c.has("key"):
            c.fault(c.node_of("key"), "'key' belongs to sealed banks, which have a 'salt' per question; use 'correct: true'")
        return c.flag("correct")
    if c.has("correct"):
        c.fault(c.node_of("correct"), "a sealed bank (with 'salt') has a 'key' per choice, not 'correct'")
    key = c.text("key")
    if not key:
        if not c.has("key"):
            c.fault(c.node, "missing field 'key' (every choice of a sealed bank has one)")
        return False
    if key == choice_key(salt, text, True):
        return True
    if key != choice_key(salt, text, False):
        c.fault(c.node_of("key"), "the key matches neither verdict for this text: was the choice edited after sealing?")
    return False


def _read_choices(r: MappingReader, qtype: str, salt: str | None = None) -> list[Choice]:
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
        c = MappingReader(item, r.path, r.subject, r.faults, ("text", "explanation"), ("correct", "key"))
        text, explanation = c.text("text"), c.text("explanation")
        before = len(r.faults)
        correct = _choice_correct(c, text, salt)
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


