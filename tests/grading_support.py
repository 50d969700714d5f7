"""Grade made-up submissions through real `nbgrader autograde` (and `descentlab grade`), for the tests.

A submission starts as the generated learner copy of an assignment; each answer cell gets
either the reference solution (default), the untouched stub (``STUB``) or replacement
source. The course is copied to a temporary folder with its own gradebook, so tests never
touch the repository's autograder/.

    root = make_course(tmp_path, "01_objective_functions")
    write_submission(root, "01_objective_functions", "ada", {"mae": "def mae(a, b):\\n    return 0.0"})
    autograde_each_once(root, "01_objective_functions", {"ada"})
    read_scores(root, "01_objective_functions", "ada")["test_mae"]  # (0.0, 2.0)
"""
from __future__ import annotations

import ast
import atexit
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from descentlab.assign import nbgrader_env
from descentlab.notebook import Role, cell_role

REPO = Path(__file__).resolve().parents[1]
STUB = object()  # marker: leave the learner's stub in place
WRITTEN_PREFIX = "written_"  # grade_id of every written answer (a manually graded markdown cell)

Scores = dict[str, tuple[float, float]]


_GENERATED: dict[str, Path] = {}  # assignment id -> a course generated once in this process


def make_course(tmp_path: Path, assignment_id: str) -> Path:
    """A private copy of the course (config + one assignment's source) with its exercises generated.

    ``nbgrader generate_assignment`` runs once per assignment and test process; every later
    course is a copy of that one (its gradebook included), so a test may change its copy freely.
    """
    if assignment_id not in _GENERATED:
        cache = Path(tempfile.mkdtemp(prefix=f"descentlab-generated-{assignment_id[:2]}-"))
        atexit.register(shutil.rmtree, cache, True)
        root = cache / "course"
        for folder in ("solutions", "autograder"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
        shutil.copytree(REPO / "solutions" / assignment_id, root / "solutions" / assignment_id)
        nbgrader(root, "generate_assignment", assignment_id, "--force")
        _GENERATED[assignment_id] = root
    root = tmp_path / "course"
    shutil.copytree(_GENERATED[assignment_id], root, dirs_exist_ok=True)
    return root


def nbgrader(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"],
        cwd=root, env=nbgrader_env(), capture_output=True, text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result


def reference_sources(root: Path, assignment_id: str) -> dict[str, dict[str, str]]:
    """notebook name -> {answer-cell grade_id: reference source}."""
    found = {}
    for path in sorted((root / "solutions" / assignment_id).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        found[path.stem] = {
            c.metadata["nbgrader"]["grade_id"]: c.source
            for c in nb.cells
            if cell_role(c) is Role.ANSWER
        }
    return found


def written_sources(root: Path, assignment_id: str) -> dict[str, dict[str, str]]:
    """notebook name -> {written-answer grade_id: the model answer}."""
    found = {}
    for path in sorted((root / "solutions" / assignment_id).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        found[path.stem] = {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells if cell_role(c) is Role.MANUAL}
    return found


def write_submission(root: Path, assignment_id: str, student: str, replacements: dict) -> Path:
    """Fill the learner copy's answer cells and written answers (default: the reference
    solution and the model answer) and place it in autograder/submitted/."""
    references = reference_sources(root, assignment_id)
    for name, cells in written_sources(root, assignment_id).items():
        references.setdefault(name, {}).update(cells)
    unknown = set(replacements) - {gid for cells in references.values() for gid in cells}
    if unknown:
        raise KeyError(f"no answer cells named {sorted(unknown)} in {assignment_id}")
    target = root / "autograder" / "submitted" / student / assignment_id
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted((root / "exercises" / assignment_id).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell_role(cell) not in (Role.ANSWER, Role.MANUAL):
                continue
            meta = cell.metadata["nbgrader"]
            choice = replacements.get(meta["grade_id"], references[path.stem][meta["grade_id"]])
            if choice is not STUB:
                cell.source = choice
        nbformat.write(nb, target / path.name)
    return target


def read_scores(root: Path, assignment_id: str, student: str) -> Scores:
    """The autograded test cells' scores (written answers, graded by hand, are left out:
    see ``read_written``)."""
    scores: Scores = {}
    with Gradebook("sqlite:///" + str(root / "autograder" / "gradebook.db")) as gradebook:
        submission = gradebook.find_submission(assignment_id, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.max_score_gradecell is not None and grade.cell.max_score and grade.cell.cell_type == "code":
                    scores[grade.name] = (float(grade.score), float(grade.max_score))
    return scores


def read_written(root: Path, assignment_id: str, student: str) -> dict[str, tuple[float | None, bool]]:
    """The written answers' grades: {grade_id: (auto_score, needs_manual_grade)}."""
    found = {}
    with Gradebook("sqlite:///" + str(root / "autograder" / "gradebook.db")) as gradebook:
        submission = gradebook.find_submission(assignment_id, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.cell.cell_type == "markdown":
                    found[grade.name] = (grade.auto_score, bool(grade.needs_manual_grade))
    return found


def stub_everything(assignment_id: str) -> dict:
    """Replacements that leave every answer cell and written answer as the learner received it."""
    return {gid: STUB for found in (reference_sources(REPO, assignment_id), written_sources(REPO, assignment_id))
            for cells in found.values() for gid in cells}


# ---------------------------------------------------------------- wrong-answer suites
@dataclass(frozen=True)
class Wrong:
    """A plausible wrong answer: the reference solution with one answer cell replaced."""

    name: str
    answer_id: str
    source: str
    also_affects: tuple[str, ...] = ()  # functions whose tests call this one

    @property
    def target(self) -> str:
        return f"test_{self.answer_id}"

    def loses(self, callers: dict[str, tuple[str, ...]] | None = None) -> set[str]:
        """The test cells allowed to lose points: its own, and those of its callers."""
        calling = (*self.also_affects, *(callers or {}).get(self.answer_id, ()))
        return {self.target} | {f"test_{f}" for f in calling}


@dataclass(frozen=True)
class Variant:
    """A correct answer written differently from the reference (a loop, lists, float32, another
    algorithm or tie-break the docstring allows): it must score full marks on every test cell."""

    name: str
    answer_id: str
    source: str

    @property
    def target(self) -> str:
        return f"test_{self.answer_id}"


def group_wrong_answers(wrong: list[Wrong], callers: dict | None = None) -> list[list[Wrong]]:
    """Wrong answers in groups that one submission can hold without hiding a verdict: no two
    of a group replace the same answer cell, and none's own test cell is one that another of
    the group may make lose points (its callers' tests). So when a group is graded, every
    member's own test cell losing points is that member's doing. Deterministic (by the case
    order), largest classes first."""
    def clash(a: Wrong, b: Wrong) -> bool:
        return a.answer_id == b.answer_id or a.target in b.loses(callers) or b.target in a.loses(callers)

    per_cell: dict[str, int] = {}
    for case in wrong:
        per_cell[case.answer_id] = per_cell.get(case.answer_id, 0) + 1
    order = sorted(wrong, key=lambda c: (-per_cell[c.answer_id], -len(c.loses(callers))))
    groups: list[list[Wrong]] = []
    for case in order:
        home = next((g for g in groups if not any(clash(case, other) for other in g)), None)
        if home is None:
            groups.append([case])
        else:
            home.append(case)
    return groups


def group_correct_variants(correct: list[Variant]) -> list[list[Variant]]:
    """Correct variants in groups of at most one per answer cell: group k holds every
    function's k-th variant, so one submission is correct work written differently everywhere."""
    groups: list[list[Variant]] = []
    seen: dict[str, int] = {}
    for variant in correct:
        k = seen.get(variant.answer_id, 0)
        seen[variant.answer_id] = k + 1
        if k == len(groups):
            groups.append([])
        groups[k].append(variant)
    return groups


def dedent_source(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


@dataclass
class BothGraders:
    """Every submission's scores under each grader, and the written-answer states
    (``read_written``) of those both graded: grader -> submission -> states."""

    nbgrader: dict[str, Scores]
    descentlab: dict[str, Scores]
    written: dict[str, dict[str, dict]]


def grade_with_both_graders(assignment_id: str, submissions: dict[str, dict], tmp_path: Path,
                            timeout: float = 600.0, descentlab_only: dict[str, dict] | None = None,
                            ) -> BothGraders:
    """Grade ``submissions`` ({student: replacements}) in one real `nbgrader autograde` run and
    then, with ``descentlab_only`` beside them, one `descentlab grade` run (bubblewrap
    sandbox) on the same private course copy.

    Everything is read from the course's gradebook: nbgrader's results before descentlab
    grade writes its own over them.
    """
    from descentlab.course import Course
    from descentlab.grade.round import GradeOptions, grade_assignment

    root = make_course(tmp_path, assignment_id)
    for student, replacements in submissions.items():
        write_submission(root, assignment_id, student, replacements)
    autograde_each_once(root, assignment_id, set(submissions))
    by_nbgrader = {student: _scores_or_none(root, assignment_id, student) for student in submissions}
    nbgrader_written = {student: read_written(root, assignment_id, student) for student in submissions}
    submissions = {**submissions, **(descentlab_only or {})}
    for student, replacements in (descentlab_only or {}).items():
        write_submission(root, assignment_id, student, replacements)
    summary = grade_assignment(Course(root), assignment_id,
                               GradeOptions(progress=False, timeout=timeout, force=True, sandbox="bwrap"))
    statuses = {o.student: o.status for o in summary.outcomes}
    not_graded = {s: statuses.get(s) for s in submissions if statuses.get(s) != "graded"}
    assert not not_graded, f"descentlab grade did not grade every submission: {not_graded}"
    by_descentlab = {student: read_scores(root, assignment_id, student) for student in submissions}
    descentlab_written = {student: read_written(root, assignment_id, student) for student in nbgrader_written}
    return BothGraders(by_nbgrader, by_descentlab, {"nbgrader": nbgrader_written, "descentlab": descentlab_written})


_FAILED = re.compile(r"There was an error processing assignment '[^']*' for student '([^']*)'")


class NbgraderFailed(AssertionError):
    """nbgrader autograde could not process a submission at all (its scores are then all 0)."""


def autograde_each_once(root: Path, assignment_id: str, students: set[str]) -> None:
    """One `nbgrader autograde` run over every submission; a submission nbgrader could not
    process at all (it logs "There was an error processing assignment ... for student ...":
    a kernel that did not start or died, on a loaded machine) is autograded once more on
    its own, with a warning naming it. A submission that fails twice raises NbgraderFailed
    with nbgrader's log, so its zeros are never read as a verdict.
    """
    first = nbgrader(root, "autograde", assignment_id, "--force", check=False)
    failed = set(_FAILED.findall(first.stderr)) & students
    if first.returncode != 0 and not failed:
        raise NbgraderFailed(f"nbgrader autograde {assignment_id} failed:\n{first.stderr[-4000:]}")
    for student in sorted(failed):
        again = nbgrader(root, "autograde", assignment_id, "--force", "--student", student, check=False)
        if again.returncode != 0 or _FAILED.search(again.stderr):
            raise NbgraderFailed(f"nbgrader autograde could not process {student!r} of {assignment_id}, "
                                 f"twice:\n{_errors(first.stderr)}\n--- second try ---\n{_errors(again.stderr)}")
        warnings.warn(f"nbgrader autograde could not process {student!r} of {assignment_id} in the "
                      f"batch run and graded it on a second run of its own:\n{_errors(first.stderr)}")


def _errors(log: str, limit: int = 3000) -> str:
    """The ERROR part of an nbgrader log (its last ``limit`` characters)."""
    start = log.find("| ERROR]")
    return (log[start:] if start >= 0 else log)[-limit:]


def _scores_or_none(root: Path, assignment_id: str, student: str) -> Scores:
    """The student's scores, or {} when nbgrader recorded no submission for them."""
    try:
        return read_scores(root, assignment_id, student)
    except MissingEntry:
        return {}


def assert_full_marks(scores: Scores) -> None:
    assert scores and all(got == full for got, full in scores.values()), scores


def assert_loses_points(scores: Scores, wrong: Wrong, callers: dict | None = None) -> None:
    """``wrong`` loses points on its own test cell, and only there or on its callers' tests."""
    assert wrong.target in scores, f"no score for {wrong.target}: {sorted(scores)}"
    got, full = scores[wrong.target]
    assert got < full, f"{wrong.name}: {wrong.target} gave full marks ({got}/{full}) to a wrong {wrong.answer_id}"
    lost = {gid for gid, (got, full) in scores.items() if got < full}
    allowed = wrong.loses(callers)
    assert lost <= allowed, (
        f"{wrong.name} broke only {wrong.answer_id}, yet these tests lost points too: {sorted(lost - allowed)}"
    )


def assert_every_test_cell_targeted(reference: Scores, wrong_answers: list[Wrong]) -> None:
    """Every graded test cell of the assignment has at least one wrong answer aimed at it."""
    tested = {w.target for w in wrong_answers}
    assert tested == set(reference), f"test cells without a wrong answer: {sorted(set(reference) - tested)}"


# ------------------------------------------------- honest work both graders must agree on
def returns_zero(source: str) -> str:
    """A plausible wrong answer with the same signature: every function returns 0.0."""
    tree = ast.parse(source)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    lines = []
    for fn in functions:
        lines.append(f"def {fn.name}({ast.unparse(fn.args)}):\n    return 0.0\n")
    return "\n".join(lines) or source


def honest_submissions(assignment_id: str) -> dict[str, dict]:
    """Honest work other than the reference: the untouched exercise (every answer cell and
    written answer as the learner received it), and partly wrong work (every third answer
    returns 0.0, every third is left as the stub)."""
    answers = {gid: src for cells in reference_sources(REPO, assignment_id).values() for gid, src in cells.items()}
    ids = list(answers)
    partly = {gid: (returns_zero(answers[gid]) if i % 3 == 0 else STUB if i % 3 == 1 else answers[gid])
              for i, gid in enumerate(ids)}
    return {
        "stubs": stub_everything(assignment_id),
        "partly_wrong": partly,
    }
