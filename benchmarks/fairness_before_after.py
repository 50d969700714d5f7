"""Which correct answers the exercises penalised before the fairness work, and which pass now.

    .venv/bin/python benchmarks/fairness_before_after.py [--before c4f379f] [--lesson 01 ...]
        [--nbgrader auto|always|never]

Issue 17 ("Fair verdicts") asks for a note listing, per exercise, the correct variants that
were penalised before and pass now. "Before" is a commit (default ``c4f379f``, the end of the
round before the fairness work); "now" is this checkout. The correct variants are the data in
``tests/cases/<id>*.py`` (``CORRECT``: the reference with one answer cell replaced).

For every lesson id, two private course copies are built in a temporary folder: one whose
source notebook is ``git show BEFORE:solutions/<id>/<id>_exercise.ipynb``, one with the current
source. Every current correct variant is written as a submission into both, beside the
reference of that copy (the sanity line: it must score full marks), and both copies are graded
in process by ``descentlab grade`` (bubblewrap sandbox, ``--force``), the grader of this
checkout: only the notebooks (docstrings, visible and hidden tests) differ between the runs.

Where this checkout's grader cannot grade an old notebook (its old reference does not score full
marks: exercise 05's old memory tests measured ``tracemalloc`` in a process the judge no longer
runs them in), the old copy is also graded by real ``nbgrader autograde``, which runs the old
notebook as it was written, and "before" is read from nbgrader (``--nbgrader always`` does this
for every lesson). A lesson whose old reference loses points under both is "not comparable".

Printed per exercise: variant, function, points before / full (descentlab grade, and nbgrader
where it ran), points now / full (the whole submission's test cells), what the variant lost on
(test cell, points, the last line of the error) and a verdict. A variant aimed at a function
the old notebook did not have is "new function" (not graded before). A variant of a function
whose signature differs between the two notebooks and that lost points before is marked
"signature changed": it counts as penalised only if the old docstring allowed the call, which
a reader decides from the printed old and new signatures. At ``c4f379f`` no graded function's
signature differs (the script compares them and prints the result). The load average and the
commit ids are printed.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the cases import grading_support, as under pytest

import nbformat  # noqa: E402
from grading_support import Variant, nbgrader, read_scores, reference_sources, write_submission  # noqa: E402
from nbgrader.api import MissingEntry  # noqa: E402

from descentlab.course import LESSON_IDS, Course  # noqa: E402
from descentlab.grade.round import GradeOptions, grade_assignment  # noqa: E402

CASES = REPO / "tests" / "cases"
REFERENCE = "reference"


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout


def load_variants(lesson_id: str) -> list[Variant]:
    """Every ``CORRECT`` variant of the lesson's case modules, in file order."""
    found: list[Variant] = []
    for path in sorted(CASES.glob(f"{lesson_id}*.py")):
        spec = importlib.util.spec_from_file_location(f"cases_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found += module.CORRECT
    return found


def make_course(base: Path, lesson_id: str, notebook_text: str) -> Path:
    """A private course (this checkout's config) whose only source is ``notebook_text``."""
    root = base / "course"
    source = root / "solutions" / lesson_id
    source.mkdir(parents=True)
    (root / "autograder").mkdir()
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    (source / f"{lesson_id}_exercise.ipynb").write_text(notebook_text)
    nbgrader(root, "generate_assignment", lesson_id, "--force")
    return root


def signatures(root: Path, lesson_id: str) -> dict[str, str]:
    """answer cell -> the signature of what it defines (``def f(a, b)``, ``class C``)."""
    found = {}
    for cells in reference_sources(root, lesson_id).values():
        for gid, source in cells.items():
            parts = []
            for node in ast.parse(source).body:
                if isinstance(node, ast.FunctionDef):
                    parts.append(f"def {node.name}({ast.unparse(node.args)})")
                elif isinstance(node, ast.ClassDef):
                    methods = [f"{m.name}({ast.unparse(m.args)})" for m in node.body if isinstance(m, ast.FunctionDef)]
                    parts.append(f"class {node.name}: " + ", ".join(methods))
            found[gid] = "; ".join(parts)
    return found


@dataclass
class Graded:
    grader: str
    scores: dict[str, dict[str, tuple[float, float]]]  # student -> test cell -> (score, full)
    errors: dict[str, dict[str, str]]  # student -> test cell -> the last line of its error
    status: dict[str, str]
    seconds: float

    def valid(self) -> bool:
        """Whether this grader can grade the notebook: its reference scores full marks."""
        return full(self.scores.get(REFERENCE, {}))


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return (lines[-1] if lines else "")[:150]


def grade(root: Path, lesson_id: str, submissions: dict[str, dict[str, str]]) -> Graded:
    """One in-process ``descentlab grade`` round (sandboxed, forced) over ``submissions``."""
    for student, replacements in submissions.items():
        write_submission(root, lesson_id, student, replacements)
    started = time.perf_counter()
    summary = grade_assignment(Course(root), lesson_id, GradeOptions(progress=False, force=True, sandbox="bwrap"))
    seconds = time.perf_counter() - started
    status = {o.student: o.status for o in summary.outcomes}
    scores, errors = {}, {}
    for student in submissions:
        scores[student] = read_scores(root, lesson_id, student) if status.get(student) == "graded" else {}
        errors[student] = {}
        stored = root / "autograder" / ".descentlab" / lesson_id / f"{student}.json"
        if stored.exists():
            for notebook in json.loads(stored.read_text())["notebooks"].values():
                for test in notebook["tests"]:
                    if test["score"] < test["points"]:
                        errors[student][test["grade_id"]] = _last_line(test["error"])
    return Graded("descentlab", scores, errors, status, seconds)


def grade_with_nbgrader(root: Path, lesson_id: str, submissions: dict[str, dict[str, str]]) -> Graded:
    """One real ``nbgrader autograde`` run over ``submissions``; errors from its autograded notebooks."""
    for student, replacements in submissions.items():
        write_submission(root, lesson_id, student, replacements)
    started = time.perf_counter()
    nbgrader(root, "autograde", lesson_id, "--force", check=False)
    seconds = time.perf_counter() - started
    scores, errors, status = {}, {}, {}
    for student in submissions:
        try:
            scores[student] = read_scores(root, lesson_id, student)
            status[student] = "graded"
        except MissingEntry:
            scores[student], status[student] = {}, "not graded by nbgrader"
        errors[student] = {}
        for path in sorted((root / "autograder" / "autograded" / student / lesson_id).glob("*.ipynb")):
            for cell in nbformat.read(path, as_version=4).cells:
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if gid in lost(scores[student]):
                    failed = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                    if failed:
                        errors[student][gid] = _last_line(f"{failed[0]['ename']}: {failed[0]['evalue']}")
    return Graded("nbgrader", scores, errors, status, seconds)


def total(scores: dict[str, tuple[float, float]]) -> str:
    if not scores:
        return "not graded"
    return f"{sum(s for s, _ in scores.values()):g} / {sum(f for _, f in scores.values()):g}"


def lost(scores: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    return {gid: s for gid, s in scores.items() if s[0] < s[1]}


def full(scores: dict[str, tuple[float, float]]) -> bool:
    return bool(scores) and not lost(scores)


def sanity(graded: Graded) -> str:
    verdict = "full marks" if graded.valid() else f"NOT full marks: loses {lost(graded.scores.get(REFERENCE, {}))}"
    return f"{total(graded.scores.get(REFERENCE, {}))} under {graded.grader} ({verdict})"


def run_lesson(lesson_id: str, before: str, base: Path, use_nbgrader: str) -> list[tuple[str, str, str]]:
    """Grade the lesson's variants before and now; print its table; return (variant, function,
    verdict) for the summary."""
    path = f"solutions/{lesson_id}/{lesson_id}_exercise.ipynb"
    old_text = git("show", f"{before}:{path}")
    old_root = make_course(base / "before", lesson_id, old_text)
    new_root = make_course(base / "now", lesson_id, (REPO / path).read_text())
    variants = load_variants(lesson_id)
    old_sigs, new_sigs = signatures(old_root, lesson_id), signatures(new_root, lesson_id)
    old_submissions = {REFERENCE: {}, **{v.name: {v.answer_id: v.source} for v in variants if v.answer_id in old_sigs}}

    load = os.getloadavg()
    olds = [grade(old_root, lesson_id, old_submissions)]
    if use_nbgrader == "always" or (use_nbgrader == "auto" and not olds[0].valid()):
        nb_root = make_course(base / "before-nbgrader", lesson_id, old_text)
        olds.append(grade_with_nbgrader(nb_root, lesson_id, old_submissions))
    new = grade(new_root, lesson_id, {REFERENCE: {}, **{v.name: {v.answer_id: v.source} for v in variants}})
    judge = next((g for g in olds if g.valid()), None)  # the grader "before" is read from

    print(f"\n== {lesson_id}: {len(variants)} correct variants; graded in "
          + ", ".join(f"{g.seconds:.1f} s (before, {g.grader})" for g in olds)
          + f" and {new.seconds:.1f} s (now); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start")
    print("   sanity: old reference on the old notebook " + "; ".join(sanity(g) for g in olds)
          + f"; current reference on the current notebook {sanity(new)}")
    print("   before is read from: " + (judge.grader if judge else
                                         "no grader (the old reference loses points under every one): not comparable"))
    changed = sorted(g for g in old_sigs if g in new_sigs and old_sigs[g] != new_sigs[g])
    print("   signatures changed since before: " + (", ".join(f"{g} ({old_sigs[g]} -> {new_sigs[g]})" for g in changed)
                                                   if changed else "none"))
    columns = "".join(f"{'before (' + g.grader + ')':>24}" for g in olds)
    header = f"   {'variant':<48} {'function':<22}{columns} {'now':>12}  verdict"
    print(header)
    print("   " + "-" * (len(header) - 3))
    rows = []
    for v in variants:
        now = new.scores.get(v.name, {})
        before_texts = []
        for g in olds:
            was = g.scores.get(v.name, {})
            before_texts.append("-" if v.answer_id not in old_sigs else total(was) if was else g.status.get(v.name, "?"))
        if v.answer_id not in old_sigs:
            verdict = "new function"
        elif judge is None:
            verdict = "not comparable"
        else:
            was = judge.scores.get(v.name, {})
            if not was:
                verdict = f"not graded before ({judge.status.get(v.name)})"
            elif full(was):
                verdict = "passes before and now" if full(now) else "passes before, PENALISED NOW"
            elif v.answer_id in changed:
                verdict = "signature changed"
            else:
                verdict = "PENALISED BEFORE, passes now" if full(now) else "penalised before and now"
        others = [g.grader for g in olds if g is not judge and g.valid() and v.answer_id in old_sigs
                  and g.scores.get(v.name) != judge.scores.get(v.name)]
        if others:
            verdict += f" (the {', '.join(others)} score before differs)"
        now_text = total(now) if now else new.status.get(v.name, "not graded")
        print(f"   {v.name:<48} {v.answer_id:<22}" + "".join(f"{t:>24}" for t in before_texts)
              + f" {now_text:>12}  {verdict}")
        # What was lost, under the grader "before" is read from (one that cannot grade the old
        # notebook says nothing about the variant) and now.
        for graded, label in [*((g, f"before ({g.grader})") for g in olds if g is judge), (new, "now")]:
            for gid, (got, out_of) in sorted(lost(graded.scores.get(v.name, {})).items()):
                print(f"   {'':<48} {label}: {gid} {got:g}/{out_of:g}: {graded.errors[v.name].get(gid, '')}")
        rows.append((v.name, v.answer_id, verdict))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="c4f379f", help="the commit of the old exercises")
    parser.add_argument("--lesson", nargs="*", help="lesson ids or their numbers (default: every lesson)")
    parser.add_argument("--nbgrader", choices=("auto", "always", "never"), default="auto",
                        help="also grade the old copy with nbgrader autograde: where descentlab grade cannot "
                             "grade it (auto), for every lesson, or never")
    args = parser.parse_args()
    lessons = [lid for lid in LESSON_IDS if not args.lesson or any(lid.startswith(p) for p in args.lesson)]

    before = git("rev-parse", args.before).strip()
    head = git("rev-parse", "HEAD").strip()
    dirty = git("status", "--porcelain", "--", "solutions", "tests/cases").strip()
    print(f"before: {before} ({git('log', '-1', '--format=%s', before).strip()[:90]})")
    print(f"now:    {head}{' + uncommitted changes in solutions/ or tests/cases/' if dirty else ''} "
          f"({git('log', '-1', '--format=%s', head).strip()[:90]})")
    print(f"grader: descentlab grade of this checkout (in process, --force, bubblewrap sandbox); "
          f"nbgrader autograde on the old copy: {args.nbgrader}; {os.cpu_count()} cores; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    started = time.perf_counter()
    summary: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="fairness-before-after-") as tmp:
        for lesson_id in lessons:
            for name, function, verdict in run_lesson(lesson_id, before, Path(tmp) / lesson_id, args.nbgrader):
                summary.append((lesson_id, name, function, verdict))

    print("\n== Penalised before, pass now (per exercise)")
    for lesson_id in lessons:
        fixed = [(n, f) for lid, n, f, v in summary if lid == lesson_id and v.startswith("PENALISED BEFORE, passes now")]
        print(f"   {lesson_id}: " + ("; ".join(f"{n} ({f})" for n, f in fixed) if fixed else "none"))
    counts: dict[str, int] = {}
    for *_, verdict in summary:
        counts[verdict] = counts.get(verdict, 0) + 1
    print("\n== Totals: " + ", ".join(f"{v}: {n}" for v, n in sorted(counts.items())))
    print(f"   {time.perf_counter() - started:.0f} s in all; load average at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
