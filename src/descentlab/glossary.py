"""The course glossary (``glossary.yml``): loading it with a schema, searching it, and the
``descentlab glossary [QUERY]`` command.

The file is a YAML list; each entry is a mapping::

    - term: learning rate
      definition: The step size $\\eta$ in $\\theta \\leftarrow \\theta - \\eta \\nabla L$.
      topic: 02_gradient_descent          # a lesson id
      example: ...                        # optional
      mnemonic: ...                       # optional (RUG, TAME)
      see_also: [gradient descent]        # optional; every item must be a term or alias
      aliases: [step size]                # optional

Every fault (malformed YAML, unknown key, missing field, empty definition, unknown topic,
duplicate term or alias, dangling ``see_also``) is reported as one line naming the file,
the line and the term; all faults of a file are raised together as a
:class:`GlossaryError`, never as a bare PyYAML traceback.
"""
from __future__ import annotations

import argparse
import difflib
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

from .course import LESSON_IDS, LESSONS, resolve_lesson_id
from .richtext import to_plain
from .workspace import Workspace, glossary_file
from .yamlfile import Fault, MappingReader, YamlSchemaError, compose_file, kind_of, line_of

REQUIRED_FIELDS = ("term", "definition", "topic")
OPTIONAL_FIELDS = ("example", "mnemonic", "see_also", "aliases")


class GlossaryError(YamlSchemaError):
    """glossary.yml breaks its schema; the message names file, line and term per fault."""


@dataclass(frozen=True)
class Entry:
    """One glossary term; also one flashcard."""

    term: str
    definition: str
    topic: str
    example: str = ""
    mnemonic: str = ""
    see_also: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    line: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        return (self.term, *self.aliases)

    def matches(self, query: str) -> bool:
        """Case-insensitive substring match on the term, its aliases and its text."""
        q = query.strip().lower()
        if not q:
            return True
        return any(q in text.lower() for text in (*self.names, self.definition, self.example, self.mnemonic))


class Glossary:
    """The loaded glossary: entries in file order, looked up by term or alias."""

    def __init__(self, entries: list[Entry], path: Path | None = None):
        self.entries: tuple[Entry, ...] = tuple(entries)
        self.path = path
        self._by_name = {name.lower(): e for e in self.entries for name in e.names}

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def get(self, name: str) -> Entry | None:
        """The entry whose term or alias is ``name`` (case-insensitive), or None."""
        return self._by_name.get(name.strip().lower())

    def topics(self) -> list[str]:
        """Lesson ids that have at least one term, in course order."""
        present = {e.topic for e in self.entries}
        return [t for t in LESSON_IDS if t in present]

    def by_topic(self, topic: str) -> list[Entry]:
        return [e for e in self.entries if e.topic == topic]

    def search(self, query: str, topic: str | None = None) -> list[Entry]:
        """Entries matching ``query``: exact term/alias first, then names containing it,
        then entries whose definition, example or mnemonic contains it."""
        pool = self.by_topic(topic) if topic else list(self.entries)
        q = query.strip().lower()
        if not q:
            return pool

        def rank(entry: Entry) -> int:
            names = [n.lower() for n in entry.names]
            if q in names:
                return 0
            if any(n.startswith(q) for n in names):
                return 1
            if any(q in n for n in names):
                return 2
            return 3

        return sorted((e for e in pool if e.matches(q)), key=rank)

    def suggestions(self, query: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(query.strip().lower(), list(self._by_name), n=n, cutoff=0.6)


def load_glossary(path: Path | str | None = None) -> Glossary:
    """Load and validate a glossary file (default: the workspace's ``glossary.yml``, or
    the course's outside a workspace)."""
    path = Path(path) if path is not None else glossary_file()
    root = compose_file(path, GlossaryError)
    if root is None:
        raise GlossaryError([Fault(path, 0, "", "the file is empty; expected a list of terms")])
    if not isinstance(root, yaml.SequenceNode):
        raise GlossaryError(
            [Fault(path, line_of(root), "", f"expected a list of terms ('- term: ...'), found {kind_of(root)}")]
        )
    faults: list[Fault] = []
    entries: list[Entry] = []
    see_also_refs: list[tuple[Entry, str, yaml.Node]] = []
    owner: dict[str, tuple[str, int]] = {}  # lower-cased name -> (term, line)

    for position, node in enumerate(root.value, start=1):
        if not isinstance(node, yaml.MappingNode):
            faults.append(Fault(path, line_of(node), f"entry {position}", f"expected 'term: ...' fields, found {kind_of(node)}"))
            continue
        term_node = next((v for k, v in node.value if getattr(k, "value", None) == "term"), None)
        named = isinstance(term_node, yaml.ScalarNode) and term_node.value.strip()
        subject = f"term {term_node.value.strip()!r}" if named else f"entry {position}"
        reader = MappingReader(node, path, subject, faults, REQUIRED_FIELDS, OPTIONAL_FIELDS)
        term = reader.text("term")
        definition = reader.text("definition")
        topic = reader.text("topic")
        if topic and topic not in LESSONS:
            close = difflib.get_close_matches(topic, LESSON_IDS, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            reader.fault(reader.node_of("topic"), f"unknown topic {topic!r}{hint}; topics are the lesson ids: {', '.join(LESSON_IDS)}")
        aliases = reader.text_list("aliases")
        entry = Entry(
            term=term,
            definition=definition,
            topic=topic,
            example=reader.text("example", required=False),
            mnemonic=reader.text("mnemonic", required=False),
            see_also=tuple(name for name, _ in reader.text_list("see_also")),
            aliases=tuple(name for name, _ in aliases),
            line=line_of(node),
        )
        if not term:
            continue
        for name, name_node in [(term, reader.node_of("term")), *aliases]:
            key = name.lower()
            if key in owner:
                other, other_line = owner[key]
                kind = "term" if name_node is reader.node_of("term") else "alias"
                clash = "the term" if other.lower() == key else f"an alias of term {other!r}"
                reader.fault(name_node, f"duplicate {kind} {name!r}: already {clash} (line {other_line})")
            else:
                owner[key] = (term, line_of(name_node))
        for name, ref_node in reader.text_list("see_also"):
            see_also_refs.append((entry, name, ref_node))
        entries.append(entry)

    for entry, name, ref_node in see_also_refs:
        if name.lower() not in owner:
            close = difflib.get_close_matches(name.lower(), list(owner), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            faults.append(Fault(path, line_of(ref_node), f"term {entry.term!r}",
                                f"see_also names {name!r}, which is not a term or alias in the glossary{hint}"))
    if faults:
        raise GlossaryError(sorted(faults, key=lambda f: f.line))
    return Glossary(entries, path)


# ----------------------------------------------------------------------------- the command

def format_entry(entry: Entry, width: int) -> str:
    wrap = lambda text, indent: textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)  # noqa: E731
    lines = [f"{entry.term}" + (f"  (also: {', '.join(entry.aliases)})" if entry.aliases else "")]
    lines.append(wrap(to_plain(entry.definition), "    "))
    if entry.example:
        lines.append(wrap(f"Example: {to_plain(entry.example)}", "    "))
    if entry.mnemonic:
        lines.append(wrap(f"Memory aid: {to_plain(entry.mnemonic)}", "    "))
    if entry.see_also:
        lines.append(wrap(f"See also: {', '.join(entry.see_also)}", "    "))
    lines.append(f"    Lesson: {entry.topic} ({LESSONS.get(entry.topic, '')})")
    return "\n".join(lines)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "glossary",
        help="list or search the course glossary",
        description="Without QUERY, list every term by lesson. With QUERY, show the terms "
        "whose name, alias or definition contains it, in full.",
    )
    parser.add_argument("query", nargs="*", help="words to look for (e.g. 'learning rate')")
    parser.add_argument("--topic", help="only this lesson (id or number, e.g. 02)")
    parser.add_argument("--file", type=Path, help="a glossary file (default: the course's glossary.yml)")
    parser.set_defaults(func=_main)


def _source_line(path: Path) -> str:
    """The first line: which glossary (whose folder) this lists."""
    workspace = Workspace.locate()
    if workspace is not None and path.resolve() == workspace.glossary:
        return f"descentlab glossary: workspace {workspace.root}"
    return f"descentlab glossary: {path.resolve()}"


def _main(args: argparse.Namespace) -> int:
    path = args.file if args.file is not None else glossary_file()
    glossary = load_glossary(path)
    print(_source_line(path) + "\n")
    topic = resolve_lesson_id(args.topic) if args.topic else None
    width = min(100, shutil.get_terminal_size((100, 20)).columns) - 4
    query = " ".join(args.query).strip()
    if not query:
        for lesson_id in glossary.topics():
            if topic and lesson_id != topic:
                continue
            terms = sorted((e.term for e in glossary.by_topic(lesson_id)), key=str.lower)
            print(f"{lesson_id}  {LESSONS[lesson_id]} ({len(terms)} terms)")
            print(textwrap.fill(", ".join(terms), width=width, initial_indent="    ", subsequent_indent="    "))
        print(f"\n{len(glossary)} terms. Search with: descentlab glossary WORDS")
        return 0
    found = glossary.search(query, topic)
    if not found:
        close = glossary.suggestions(query)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        print(f"No glossary term matches {query!r}.{hint}")
        return 1
    print("\n\n".join(format_entry(e, width) for e in found))
    return 0
