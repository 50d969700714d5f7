"""The exact lasso solution in exercise 07's hidden test is what scikit-learn's Lasso gives.

The hidden part of ``test_lasso_ista`` compares the learner's ISTA with ``_lasso_reference``, a
coordinate descent written in the cell itself (importing scikit-learn in every grading kernel
cost 1.5 s of CPU per submission, for this one use). Here that function, taken from the
solutions notebook as it is, must agree with ``sklearn.linear_model.Lasso(alpha=lam,
tol=1e-14, max_iter=100000)`` to 1e-8 on ``coef_`` and ``intercept_`` and have the same exact
zeros, on problems like the ones the hidden test draws (and a wider range of strengths),
on constant columns and above ``lam_max``. The same comparison must catch a reference that
is slightly off: one that stops early, one whose threshold is off by a part in a million.
"""
from __future__ import annotations

import ast
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

from descentlab.grade.judge import split_hidden

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "solutions/07_overfitting_regularization/07_overfitting_regularization_exercise.ipynb"
CELL = "test_lasso_ista"
ATOL = 1e-8


def reference_source() -> str:
    """The source of ``_lasso_reference``, from the hidden part of the notebook's lasso test cell."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    (cell,) = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == CELL]
    hidden_parts = [code for code, hidden in split_hidden(cell.source) if hidden]
    assert len(hidden_parts) == 1, f"{CELL} should have one hidden part"
    (hidden,) = hidden_parts
    found = [node for node in ast.parse(hidden).body
             if isinstance(node, ast.FunctionDef) and node.name == "_lasso_reference"]
    assert len(found) == 1, f"the hidden part of {CELL} should define _lasso_reference once"
    return ast.get_source_segment(hidden, found[0])


def load(source: str):
    namespace = {"np": np}
    exec(compile(source, f"<{CELL}: _lasso_reference>", "exec"), namespace)  # noqa: S102 - the course's own code
    return namespace["_lasso_reference"]


def problems() -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    """(what, X, y, lam): drawn as the hidden test draws them, and the edge cases."""
    rng = np.random.default_rng(20240607)
    found = []

    def draw(n, d):
        X = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d) + rng.normal(size=d)
        y = (X @ (rng.normal(size=d) * (rng.uniform(size=d) < 0.6)) + rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 3.0)
             + rng.normal(scale=0.5, size=n))
        return X, y

    for i in range(220):
        n, d = int(rng.integers(30, 81)), int(rng.integers(3, 11))
        X, y = draw(n, d)
        found.append((f"draw {i}, X {X.shape}", X, y, float(10 ** rng.uniform(-1.5, 0.15))))
    for i in range(20):  # one or two constant columns, of values whose mean is not exact
        n, d = int(rng.integers(12, 81)), int(rng.integers(2, 8))
        X, y = draw(n, d)
        for j in rng.choice(d, size=int(rng.integers(1, 3)), replace=False):
            X[:, j] = rng.choice([2.0, -1.0, 0.1, 3.7, 1 / 3])
        found.append((f"constant columns {i}, X {X.shape}", X, y, float(10 ** rng.uniform(-1.5, 0.15))))
    for i in range(20):  # above lam_max = max |Xc^T yc| / n: every weight 0, b = mean(y)
        n, d = int(rng.integers(30, 81)), int(rng.integers(3, 11))
        X, y = draw(n, d)
        lam_max = np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / n
        found.append((f"above lam_max {i}, X {X.shape}", X, y, float(lam_max * rng.uniform(1.01, 3.0))))
    found.append(("every column constant", np.tile([3.0, -1.0, 0.1], (12, 1)), rng.normal(size=12), 0.1))
    found.append(("one constant column (as in the hidden test)", np.c_[np.full(12, 2.0), rng.normal(size=12)],
                  rng.normal(size=12), 0.05))
    return found


@pytest.fixture(scope="module")
def cases():
    """Every problem with sklearn's answer (coef_, intercept_)."""
    from sklearn.linear_model import Lasso

    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ConvergenceWarning would make sklearn's answer no reference
        for what, X, y, lam in problems():
            fitted = Lasso(alpha=lam, tol=1e-14, max_iter=100000).fit(X, y)
            found.append((what, X, y, lam, fitted.coef_.copy(), float(fitted.intercept_)))
    return found


def disagreements(reference, cases) -> list[str]:
    """Where ``reference`` differs from sklearn by more than ATOL or in its exact zeros."""
    found = []
    for what, X, y, lam, coef, intercept in cases:
        Xc, yc = X.copy(), y.copy()
        w, b = reference(X, y, lam)
        w = np.asarray(w)
        if not (np.array_equal(X, Xc) and np.array_equal(y, yc)):
            found.append(f"{what}, lam={lam:.4g}: X or y changed in place")
        elif w.shape != coef.shape or not isinstance(b, float):
            found.append(f"{what}, lam={lam:.4g}: returned w of shape {w.shape} and b of type {type(b).__name__}")
        elif np.max(np.abs(w - coef), initial=0.0) > ATOL or abs(b - intercept) > ATOL:
            found.append(f"{what}, lam={lam:.4g}: |w - coef_| = {np.max(np.abs(w - coef)):.2e}, "
                         f"|b - intercept_| = {abs(b - intercept):.2e}")
        elif not np.array_equal(w == 0, coef == 0):
            found.append(f"{what}, lam={lam:.4g}: zeros at {np.flatnonzero(w == 0).tolist()}, "
                         f"sklearn's at {np.flatnonzero(coef == 0).tolist()}")
    return found


def test_the_cases_cover_what_the_hidden_test_needs(cases):
    assert len(cases) >= 200
    coefs = [coef for *_, coef, _ in cases]
    assert sum(bool(np.any(c == 0) and np.any(c != 0)) for c in coefs) >= 50, "too few problems with some zeros"
    assert sum(bool(np.all(c != 0)) for c in coefs) >= 10, "too few problems without zeros"
    assert sum(bool(np.all(c == 0)) for c in coefs) >= 21, "too few problems above lam_max"


def test_the_hidden_reference_is_sklearns_lasso(cases):
    found = disagreements(load(reference_source()), cases)
    assert not found, f"{len(found)} of {len(cases)} problems disagree with sklearn's Lasso:\n" + "\n".join(found[:10])


@pytest.mark.parametrize("old, new", [
    ("1e-15 * max(", "1e-6 * max("),  # stops after a sweep that still moves the weights by 1e-6
    ("z - lam if z > lam else z + lam if z < -lam", "z - lam * (1 + 1e-6) if z > lam else z + lam if z < -lam"),
], ids=["stops_early", "threshold_off_by_1e-6"])
def test_the_comparison_catches_a_reference_slightly_off(cases, old, new):
    source = reference_source()
    assert source.count(old) == 1, f"_lasso_reference no longer contains {old!r}: update this test"
    assert disagreements(load(source.replace(old, new)), cases), f"a reference with {new!r} passed for sklearn's"
