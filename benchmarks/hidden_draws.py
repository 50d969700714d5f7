"""Are the hidden tests that draw their problem at grading time robust? Count it.

    .venv/bin/python benchmarks/hidden_draws.py [ID ...] [--reference 300] [--wrong 50]
        [--correct 50] [--cells test_a,test_b] [--detail]

For every exercise (or the ids given) the solutions notebook's setup and answer cells run
once in a namespace, as the grader runs them; then every test cell runs again and again in
a copy of that namespace, each run drawing a fresh problem:
- against the reference, ``--reference`` times: it must pass every time;
- against every wrong answer of ``tests/cases/<id>*.py`` aimed at the cell, ``--wrong``
  times each: it must fail (nearly) every time;
- against every correct variant aimed at the cell or at a function the cell's function
  calls (``CALLERS``), ``--correct`` times each: it must pass every time.
Hidden parts run with ``descentlab.expect.hidden_checks`` on, as in ``descentlab grade``
(``--detail`` turns that off, so a failure prints its values). One line per cell and case:
passes and failures, the seconds per run, the first failure's message. The load average is
printed beside the figures: the machine may be shared.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import sys
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from descentlab.course import LESSON_IDS  # noqa: E402
from descentlab.expect import hidden_checks  # noqa: E402
from descentlab.grade.judge import HIDDEN_BEGIN, split_hidden  # noqa: E402 - cut as the grader cuts


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def run_cell(source: str, ns: dict, detail: bool) -> str | None:
    """Run a test cell part by part in ``ns``: None if it passed, else the failure's text."""
    for code, hidden in split_hidden(source):
        checks = hidden_checks() if hidden and not detail else contextlib.nullcontext()
        sink = io.StringIO()
        try:
            with checks, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                exec(compile(code, "<test>", "exec"), ns)  # noqa: S102 - the course's own cells
        except Exception as exc:  # noqa: BLE001 - a failure is what we count
            where = "hidden" if hidden else "visible"
            return f"[{where}] {type(exc).__name__}: {str(exc)[:300]}"
    return None


def notebook_path(lesson_id: str) -> Path:
    (path,) = sorted((REPO / "solutions" / lesson_id).glob("*.ipynb"))
    return path


def namespace(nb, replacements: dict[str, str]) -> dict:
    """The setup and answer cells run once, each answer replaced where ``replacements`` says."""
    ns: dict = {"__name__": "__main__", "display": lambda *a, **k: None}
    sink = io.StringIO()
    for cell in nb.cells:
        meta = _meta(cell)
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        source = replacements.get(meta.get("grade_id"), cell.source)
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            exec(compile(source, f"<{meta.get('grade_id', 'cell')}>", "exec"), ns)  # noqa: S102
    return ns


def test_cells(nb) -> dict[str, str]:
    return {_meta(c)["grade_id"]: c.source for c in nb.cells
            if c.cell_type == "code" and _meta(c).get("grade") and HIDDEN_BEGIN in c.source}


def load_cases(lesson_id: str) -> tuple[list, list, dict]:
    wrong, correct, callers = [], [], {}
    for path in sorted((REPO / "tests" / "cases").glob(f"{lesson_id}*.py")):
        spec = importlib.util.spec_from_file_location(f"cases_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        wrong += module.WRONG
        correct += module.CORRECT
        for function, calling in getattr(module, "CALLERS", {}).items():
            callers[function] = (*callers.get(function, ()), *calling)
    return wrong, correct, callers


def count(source: str, nb, replacements: dict[str, str], runs: int,
          detail: bool) -> tuple[int, int, float, str | None]:
    """(passes, failures, seconds per run, the first failure's text). Every run gets a fresh
    namespace: a test cell may swap a name the answers look up (checkpointing's sealed
    layer_forward), which only works in the answers' own globals."""
    passed = failed = 0
    first = None
    start = time.perf_counter()
    for _ in range(runs):
        error = run_cell(source, namespace(nb, replacements), detail)
        if error is None:
            passed += 1
        else:
            failed += 1
            first = first or error
    return passed, failed, (time.perf_counter() - start) / max(runs, 1), first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="*")
    parser.add_argument("--reference", type=int, default=300)
    parser.add_argument("--wrong", type=int, default=50)
    parser.add_argument("--correct", type=int, default=50)
    parser.add_argument("--cells", default="", help="comma-separated test cells (default: every hidden one)")
    parser.add_argument("--detail", action="store_true", help="show values in hidden failures")
    args = parser.parse_args()
    ids = [i for i in LESSON_IDS if not args.ids or any(i.startswith(a) for a in args.ids)]
    only = {c for c in args.cells.split(",") if c}
    bad = 0
    totals = {"reference": [0, 0], "wrong": [0, 0], "correct": [0, 0]}
    for lesson_id in ids:
        nb = nbformat.read(notebook_path(lesson_id), as_version=4)
        wrong, correct, callers = load_cases(lesson_id)
        print(f"== {lesson_id}  (load average {os.getloadavg()[0]:.1f})", flush=True)
        for label, source in test_cells(nb).items():
            if only and label not in only:
                continue
            function = label.removeprefix("test_")
            passed, failed, seconds, first = count(source, nb, {}, args.reference, args.detail)
            totals["reference"][0] += passed
            totals["reference"][1] += passed + failed
            bad += failed
            print(f"{label:32s} reference        passes {passed}/{passed + failed}  {seconds:.3f} s/run"
                  + (f"  FIRST FAILURE {first}" if first else ""), flush=True)
            for case in [w for w in wrong if w.target == label]:
                passed, failed, seconds, first = count(source, nb, {case.answer_id: case.source},
                                                       args.wrong, args.detail)
                totals["wrong"][0] += failed
                totals["wrong"][1] += passed + failed
                bad += passed
                print(f"{label:32s} wrong {case.name:40s} killed {failed}/{passed + failed}", flush=True)
            aimed = [v for v in correct
                     if v.target == label or function in callers.get(v.answer_id, ())]
            for case in aimed:
                passed, failed, seconds, first = count(source, nb, {case.answer_id: case.source},
                                                       args.correct, args.detail)
                totals["correct"][0] += passed
                totals["correct"][1] += passed + failed
                bad += failed
                print(f"{label:32s} correct {case.name:38s} passes {passed}/{passed + failed}"
                      + (f"  FIRST FAILURE {first}" if first else ""), flush=True)
    print("totals: reference passes {0[0]}/{0[1]}, wrong answers killed {1[0]}/{1[1]}, "
          "correct variants pass {2[0]}/{2[1]}".format(totals["reference"], totals["wrong"], totals["correct"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
