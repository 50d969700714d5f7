"""Reading the course's hand-written YAML (glossary, quiz banks) with line numbers.

PyYAML's ``safe_load`` forgets where each value came from and silently keeps the last of
two equal keys. The course files are edited by people, so every fault must say *where*:
we compose the file into PyYAML's node tree (each node carries its ``start_mark``), and
the schema code in ``glossary.py`` and ``quiz_bank.py`` reads values from the nodes. Faults
are collected as :class:`Fault` records and raised together as one
:class:`YamlSchemaError` whose message has one line per fault:
``glossary.yml, line 12, term 'gradient': unknown key 'defintion' (did you mean 'definition'?)``.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import yaml

from .course import CourseError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 5-10x faster

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
STR_TAG = "tag:yaml.org,2002:str"


@dataclass(frozen=True)
class Fault:
    """One problem in a course YAML file: where it is, what it concerns, what is wrong."""

    path: Path
    line: int  # 1-based; 0 when unknown
    subject: str  # "term 'gradient'", "question 'mse-value'", or "" for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.path}, line {self.line}" if self.line else str(self.path)
        return f"{where}, {self.subject}: {self.message}" if self.subject else f"{where}: {self.message}"


class YamlSchemaError(CourseError):
    """A course YAML file breaks its schema; ``faults`` lists every problem found."""

    def __init__(self, faults: Iterable[Fault]):
        self.faults = list(faults)
        super().__init__("\n".join(str(f) for f in self.faults))


def line_of(node: yaml.Node | None) -> int:
    return node.start_mark.line + 1 if node is not None else 0


def compose_file(path: Path, error: type[YamlSchemaError]) -> yaml.Node | None:
    """The file's node tree (None for an empty file); unreadable or malformed YAML raises
    ``error`` naming the file and the line the parser stopped at."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error([Fault(path, 0, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error([Fault(path, 0, "", f"cannot be read ({exc})")]) from None
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise error([Fault(path, line, "", f"malformed YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise error([Fault(path, 0, "", f"malformed YAML: {exc}")]) from None


def kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == NULL_TAG:
        return "empty"
    return f"{node.value!r}"


class MappingReader:
    """The keys of one YAML mapping, checked against the keys a schema allows.

    Reports unknown keys (with a did-you-mean), keys given twice and missing required keys
    into ``faults``; ``text``, ``number``, ``flag`` and ``text_list`` read values and report
    values of the wrong kind.
    """

    def __init__(
        self,
        node: yaml.MappingNode,
        path: Path,
        subject: str,
        faults: list[Fault],
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
    ):
        self.node, self.path, self.subject, self.faults = node, path, subject, faults
        self.values: dict[str, yaml.Node] = {}
        allowed = required + optional
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.fault(key_node, "keys must be plain words")
            elif key in self.values:
                self.fault(key_node, f"key {key!r} appears twice")
            elif key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.fault(key_node, f"unknown key {key!r}{hint}; allowed keys: {', '.join(allowed)}")
            else:
                self.values[key] = value_node
        for key in required:
            if key not in self.values:
                self.fault(node, f"missing field {key!r}")

    def fault(self, node: yaml.Node | None, message: str) -> None:
        self.faults.append(Fault(self.path, line_of(node), self.subject, message))

    def has(self, key: str) -> bool:
        return key in self.values

    def node_of(self, key: str) -> yaml.Node | None:
        return self.values.get(key)

    def text(self, key: str, *, required: bool = True) -> str:
        """A scalar as text (numbers are kept as written); '' when absent or empty.
        An empty or blank required value is reported as empty."""
        node = self.values.get(key)
        if node is None:
            return ""
        if not isinstance(node, yaml.ScalarNode):
            self.fault(node, f"{key!r} must be text, not {kind_of(node)}")
            return ""
        value = "" if node.tag == NULL_TAG else node.value.strip()
        if not value and required:
            self.fault(node, f"empty {key.replace('_', ' ')}")
        return value

    def number(self, key: str) -> float | None:
        node = self.values.get(key)
        if node is None:
            return None
        if isinstance(node, yaml.ScalarNode) and node.tag in (INT_TAG, FLOAT_TAG, STR_TAG):
            try:
                return float(node.value.replace("_", ""))
            except ValueError:
                pass
        self.fault(node, f"{key!r} must be a number, not {kind_of(node)}")
        return None

    def flag(self, key: str, default: bool = False) -> bool:
        node = self.values.get(key)
        if node is None:
            return default
        if isinstance(node, yaml.ScalarNode) and node.tag == BOOL_TAG:
            return node.value.lower() in ("true", "yes", "on")
        self.fault(node, f"{key!r} must be true or false, not {kind_of(node)}")
        return default

    def text_list(self, key: str) -> list[tuple[str, yaml.Node]]:
        """A list of non-empty texts (a single text is accepted as a one-item list)."""
        node = self.values.get(key)
        if node is None:
            return []
        if isinstance(node, yaml.ScalarNode) and node.tag != NULL_TAG:
            items = [node]
        elif isinstance(node, yaml.SequenceNode):
            items = node.value
        else:
            self.fault(node, f"{key!r} must be a list of texts, not {kind_of(node)}")
            return []
        out = []
        for item in items:
            if not isinstance(item, yaml.ScalarNode) or item.tag == NULL_TAG or not item.value.strip():
                self.fault(item, f"every item of {key!r} must be a non-empty text, not {kind_of(item)}")
            else:
                out.append((item.value.strip(), item))
        return out
