"""The wheel and sdist carry the learner materials and never the solutions or hidden tests."""
from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from test_assignments import ASSIGNMENTS, _normalise, secret_blocks

from descentlab.notebook import MARKERS

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


def archive_files(path: Path) -> dict[str, bytes]:
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}


def test_wheel_carries_learner_materials(dists):
    names = set(archive_files(dists["wheel"]))
    assert "descentlab/course/glossary.yml" in names
    assert "descentlab/course/lessons/01_objective_functions.ipynb" in names
    for assignment_id in ASSIGNMENTS:
        assert any(n.startswith(f"descentlab/course/exercises/{assignment_id}/") for n in names), assignment_id
    assert any(n.endswith("entry_points.txt") for n in names)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_no_solutions_or_hidden_tests_in_distributions(dists, kind):
    files = archive_files(dists[kind])
    assert not [n for n in files if "/solutions/" in n or n.startswith("solutions/")]
    assert not [n for n in files if "nbgrader_config.py" in n or n.endswith("gradebook.db")]
    blocks = [b for a in ASSIGNMENTS for b in secret_blocks(a)]
    for name, data in files.items():
        if name.endswith(".ipynb"):
            text = data.decode("utf-8", errors="ignore")
            for marker in MARKERS:
                assert marker not in text, f"{kind}: {name} contains {marker!r}"
            flat = _normalise(text.replace("\\n", "\n").replace('\\"', '"'))
            for block in blocks:
                assert block not in flat, f"{kind}: {name} contains solution text {block[:60]!r}"
