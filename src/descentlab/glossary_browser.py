"""Browse the course glossary in a notebook: search as you type, filter by lesson, and
the card of any term.

``GlossaryBrowser()`` (``lessons/glossary.ipynb`` shows one) reads the workspace's
``glossary.yml`` like the flashcards do. The search box narrows the list at every
keystroke (the glossary's own ranking: exact term or alias, then names that start with
or contain the words, then definitions); the lesson menu keeps one lesson's terms; picking
a term in the list shows its card, the same text as the back of its flashcard. A term's
"see also" links are buttons that open that term's card. Everything is driven from the
kernel, so tests set ``browser.search_box.value`` and read ``browser.card.value``.
"""
from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets

from .course import LESSONS, resolve_lesson_id
from .glossary import Entry, Glossary, load_glossary
from .richtext import to_html

CSS_CLASSES = ("dl-glossary", "dl-glossary-search", "dl-glossary-topic", "dl-glossary-count",
               "dl-glossary-terms", "dl-glossary-card", "dl-glossary-see-also")
ALL_TOPICS = ""


def card_html(entry: Entry) -> str:
    """The card of one term: definition, example, memory aid, other names, related terms."""
    parts = [f"<p>{to_html(entry.definition)}</p>"]
    if entry.example:
        parts.append(f"<p><i>Example.</i> {to_html(entry.example)}</p>")
    if entry.mnemonic:
        parts.append(f"<p><i>Memory aid.</i> {to_html(entry.mnemonic)}</p>")
    if entry.aliases:
        parts.append(f"<p><i>Also called:</i> {to_html(', '.join(entry.aliases))}</p>")
    if entry.see_also:
        parts.append(f"<p><i>See also:</i> {to_html(', '.join(entry.see_also))}</p>")
    return "".join(parts)


class GlossaryBrowser(widgets.VBox):
    """Search box, lesson menu, the matching terms, and the card of the chosen one."""

    def __init__(self, path: Path | str | None = None, *, topic: str | None = None,
                 search: str = "", glossary: Glossary | None = None):
        super().__init__()
        self.glossary = glossary if glossary is not None else load_glossary(path)
        self.search_box = widgets.Text(value=search, placeholder="type to search terms and definitions",
                                       description="Search", continuous_update=True)
        self.topic_filter = widgets.Dropdown(
            options=[("All lessons", ALL_TOPICS)] + [(f"{i[:2]} {LESSONS[i]}", i) for i in LESSONS],
            value=resolve_lesson_id(topic) if topic else ALL_TOPICS, description="Lesson",
            layout=widgets.Layout(width="auto"))
        self.count = widgets.HTML()
        self.terms = widgets.Select(options=[], rows=14, layout=widgets.Layout(width="22em"))
        self.card = widgets.HTMLMath()
        self.see_also = widgets.HBox()
        for widget, css in ((self.search_box, "dl-glossary-search"), (self.topic_filter, "dl-glossary-topic"),
                            (self.count, "dl-glossary-count"), (self.terms, "dl-glossary-terms"),
                            (self.see_also, "dl-glossary-see-also")):
            widget.add_class(css)
        card_box = widgets.VBox([self.card, self.see_also], layout=widgets.Layout(
            border="1px solid #b0b0b0", padding="8px 16px", min_height="200px", flex="1"))
        card_box.add_class("dl-glossary-card")
        self.children = [widgets.HBox([self.search_box, self.topic_filter]), self.count,
                         widgets.HBox([self.terms, card_box])]
        self.add_class("dl-glossary")
        self.search_box.observe(lambda _: self.refresh(), names="value")
        self.topic_filter.observe(lambda _: self.refresh(), names="value")
        self.terms.observe(lambda change: self.show(change["new"]), names="value")
        self.refresh()

    def __repr__(self) -> str:
        return f"GlossaryBrowser({len(self.matches)} of {len(self.glossary)} terms)"

    @property
    def matches(self) -> list[Entry]:
        return self.glossary.search(self.search_box.value, self.topic_filter.value or None)

    def refresh(self) -> None:
        """Apply the search and the lesson filter; keep the shown term if it still matches."""
        found = self.matches
        current = self.terms.value
        self.terms.options = [e.term for e in found]
        wanted = self.search_box.value.strip()
        if found:
            self.count.value = f"{len(found)} of {len(self.glossary)} terms"
            self.terms.value = current if current in self.terms.options else found[0].term
            self.show(self.terms.value)
        else:
            hint = self.glossary.suggestions(wanted) if wanted else []
            self.count.value = (f"No term matches <b>{to_html(wanted)}</b>"
                                + (f"; did you mean {to_html(', '.join(hint))}?" if hint else ".")
                                if wanted else "No terms for this lesson yet.")
            self.card.value = ""
            self.see_also.children = []

    def show(self, term: str | None) -> None:
        """Show the card of ``term`` (a term or an alias)."""
        entry = self.glossary.get(term) if term else None
        if entry is None:
            return
        if entry.term in self.terms.options and self.terms.value != entry.term:
            self.terms.value = entry.term  # calls show again through the observer
            return
        self.card.value = (f'<div style="font-size:1.4em;font-weight:600">{to_html(entry.term)}</div>'
                           f'<div style="opacity:0.7;font-size:0.85em">{entry.topic[:2]} '
                           f'{LESSONS.get(entry.topic, "")}</div>' + card_html(entry))
        buttons = []
        for name in entry.see_also:
            button = widgets.Button(description=name, tooltip=f"show the card of {name}",
                                    layout=widgets.Layout(width="auto"))
            button.on_click(lambda _, name=name: self.open_term(name))
            buttons.append(button)
        self.see_also.children = buttons

    def open_term(self, name: str) -> None:
        """Open another term's card, clearing the filters if they hide it."""
        entry = self.glossary.get(name)
        if entry is None:
            return
        if entry.term not in self.terms.options:
            self.search_box.value = ""
            self.topic_filter.value = ALL_TOPICS
        self.show(entry.term)
