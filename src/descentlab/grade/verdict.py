"""The verdict on one submission, as typed data: what the judge found, what is stored.

It travels task -> round -> gradebook -> feedback as these classes; it crosses a process
boundary (a forked worker's pipe, a Dask result, the store under
``autograder/.descentlab/<ID>/<student>.json``) only as ``to_json()`` and comes back
through ``from_json()``, which refuses anything that is not the shape it wrote.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..notebook import function_under_test

GRADED, TIMED_OUT, CRASHED, INVALID, GRADER_ERROR = "graded", "timed out", "crashed", "invalid notebook", "grader error"
STATUS_ORDER = (GRADED, CRASHED, TIMED_OUT, INVALID, GRADER_ERROR)  # from best to worst


def worse(a: str, b: str) -> str:
    """The worse of two statuses (a submission's status is the worst of its notebooks')."""
    return a if STATUS_ORDER.index(a) >= STATUS_ORDER.index(b) else b


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what}: not a list of strings")
    return list(value)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what}: not a number")
    return float(value)


def _text(value: Any, what: str, optional: bool = False) -> Any:
    if optional and value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what}: not a string")
    return value


@dataclass
class Event:
    """Something that happened to the learner's process: it crashed, timed out, hit a limit."""

    kind: str  # "timeout" | "crash" | "resource"
    message: str

    def to_json(self) -> dict:
        return {"kind": self.kind, "message": self.message}

    @classmethod
    def from_json(cls, data: Any) -> "Event":
        if not isinstance(data, dict):
            raise ValueError("event: not an object")
        return cls(_text(data.get("kind"), "event kind"), _text(data.get("message"), "event message"))


@dataclass
class CellVerdict:
    """One autograded test cell's outcome."""

    grade_id: str
    points: float
    score: float
    error: str = ""

    @property
    def function(self) -> str:
        return function_under_test(self.grade_id)

    @property
    def passed(self) -> bool:
        return self.score >= self.points

    def to_json(self) -> dict:
        return {"grade_id": self.grade_id, "points": self.points, "score": self.score, "error": self.error}

    @classmethod
    def from_json(cls, data: Any) -> "CellVerdict":
        if not isinstance(data, dict):
            raise ValueError("test verdict: not an object")
        return cls(_text(data.get("grade_id"), "grade_id"), _number(data.get("points"), "points"),
                   _number(data.get("score"), "score"), _text(data.get("error", ""), "error"))


@dataclass
class NotebookVerdict:
    """One notebook of a submission: its tests, and what the learner should know."""

    name: str
    tests: list[CellVerdict] = field(default_factory=list)
    answer_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    unchanged_answers: list[str] = field(default_factory=list)
    answer_ids: list[str] = field(default_factory=list)
    invalid: str | None = None  # why the notebook could not be graded at all

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "tests": [t.to_json() for t in self.tests],
            "answer_errors": list(self.answer_errors),
            "notes": list(self.notes),
            "events": [e.to_json() for e in self.events],
            "unchanged_answers": list(self.unchanged_answers),
            "answer_ids": list(self.answer_ids),
            "invalid": self.invalid,
        }

    @classmethod
    def from_json(cls, data: Any) -> "NotebookVerdict":
        if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
            raise ValueError("notebook verdict: not an object with tests")
        return cls(
            name=_text(data.get("name"), "notebook name"),
            tests=[CellVerdict.from_json(t) for t in data["tests"]],
            answer_errors=_strings(data.get("answer_errors", []), "answer_errors"),
            notes=_strings(data.get("notes", []), "notes"),
            events=[Event.from_json(e) for e in data.get("events", [])],
            unchanged_answers=_strings(data.get("unchanged_answers", []), "unchanged_answers"),
            answer_ids=_strings(data.get("answer_ids", []), "answer_ids"),
            invalid=_text(data.get("invalid"), "invalid", optional=True),
        )


@dataclass
class SubmissionVerdict:
    """One learner's submission of one assignment, graded (or why it could not be)."""

    assignment: str
    student: str
    key: str = ""  # what the verdict was computed from (see round: unchanged work is reused)
    sandbox: str = ""
    status: str = GRADED
    messages: list[str] = field(default_factory=list)
    notebooks: dict[str, NotebookVerdict] = field(default_factory=dict)
    seconds: float = 0.0
    timestamp: str | None = None  # the submission's timestamp.txt, for the gradebook

    @property
    def score(self) -> float:
        return sum(nb.score for nb in self.notebooks.values())

    @property
    def max_score(self) -> float:
        return sum(nb.max_score for nb in self.notebooks.values())

    def tests(self) -> list[CellVerdict]:
        return [t for nb in self.notebooks.values() for t in nb.tests]

    def worsen(self, status: str, message: str | None = None) -> None:
        self.status = worse(self.status, status)
        if message is not None:
            self.messages.append(message)

    @classmethod
    def failure(cls, assignment: str, student: str, key: str, sandbox: str, status: str,
                message: str) -> "SubmissionVerdict":
        """A verdict for a submission whose grading did not finish (no test ran)."""
        return cls(assignment, student, key, sandbox, status, [message])

    def to_json(self) -> dict:
        return {
            "assignment": self.assignment,
            "student": self.student,
            "key": self.key,
            "sandbox": self.sandbox,
            "status": self.status,
            "messages": list(self.messages),
            "notebooks": {name: nb.to_json() for name, nb in self.notebooks.items()},
            "seconds": self.seconds,
            "timestamp": self.timestamp,
            "score": self.score,
            "max_score": self.max_score,
        }

    @classmethod
    def from_json(cls, data: Any) -> "SubmissionVerdict":
        """The verdict ``to_json`` wrote; ValueError for anything else."""
        if not isinstance(data, dict) or not isinstance(data.get("notebooks"), dict):
            raise ValueError("not a stored verdict")
        status = _text(data.get("status"), "status")
        if status not in STATUS_ORDER:
            raise ValueError(f"unknown status {status[:40]!r}")
        return cls(
            assignment=_text(data.get("assignment"), "assignment"),
            student=_text(data.get("student"), "student"),
            key=_text(data.get("key", ""), "key"),
            sandbox=_text(data.get("sandbox", ""), "sandbox"),
            status=status,
            messages=_strings(data.get("messages", []), "messages"),
            notebooks={_text(name, "notebook name"): NotebookVerdict.from_json(nb)
                       for name, nb in data["notebooks"].items()},
            seconds=_number(data.get("seconds", 0.0), "seconds"),
            timestamp=_text(data.get("timestamp"), "timestamp", optional=True),
        )
