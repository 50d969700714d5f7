"""Execute every lesson and exercise reference solution headless and print the wall time of each.

Target: each lesson runs in under 30 s on a 2-core machine. The baseline, measured in the same
process, is an empty notebook (kernel start-up and teardown), so the ratio column shows what
each notebook costs beyond starting a kernel.

    .venv/bin/python benchmarks/lesson_times.py
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 30.0


def run(path: Path | None) -> float:
    with tempfile.TemporaryDirectory() as work:
        if path is None:
            nb = nbformat.v4.new_notebook()
            nb.cells = [nbformat.v4.new_code_cell("1 + 1")]
        else:
            shutil.copy(path, work)
            nb = nbformat.read(Path(work) / path.name, as_version=4)
        started = time.perf_counter()
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": work}}).execute()
        return time.perf_counter() - started


def main() -> int:
    baseline = run(None)
    print(f"baseline (empty notebook): {baseline:.2f} s")
    notebooks = sorted((ROOT / "lessons").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*/*.ipynb"))
    slow = 0
    for path in notebooks:
        seconds = run(path)
        flag = "" if seconds < TARGET_SECONDS else f"  OVER {TARGET_SECONDS:.0f} s"
        slow += bool(flag)
        print(f"{path.relative_to(ROOT).as_posix():<70} {seconds:6.2f} s  {seconds / baseline:5.1f}x baseline{flag}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
