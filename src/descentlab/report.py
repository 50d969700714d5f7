"""`descentlab report ID`: one HTML page on how the class did on an assignment.

Read from what the round left behind: the stored verdicts (``autograder/.descentlab/<ID>/``:
scores, every test's outcome and message, statuses) and the progress files `descentlab
collect` kept (``autograder/progress/<ID>/``: the lesson quiz's answers). The page has:

1. the score distribution (a histogram) and the statuses (who timed out, crashed or sent a
   notebook that could not be read);
2. the pass rate of every test cell (a bar chart), so a test most of the class fails
   stands out: a hard concept, or a badly worded exercise;
3. the most common failure messages, grouped by function: numbers in messages are masked,
   so "got 0.5, expected 0.25" and "got 0.7, expected 0.25" count as one mistake;
4. the quiz item analysis (see item_analysis).

Plots are PNG images inside the page (no other file to carry around). Everything a
learner wrote (ids, messages, answers) is escaped.
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from .atomicfile import write_text
from .course import Course, CourseError, find_course, resolve_lesson_id
from .item_analysis import ItemStats, analyse, read_progress_files

NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
MAX_MESSAGE = 300
TOP_MESSAGES = 3
E = html.escape


def mistake_key(message: str) -> str:
    """A failure message with its numbers masked, first line only, bounded."""
    first = (message or "the test failed").strip().splitlines()[0] if (message or "").strip() else "the test failed"
    return NUMBER.sub("#", first)[:MAX_MESSAGE]


def read_verdicts(folder: Path) -> tuple[list, list[str]]:
    from .grade.verdict import SubmissionVerdict

    verdicts, notes = [], []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            verdicts.append(SubmissionVerdict.from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, OSError, UnicodeDecodeError) as exc:
            notes.append(f"{path.name}: unreadable stored verdict ({str(exc)[:120]})")
    return verdicts, notes


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def score_histogram(percents: list[float]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 3))
    axes.hist(percents, bins=[i * 10 for i in range(11)], color="#3b6ea5", edgecolor="white")
    axes.set_xlabel("autograded score (% of the points)")
    axes.set_ylabel("learners")
    axes.set_xlim(0, 100)
    return _png(figure)


def pass_rate_chart(rates: dict[str, float]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rates)[::-1]
    figure, axes = plt.subplots(figsize=(6, 0.35 * len(names) + 1))
    axes.barh(names, [rates[n] * 100 for n in names], color="#5a9e6f")
    axes.set_xlim(0, 100)
    axes.set_xlabel("learners passing (%)")
    return _png(figure)


def _table(head: list[str], rows: list[list[str]]) -> str:
    """A table; cells are already-escaped HTML."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "&ndash;" if value is None else pattern.format(value)


def class_sections(verdicts: list) -> str:
    if not verdicts:
        return "<p>No stored verdicts: run <code>descentlab grade</code> first.</p>"
    parts = []
    percents = [100.0 * v.score / v.max_score if v.max_score else 0.0 for v in verdicts]
    mean = sum(percents) / len(percents)
    ordered = sorted(percents)
    median = ordered[len(ordered) // 2] if len(ordered) % 2 else (ordered[len(ordered) // 2 - 1] + ordered[len(ordered) // 2]) / 2
    parts.append(f"<h2>Scores</h2><p>{len(verdicts)} learner(s); mean {mean:.1f} %, median {median:.1f} % "
                 "of the autograded points (written answers are graded by hand in formgrader).</p>")
    parts.append(score_histogram(percents))

    statuses = Counter(v.status for v in verdicts)
    rows = [[E(status), str(n), E(", ".join(sorted(v.student for v in verdicts if v.status == status))
                                   if status != "graded" else "")] for status, n in sorted(statuses.items())]
    parts.append("<h2>Statuses</h2>" + _table(["status", "learners", "who"], rows))

    passed: dict[str, list[bool]] = defaultdict(list)
    mistakes: dict[str, Counter] = defaultdict(Counter)
    examples: dict[tuple[str, str], str] = {}
    for verdict in verdicts:
        for test in verdict.tests():
            passed[test.grade_id].append(test.passed)
            if not test.passed:
                key = mistake_key(test.error)
                mistakes[test.function][key] += 1
                examples.setdefault((test.function, key), (test.error or "")[:MAX_MESSAGE])
    rates = {t: sum(p) / len(p) for t, p in passed.items()}
    parts.append("<h2>Pass rate of every test cell</h2>")
    if rates:
        parts.append(pass_rate_chart(rates))
        parts.append(_table(["test cell", "passing", "learners"],
                            [[E(t), f"{rates[t] * 100:.0f} %", str(len(passed[t]))] for t in rates]))
    parts.append("<h2>The most common mistakes, by function</h2>")
    if not mistakes:
        parts.append("<p>No test failed.</p>")
    for function in sorted(mistakes, key=lambda f: -sum(mistakes[f].values())):
        rows = [[str(n), f'<span class="msg">{E(key)}</span>',
                 f'<span class="msg">{E(examples[(function, key)])}</span>']
                for key, n in mistakes[function].most_common(TOP_MESSAGES)]
        parts.append(f"<h3>{E(function)}</h3>" + _table(["learners", "message (numbers masked)", "for example"], rows))
    return "\n".join(parts)


def quiz_section(course: Course, assignment_id: str) -> tuple[str, list[str]]:
    from .quiz import load_quiz

    answers, notes = read_progress_files(course.autograder / "progress" / assignment_id, assignment_id)
    prompts: dict[str, str] = {}
    bank_path = course.quizzes / f"{assignment_id}.yml"
    if bank_path.is_file():
        try:
            prompts = {q.id: q.prompt for q in load_quiz(bank_path).questions}
        except Exception as exc:  # noqa: BLE001 - the report still shows the ids
            notes.append(f"{bank_path.name}: quiz bank unreadable ({str(exc)[:120]})")
    head = ("<h2>Quiz: item analysis</h2><p>Difficulty is the share right at the first try; "
            "discrimination is the corrected point-biserial correlation with the rest of the quiz "
            "and the upper-lower 27 % index (below 0.2: look at the item).</p>")
    if not answers:
        return head + ("<p>No progress files: learners hand them in with <code>descentlab submit</code>, "
                       "and <code>descentlab collect</code> keeps them in autograder/progress/.</p>"), notes
    stats: list[ItemStats] = analyse(answers, list(prompts))
    rows = [[E(s.question_id), E(prompts.get(s.question_id, "")[:400]), str(s.answered), _fmt(s.difficulty),
             _fmt(s.point_biserial), _fmt(s.upper_lower),
             f'{E(s.wrong_answer)} ({s.wrong_count})' if s.wrong_answer else "&ndash;"] for s in stats]
    table = _table(["question", "prompt", "answered", "difficulty", "point-biserial", "upper-lower",
                    "most chosen wrong answer"], rows)
    return head + f"<p>{len(answers)} progress file(s).</p>" + table, notes


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
.msg { font-family: ui-monospace, monospace; white-space: pre-wrap; font-size: .85rem; }
.notes { color: #8a4b00; }
"""


def render(course: Course, assignment_id: str) -> str:
    verdicts, notes = read_verdicts(course.grader_state / assignment_id)
    quiz, quiz_notes = quiz_section(course, assignment_id)
    notes += quiz_notes
    noted = "".join(f"<li>{E(n)}</li>" for n in notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{E(assignment_id)}: class report</title>
<style>{STYLE}</style></head><body>
<h1>{E(assignment_id)}: how the class did</h1>
{class_sections(verdicts)}
{quiz}
{f'<h2>Files left out</h2><ul class="notes">{noted}</ul>' if notes else ''}
</body></html>
"""


def write_report(course: Course, assignment_id: str, to: Path | None = None) -> Path:
    path = Path(to or course.autograder / "report" / f"{assignment_id}.html")
    write_text(path, render(course, assignment_id))
    return path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="an HTML page on how the class did on an assignment (instructor)",
        description="Write autograder/report/<ID>.html: score distribution, statuses, pass "
        "rate of every test, the most common mistakes by function and the quiz item analysis.",
    )
    parser.add_argument("assignment", metavar="ID", help="lesson id, e.g. 01_objective_functions or 1")
    parser.add_argument("--to", type=Path, default=None, help="output file (default autograder/report/<ID>.html)")
    parser.add_argument("--course", type=Path, default=None, help="course repository (default: this one)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    course = find_course(args.course or Path.cwd())
    course.require_checkout("descentlab report")
    assignment_id = resolve_lesson_id(args.assignment)
    if not (course.grader_state / assignment_id).is_dir():
        raise CourseError(f"no graded round of {assignment_id} in {course.grader_state}: run `descentlab grade {assignment_id}` first")
    print(f"wrote {write_report(course, assignment_id, args.to)}")
    return 0
