"""descentlab.notebook: cell roles, strict parsing, clear errors; the verdict's JSON form."""
from __future__ import annotations

import json

import nbformat
import pytest

from descentlab.course import CourseError
from descentlab.grade.verdict import (
    CRASHED, GRADED, CellVerdict, Event, NotebookVerdict, SubmissionVerdict, worse,
)
from descentlab.notebook import (
    NOT_IMPLEMENTED, InvalidNotebook, Role, autograded_tests, cell_role, cell_source, function_under_test, grade_cells,
    is_clean, is_unchanged, learner_message, nbgrader_checksum, parse_submission, read_notebook,
    read_sources, strip_hidden_tests,
)


def _cell(kind="code", source="", **nbgrader):
    cell = {"cell_type": kind, "source": source, "metadata": {"nbgrader": nbgrader} if nbgrader else {}}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def _nb(*cells):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}


@pytest.mark.parametrize("cell, role", [
    (_cell(solution=True, grade=False, grade_id="mse"), Role.ANSWER),
    (_cell(solution=False, grade=True, grade_id="test_mse", points=2), Role.TEST),
    (_cell(solution=True, grade=True, grade_id="why", points=3), Role.MANUAL),
    (_cell("markdown", solution=True, grade=True, grade_id="essay", points=3), Role.MANUAL),
    (_cell(locked=True, grade_id="setup"), Role.READ_ONLY),
    (_cell(), Role.READ_ONLY),
    (_cell("markdown", "prose"), Role.READ_ONLY),
    ({"cell_type": "code", "source": "", "metadata": {"nbgrader": "junk"}}, Role.READ_ONLY),
])
def test_one_rule_decides_each_cells_role(cell, role):
    assert cell_role(cell) is role


def test_tests_and_grade_cells_differ_only_by_manual_answers():
    nb = _nb(_cell(solution=True, grade_id="mse"),
             _cell(grade=True, grade_id="test_mse", points=2),
             _cell("markdown", solution=True, grade=True, grade_id="essay", points=3))
    assert [(t.index, t.grade_id, t.points, t.function) for t in autograded_tests(nb)] == [(1, "test_mse", 2.0, "mse")]
    assert grade_cells(nb) == {"test_mse": 2.0, "essay": 3.0}
    assert function_under_test("test_log_softmax") == "log_softmax" and function_under_test("other") == "other"


def test_a_stub_is_unchanged_until_edited():
    cell = _cell(source="def f():\n    raise NotImplementedError()", solution=True, grade=False, grade_id="f")
    cell["metadata"]["nbgrader"]["checksum"] = nbgrader_checksum(cell)
    assert is_unchanged(cell)
    cell["source"] += "\n# edited"
    assert not is_unchanged(cell)


def test_hidden_tests_are_stripped_and_cleanliness_checked():
    source = "assert a\n### BEGIN HIDDEN TESTS\nassert b\n### END HIDDEN TESTS\nassert c\n"
    assert strip_hidden_tests(source) == "assert a\nassert c\n"
    nb = _nb(_cell(source="1"))
    assert is_clean(nb)
    nb["cells"][0]["execution_count"] = 3
    assert not is_clean(nb)


def test_the_learner_message_for_a_stub():
    assert learner_message("NotImplementedError", "") == NOT_IMPLEMENTED
    assert learner_message("ValueError", " bad shape ") == "ValueError: bad shape"
    assert learner_message("KeyError", "") == "KeyError"


@pytest.mark.parametrize("raw, says", [
    (b"\xff\xfe", "not UTF-8"),
    (b'{"cells": [', "line 1"),
    (b"[1, 2]", "no list of cells"),
    (json.dumps({"nbformat": 3, "cells": []}).encode(), "format 3"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "evil"}]}).encode(), "cell 0"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": [1]}]}).encode(), "not text"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
])
def test_submissions_are_parsed_strictly(raw, says):
    with pytest.raises(InvalidNotebook, match=says):
        parse_submission(raw, "ex.ipynb")


def test_course_notebook_errors_name_the_file_and_line(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{\n "cells": [\n')
    with pytest.raises(CourseError, match=r"broken\.ipynb.*line 3"):
        read_notebook(broken)
    folder = tmp_path / "solutions"
    folder.mkdir()
    (folder / "bad.ipynb").write_text('{\n "nbformat": 4,\n "cells": [,]\n}')
    with pytest.raises(CourseError, match=r"bad\.ipynb is not valid JSON \(line 3"):
        read_sources(folder)
    good = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(good, folder / "bad.ipynb")
    assert cell_source(read_sources(folder)["bad"]["cells"][0]) == "x = 1"


def test_a_verdict_survives_its_json_form():
    verdict = SubmissionVerdict("01_x", "ada", key="k", sandbox="bwrap", timestamp="2026-01-01 10:00:00")
    verdict.notebooks["nb"] = NotebookVerdict(
        "nb", tests=[CellVerdict("test_mse", 2.0, 2.0), CellVerdict("test_mae", 2.0, 0.0, "ValueError: no")],
        notes=["n"], events=[Event("crash", "died")], unchanged_answers=["mae"], answer_ids=["mse", "mae"])
    verdict.worsen(CRASHED, "nb: died")
    data = json.loads(json.dumps(verdict.to_json()))
    assert (data["score"], data["max_score"]) == (2.0, 4.0)
    back = SubmissionVerdict.from_json(data)
    assert back == verdict and back.status == CRASHED == worse(GRADED, CRASHED)


@pytest.mark.parametrize("breakage", [
    lambda d: d.update(status="perfect"),
    lambda d: d.update(notebooks=[]),
    lambda d: d["notebooks"]["nb"]["tests"][0].update(score="2"),
    lambda d: d["notebooks"]["nb"].update(notes=[1]),
    lambda d: d.update(messages="text"),
])
def test_a_stored_verdict_of_another_shape_is_refused(breakage):
    verdict = SubmissionVerdict("01_x", "ada", notebooks={"nb": NotebookVerdict("nb", [CellVerdict("t", 1.0, 1.0)])})
    data = verdict.to_json()
    breakage(data)
    with pytest.raises(ValueError):
        SubmissionVerdict.from_json(data)
