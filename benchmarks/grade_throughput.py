"""Throughput of `descentlab grade` against `nbgrader autograde` on the same submissions.

    .venv/bin/python benchmarks/grade_throughput.py [--n 60] [--assignment 01_objective_functions]

Builds a private copy of the course, writes N submissions (a third correct, a third
partly wrong, a third untouched stubs), then in one run:
1. `nbgrader autograde ID` grades them all (nbgrader's normal, one-notebook-at-a-time way);
2. `descentlab grade ID` grades them all (sandbox on, one worker per core);
checks that both gave the same total per learner, and prints both wall times, the ratio,
and the cost of one sandboxed runner start (bwrap + python + numpy).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def env() -> dict[str, str]:
    return dict(os.environ, PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""))


CPU: dict[str, float] = {}


def run(args: list[str], cwd: Path, label: str = "") -> float:
    """Wall seconds of the command; its CPU seconds (with its children) go to CPU[label]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if label:
        CPU[label] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return seconds


def make_course(base: Path, assignment_id: str) -> Path:
    root = base / "course"
    (root / "autograder").mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(REPO / "solutions" / assignment_id, root / "solutions" / assignment_id)
    run([sys.executable, "-m", "nbgrader", "generate_assignment", assignment_id, "--force", "--log-level=WARN"], root)
    return root


def write_submissions(root: Path, assignment_id: str, n: int) -> None:
    sources = {p.stem: json.loads(p.read_text()) for p in (root / "solutions" / assignment_id).glob("*.ipynb")}
    for i in range(n):
        kind = ("correct", "partly_wrong", "stubs")[i % 3]
        folder = root / "autograder" / "submitted" / f"learner{i:03d}" / assignment_id
        folder.mkdir(parents=True)
        for path in sorted((root / "exercises" / assignment_id).glob("*.ipynb")):
            nb = json.loads(path.read_text())
            reference = {c["metadata"]["nbgrader"]["grade_id"]: c["source"]
                         for c in sources[path.stem]["cells"] if c["metadata"].get("nbgrader", {}).get("solution")}
            answers = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
            for j, cell in enumerate(answers):
                if kind == "correct" or (kind == "partly_wrong" and j % 2 == 0):
                    cell["source"] = reference[cell["metadata"]["nbgrader"]["grade_id"]]
            (folder / path.name).write_text(json.dumps(nb))


def totals(csv_path: Path) -> dict[str, float]:
    return {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(open(csv_path))}


def sandbox_start_seconds(repeats: int = 10) -> float:
    """Wall time of starting a sandboxed runner until it answers (bwrap + python + numpy)."""
    from descentlab.grade.sandbox import Limits, probe, sandbox_uid, start_runner
    from descentlab.grade.wire import Channel

    mode, why = probe([REPO])
    if mode != "bwrap":
        sys.exit(f"no sandbox here: {why}")
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        process = start_runner("bwrap", Limits(), [REPO], uid=sandbox_uid())
        Channel(process.stdout.fileno(), process.stdin.fileno()).recv(time.monotonic() + 60)
        times.append(time.perf_counter() - started)
        process.kill()
        process.wait()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--assignment", default="01_objective_functions")
    parser.add_argument("--workers", type=int, default=None, help="descentlab workers (default: one per core)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="descentlab-bench-") as tmp:
        root = make_course(Path(tmp), args.assignment)
        write_submissions(root, args.assignment, args.n)
        cores = len(os.sched_getaffinity(0))
        print(f"{args.n} submissions of {args.assignment}; {cores} cores; load average {os.getloadavg()[0]:.1f}")

        nbgrader_s = run([sys.executable, "-m", "nbgrader", "autograde", args.assignment, "--force",
                          "--log-level=WARN"], root, "nbgrader")
        run([sys.executable, "-m", "nbgrader", "export", f"--to={root / 'nbgrader.csv'}", "--log-level=WARN"], root)
        expected = totals(root / "nbgrader.csv")

        command = [str(BIN / "descentlab"), "grade", args.assignment, "--quiet", "--force",
                   f"--csv={root / 'descentlab.csv'}"]
        if args.workers:
            command.append(f"--workers={args.workers}")
        descentlab_s = run(command, root, "descentlab")
        got = totals(root / "descentlab.csv")
        if got != expected:
            diff = {s: (expected.get(s), got.get(s)) for s in set(expected) | set(got) if expected.get(s) != got.get(s)}
            sys.exit(f"the two graders disagree: {diff}")
        from descentlab.course import Course

        results = [json.loads(p.read_text()) for p in (Course(root).grader_state / args.assignment).glob("*.json")]
        per_submission = statistics.median(r["seconds"] for r in results)

    start = sandbox_start_seconds()
    print(f"nbgrader autograde : {nbgrader_s:7.1f} s  ({nbgrader_s / args.n:.2f} s per submission)")
    print(f"descentlab grade   : {descentlab_s:7.1f} s  ({descentlab_s / args.n:.2f} s per submission, sandbox on, "
          f"{args.workers or cores} workers)")
    print(f"throughput ratio   : {nbgrader_s / descentlab_s:7.1f}x  wall (same scores for all {args.n} learners)")
    print(f"CPU time           : nbgrader {CPU['nbgrader']:.1f} s, descentlab {CPU['descentlab']:.1f} s "
          f"({CPU['nbgrader'] / CPU['descentlab']:.1f}x less; what an idle machine's wall time would follow)")
    print(f"one submission     : {per_submission:7.2f} s median inside a worker (sandbox start + cells + tests)")
    print(f"sandbox start      : {start:7.2f} s median (bwrap + python + numpy until the runner answers)")


if __name__ == "__main__":
    main()
