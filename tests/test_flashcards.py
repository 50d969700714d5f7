"""The Flashcards widget, driven from Python the way a learner drives it with the mouse."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import ipywidgets as widgets
import pytest

from descentlab import Flashcards
from descentlab.flashcards import CSS_CLASSES
from descentlab.glossary import load_glossary
from descentlab.card_schedule import MASTERED_DAYS
from descentlab.richtext import to_html

REPO = Path(__file__).resolve().parents[1]

DECK = """
- term: gradient
  definition: The vector of partial derivatives $\\nabla J$; it points uphill when $a<b$.
  topic: 02_gradient_descent
  example: For $x^2$ it is $2x$.
- term: learning rate
  aliases: [step size]
  definition: The factor $\\eta$ that scales each step.
  topic: 02_gradient_descent
  see_also: [gradient]
- term: momentum
  definition: A running velocity of past gradients.
  topic: 02_gradient_descent
- term: overfitting
  definition: Fitting the noise of the training data.
  topic: 07_overfitting_regularization
  mnemonic: RUG, Regularization, Using cross-validation, Dropout.
- term: dropout
  definition: Zeroing random units while training.
  topic: 07_overfitting_regularization
"""
TERMS = ["gradient", "learning rate", "momentum", "overfitting", "dropout"]


class Clock:
    """A clock tests move by hand: ``clock.advance(days=2)``."""

    def __init__(self):
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def deck(tmp_path):
    path = tmp_path / "glossary.yml"
    path.write_text(textwrap.dedent(DECK).lstrip())
    return path


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def progress(tmp_path):
    return tmp_path / "ws" / ".descentlab" / "progress.json"


@pytest.fixture
def make(deck, clock, progress):
    def make(**kwargs) -> Flashcards:
        kwargs.setdefault("path", deck)
        kwargs.setdefault("progress_path", progress)
        kwargs.setdefault("clock", clock)
        return Flashcards(**kwargs)
    return make


def knew(cards: Flashcards) -> None:
    """Flip the card (grading needs it) and press "Knew it", as a learner does."""
    if not cards.flipped:
        cards.flip_button.click()
    cards.knew_button.click()


def missed(cards: Flashcards) -> None:
    if not cards.flipped:
        cards.flip_button.click()
    cards.missed_button.click()


def shown(widget) -> bool:
    return widget.layout.display != "none"


def classes_in(widget) -> set[str]:
    found = set(getattr(widget, "_dom_classes", ()))
    for child in getattr(widget, "children", ()):
        found |= classes_in(child)
    return found


# ----------------------------------------------------------------------------- the card

def test_is_a_displayable_widget_with_cards(make):
    cards = make()
    assert isinstance(cards, widgets.VBox)
    assert "application/vnd.jupyter.widget-view+json" in cards._repr_mimebundle_()
    assert [c.term for c in cards.cards] == TERMS
    assert repr(cards) == "Flashcards(5 cards, 5 due)"
    assert cards.counter.value == "1 / 5 · 5 due today"


def test_every_css_class_is_on_some_element(make):
    assert set(CSS_CLASSES) <= classes_in(make())


def test_front_shows_the_term_and_the_back_stays_hidden_until_flipped(make):
    cards = make()
    assert "gradient" in cards.front.value
    assert not shown(cards.back)
    cards.flip_button.click()
    assert cards.flipped and shown(cards.back)
    assert "The vector of partial derivatives" in cards.back.value
    assert "<i>Example.</i>" in cards.back.value
    assert cards.flip_button.description == "Hide"
    cards.flip_button.click()
    assert not cards.flipped and not shown(cards.back)


def test_back_has_memory_aid_aliases_and_see_also(make):
    cards = make(topic="07")
    cards.flip_button.click()
    assert "<i>Memory aid.</i> RUG" in cards.back.value
    cards = make(search="learning rate")
    cards.flip_button.click()
    assert "<i>Also called:</i> step size" in cards.back.value
    assert "<i>See also:</i> gradient" in cards.back.value


def test_latex_reaches_mathjax_intact_in_htmlmath(make):
    cards = make()
    assert isinstance(cards.front, widgets.HTMLMath) and isinstance(cards.back, widgets.HTMLMath)
    cards.flip_button.click()
    # '<' is escaped for the HTML; the browser turns it back into text before MathJax reads it
    assert "$\\nabla J$" in cards.back.value and "$a&lt;b$" in cards.back.value


def test_rich_text_keeps_maths_and_marks_up_code_and_bold_outside_it():
    assert to_html("use `np.exp` on **logits** $a*b<c$") == \
        "use <code>np.exp</code> on <b>logits</b> $a*b&lt;c$"
    assert to_html("**bold** $`x` **y**$\n\nnext") == "<b>bold</b> $`x` **y**$<br><br>next"


# ------------------------------------------------------------------------- navigation

def test_next_and_previous_move_one_card_and_stop_at_the_ends(make):
    cards = make()
    assert cards.counter.value == "1 / 5 · 5 due today"
    assert cards.prev_button.disabled and not cards.next_button.disabled
    cards.next_button.click()
    assert cards.current.term == "learning rate" and cards.counter.value.startswith("2 / 5")
    cards.prev_button.click()
    assert cards.current.term == "gradient"
    for _ in range(10):
        cards.next_button.click()
    assert cards.current.term == "dropout" and cards.next_button.disabled
    assert cards.counter.value == "5 / 5 · 5 due today"


def test_moving_to_another_card_shows_its_front(make):
    cards = make()
    cards.flip_button.click()
    cards.next_button.click()
    assert not cards.flipped and not shown(cards.back)


def test_shuffle_is_a_seeded_permutation(make):
    a, b = make(seed=3), make(seed=3)
    a.shuffle_button.click()
    b.shuffle_button.click()
    assert [c.term for c in a.cards] == [c.term for c in b.cards]
    assert sorted(c.term for c in a.cards) == sorted(TERMS)
    orders = set()
    for seed in range(6):
        c = make(seed=seed)
        c.shuffle_button.click()
        orders.add(tuple(x.term for x in c.cards))
    assert len(orders) > 1


def test_shuffle_keeps_due_cards_first(make, clock):
    cards = make(seed=0)
    for _ in range(3):
        knew(cards)  # gradient, learning rate, momentum: not due for a day
    for seed in range(5):
        c = make(seed=seed)
        c.shuffle_button.click()
        assert {x.term for x in c.cards[:2]} == {"overfitting", "dropout"}


# ------------------------------------------------------------------------------ filters

def test_topic_filter(make):
    cards = make()
    cards.topic_filter.value = "07_overfitting_regularization"
    assert [c.term for c in cards.cards] == ["overfitting", "dropout"]
    assert cards.counter.value == "1 / 2 · 2 due today"
    cards.topic_filter.value = ""
    assert len(cards.cards) == 5


def test_topic_argument_takes_an_id_or_a_number(make):
    assert [c.term for c in make(topic="07_overfitting_regularization").cards] == ["overfitting", "dropout"]
    cards = make(topic="2")
    assert cards.topic_filter.value == "02_gradient_descent"
    assert len(cards.cards) == 3


def test_topic_without_terms_shows_a_message(make):
    cards = make(topic="05")
    assert cards.cards == [] and cards.counter.value == "0 / 0 · 0 due today"
    assert "No cards for this topic" in cards.front.value
    assert cards.flip_button.disabled and cards.knew_button.disabled


def test_search_box_matches_terms_aliases_and_definitions(make):
    cards = make()
    cards.search_box.value = "step size"
    assert [c.term for c in cards.cards] == ["learning rate"]
    cards.search_box.value = "GRADIENTS"
    assert [c.term for c in cards.cards] == ["momentum"]
    cards.search_box.value = "gradient"
    assert [c.term for c in cards.cards][0] == "gradient"  # the name match comes first
    cards.search_box.value = ""
    assert len(cards.cards) == 5


def test_search_and_topic_combine_and_no_match_is_explained(make):
    cards = make()
    cards.topic_filter.value = "07_overfitting_regularization"
    cards.search_box.value = "momentum"
    assert cards.cards == []
    assert "No card matches <b>momentum</b>" in cards.front.value
    assert cards.next_button.disabled and cards.missed_button.disabled
    knew(cards)  # disabled in the browser; from Python it must do nothing
    assert cards.states == {}


# ----------------------------------------------------------------- spaced repetition (FSRS)

def test_a_card_must_be_flipped_before_it_is_graded(make, progress):
    cards = make()
    assert cards.knew_button.disabled and cards.missed_button.disabled
    cards.knew_button.click()  # a click that reaches the kernel anyway changes nothing
    assert cards.state("gradient").is_new and cards.current.term == "gradient"
    assert "Flip the card first" in cards.status.value and not progress.exists()
    cards.flip_button.click()
    assert not cards.knew_button.disabled and not cards.missed_button.disabled
    cards.knew_button.click()
    assert cards.state("gradient").reviews == 1
    assert cards.current.term == "learning rate" and cards.knew_button.disabled  # next card: face down


def test_keys_flip_grade_and_move(make):
    cards = make()
    press = lambda key: cards._on_key({"type": "keydown", "key": key})  # what ipyevents sends
    press("1")
    assert cards.state("gradient").is_new  # not flipped: not graded
    press(" ")
    assert cards.flipped and shown(cards.back)
    press("1")
    assert cards.state("gradient").reviews == 1 and cards.current.term == "learning rate"
    press(" ")
    press("2")
    assert cards.state("learning rate").due < cards.state("gradient").due
    assert cards.current.term == "momentum"
    press("ArrowLeft")
    assert cards.current.term == "learning rate"
    press("ArrowRight")
    press("ArrowRight")
    assert cards.current.term == "overfitting"
    press("x")
    assert cards.current.term == "overfitting" and not cards.flipped


def test_keyboard_listens_on_the_study_area_not_the_search_box(make):
    cards = make()
    assert "dl-study" in cards.key_events.source._dom_classes
    assert cards.search_box not in classes_walk(cards.key_events.source)
    assert set(cards.key_events.watched_events) == {"keydown"} and cards.key_events.prevent_default_action


def classes_walk(widget) -> list:
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += classes_walk(child)
    return found


def test_knew_it_schedules_the_card_days_later_and_moves_on(make, clock):
    cards = make()
    knew(cards)
    state = cards.state("gradient")
    assert state.reviews == 1 and state.due == clock.now + timedelta(days=2)  # FSRS's first Good interval
    assert cards.current.term == "learning rate"
    assert cards.counter.value == "2 / 5 · 4 due today · next in 2 days"
    assert "Knew it" in cards.status.value and "review · back in 2 days" in cards.status.value


def test_missed_it_brings_the_card_back_within_minutes(make, clock):
    cards = make()
    missed(cards)
    state = cards.state("gradient")
    assert (state.reviews, state.lapses) == (1, 0)
    assert clock.now < state.due <= clock.now + timedelta(minutes=10)
    assert cards.counter.value.startswith("2 / 5 · 5 due today")
    assert "Missed it" in cards.status.value and "min" in cards.status.value


def test_schedule_over_simulated_days_grows_and_reaches_mastery(make, clock):
    """Knew it every time it is due: FSRS spaces the reviews further and further apart."""
    reviews_on = []
    for hour in range(0, 24 * 120, 1):
        if clock.now.hour == 9 or hour < 2:
            cards = make(topic="02", search="")
            if cards.state("gradient").is_due(clock.now):
                reviews_on.append(hour / 24)
                cards.go(next(i for i, c in enumerate(cards.cards) if c.term == "gradient"))
                knew(cards)
        clock.advance(hours=1)
    gaps = [b - a for a, b in zip(reviews_on[1:], reviews_on[2:])]
    assert len(reviews_on) >= 4 and all(b > a for a, b in zip(gaps, gaps[1:])), reviews_on
    assert make().state("gradient").mastered and make().state("gradient").stability >= MASTERED_DAYS


def test_a_lapse_counts_and_brings_a_review_card_back_soon(make, clock):
    cards = make()
    knew(cards)
    due = cards.state("gradient").due
    clock.now = due
    cards = make()
    cards.go([c.term for c in cards.cards].index("gradient"))
    missed(cards)
    state = cards.state("gradient")
    assert (state.lapses, state.reviews) == (1, 2) and state.due <= clock.now + timedelta(minutes=10)
    assert not state.mastered


def test_due_cards_come_first_then_new_then_later(make, clock):
    cards = make()
    knew(cards)    # gradient: due in 2 days
    knew(cards)    # learning rate: due in 2 days
    missed(cards)  # momentum: due in 10 minutes
    cards = make()
    assert [c.term for c in cards.cards] == ["overfitting", "dropout", "momentum", "gradient", "learning rate"]
    assert cards.counter.value == "1 / 5 · 3 due today · next in 10 min"
    clock.advance(days=2, minutes=1)
    cards = make()
    assert [c.term for c in cards.cards][:3] == ["momentum", "gradient", "learning rate"]
    assert cards.counter.value == "1 / 5 · 5 due today"


def test_answering_the_last_card_says_so(make):
    cards = make(topic="07")
    knew(cards)
    knew(cards)
    assert cards.current.term == "dropout"
    assert "end of the deck" in cards.status.value


# --------------------------------------------------------------------------- persistence

def test_progress_round_trip_through_the_file(make, progress, clock):
    cards = make()
    knew(cards)
    missed(cards)
    saved = json.loads(progress.read_text())
    assert saved["cards"]["gradient"]["scheduler"] == "fsrs" and saved["cards"]["gradient"]["reviews"] == 1
    assert saved["cards"]["learning rate"]["reviews"] == 1
    again = make()
    assert again.state("gradient") == cards.state("gradient")
    assert again.state("learning rate") == cards.state("learning rate")


def test_nothing_is_written_until_an_answer(make, progress):
    cards = make()
    cards.flip_button.click()
    cards.next_button.click()
    cards.search_box.value = "x"
    assert not progress.parent.exists()


def test_missing_progress_file_and_folder_start_fresh_silently(make, progress):
    assert not progress.parent.exists()
    cards = make()
    assert cards.states == {} and not shown(cards.note)
    knew(cards)
    assert progress.is_file()


def test_corrupt_progress_file_is_kept_and_a_note_is_shown(make, progress):
    progress.parent.mkdir(parents=True)
    progress.write_text('{"cards": {"gradient": {"box": 2,')  # cut off mid-write
    cards = make()
    assert shown(cards.note) and "could not be read" in cards.note.value
    backups = list(progress.parent.glob("progress.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text().startswith('{"cards"')
    assert backups[0].name in cards.note.value
    assert cards.states == {}
    knew(cards)
    assert json.loads(progress.read_text())["cards"]["gradient"]["reviews"] == 1


@pytest.mark.parametrize("content", ["[1, 2, 3]", '{"version": 99}', '{"cards": "oops"}', "\x00\xff binary"])
def test_progress_files_of_the_wrong_shape_count_as_corrupt(make, progress, content):
    progress.parent.mkdir(parents=True)
    progress.write_bytes(content.encode("latin-1"))
    cards = make()
    assert "could not be read" in cards.note.value
    assert len(cards.cards) == 5


def test_malformed_card_records_read_as_new_cards(make, progress):
    progress.parent.mkdir(parents=True)
    progress.write_text(json.dumps({"version": 1, "cards": {
        "gradient": {"box": "three"}, "momentum": {"box": 9, "reviews": 1}, "dropout": [1],
    }}))
    cards = make()
    assert not shown(cards.note)
    assert all(cards.state(t).is_new for t in ("gradient", "momentum", "dropout"))


def test_unwritable_progress_location_never_raises(make, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cards = make(progress_path=blocker / "progress.json")
    knew(cards)
    assert cards.state("gradient").reviews == 1  # kept in memory
    assert shown(cards.note) and "Could not save" in cards.note.value


def test_two_widgets_saving_alternately_lose_nothing(make, progress):
    a, b = make(), make()
    knew(a)                     # gradient
    b.go(1)
    missed(b)                   # learning rate
    a.go(2)
    knew(a)                     # momentum
    saved = json.loads(progress.read_text())["cards"]
    assert set(saved) == {"gradient", "learning rate", "momentum"}
    assert set(a.states) == {"gradient", "learning rate", "momentum"}  # a picked up b's answer


# ----------------------------------------------------------------------- course defaults

def test_default_deck_is_the_course_glossary(progress):
    cards = Flashcards(progress_path=progress)
    assert len(cards.cards) == len(load_glossary(REPO / "glossary.yml")) >= 40


def test_progress_lives_in_the_workspace_found_above_the_cwd(tmp_path, deck, monkeypatch):
    workspace = tmp_path / "course"
    (workspace / ".descentlab").mkdir(parents=True)
    (workspace / "lessons").mkdir()
    monkeypatch.chdir(workspace / "lessons")
    cards = Flashcards(path=deck)
    assert cards.store.path == workspace / ".descentlab" / "progress.json"
    knew(cards)
    assert (workspace / ".descentlab" / "progress.json").is_file()


def test_without_a_workspace_progress_goes_under_the_cwd(tmp_path, deck, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Flashcards(path=deck).store.path == tmp_path / ".descentlab" / "progress.json"


def test_import_descentlab_stays_light_and_exports_the_widgets():
    code = (
        "import sys, descentlab\n"
        "assert 'ipywidgets' not in sys.modules and 'yaml' not in sys.modules, sorted(sys.modules)\n"
        "from descentlab import Flashcards, Quiz\n"
        "assert 'ipywidgets' in sys.modules\n"
        "assert Flashcards.__module__ == 'descentlab.flashcards' and Quiz.__module__ == 'descentlab.quiz'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
