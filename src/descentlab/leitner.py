"""Spaced repetition for the flashcards: Leitner boxes.

A card that has never been answered is *new*. "Knew it" moves a card up one box and
"missed it" sends it back to box 0, due at once. A card in box ``b`` (1..5) comes back
after ``INTERVAL_DAYS[b]`` days, doubling from box to box: 1, 2, 4, 8, 16 days. A card
is *mastered* from box 4 on, that is after four right answers in a row, the last one at
least four days after the one before.

Why Leitner boxes and not FSRS (the `fsrs` package):

* Our learners answer with two buttons, "knew it" / "missed it". FSRS is built for four
  grades and earns its accuracy by fitting its parameters to a person's review history,
  typically hundreds of reviews; a course deck of about fifty terms studied over a few
  weeks never produces that history, so FSRS's default parameters would be doing the
  work and the extra machinery would buy little.
* A learner can understand and predict the schedule ("box 3: back in 4 days"), and
  ``descentlab progress`` can report it in the same words.
* It is a few lines of plain code: no dependency in the learner's environment, no
  library-versioned state (stability, difficulty) locked into the progress file, and a
  pure function of (state, answer, time) that tests drive over simulated days with an
  injected clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

INTERVAL_DAYS = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16}
TOP_BOX = max(INTERVAL_DAYS)
MASTERED_BOX = 4


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
    """Where one card stands. ``box`` 0 with ``reviews`` 0 is a new card."""

    box: int = 0
    due: datetime | None = None
    last: datetime | None = None
    reviews: int = 0
    lapses: int = 0

    @property
    def is_new(self) -> bool:
        return self.reviews == 0

    @property
    def mastered(self) -> bool:
        return self.box >= MASTERED_BOX

    def is_due(self, now: datetime) -> bool:
        return self.due is None or self.due <= as_utc(now)

    def to_json(self) -> dict:
        return {
            "box": self.box,
            "due": self.due.isoformat() if self.due else None,
            "last": self.last.isoformat() if self.last else None,
            "reviews": self.reviews,
            "lapses": self.lapses,
        }

    @classmethod
    def from_json(cls, data: object) -> "CardState":
        """Rebuild a state; anything malformed reads as a new card rather than failing."""
        if not isinstance(data, dict):
            return cls()
        box = data.get("box")
        reviews = data.get("reviews")
        lapses = data.get("lapses", 0)
        if not (isinstance(box, int) and 0 <= box <= TOP_BOX and isinstance(reviews, int) and reviews >= 0):
            return cls()
        return cls(
            box=box,
            due=parse_time(data.get("due")),
            last=parse_time(data.get("last")),
            reviews=reviews,
            lapses=lapses if isinstance(lapses, int) and lapses >= 0 else 0,
        )


def review(state: CardState, knew: bool, now: datetime) -> CardState:
    """The state after one answer at time ``now``."""
    now = as_utc(now)
    if knew:
        box = min(state.box + 1, TOP_BOX)
        return CardState(box, now + timedelta(days=INTERVAL_DAYS[box]), now, state.reviews + 1, state.lapses)
    return CardState(0, now, now, state.reviews + 1, state.lapses + (0 if state.is_new else 1))


def describe(state: CardState, now: datetime) -> str:
    """Short words for a card's schedule: 'new', 'due now', 'box 3 · back in 4 days'."""
    if state.is_new:
        return "new"
    if state.is_due(now):
        return f"box {state.box} · due now"
    seconds = (state.due - as_utc(now)).total_seconds()
    days = seconds / 86400
    when = f"in {round(days)} day{'s' if round(days) != 1 else ''}" if days >= 0.5 else f"in {max(1, round(seconds / 3600))} h"
    return f"box {state.box} · back {when}"


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
