"""How much one submission's verdict may hold: what is stored and shown per submission.

The verdict is stored as JSON, shown on the learner's feedback page and in the summary, so
its size is the submission's to choose unless it is bounded: a 3.5 MB notebook of cells
that each raise a long error once made 165 MB of stored results. Each message is cut to
MAX_MESSAGE characters, each list of messages to MAX_MESSAGES entries, and the whole
verdict to MAX_VERDICT_BYTES of JSON; what was cut is said in a note. Scores are never cut.
"""
from __future__ import annotations

import json

from .verdict import SubmissionVerdict

MAX_MESSAGE = 2000
MAX_MESSAGES = 50
MAX_VERDICT_BYTES = 512 * 1024


def _cut(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def _cut_list(items: list[str], limit: int = MAX_MESSAGES) -> list[str]:
    items = [_cut(m) for m in items]
    if len(items) <= limit:
        return items
    return items[:limit] + [f"... and {len(items) - limit} more messages (not stored: over the limit per submission)"]


def bound(verdict: SubmissionVerdict) -> SubmissionVerdict:
    """``verdict`` with every message, list and the whole verdict within the limits (in place)."""
    verdict.messages = _cut_list(verdict.messages)
    for notebook in verdict.notebooks.values():
        notebook.answer_errors = _cut_list(notebook.answer_errors)
        notebook.notes = _cut_list(notebook.notes)
        notebook.events = notebook.events[:MAX_MESSAGES]
        for event in notebook.events:
            event.message = _cut(event.message)
        for test in notebook.tests:
            test.error = _cut(test.error)
        if notebook.invalid:
            notebook.invalid = _cut(notebook.invalid)
    if len(json.dumps(verdict.to_json())) > MAX_VERDICT_BYTES:
        # Still too big (many notebooks or tests): keep the scores, drop most of the prose.
        note = f"the messages of this submission were over {MAX_VERDICT_BYTES // 1024} KB; most were not stored"
        for notebook in verdict.notebooks.values():
            notebook.answer_errors = notebook.answer_errors[:5]
            notebook.notes = notebook.notes[:5] + [note]
            notebook.events = notebook.events[:5]
            for test in notebook.tests:
                test.error = _cut(test.error, 200)
        verdict.messages = verdict.messages[:5] + [note]
    return verdict
