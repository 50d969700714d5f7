"""`descentlab check NOTEBOOK`: run an exercise's visible tests and print a score table.

The notebook runs top to bottom in a fresh kernel (errors do not stop it, so every test
gets its verdict). A test cell passes when it raises nothing. Hidden tests are removed
first, so a learner's copy and the instructor's source give the same visible verdicts.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from traitlets.config import Config

from .course import CourseError, resolve_lesson_id
from .notebook import NOT_IMPLEMENTED, Role, autograded_tests, cells_with_role, grade_id, read_notebook, strip_hidden_tests
from .workspace import Workspace


@dataclass
class FunctionResult:
    function: str
    grade_id: str
    points: float
    earned: float
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.earned == self.points


@dataclass
class CheckReport:
    notebook: str
    results: list[FunctionResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(r.earned for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def all_passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def to_json(self) -> dict:
        data = asdict(self)
        data.update(score=self.score, max_score=self.max_score, all_passed=self.all_passed)
        return data




def _error_text(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            value = str(output.get("evalue", "")).strip()
            return f"{output.get('ename', 'Error')}: {value}" if value else output.get("ename", "Error")
    return ""


def kernel_config() -> Config:
    """Kernels we start talk to us over CurveZMQ-encrypted sockets (the python3 kernelspec
    declares support). Without it ipykernel warns "Kernel is running over TCP without
    encryption" on stderr, which a learner then reads after `check` or `progress` returns."""
    config = Config()
    config.KernelManager.transport_encryption = "auto"
    return config


def run_check(path: Path, timeout: int = 120) -> CheckReport:
    """Execute ``path``'s visible tests in a fresh kernel and collect one result per test cell."""
    path = Path(path).resolve()
    nb = read_notebook(path)
    tests = autograded_tests(nb)
    if not tests:
        raise CourseError(
            f"{path}: no graded test cells (nbgrader metadata 'grade': true); is this an exercise notebook?"
        )
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_hidden_tests(cell.source)
    report = CheckReport(notebook=str(path))
    started = time.perf_counter()
    # Here, not at the top: every `descentlab` command imports this module, and nbclient
    # (with jupyter_client) takes a second to import.
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        config=kernel_config(),
    )
    try:
        client.execute()
    except CellTimeoutError:
        report.problems.append(
            f"a cell ran longer than {timeout} s and was stopped (an infinite loop?); "
            "the cells after it did not run"
        )
    except DeadKernelError:
        report.problems.append("the kernel died while running the notebook (out of memory?)")
    report.seconds = time.perf_counter() - started

    for index, cell in cells_with_role(nb, Role.ANSWER):
        error = _error_text(cell)
        if error:
            report.problems.append(f"your code in cell '{grade_id(cell, str(index))}' raised {error}")
    for test in tests:
        cell = nb.cells[test.index]
        ran = cell.get("execution_count") is not None or cell.get("outputs")
        error = _error_text(cell) if ran else "did not run"
        if error.startswith("NotImplementedError"):
            error = NOT_IMPLEMENTED
        report.results.append(
            FunctionResult(test.function, test.grade_id, test.points, 0.0 if error else test.points, error)
        )
    return report


def resolve_notebook(text: str, cwd: Path | None = None) -> tuple[Workspace | None, Path]:
    """The notebook ``descentlab check TEXT`` means, and the workspace it belongs to.

    TEXT is a lesson id or number ("01": that lesson's exercise in the workspace) or a path.
    A relative path given outside the workspace (from the repository root, whose
    ``descentlab-course/`` is the workspace) is read inside the workspace: the learner's
    copy, never the course's pristine one.
    """
    cwd = Path(cwd or Path.cwd()).resolve()
    workspace = Workspace.locate(cwd)
    path = Path(text)
    if path.suffix != ".ipynb" and not path.exists():
        lesson_id = resolve_lesson_id(text)
        workspace = workspace or Workspace.find(cwd)
        return workspace, workspace.exercise_notebook(lesson_id)
    if not path.is_absolute():
        inside = workspace is not None and workspace.contains(cwd)
        path = (cwd if inside or workspace is None else workspace.root) / path
    path = path.resolve()
    if workspace is not None and not workspace.contains(path):
        workspace = Workspace.locate(path.parent)
    return workspace, path


def _heading(report: CheckReport, workspace: Workspace | None) -> list[str]:
    if workspace is None:
        return [f"descentlab check: {report.notebook} (not in a learner workspace)"]
    return [f"descentlab check: workspace {workspace.root}",
            f"  notebook {workspace.relative(Path(report.notebook))}"]


def format_report(report: CheckReport, width: int = 100, workspace: Workspace | None = None) -> str:
    name_width = max([len("function")] + [len(r.function) for r in report.results])
    lines = [*_heading(report, workspace), ""]
    lines.append(f"  {'function':<{name_width}}  {'points':>7}  result")
    for r in report.results:
        points = f"{r.earned:g}/{r.points:g}"
        verdict = "pass" if r.passed else "FAIL"
        lines.append(f"  {r.function:<{name_width}}  {points:>7}  {verdict}")
        if r.message:
            room = max(40, width - 6)
            message = r.message if len(r.message) <= room * 3 else r.message[: room * 3 - 3] + "..."
            lines.append(f"      {message}")
    lines.append("")
    for problem in report.problems:
        lines.append(f"  note: {problem}")
    lines.append(
        "Hidden tests run only at grading: they try other shapes, seeds and edge cases, so "
        "passing here is necessary, not sufficient."
    )
    lines.append(summary_line(report))
    return "\n".join(lines)


def summary_line(report: CheckReport) -> str:
    """The last line of every check: functions passing and points."""
    passed = sum(r.passed for r in report.results)
    return (f"Visible tests: {report.score:g}/{report.max_score:g} points "
            f"({passed} of {len(report.results)} functions pass) in {report.seconds:.1f} s.")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "check",
        help="run an exercise notebook's visible tests and print a score table",
        description="Run every visible test of one exercise notebook in a fresh kernel and "
        "print which functions pass, the failure messages and a score. Exit status: 0 when "
        "every visible test passes, 1 when some fail, 2 when the notebook cannot be checked.",
    )
    parser.add_argument("notebook", help="an exercise notebook (.ipynb), or a lesson id or number "
                        "(e.g. 01) for that lesson's exercise in your workspace")
    parser.add_argument("--timeout", type=int, default=120, help="seconds one cell may run (default 120)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    workspace, notebook = resolve_notebook(args.notebook)
    report = run_check(notebook, timeout=args.timeout)
    if workspace is not None:
        from .progress import remember_check

        remember_check(workspace, notebook, report)
    if args.json:
        data = report.to_json()
        data["workspace"] = str(workspace.root) if workspace else None
        print(json.dumps(data, indent=2))
    else:
        print(format_report(report, workspace=workspace))
    return 0 if report.all_passed else 1
