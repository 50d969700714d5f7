"""Fair verdicts for every lesson: wrong answers lose points, correct answers never do.

The cases are data: every module ``tests/cases/<lesson id>*.py`` defines ``WRONG`` (plausible
wrong answers, each the reference with one answer cell replaced) and ``CORRECT`` (correct
answers written differently from the reference), and may define ``CALLERS`` ({function:
names of the functions whose tests call it}). Every lesson is graded by ONE real
`nbgrader autograde` run and ONE `descentlab grade` run:

* nbgrader grades the reference, the honest work (untouched, partly wrong) and every case
  inside a few combined submissions: every correct variant in one of the submissions that
  hold one variant per function (``group_correct_variants``), every wrong answer in one of
  the submissions that hold several whose verdicts cannot hide each other
  (``group_wrong_answers``: none's own test cell is one another may break);
* descentlab grade grades all of those and, besides, every case alone.

For every lesson:

* the reference scores full marks (under both graders), the untouched exercise 0;
* written answers wait for a human when answered and are an automatic 0 when untouched;
* both graders give every submission they both graded the same scores (but for the tests
  that call a wrong group's broken helpers: those may pass on some of the data hidden
  tests draw at grading time);
* every wrong answer loses points on its own test cell under both graders (alone under
  descentlab, in its group under nbgrader), and alone only there or on its callers' tests;
  its group loses points only where one of its members may;
* every correct variant scores full marks on its own test cell and on every other one
  (alone, and beside the other functions' variants under both graders);
* every graded test cell is the target of at least one wrong answer;
* every graded function has at least two correct variants.

The lessons are graded on different test workers (one xdist group each). Adding lesson 08
means adding ``tests/cases/08_<name>.py``; a registered lesson without one fails here with
the file name to create.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
from grading_support import (
    REPO,
    NbgraderFailed,
    Scores,
    Variant,
    Wrong,
    assert_every_test_cell_targeted,
    assert_full_marks,
    assert_loses_points,
    autograde_each_once,
    grade_with_both_graders,
    group_correct_variants,
    group_wrong_answers,
    honest_submissions,
    make_course,
    read_scores,
    reference_sources,
    write_submission,
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
    nbgrader: dict[str, Scores]      # reference, honest work and the groups
    descentlab: dict[str, Scores]    # the same, and every case alone
    group_of: dict[str, str]         # case name -> the group submission that holds it
    members: dict[str, list]         # group submission -> its cases
    written: dict[str, dict]         # grader -> submission -> read_written (not for cases alone)


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """lesson id -> every submission's scores under both graders (two grading runs per lesson)."""
    done: dict[str, Graded | NbgraderFailed] = {}

    def grade(lesson_id: str) -> Graded:
        if lesson_id not in done:
            cases = ALL[lesson_id]
            # Honest work beside the cases: the untouched exercise, and partly wrong work
            # (some answers return 0.0, some are missing); both graders must agree on it.
            together = {"reference": {}, **{f"honest-{k}": v for k, v in honest_submissions(lesson_id).items()}}
            members: dict[str, list] = {}
            for kind, groups in (("wrong", group_wrong_answers(cases.wrong, cases.callers)),
                                 ("correct", group_correct_variants(cases.correct))):
                for number, group in enumerate(groups, 1):
                    members[f"group-{kind}-{number}"] = group
                    together[f"group-{kind}-{number}"] = {case.answer_id: case.source for case in group}
            alone = {case.name: {case.answer_id: case.source} for case in (*cases.wrong, *cases.correct)}
            try:
                both = grade_with_both_graders(
                    lesson_id, together, tmp_path_factory.mktemp(f"verdicts{lesson_id[:2]}"), descentlab_only=alone)
            except NbgraderFailed as failure:  # kept, so the lesson's other tests do not grade it again
                done[lesson_id] = failure
                raise
            group_of = {case.name: name for name, group in members.items() for case in group}
            done[lesson_id] = Graded(both.nbgrader, both.descentlab, group_of, members, both.written)
        if isinstance(done[lesson_id], NbgraderFailed):
            raise done[lesson_id]
        return done[lesson_id]

    return grade


def _in_group(lesson_id: str):
    """Every test of one lesson on the same xdist worker (the lesson's grading runs once there)."""
    return pytest.mark.xdist_group(f"verdicts-{lesson_id}")


LESSONS = [pytest.param(lid, marks=_in_group(lid), id=lid) for lid in LESSON_IDS]
WRONG_PARAMS = [pytest.param(lid, w, marks=_in_group(lid), id=f"{lid}-{w.name}") for lid, w in ALL_WRONG]
CORRECT_PARAMS = [pytest.param(lid, v, marks=_in_group(lid), id=f"{lid}-{v.name}") for lid, v in ALL_CORRECT]


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


def test_a_submission_nbgrader_cannot_process_is_named_not_scored(tmp_path):
    """nbgrader leaves zeros for a submission it could not process at all (here its kernel
    exits in an answer cell). The harness tries it once more on its own and then stops with
    nbgrader's log naming it, so those zeros are never read as a verdict; the rest of the
    batch is graded."""
    lesson_id = LESSON_IDS[0]
    root = make_course(tmp_path, lesson_id)
    answer = next(iter(_graded_functions(lesson_id)))
    write_submission(root, lesson_id, "kernel-exits", {answer: "import os\nos._exit(3)"})
    write_submission(root, lesson_id, "reference", {})
    with pytest.raises(NbgraderFailed, match="'kernel-exits'") as failure:
        autograde_each_once(root, lesson_id, {"kernel-exits", "reference"})
    assert "second try" in str(failure.value) and "'reference'" not in str(failure.value)
    assert_full_marks(read_scores(root, lesson_id, "reference"))


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_reference_scores_full_marks_under_both_graders(graded, lesson_id):
    result = graded(lesson_id)
    assert_full_marks(result.nbgrader["reference"])
    assert_full_marks(result.descentlab["reference"])


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_both_graders_agree(graded, lesson_id):
    result = graded(lesson_id)
    assert result.members, f"{lesson_id}: no group submissions were graded"
    callers = ALL[lesson_id].callers
    differ = {}
    for s, nbgrader in result.nbgrader.items():
        descentlab = result.descentlab[s]
        assert set(nbgrader) == set(descentlab), f"{lesson_id}: {s} has other test cells under each grader"
        # A wrong helper may or may not fail its callers' tests, and hidden tests draw their
        # data when they are graded: those cells of a wrong group are free to differ (each
        # member's own test cell is not, and must lose points under both graders).
        members = result.members.get(s, ())
        free = set().union(*(c.loses(callers) for c in members if isinstance(c, Wrong)))
        free -= {c.target for c in members}
        mine = {gid: (nbgrader[gid], descentlab[gid]) for gid in nbgrader
                if gid not in free and nbgrader[gid] != descentlab[gid]}
        if mine:
            differ[s] = mine
    assert not differ, f"{lesson_id}: nbgrader and descentlab grade disagree on {differ}"
    # The comparison can fail: the three kinds of honest work score differently.
    totals = {s: sum(got for got, _ in result.nbgrader[s].values())
              for s in ("reference", "honest-partly_wrong", "honest-stubs")}
    assert totals["honest-stubs"] == 0 < totals["honest-partly_wrong"] < totals["reference"], totals


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_written_answers_wait_for_a_human_under_both_graders(graded, lesson_id):
    """Written answers are nbgrader's "manually graded answer" cells: an answered one waits
    for a human (no auto score), an untouched one is "No response." with an automatic 0."""
    for grader, written in graded(lesson_id).written.items():
        answered, untouched = written["reference"], written["honest-stubs"]
        assert answered and all(auto is None and needs for auto, needs in answered.values()), (grader, answered)
        assert untouched and all(auto == 0 and not needs for auto, needs in untouched.values()), (grader, untouched)


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_every_test_cell_is_targeted_by_a_wrong_answer(graded, lesson_id):
    assert_every_test_cell_targeted(graded(lesson_id).nbgrader["reference"], ALL[lesson_id].wrong)


@pytest.mark.slow
@pytest.mark.parametrize(("lesson_id", "wrong"), WRONG_PARAMS)
def test_wrong_answer_loses_points_on_its_test(graded, lesson_id, wrong):
    result = graded(lesson_id)
    callers = ALL[lesson_id].callers
    try:
        assert_loses_points(result.descentlab[wrong.name], wrong, callers)
    except AssertionError as error:
        raise AssertionError(f"alone, under descentlab: {error}") from None
    group = result.group_of[wrong.name]
    beside = sorted(case.name for case in result.members[group] if case is not wrong)
    allowed = set().union(*(case.loses(callers) for case in result.members[group]))
    for grader in ("nbgrader", "descentlab"):
        scores = getattr(result, grader)[group]
        assert wrong.target in scores, f"under {grader}: no score for {wrong.target} in {group}: {sorted(scores)}"
        got, full = scores[wrong.target]
        assert got < full, (f"under {grader}: {wrong.target} gave full marks ({got}/{full}) to the wrong "
                            f"{wrong.answer_id} {wrong.name} (in {group}, beside {beside})")
        lost = {gid for gid, (got, full) in scores.items() if got < full}
        assert lost <= allowed, (f"under {grader}: {group} ({wrong.name} beside {beside}) lost points "
                                 f"where none of its wrong answers may: {sorted(lost - allowed)}")


@pytest.mark.slow
@pytest.mark.parametrize(("lesson_id", "variant"), CORRECT_PARAMS)
def test_correct_variant_scores_full_marks_everywhere(graded, lesson_id, variant):
    result = graded(lesson_id)
    group = result.group_of[variant.name]
    beside = sorted(case.name for case in result.members[group] if case is not variant)
    for grader, submission in (("descentlab", variant.name), ("nbgrader", group), ("descentlab", group)):
        scores = getattr(result, grader)[submission]
        lost = {gid: s for gid, s in scores.items() if s[0] < s[1]}
        where = "alone" if submission == variant.name else f"in {group}, beside {beside}"
        assert scores and not lost, (
            f"under {grader}, {where}: the correct variant {variant.name} of {variant.answer_id} lost points on {lost}")
