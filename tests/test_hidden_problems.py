"""Hidden tests draw their problems at grading time (the fairness contract, issue 17).

A hidden test whose data come from a seed written in the notebook is a fixed problem: a
learner who once saw its answer (a feedback page, a friend's output) could return it without
solving anything. So inside ``### BEGIN HIDDEN TESTS`` blocks every random generator is made
unseeded (``np.random.default_rng()``, then drawn from), and no course helper (a function of
the setup cells that makes a data set or a network) gets a seed written in the notebook: not
a literal, not arithmetic on literals, not a name bound only to literals in the block (a loop
over a literal list of seeds).

A loop over ``range(n)`` is not a fixed seed to this check: a test averages an honest answer
over n runs that way (06's Bayesian optimization against random search, on problems moved
and stretched by amounts drawn now); the problem is what must be drawn.

A literal seed passed to a graded function is allowed: ``minibatch_indices(100, 10, seed=5)``
tests the learner's own use of their seed (same seed, same batches), and what it returns is
the learner's to compute.

How robust the drawn problems are (the reference passes every draw, every wrong answer fails,
every correct variant passes) is counted by ``benchmarks/hidden_draws.py``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from descentlab.course import LESSON_IDS
from descentlab.grade.judge import HIDDEN_BEGIN as BEGIN
from descentlab.grade.judge import split_hidden
from descentlab.notebook import Role, cell_role, nbgrader_meta

REPO = Path(__file__).resolve().parents[1]
SEEDERS = {"default_rng", "RandomState", "seed", "SeedSequence", "PCG64", "MT19937", "Random"}
SEED_KEYWORDS = {"seed", "random_state"}


def hidden_blocks(source: str) -> list[str]:
    """The parts of a test cell the grader runs as hidden (``split_hidden``, as it cuts them)."""
    return [code for code, hidden in split_hidden(source) if hidden]


def _is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is not None and not isinstance(node.value, str)
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_is_literal(e) for e in node.elts)
    if isinstance(node, ast.UnaryOp):
        return _is_literal(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_literal(node.left) and _is_literal(node.right)
    return False


def _target_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def literal_names(tree: ast.AST) -> set[str]:
    """Names every binding of which in ``tree`` is a literal (or a loop over literals)."""
    literal, other = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            names = [n for t in node.targets for n in _target_names(t)]
            (literal if _is_literal(node.value) else other).update(names)
        elif isinstance(node, (ast.For, ast.comprehension)):
            (literal if _is_literal(node.iter) else other).update(_target_names(node.target))
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
            other.update(_target_names(node.target))
    return literal - other


def _fixed(node: ast.AST, names: set[str]) -> bool:
    """Is ``node`` a value written in the notebook (a literal, a literal-bound name, arithmetic on those)?"""
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.BinOp):
        return _fixed(node.left, names) and _fixed(node.right, names)
    if isinstance(node, ast.UnaryOp):
        return _fixed(node.operand, names)
    return _is_literal(node)


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def fixed_seeds(code: str, graded: set[str]) -> list[str]:
    """The calls in ``code`` that seed a generator or a course helper with a fixed value."""
    tree = ast.parse(code)
    names = literal_names(tree)
    found = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        called = _called(call)
        if called in SEEDERS:
            values = [*call.args, *(k.value for k in call.keywords)]
        elif called not in graded:
            values = [k.value for k in call.keywords if k.arg in SEED_KEYWORDS]
        else:
            continue
        if any(_fixed(v, names) for v in values):
            found.append(f"line {call.lineno} of the block: {ast.unparse(call)[:120]}")
    return found


def graded_names(nb) -> set[str]:
    """Functions and classes the learner writes (defined in answer cells)."""
    names = set()
    for cell in nb.cells:
        if cell_role(cell) is Role.ANSWER:
            tree = ast.parse(cell.source)
            names |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    return names


def solution_notebooks(lesson_id: str) -> list[Path]:
    return sorted((REPO / "solutions" / lesson_id).glob("*.ipynb"))


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_hidden_tests_draw_their_problems_at_grading_time(lesson_id):
    found = {}
    for path in solution_notebooks(lesson_id):
        nb = nbformat.read(path, as_version=4)
        graded = graded_names(nb)
        for cell in nb.cells:
            if cell.cell_type != "code" or BEGIN not in cell.source:
                continue
            for block in hidden_blocks(cell.source):
                hits = fixed_seeds(block, graded)
                if hits:
                    found[f"{path.name}, {nbgrader_meta(cell).get('grade_id')}"] = hits
    assert not found, (
        "hidden tests with a problem fixed by a seed written in the notebook (draw it from "
        f"np.random.default_rng() instead): {found}")


def test_every_exercise_has_hidden_tests():
    """The check above must have something to look at in every exercise."""
    without = [lid for lid in LESSON_IDS
               if not any(BEGIN in c.source for p in solution_notebooks(lid)
                          for c in nbformat.read(p, as_version=4).cells)]
    assert not without, f"exercises without hidden tests: {without}"


@pytest.mark.parametrize(("code", "flagged"), [
    ("rng = np.random.default_rng(301)", True),
    ("x = np.random.default_rng(600 + 4).normal()", True),
    ("for s in (1, 7, 11):\n    X = make_data(4, seed=s)", True),
    ("s = 9\nX = make_data(4, seed=s)", True),
    ("X = split(data, random_state=0)", True),
    ("np.random.seed(0)", True),
    ("rng = np.random.default_rng()", False),
    ("rng = np.random.default_rng()\nX = make_data(4, seed=int(rng.integers(1 << 30)))", False),
    ("rng = np.random.default_rng()\nfor s in rng.integers(0, 99, 3):\n    X = make_data(4, seed=s)", False),
    ("batches = minibatch_indices(100, 10, seed=5)", False),  # the learner's function
])
def test_the_check_tells_a_fixed_seed_from_a_drawn_one(code, flagged):
    assert bool(fixed_seeds(code, graded={"minibatch_indices"})) is flagged, fixed_seeds(code, {"minibatch_indices"})
