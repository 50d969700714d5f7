"""Classical item analysis of a lesson quiz, from the learners' collected progress files.

Each learner's progress file (``quizzes.<lesson id>.<question id>``, see progress_store)
keeps, per question, whether the FIRST attempt was right (``first_try``), the last answer
and whether it was right. The first attempt is what measures the item: a quiz lets
learners retry until right, so "correct in the end" says little.

For every question:

- **difficulty** p: the share of learners who answered it who got it right first time
  (high p = easy);
- **discrimination**: the corrected point-biserial correlation between getting this item
  right and the learner's score on the OTHER items (does the item separate learners who
  know the lesson from those who do not? below about 0.2 deserves a look, negative means
  the strong learners get it wrong), and the upper-lower index: p among the top 27 % of
  learners by total minus p among the bottom 27 %;
- the most chosen wrong answer among the learners whose last answer is wrong.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MAX_PROGRESS_BYTES = 2 * 1024 * 1024
UPPER_LOWER_SHARE = 0.27


@dataclass
class ItemStats:
    question_id: str
    answered: int
    difficulty: float | None
    point_biserial: float | None
    upper_lower: float | None
    wrong_answer: str | None
    wrong_count: int


def first_try_right(record: dict) -> bool | None:
    """The item score of one learner's record: right first time (None: not answered)."""
    if not isinstance(record, dict) or record.get("correct") is None and record.get("first_try") is None:
        return None
    first = record.get("first_try")
    if isinstance(first, bool):
        return first
    return record.get("correct") is True


def answer_text(record: dict) -> str:
    answer = record.get("answer")
    if isinstance(answer, list):
        return " + ".join(str(a) for a in answer)[:300]
    return str(answer)[:300]


def read_progress_files(folder: Path, lesson_id: str) -> tuple[dict[str, dict[str, dict]], list[str]]:
    """student -> question id -> record, from ``folder/<student>.json``; notes name the
    files that could not be read (they are learners' files: hostile)."""
    answers: dict[str, dict[str, dict]] = {}
    notes: list[str] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.is_symlink() or path.stat().st_size > MAX_PROGRESS_BYTES:
            notes.append(f"{path.name}: skipped (a link, or over {MAX_PROGRESS_BYTES // 2**20} MB)")
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            quiz = data.get("quizzes", {}).get(lesson_id, {})
            if not isinstance(quiz, dict):
                raise ValueError("quizzes section is not a mapping")
        except (ValueError, AttributeError, UnicodeDecodeError) as exc:
            notes.append(f"{path.name}: unreadable progress file ({str(exc)[:120]})")
            continue
        answers[path.stem] = {str(q): r for q, r in quiz.items() if isinstance(r, dict)}
    return answers, notes


def _correlation(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def analyse(answers: dict[str, dict[str, dict]], question_ids: list[str]) -> list[ItemStats]:
    """Item statistics in ``question_ids`` order (questions no bank lists are added after)."""
    order = list(question_ids) + sorted({q for a in answers.values() for q in a} - set(question_ids))
    scores = {s: {q: first_try_right(r) for q, r in a.items() if q in order} for s, a in answers.items()}
    totals = {s: sum(1 for v in items.values() if v) for s, items in scores.items()}
    ranked = sorted(totals, key=lambda s: totals[s])
    group = max(1, round(len(ranked) * UPPER_LOWER_SHARE)) if len(ranked) >= 4 else 0
    lower, upper = set(ranked[:group]), set(ranked[-group:]) if group else set()
    stats = []
    for question in order:
        took = [s for s in scores if scores[s].get(question) is not None]
        right = [1.0 if scores[s][question] else 0.0 for s in took]
        rest = [totals[s] - x for s, x in zip(took, right)]

        def share(students: set[str]) -> float | None:
            picked = [scores[s][question] for s in took if s in students]
            return sum(1 for v in picked if v) / len(picked) if picked else None

        up, low = share(upper), share(lower)
        wrong = Counter(answer_text(answers[s][question]) for s in took if answers[s][question].get("correct") is False)
        top = wrong.most_common(1)
        stats.append(ItemStats(
            question_id=question, answered=len(took),
            difficulty=sum(right) / len(right) if right else None,
            point_biserial=_correlation(right, rest),
            upper_lower=up - low if up is not None and low is not None else None,
            wrong_answer=top[0][0] if top else None, wrong_count=top[0][1] if top else 0,
        ))
    return stats
