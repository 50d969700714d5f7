"""Throughput of `descentlab grade` against `nbgrader autograde` on the same submissions.

    .venv/bin/python benchmarks/grade_throughput.py [--n 60] [--assignment 01_objective_functions]
        [--scale 60,300,1000] [--no-dask]

Builds a private copy of the course, writes N submissions (a third correct, a third
partly wrong, a third untouched stubs), then in one run:
1. `nbgrader autograde ID` grades them all (nbgrader's normal, one-notebook-at-a-time way);
2. `descentlab grade ID` grades them all (sandbox on, one worker per core), and again on a
   local Dask cluster of one worker process per core (`--dask-scheduler`; the cluster is
   kept for the whole run, so later Dask rounds find its workers' grading hosts warm);
checks that every grader gave the same total per learner, and prints the wall times, the
ratios, the fixed cost per submission and the learners' own compute apart:
- fixed cost: rounds of N and 2N submissions whose answers return at once (the learner
  computes nothing); their difference over N is the cost of one more submission (CPU of
  the grader and everything under it, and wall), without the round's own start; and the
  fork of a fresh sandboxed runner from the warm template, until it answers;
  the same instant rounds on the Dask cluster (CPU of the command, the workers and their
  grading hosts with their forks);
- learner compute: the mixed round's CPU per submission minus the instant round's;
3. with --scale, rounds of growing size (generated the same way), each graded locally and
   on the Dask cluster, each printing its time per submission, the grader's peak memory
   (locally ru_maxrss of the grader and of its largest child; on Dask the largest worker's
   and grading host's) and the load average beside it.
Every figure is printed with the load average: the machine may be shared.
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


INSTANT = "def {name}(*args, **kwargs):\n    return 0.0\n"


def write_submissions(root: Path, assignment_id: str, n: int, instant: bool = False) -> None:
    """N submissions, a third each correct, partly wrong and stubs; with ``instant``, every
    answer a function that returns at once (the learner computes nothing)."""
    import re

    sources = {p.stem: json.loads(p.read_text()) for p in (root / "solutions" / assignment_id).glob("*.ipynb")}
    submitted = root / "autograder" / "submitted"
    if submitted.exists():
        shutil.rmtree(submitted)
    (root / "autograder" / ".descentlab").exists() and shutil.rmtree(root / "autograder" / ".descentlab")
    for i in range(n):
        kind = "instant" if instant else ("correct", "partly_wrong", "stubs")[i % 3]
        folder = submitted / f"learner{i:04d}" / assignment_id
        folder.mkdir(parents=True)
        for path in sorted((root / "exercises" / assignment_id).glob("*.ipynb")):
            nb = json.loads(path.read_text())
            reference = {c["metadata"]["nbgrader"]["grade_id"]: c["source"]
                         for c in sources[path.stem]["cells"] if c["metadata"].get("nbgrader", {}).get("solution")}
            answers = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")]
            for j, cell in enumerate(answers):
                if kind == "instant":
                    names = re.findall(r"^def (\w+)", "".join(cell["source"]), re.M)
                    cell["source"] = "".join(INSTANT.format(name=name) for name in names)
                elif kind == "correct" or (kind == "partly_wrong" and j % 2 == 0):
                    cell["source"] = reference[cell["metadata"]["nbgrader"]["grade_id"]]
            (folder / path.name).write_text(json.dumps(nb))


def totals(csv_path: Path) -> dict[str, float]:
    return {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(open(csv_path))}


def fork_seconds(repeats: int = 20) -> tuple[float, float]:
    """Median wall time of (starting the warm template, forking one runner from it until
    it answers): the round's one-off cost and the sandbox's cost per learner notebook."""
    from descentlab.grade.sandbox import Limits
    from descentlab.grade.wire import Channel
    from descentlab.grade.zygote import Zygote

    started = time.perf_counter()
    zygote = Zygote.start(Limits(), [REPO])
    start = time.perf_counter() - started
    times = []
    with zygote:
        for _ in range(repeats):
            started = time.perf_counter()
            runner = zygote.spawn(Limits())
            Channel(runner.stdout.fileno(), runner.stdin.fileno()).recv(time.monotonic() + 60)
            times.append(time.perf_counter() - started)
            runner.kill()
            runner.wait(10)
            runner.stdout.close()
    return start, statistics.median(times)


def load() -> str:
    return "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())


def descentlab_round(root: Path, assignment_id: str, label: str, extra: list[str] = ()) -> tuple[float, dict]:
    command = [str(BIN / "descentlab"), "grade", assignment_id, "--quiet", "--force",
               f"--csv={root / (label + '.csv')}", *extra]
    seconds = run(command, root, label)
    return seconds, totals(root / (label + ".csv"))


def same_or_exit(expected: dict, got: dict, what: str) -> None:
    got = {s: v for s, v in got.items() if s in expected}
    if got != expected:
        diff = {s: (expected.get(s), got.get(s)) for s in set(expected) | set(got) if expected.get(s) != got.get(s)}
        sys.exit(f"nbgrader and {what} disagree: {diff}")


def peak_memory_mb() -> tuple[float, float]:
    """ru_maxrss (KiB on Linux) of this process and of the largest finished child."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def start_cluster(workers: int):
    """A local Dask cluster of ``workers`` worker processes, one thread each, and a client."""
    import distributed

    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=50)
    return cluster, distributed.Client(cluster)


def _worker_peak_mb() -> float:
    """On a Dask worker: its own peak resident set (ru_maxrss)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _host_peak_mb() -> float:
    """On a Dask worker: the peak resident set of its grading host (VmHWM; it still runs)."""
    from descentlab.grade import isolated

    host = isolated._host
    if host is None or not host.alive():
        return 0.0
    with open(f"/proc/{host.process.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _worker_cpu() -> float:
    """On a Dask worker: CPU seconds of the worker, and of its grading host and every live
    process under it (its sandbox templates and their learners) with what each reaped
    (utime, stime, cutime, cstime from /proc: they are still running)."""
    import resource

    from descentlab.grade import isolated

    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    host = isolated._host
    if host is None or not host.alive():
        return total
    parent, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(entry)] = int(fields[1])
            cpu[int(entry)] = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for pid in cpu:
        ancestor = pid
        while ancestor in parent and ancestor != host.process.pid:
            ancestor = parent[ancestor]
        if ancestor == host.process.pid:
            total += cpu[pid]
    return total


def dask_round_cpu(client, root: Path, assignment_id: str, label: str, extra: list[str]) -> tuple[float, float]:
    """Wall seconds of a Dask round and the CPU of everything that graded it: the command,
    the workers and their grading hosts (with their forks)."""
    before = sum(client.run(_worker_cpu).values())
    seconds, _ = descentlab_round(root, assignment_id, label, extra)
    return seconds, CPU[label] + sum(client.run(_worker_cpu).values()) - before


def dask_memory(client) -> str:
    workers = client.run(_worker_peak_mb).values()
    hosts = client.run(_host_peak_mb).values()
    return f"largest Dask worker {max(workers):.0f} MB, largest grading host {max(hosts):.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--assignment", default="01_objective_functions")
    parser.add_argument("--workers", type=int, default=None, help="descentlab workers (default: one per core)")
    parser.add_argument("--scale", default="", help="comma-separated round sizes for the scale-out run, e.g. 60,300,1000")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask rounds")
    parser.add_argument("--no-nbgrader", action="store_true", help="skip nbgrader (no ratio; for quick checks)")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    workers = args.workers or cores
    extra = [f"--workers={workers}"]
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="descentlab-bench-") as tmp:
        root = make_course(Path(tmp), args.assignment)
        write_submissions(root, args.assignment, args.n)
        say(f"{args.n} submissions of {args.assignment}; {cores} cores; {load()}")
        expected, nbgrader_s = None, 0.0
        if not args.no_nbgrader:
            nbgrader_s = run([sys.executable, "-m", "nbgrader", "autograde", args.assignment, "--force",
                              "--log-level=WARN"], root, "nbgrader")
            run([sys.executable, "-m", "nbgrader", "export", f"--to={root / 'nbgrader.csv'}", "--log-level=WARN"], root)
            expected = totals(root / "nbgrader.csv")
            say(f"nbgrader autograde : {nbgrader_s:7.1f} s  ({nbgrader_s / args.n:.3f} s per submission; {load()})")
        local_s, got = descentlab_round(root, args.assignment, "descentlab", extra)
        if expected:
            same_or_exit(expected, got, "descentlab grade")
        say(f"descentlab grade   : {local_s:7.1f} s  ({local_s / args.n:.3f} s per submission, sandbox on, "
            f"{workers} workers; {load()})")
        if expected:
            say(f"throughput ratio   : {nbgrader_s / local_s:7.1f}x wall (same scores for all {args.n} learners)")
            say(f"CPU time           : nbgrader {CPU['nbgrader']:.1f} s, descentlab {CPU['descentlab']:.1f} s "
                f"({CPU['nbgrader'] / CPU['descentlab']:.1f}x less)")
        cluster = client = None
        if not args.no_dask:
            cluster, client = start_cluster(workers)
            dask_extra = [f"--dask-scheduler={cluster.scheduler_address}"]
            dask_s, got = descentlab_round(root, args.assignment, "dask", dask_extra)
            if expected:
                same_or_exit(expected, got, "descentlab grade --dask-scheduler")
            ratio = f", {nbgrader_s / dask_s:.1f}x nbgrader's throughput" if expected else ""
            say(f"--dask-scheduler   : {dask_s:7.1f} s  ({dask_s / args.n:.3f} s per submission, LocalCluster of "
                f"{workers} worker processes, each task in a fresh fork of the worker's warm host{ratio}; "
                f"the hosts start in this round; {load()})")

        # Fixed cost: rounds of N and 2N submissions whose answers return at once; the
        # difference is the cost of N more submissions, without the round's own start.
        instant = {}
        for size in (args.n, 2 * args.n):
            write_submissions(root, args.assignment, size, instant=True)
            instant[size] = descentlab_round(root, args.assignment, f"instant{size}", extra)[0], CPU[f"instant{size}"]
        (wall_1, cpu_1), (wall_2, cpu_2) = instant[args.n], instant[2 * args.n]
        fixed_wall = (wall_2 - wall_1) / args.n
        fixed_cpu = (cpu_2 - cpu_1) / args.n
        say(f"fixed cost         : {fixed_cpu * 1000:7.1f} ms CPU per submission, {fixed_wall * 1000:.1f} ms wall per "
            f"submission on {workers} workers (answers that return at once; rounds of {args.n} and {2 * args.n}, "
            f"their difference; {load()})")
        if client is not None:
            dask_instant = {}
            for size in (args.n, 2 * args.n):
                write_submissions(root, args.assignment, size, instant=True)
                dask_instant[size] = dask_round_cpu(client, root, args.assignment, f"dask_instant{size}", dask_extra)
            (wall_1d, cpu_1d), (wall_2d, cpu_2d) = dask_instant[args.n], dask_instant[2 * args.n]
            say(f"fixed cost, Dask   : {(cpu_2d - cpu_1d) / args.n * 1000:7.1f} ms CPU per submission (the command, "
                f"the workers and their grading hosts), {(wall_2d - wall_1d) / args.n * 1000:.1f} ms wall per "
                f"submission on {workers} Dask workers (the same instant rounds; {load()})")
        mixed_cpu = CPU["descentlab"] / args.n
        single_cpu = cpu_1 / args.n
        say(f"learner compute    : {(mixed_cpu - single_cpu) * 1000:7.1f} ms CPU per submission (the mixed round "
            f"minus the same-size instant round)")
        start, fork = fork_seconds()
        say(f"sandbox            : {start * 1000:7.1f} ms to start the warm template (once per round), "
            f"{fork * 1000:.1f} ms median to fork a fresh runner until it answers ({load()})")

        for size in [int(v) for v in args.scale.split(",") if v.strip()]:
            if size == args.n:
                seconds = local_s  # the mixed round above is this size's round
            else:
                write_submissions(root, args.assignment, size)
                seconds, _ = descentlab_round(root, args.assignment, f"scale{size}", extra)
            own, child = peak_memory_mb()
            say(f"scale {size:5d} local  : {seconds:7.1f} s, {seconds / size * 1000:6.1f} ms per submission; "
                f"peak memory: benchmark {own:.0f} MB, largest grader process so far {child:.0f} MB; {load()}")
            if client is not None:
                seconds, _ = descentlab_round(root, args.assignment, f"dask{size}", dask_extra)
                say(f"scale {size:5d} Dask   : {seconds:7.1f} s, {seconds / size * 1000:6.1f} ms per submission; "
                    f"peak memory: {dask_memory(client)}; {load()}")
        if cluster is not None:
            client.close()
            cluster.close()
    print("\nsummary:\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
