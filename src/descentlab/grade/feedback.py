"""The learner's feedback page: which tests passed, their messages, and what went wrong.

It shows test names, points and the failure message each test itself wrote; never a test
cell's source (the hidden tests) nor the reference solution. For a hidden test the judge
stored only the course's words (which function failed and how), never values or text the
learner's code produced. Every string is HTML-escaped with its control characters shown as
escapes; the grader's own technical detail (tracebacks, process and protocol words) stays
in the instructor's summary.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from ..atomicfile import write_text
from .safetext import clean, for_terminal
from .verdict import GRADED, SubmissionVerdict

_LEARNER_WORDS = [
    (re.compile(r"the sandbox could not start the learner's process: .*", re.S),
     "the grader could not start your code (not your fault); your instructor will regrade it"),
    (re.compile(r" \(protocol error: [^)]*\)"), " (it sent back something that is not plain data)"),
    (re.compile(r"the learner's process"), "your code's process"),
    (re.compile(r"the learner's functions"), "your functions"),
]


def learner_words(message: str) -> str:
    """A status or test message as the learner should read it."""
    if message.startswith("internal error in the grader"):
        return ("The grader itself failed on this submission (not your fault); your instructor "
                "has the details and will regrade it.")
    for ours, theirs in _LEARNER_WORDS:
        message = ours.sub(theirs, message)
    return message

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.pass { color: #17692a; } .fail { color: #a11; }
.msg { font-family: ui-monospace, monospace; white-space: pre-wrap; font-size: .9rem; }
.status { padding: .6rem; background: #fff4e5; border-left: 4px solid #e69500; }
"""


def render(verdict: SubmissionVerdict, notebook_name: str) -> str:
    def e(text: str) -> str:  # control characters shown as escapes, then HTML-escaped
        return html.escape(for_terminal(clean(str(text))))

    notebook = verdict.notebooks[notebook_name]
    rows = []
    for test in notebook.tests:
        mark = '<span class="pass">passed</span>' if test.passed else '<span class="fail">failed</span>'
        rows.append(
            f"<tr><td>{e(test.function)}</td><td>{e(test.grade_id)}</td><td>{mark}</td>"
            f"<td>{test.score:g} / {test.points:g}</td><td class=\"msg\">{e(learner_words(test.error))}</td></tr>"
        )
    notes = [notebook.invalid] if notebook.invalid else []
    notes += notebook.notes + notebook.answer_errors
    banner = ""
    if verdict.status != GRADED or notes:
        items = "".join(f"<li class=\"msg\">{e(learner_words(n))}</li>" for n in notes)
        extra = "".join(f"<li class=\"msg\">{e(learner_words(m))}</li>" for m in verdict.messages if m not in notes)
        banner = f'<div class="status"><strong>Status: {e(verdict.status)}</strong><ul>{items}{extra}</ul></div>'
    assignment, student = verdict.assignment, verdict.student
    score, total = notebook.score, notebook.max_score
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(assignment)}: feedback for {e(student)}</title><style>{_STYLE}</style></head>
<body>
<h1>{e(assignment)} &mdash; {e(notebook_name)}</h1>
<p>Student: <strong>{e(student)}</strong>. Score: <strong>{score:g} / {total:g}</strong>.</p>
{banner}
<table><thead><tr><th>function</th><th>test</th><th>result</th><th>points</th><th>message</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
<p>Each test also ran hidden checks (other shapes, seeds and edge cases). A failed hidden check says
which function failed and what kind of input, in the course's words; it never shows the hidden inputs,
the expected values or what your code printed. Run <code>descentlab check</code> on your notebook to see
the visible tests.</p>
</body></html>
"""


def write_feedback(verdict: SubmissionVerdict, folder: Path) -> list[Path]:
    """One HTML page per notebook in ``folder`` (feedback/<student>/<ID>/), written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in verdict.notebooks:
        path = folder / f"{name}.html"
        write_text(path, render(verdict, name))
        written.append(path)
    return written
