"""One notation for the course (lessons/notation.md): the glossary and the quiz banks follow it.

The page fixes five conventions that books write in different ways. Where a regular
expression can see a formula, this test checks that the glossary and every quiz bank use
the course's form (and never the other one), and that every lesson links the page.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from descentlab.course import LESSON_IDS
from descentlab.glossary import load_glossary

REPO = Path(__file__).resolve().parents[1]
NOTATION = REPO / "lessons" / "notation.md"

# (convention, a pattern of the form the course does NOT use)
OTHER_FORMS = [
    ("momentum is v <- beta v - eta g, theta <- theta + v", re.compile(r"v\s*\\leftarrow\s*\\beta\s*v\s*\+")),
    ("momentum is v <- beta v - eta g, theta <- theta + v", re.compile(r"\\theta\s*-\s*\\eta\s*v\b")),
    ("dropout is written with the keep probability", re.compile(r"1\s*/\s*\(\s*1\s*-\s*p\s*\)")),
    ("dropout is written with the keep probability", re.compile(r"(drops?|zero) each (hidden )?unit with probability \$p\b")),
    ("the L2 penalty is lambda/2 ||w||^2", re.compile(r"\\lambda\s*\\lVert\s*w\s*\\rVert(?:_2)?\^2")),
    ("the L2 penalty is lambda/2 ||w||^2", re.compile(r"\\lambda\s*\|\|\s*w\s*\|\|(?:_2)?\^2")),
    ("an all-reduce gives the sum", re.compile(r"sum \(or (mean|average)\)")),
    ("an all-reduce gives the sum", re.compile(r"all-reduce[^.\n]*\b(holds|ends with|gives) the (average|mean)")),
    ("expected improvement is for minimization", re.compile(r"f\(x\)\s*-\s*f\^\*")),
    ("expected improvement is for minimization", re.compile(r"\\mu\s*-\s*f\^\*")),
]

# glossary term -> a piece of the course's form its entry must contain
GLOSSARY_FORMS = {
    "momentum": r"v \leftarrow \beta v - \eta",
    "dropout": r"p_{\text{keep}}",
    "L2 regularization": r"\frac{\lambda}{2}",
    "all-reduce": "sum of all workers' arrays",
    "expected improvement": r"f^* - f(x)",
}


def _texts() -> list[tuple[str, str]]:
    banks = sorted((REPO / "lessons" / "quizzes").glob("*.yml"))
    return [("glossary.yml", (REPO / "glossary.yml").read_text())] + [
        (str(p.relative_to(REPO)), p.read_text()) for p in banks]


@pytest.mark.parametrize(("name", "text"), _texts(), ids=[n for n, _ in _texts()])
def test_formulas_follow_the_notation_page(name, text):
    found = []
    for convention, pattern in OTHER_FORMS:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{name}:{line}: {match.group(0)!r} breaks the convention: {convention}")
    assert not found, "\n".join(found) + "\n(see lessons/notation.md)"


def test_glossary_entries_state_the_course_form():
    glossary = load_glossary(REPO / "glossary.yml")
    by_term = {entry.term: entry for entry in glossary.entries}
    missing = {term: form for term, form in GLOSSARY_FORMS.items()
               if term not in by_term or form not in f"{by_term[term].definition} {by_term[term].example or ''}"}
    assert not missing, f"glossary entries that do not state the course's form: {missing}"


def test_the_notation_page_fixes_every_convention():
    page = NOTATION.read_text()
    for piece in (r"v \leftarrow \beta v - \eta", r"p_{\text{keep}}", r"\frac{\lambda}{2}", "**sum**",
                  r"\max(0,\ f^* - f(x))"):
        assert piece in page, f"{NOTATION}: does not state {piece!r}"


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_every_lesson_links_the_notation_page(lesson_id):
    path = REPO / "lessons" / f"{lesson_id}.ipynb"
    first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    assert "(notation.md)" in first.source, f"{path}: the first markdown cell does not link notation.md"
