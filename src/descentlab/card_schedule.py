"""Spaced repetition for the flashcards: FSRS (the ``fsrs`` package) behind two buttons.

"Knew it" is FSRS's *Good* and "missed it" its *Again*; the learner never sees the four
grades. FSRS keeps, per card, a *stability* (how many days until the chance of recall
falls to 90 %) and a *difficulty*, and schedules the next review when recall is predicted
to drop to the desired retention. There is one learning step of 10 minutes (FSRS's
default has two, 1 and 10 minutes, made for four grades): a new card you knew goes straight
to an interval in days, a card you missed comes back 10 minutes later in the same sitting. Fuzzing (a few
random percent on long intervals) is off so a schedule can be predicted and tested.

A card's record in ``progress.json`` (``cards`` section)::

    {"scheduler": "fsrs", "state": 2, "step": null, "stability": 11.0, "difficulty": 2.1,
     "due": "...", "last": "...", "reviews": 4, "lapses": 0}

Records written by the Leitner boxes this replaced (``{"box": 3, "due": ..., "last": ...,
"reviews": ..., "lapses": ...}``) are migrated when read (:func:`from_leitner`): the due
date is kept as it was, a card in box ``b`` >= 1 becomes a Review card whose stability is
its Leitner interval (at 90 % retention FSRS's interval equals the stability, so the next
interval continues where the box left off), and box 0 becomes a card to relearn. The
migrated record is written in the new form at the card's next answer.

A card is *mastered* once its stability reaches :data:`MASTERED_DAYS` (the Leitner deck
called a card mastered from box 4, an 8-day interval, so old progress keeps its count).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone

from fsrs import Card, Rating, Scheduler, State

MASTERED_DAYS = 8.0
LEITNER_INTERVAL_DAYS = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}
LEITNER_DIFFICULTY = 5.0  # FSRS difficulty runs 1..10; migrated cards start in the middle
LEARNING_STEP = timedelta(minutes=10)
SCHEDULER = Scheduler(enable_fuzzing=False, learning_steps=(LEARNING_STEP,), relearning_steps=(LEARNING_STEP,))


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime (a naive one is taken to be UTC already)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


@dataclass(frozen=True)
class CardState:
    """Where one card stands; ``reviews == 0`` is a card never studied."""

    state: State = State.Learning
    step: int | None = 0
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None  # None: new, due at once
    last: datetime | None = None
    reviews: int = 0
    lapses: int = 0

    @property
    def is_new(self) -> bool:
        return self.reviews == 0

    @property
    def mastered(self) -> bool:
        return self.state == State.Review and (self.stability or 0) >= MASTERED_DAYS

    def is_due(self, now: datetime) -> bool:
        return self.due is None or self.due <= as_utc(now)

    def to_json(self) -> dict:
        return {
            "scheduler": "fsrs",
            "state": int(self.state),
            "step": self.step,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "due": self.due.isoformat() if self.due else None,
            "last": self.last.isoformat() if self.last else None,
            "reviews": self.reviews,
            "lapses": self.lapses,
        }

    @classmethod
    def from_json(cls, data: object) -> "CardState":
        """Rebuild a state (a Leitner record is migrated); anything malformed reads as a new card."""
        if not isinstance(data, dict):
            return cls()
        reviews, lapses = data.get("reviews"), data.get("lapses", 0)
        if not (isinstance(reviews, int) and reviews >= 0):
            return cls()
        lapses = lapses if isinstance(lapses, int) and lapses >= 0 else 0
        if data.get("scheduler") != "fsrs":
            return from_leitner(data, reviews, lapses)
        try:
            state = State(data.get("state"))
        except ValueError:
            return cls()
        step = data.get("step")
        numbers = [data.get("stability"), data.get("difficulty")]
        if not (step is None or isinstance(step, int)) or not all(
                n is None or (isinstance(n, (int, float)) and not isinstance(n, bool) and n > 0) for n in numbers):
            return cls()
        if state == State.Review and (numbers[0] is None or numbers[1] is None):
            return cls()
        stability, difficulty = (float(n) if n is not None else None for n in numbers)
        return cls(state, step if state != State.Review else None, stability, difficulty,
                   parse_time(data.get("due")), parse_time(data.get("last")), reviews, lapses)


def from_leitner(data: dict, reviews: int, lapses: int) -> CardState:
    """The FSRS state of a Leitner-box record, keeping its due date (module docstring)."""
    box = data.get("box")
    if not (isinstance(box, int) and 0 <= box <= max(LEITNER_INTERVAL_DAYS)):
        return CardState()
    due, last = parse_time(data.get("due")), parse_time(data.get("last"))
    if reviews == 0:
        return CardState()
    if box == 0:  # missed last time: relearn, due when the box said
        return CardState(State.Relearning, 0, 1.0, LEITNER_DIFFICULTY, due, last, reviews, lapses)
    stability = float(LEITNER_INTERVAL_DAYS[box])
    return CardState(State.Review, None, stability, LEITNER_DIFFICULTY, due, last, reviews, lapses)


def review(state: CardState, knew: bool, now: datetime) -> CardState:
    """The state after one answer at time ``now``: FSRS Good for knew, Again for missed."""
    now = as_utc(now)
    card = Card(card_id=0, state=state.state, step=state.step, stability=state.stability,
                difficulty=state.difficulty, due=state.due or now, last_review=state.last)
    card, _ = SCHEDULER.review_card(card, Rating.Good if knew else Rating.Again, now)
    lapse = not knew and state.state == State.Review
    return replace(state, state=card.state, step=card.step, stability=card.stability,
                   difficulty=card.difficulty, due=as_utc(card.due), last=now,
                   reviews=state.reviews + 1, lapses=state.lapses + lapse)


def in_words(delta: timedelta) -> str:
    """'in 3 days', 'in 4 h', 'in 10 min'."""
    seconds = delta.total_seconds()
    if seconds >= 43200:
        days = round(seconds / 86400)
        return f"in {days} day{'s' if days != 1 else ''}"
    if seconds >= 3600:
        return f"in {round(seconds / 3600)} h"
    return f"in {max(1, round(seconds / 60))} min"


PHASES = {State.Learning: "learning", State.Review: "review", State.Relearning: "relearning"}


def describe(state: CardState, now: datetime) -> str:
    """Short words for a card's schedule: 'new', 'review · due now', 'review · back in 4 days'."""
    if state.is_new:
        return "new"
    phase = PHASES[state.state]
    if state.is_due(now):
        return f"{phase} · due now"
    return f"{phase} · back {in_words(state.due - as_utc(now))}"


def end_of_day(now: datetime) -> datetime:
    """The end of ``now``'s calendar day in the machine's local time zone, as UTC."""
    local = as_utc(now).astimezone()
    return as_utc(datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo))


def due_today(states: list[CardState], now: datetime) -> int:
    """Cards to study before the day ends: due now, due later today, or never studied."""
    limit = end_of_day(now)
    return sum(s.due is None or s.due < limit for s in states)


def next_due(states: list[CardState], now: datetime) -> datetime | None:
    """When the next card that is not due yet comes due (None if there is none)."""
    now = as_utc(now)
    later = [s.due for s in states if s.due is not None and s.due > now]
    return min(later) if later else None


def study_order(states: list[CardState], now: datetime) -> list[int]:
    """Indices of ``states`` in study order: cards due for review (most overdue first),
    then new cards (in their given order), then the rest by due date."""
    now = as_utc(now)
    far = datetime.max.replace(tzinfo=timezone.utc)

    def key(i: int):
        s = states[i]
        if s.is_new:
            return (1, far, i)
        if s.is_due(now):
            return (0, s.due or now, i)
        return (2, s.due or far, i)

    return sorted(range(len(states)), key=key)
