"""Fair verdicts for every lesson: wrong answers lose points, correct answers never do.

The cases are data: every module ``tests/cases/<lesson id>*.py`` defines ``WRONG`` (plausible
wrong answers, each the reference with one answer cell replaced) and ``CORRECT`` (correct
answers written differently from the reference), and may define ``CALLERS`` ({function:
names of the functions whose tests call it}). For every lesson id in the registry, the
reference, every wrong answer and every correct variant are graded together in ONE real
`nbgrader autograde` run and ONE `descentlab grade` run, and for every lesson:

* the reference scores full marks (under both graders);
* both graders give every submission the same scores;
* every wrong answer loses points on its own test cell, and only there or on its callers';
* every correct variant scores full marks on its own test cell and on every other one;
* every graded test cell is the target of at least one wrong answer;
* every graded function has at least two correct variants.

Adding lesson 08 means adding ``tests/cases/08_<name>.py``; a registered lesson without one
fails here with the file name to create.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
from grading_support import (
    REPO,
    Scores,
    Variant,
    Wrong,
    assert_every_test_cell_targeted,
    assert_full_marks,
    assert_loses_points,
    grade_with_both_graders,
    honest_submissions,
    reference_sources,
)

from descentlab.course import LESSON_IDS

CASES = Path(__file__).parent / "cases"
MIN_VARIANTS = 2


@dataclass
class LessonCases:
    lesson_id: str
    modules: list[Path] = field(default_factory=list)
    wrong: list[Wrong] = field(default_factory=list)
    correct: list[Variant] = field(default_factory=list)
    callers: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"cases_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, kind in (("WRONG", Wrong), ("CORRECT", Variant)):
        items = getattr(module, name, None)
        if not isinstance(items, list) or not all(isinstance(i, kind) for i in items):
            raise TypeError(f"{path}: must define {name} as a list of {kind.__name__}")
    return module


def _gather(lesson_id: str) -> LessonCases:
    cases = LessonCases(lesson_id)
    for path in sorted(CASES.glob(f"{lesson_id}*.py")):
        module = _load(path)
        cases.modules.append(path)
        cases.wrong += module.WRONG
        cases.correct += module.CORRECT
        for function, calling in getattr(module, "CALLERS", {}).items():
            cases.callers[function] = (*cases.callers.get(function, ()), *calling)
    return cases


ALL = {lesson_id: _gather(lesson_id) for lesson_id in LESSON_IDS}
ALL_WRONG = [(lid, w) for lid, c in ALL.items() for w in c.wrong]
ALL_CORRECT = [(lid, v) for lid, c in ALL.items() for v in c.correct]


@dataclass
class Graded:
    nbgrader: dict[str, Scores]
    descentlab: dict[str, Scores]


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """lesson id -> every submission's scores under both graders (two grading runs per lesson)."""
    done: dict[str, Graded] = {}

    def grade(lesson_id: str) -> Graded:
        if lesson_id not in done:
            cases = ALL[lesson_id]
            # Honest work beside the cases: the untouched stubs, and partly wrong work
            # (some answers return 0.0, some are missing); both graders must agree on it.
            submissions = {"reference": {}, **{f"honest-{k}": v for k, v in honest_submissions(lesson_id).items()}}
            for case in (*cases.wrong, *cases.correct):
                submissions[case.name] = {case.answer_id: case.source}
            by_nbgrader, by_descentlab = grade_with_both_graders(
                lesson_id, submissions, tmp_path_factory.mktemp(f"verdicts{lesson_id[:2]}"))
            done[lesson_id] = Graded(by_nbgrader, by_descentlab)
        return done[lesson_id]

    return grade


def _graded_functions(lesson_id: str) -> set[str]:
    """Answer cells that have a test cell of their own (``test_<name>`` checks ``<name>``)."""
    return {gid for cells in reference_sources(REPO, lesson_id).values() for gid in cells}


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_cases_are_well_formed(lesson_id):
    cases = ALL[lesson_id]
    assert cases.modules, f"lesson {lesson_id} has no cases: create tests/cases/{lesson_id}.py with WRONG and CORRECT"
    names = [c.name for c in (*cases.wrong, *cases.correct)]
    twice = sorted({n for n in names if names.count(n) > 1} | {"reference"} & set(names))
    assert not twice, f"{lesson_id}: case names used twice (or 'reference'): {twice}"
    sources = [c.source for c in (*cases.wrong, *cases.correct)]
    assert len(set(sources)) == len(sources), f"{lesson_id}: two cases have the same source"
    known = _graded_functions(lesson_id)
    unknown = sorted({c.answer_id for c in (*cases.wrong, *cases.correct)} - known)
    assert not unknown, f"{lesson_id}: cases aim at answer cells that do not exist: {unknown}"


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_every_graded_function_has_correct_variants(lesson_id):
    counts = {gid: 0 for gid in _graded_functions(lesson_id)}
    for variant in ALL[lesson_id].correct:
        counts[variant.answer_id] = counts.get(variant.answer_id, 0) + 1
    short = {gid: n for gid, n in sorted(counts.items()) if n < MIN_VARIANTS}
    assert not short, f"{lesson_id}: graded functions with fewer than {MIN_VARIANTS} correct variants: {short}"


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_reference_scores_full_marks_under_both_graders(graded, lesson_id):
    result = graded(lesson_id)
    assert_full_marks(result.nbgrader["reference"])
    assert_full_marks(result.descentlab["reference"])


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_both_graders_agree(graded, lesson_id):
    result = graded(lesson_id)
    differ = {s: (result.nbgrader[s], result.descentlab[s])
              for s in result.nbgrader if result.nbgrader[s] != result.descentlab[s]}
    assert not differ, f"{lesson_id}: nbgrader and descentlab grade disagree on {differ}"
    # The comparison can fail: the three kinds of honest work score differently.
    totals = {s: sum(got for got, _ in result.nbgrader[s].values())
              for s in ("reference", "honest-partly_wrong", "honest-stubs")}
    assert totals["honest-stubs"] == 0 < totals["honest-partly_wrong"] < totals["reference"], totals


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_every_test_cell_is_targeted_by_a_wrong_answer(graded, lesson_id):
    assert_every_test_cell_targeted(graded(lesson_id).nbgrader["reference"], ALL[lesson_id].wrong)


@pytest.mark.slow
@pytest.mark.parametrize(("lesson_id", "wrong"), ALL_WRONG, ids=[f"{lid}-{w.name}" for lid, w in ALL_WRONG])
def test_wrong_answer_loses_points_on_its_test(graded, lesson_id, wrong):
    result = graded(lesson_id)
    for grader in ("nbgrader", "descentlab"):
        scores = getattr(result, grader)[wrong.name]
        try:
            assert_loses_points(scores, wrong, ALL[lesson_id].callers)
        except AssertionError as error:
            raise AssertionError(f"under {grader}: {error}") from None


@pytest.mark.slow
@pytest.mark.parametrize(("lesson_id", "variant"), ALL_CORRECT, ids=[f"{lid}-{v.name}" for lid, v in ALL_CORRECT])
def test_correct_variant_scores_full_marks_everywhere(graded, lesson_id, variant):
    result = graded(lesson_id)
    for grader in ("nbgrader", "descentlab"):
        scores = getattr(result, grader)[variant.name]
        lost = {gid: s for gid, s in scores.items() if s[0] < s[1]}
        assert scores and not lost, (
            f"under {grader}: the correct variant {variant.name} of {variant.answer_id} lost points on {lost}")
