"""Flashcards for the course glossary, with spaced repetition and saved progress.

``Flashcards()`` shows every glossary term; ``Flashcards(topic="02_gradient_descent")``
(or ``topic="02"``) one lesson's terms; ``path=`` another glossary file. One card at a
time: the term on the front, definition, example and memory aid on the back. Buttons flip,
go back and forth, shuffle, and record "knew it" / "missed it" (only once the card is
flipped: grading a card you have not checked would teach the schedule a guess); a topic
menu and a search box narrow the deck; the counter reads
"12 / 43 · 5 due today · next in 3 h".

Keyboard (with the pointer over the card, through ``ipyevents``, since ipywidgets has no
key events): space flips, 1 is "knew it", 2 is "missed it", the left and right arrows
move between cards.

Scheduling uses FSRS (:mod:`descentlab.card_schedule`): cards due for review come first,
then new cards, then the rest (a search lists the best matches first instead). "Due
today" counts cards due before the day ends plus cards never studied. Answers are
saved at once in the workspace's ``.descentlab/progress.json`` (see
:mod:`descentlab.progress_store`), so they survive a kernel restart and are shared with
every other Flashcards widget.

Everything is driven from the kernel, so tests click the same buttons a learner does:
``cards.flip_button.click()``, ``cards.search_box.value = "momentum"``. Every part carries
a ``dl-*`` CSS class for browser tests (listed in ``CSS_CLASSES``).
"""
from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import ipywidgets as widgets
from ipyevents import Event

from .card_schedule import CardState, describe, due_today, in_words, next_due, review, study_order
from .course import LESSONS, resolve_lesson_id
from .glossary import Entry, Glossary, load_glossary
from .glossary_browser import card_html
from .progress_store import ProgressStore
from .richtext import to_html

CSS_CLASSES = (
    "dl-flashcards", "dl-toolbar", "dl-topic", "dl-search", "dl-shuffle", "dl-counter",
    "dl-card", "dl-card-front", "dl-card-back", "dl-nav", "dl-prev", "dl-flip", "dl-next",
    "dl-knew", "dl-missed", "dl-status", "dl-note", "dl-study", "dl-keys",
)
KEYS_HELP = "Keys, with the pointer over the card: <b>space</b> flips · <b>1</b> knew it · <b>2</b> missed it · <b>← →</b> move"
ALL_TOPICS = ""


def _button(description: str, css: str, tooltip: str, style: str = "") -> widgets.Button:
    button = widgets.Button(description=description, tooltip=tooltip, button_style=style,
                            layout=widgets.Layout(width="auto"))
    button.add_class(css)
    return button


class Flashcards(widgets.VBox):
    """A deck of glossary flashcards; ``.cards`` lists the cards in their current order."""

    def __init__(
        self,
        path: Path | str | None = None,
        topic: str | None = None,
        *,
        search: str = "",
        progress_path: Path | str | None = None,
        clock: Callable[[], datetime] | None = None,
        seed: int | None = None,
        glossary: Glossary | None = None,
    ):
        super().__init__()
        self.glossary = glossary if glossary is not None else load_glossary(path)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.store = ProgressStore(progress_path, clock=self.clock)
        self._rng = random.Random(seed)
        self.states: dict[str, CardState] = {}
        self._absorb(self.store.load().get("cards", {}))
        self.cards: list[Entry] = []
        self.index = 0
        self.flipped = False

        topic_id = resolve_lesson_id(topic) if topic else ALL_TOPICS
        self.topic_filter = widgets.Dropdown(
            options=[("All topics", ALL_TOPICS)] + [(f"{i[:2]} {LESSONS[i]}", i) for i in LESSONS],
            value=topic_id, description="Topic", layout=widgets.Layout(width="auto"),
        )
        self.search_box = widgets.Text(value=search, placeholder="search terms and definitions",
                                       description="Search", continuous_update=True)
        self.shuffle_button = _button("Shuffle", "dl-shuffle", "shuffle the cards (due cards stay first)")
        self.counter = widgets.HTML()
        self.front = widgets.HTMLMath()
        self.back = widgets.HTMLMath()
        self.prev_button = _button("◀ Previous", "dl-prev", "previous card")
        self.flip_button = _button("Flip", "dl-flip", "show or hide the definition", "info")
        self.next_button = _button("Next ▶", "dl-next", "next card")
        self.knew_button = _button("Knew it", "dl-knew", "I knew it: show it again later (key 1)", "success")
        self.missed_button = _button("Missed it", "dl-missed", "I missed it: show it again soon (key 2)", "warning")
        self.status = widgets.HTML()
        self.note = widgets.HTML()
        for widget, css in ((self.topic_filter, "dl-topic"), (self.search_box, "dl-search"),
                            (self.counter, "dl-counter"), (self.front, "dl-card-front"),
                            (self.back, "dl-card-back"), (self.status, "dl-status"), (self.note, "dl-note")):
            widget.add_class(css)

        card = widgets.VBox([self.front, self.back], layout=widgets.Layout(
            border="1px solid #b0b0b0", padding="8px 16px", min_height="140px", margin="6px 0"))
        card.add_class("dl-card")
        toolbar = widgets.HBox([self.topic_filter, self.search_box, self.shuffle_button])
        toolbar.add_class("dl-toolbar")
        nav = widgets.HBox([self.prev_button, self.flip_button, self.next_button,
                            self.knew_button, self.missed_button])
        nav.add_class("dl-nav")
        keys = widgets.HTML(f"<span style='opacity:0.7;font-size:0.85em'>{KEYS_HELP}</span>")
        keys.add_class("dl-keys")
        # The keys listen on the study area only, so typing in the search box stays typing.
        study = widgets.VBox([self.counter, card, nav, keys])
        study.add_class("dl-study")
        self.key_events = Event(source=study, watched_events=["keydown"], prevent_default_action=True)
        self.key_events.on_dom_event(self._on_key)
        self.children = [toolbar, study, self.status, self.note]
        self.add_class("dl-flashcards")

        self.flip_button.on_click(lambda _: self.flip())
        self.next_button.on_click(lambda _: self.go(self.index + 1))
        self.prev_button.on_click(lambda _: self.go(self.index - 1))
        self.knew_button.on_click(lambda _: self.answer(True))
        self.missed_button.on_click(lambda _: self.answer(False))
        self.shuffle_button.on_click(lambda _: self.shuffle())
        self.topic_filter.observe(lambda _: self.rebuild(), names="value")
        self.search_box.observe(lambda _: self.rebuild(), names="value")
        self.rebuild()

    def __repr__(self) -> str:
        return f"Flashcards({len(self.cards)} cards, {self.due_count} due)"

    # ------------------------------------------------------------------ state
    def now(self) -> datetime:
        return self.clock()

    def _absorb(self, saved: dict) -> None:
        for term, record in saved.items():
            self.states[term] = CardState.from_json(record)

    def state(self, term: str) -> CardState:
        return self.states.get(term, CardState())

    @property
    def current(self) -> Entry | None:
        return self.cards[self.index] if self.cards else None

    @property
    def due_count(self) -> int:
        """Cards of the deck to study before the day ends (new ones included)."""
        return due_today([self.state(c.term) for c in self.cards], self.now())

    def next_due_words(self) -> str:
        when = next_due([self.state(c.term) for c in self.cards], self.now())
        return f"next {in_words(when - self.now())}" if when else ""

    def _on_key(self, event: dict) -> None:
        """Keyboard: space flips, 1 knew it, 2 missed it, arrows move (see the docstring)."""
        key = event.get("key")
        if key == " ":
            self.flip()
        elif key == "1":
            self.answer(True)
        elif key == "2":
            self.answer(False)
        elif key == "ArrowRight":
            self.go(self.index + 1)
        elif key == "ArrowLeft":
            self.go(self.index - 1)

    # ---------------------------------------------------------------- actions
    def rebuild(self) -> None:
        """Apply the topic and search filters and put due cards first."""
        topic = self.topic_filter.value or None
        pool = self.glossary.search(self.search_box.value, topic) if self.search_box.value.strip() \
            else (self.glossary.by_topic(topic) if topic else list(self.glossary))
        if not self.search_box.value.strip():
            order = study_order([self.state(e.term) for e in pool], self.now())
            pool = [pool[i] for i in order]
        self.cards = pool
        self.index = 0
        self.flipped = False
        self.status.value = ""
        self.render()

    def shuffle(self) -> None:
        """Shuffle the deck; cards due now stay ahead of the others."""
        now = self.now()
        due = [c for c in self.cards if self.state(c.term).is_due(now)]
        later = [c for c in self.cards if not self.state(c.term).is_due(now)]
        self._rng.shuffle(due)
        self._rng.shuffle(later)
        self.cards = due + later
        self.index = 0
        self.flipped = False
        self.render()

    def flip(self) -> None:
        if self.cards:
            self.flipped = not self.flipped
            self.render()

    def go(self, index: int) -> None:
        if self.cards and 0 <= index < len(self.cards):
            self.index = index
            self.flipped = False
            self.status.value = ""
            self.render()

    def answer(self, knew: bool) -> None:
        """Record "knew it" (True) or "missed it" (False) for the current card, save, and
        move on to the next card. A card that was not flipped is not graded."""
        entry = self.current
        if entry is None:
            return
        if not self.flipped:
            self.status.value = "Flip the card first (<b>Flip</b> or space): check the answer, then grade it."
            return
        new_state = review(self.state(entry.term), knew, self.now())
        self.states[entry.term] = new_state

        def change(data: dict) -> None:
            data["cards"][entry.term] = new_state.to_json()

        saved = self.store.update(change)
        self._absorb(saved.get("cards", {}))  # answers other widgets saved meanwhile
        verdict = "Knew it" if knew else "Missed it"
        self.status.value = f"<b>{verdict}</b>: {entry.term} · {describe(new_state, self.now())}"
        if self.index + 1 < len(self.cards):
            self.index += 1
            self.flipped = False
        elif self.cards:
            self.status.value += f" · end of the deck; {self.due_count} due"
        self.render()

    # ---------------------------------------------------------------- display
    def render(self) -> None:
        total = len(self.cards)
        upcoming = self.next_due_words()
        self.counter.value = (f"{self.index + 1 if total else 0} / {total} · {self.due_count} due today"
                              + (f" · {upcoming}" if upcoming else ""))
        entry = self.current
        for button in (self.flip_button, self.shuffle_button):
            button.disabled = entry is None
        for button in (self.knew_button, self.missed_button):
            button.disabled = entry is None or not self.flipped
        self.prev_button.disabled = entry is None or self.index == 0
        self.next_button.disabled = entry is None or self.index >= total - 1
        if entry is None:
            wanted = self.search_box.value.strip()
            self.front.value = (f"No card matches <b>{to_html(wanted)}</b>." if wanted
                                else "No cards for this topic yet.")
            self.back.value = ""
            self.back.layout.display = "none"
        else:
            schedule = describe(self.state(entry.term), self.now())
            self.front.value = (
                f'<div style="font-size:1.5em;font-weight:600">{to_html(entry.term)}</div>'
                f'<div style="opacity:0.7;font-size:0.85em">{entry.topic[:2]} {LESSONS.get(entry.topic, "")}'
                f" · {schedule}</div>"
            )
            self.back.value = self._back_html(entry)
            self.back.layout.display = "" if self.flipped else "none"
        self.flip_button.description = "Hide" if self.flipped else "Flip"
        if self.store.notes:
            self.note.value = "<br>".join(f"⚠ {to_html(n)}" for n in self.store.notes)
            self.note.layout.display = ""
        else:
            self.note.value = ""
            self.note.layout.display = "none"

    @staticmethod
    def _back_html(entry: Entry) -> str:
        return card_html(entry)
