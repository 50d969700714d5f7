"""The plain-data wire, the progress bar, and a round into another gradebook URL."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from gradehelp import STUB, grade, submit

from descentlab.grade.round import progress_bar
from descentlab.grade.wire import NotPlainData, WireError, decode, encode


@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 2.5, float("inf"), "text", b"\x00bytes", 1 + 2j, [1, [2.0, None]], (1, "a"),
    {"lr": 0.1, 3: (1, 2), (1, 2): [np.zeros(2)]}, np.arange(6, dtype=np.int32).reshape(2, 3),
    np.array([True, False]), np.float32(1.5), np.int64(7), np.zeros((0, 3)),
])
def test_plain_data_round_trips_with_its_type(value):
    back = decode(json.loads(json.dumps(encode(value))))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)
    elif isinstance(value, dict):
        assert back.keys() == value.keys()
    else:
        assert back == value or (back != back and value != value)


class LyingFloat(float):
    def __eq__(self, other):
        return True


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [LyingFloat(1.0), object(), (x for x in []), np.array([object()]),
                                   np.array(["a"]), lambda: 0])
def test_objects_do_not_cross(value):
    with pytest.raises(NotPlainData):
        encode(value)


def test_array_subclasses_arrive_as_plain_arrays():
    back = decode(encode(np.zeros(3).view(LyingArray)))
    assert type(back) is np.ndarray and not (back == np.ones(3)).any()


@pytest.mark.parametrize("tree", [
    {"$": "pickle", "v": "gASV"},
    {"$": "nd", "dtype": "|O", "shape": [1], "b64": "AAAAAAAAAAA="},
    {"$": "nd", "dtype": "<f8", "shape": [2], "b64": "AAAAAAAAAAA="},
    {"$": "nd", "dtype": "<f8", "shape": [-1], "b64": ""},
    {"$": "dict", "v": [[[1, 2], 3]]},
    {"$": "fn", "name": "mse"},
    {"$": "float", "v": "1e400"},
    {"no": "tag"},
])
def test_the_decoder_is_strict(tree):
    with pytest.raises(WireError):
        decode(tree)


def test_deep_nesting_is_refused_both_ways():
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(NotPlainData):
        encode(deep)
    tree: list = []
    for _ in range(200):
        tree = [tree]
    with pytest.raises(WireError):
        decode(tree)


def test_progress_bar_shows_counts_rate_and_eta():
    stream = io.StringIO()
    progress = progress_bar(4, "grading x", stream=stream)
    progress.update(1)
    progress.set_postfix_str("1 not graded cleanly", refresh=False)
    progress.update(3)
    progress.close()
    last = stream.getvalue().split("\r")[-1]
    assert last.startswith("grading x: 100%") and "4/4" in last and "submission/s" in last
    assert "<00:00" in last and "1 not graded cleanly" in last


def test_a_quiet_round_draws_no_bar():
    stream = io.StringIO()
    progress = progress_bar(4, "grading x", enabled=False, stream=stream)
    progress.update(4)
    progress.close()
    assert stream.getvalue() == ""


def test_grades_go_to_the_gradebook_url_given(course_copy, bwrap_available, tmp_path):
    from nbgrader.api import Gradebook

    root = course_copy()
    submit(root, "ada")
    submit(root, "bob", {"mae": STUB})
    url = "sqlite:///" + str(tmp_path / "elsewhere.db")
    grade(root, db_url=url, csv_path=tmp_path / "grades.csv")
    with Gradebook(url, "descentlab") as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions("01_objective_functions")}
    assert scores == {"ada": 14.0, "bob": 12.0}
    with Gradebook("sqlite:///" + str(root / "autograder" / "gradebook.db"), "descentlab") as default:
        assert default.assignment_submissions("01_objective_functions") == []
    assert "bob" in (tmp_path / "grades.csv").read_text()


@pytest.mark.parametrize("tree", [
    {"$": "dict", "v": [[["a list"], 1]]},  # a key that is not a value of ours
    {"$": "dict", "v": [[{"$": "nd", "dtype": "<f8", "shape": [1], "b64": "AAAAAAAAAAA="}, 1]]},
    {"$": "dict", "v": [[i * ((1 << 61) - 1), 0] for i in range(1, 20)]},  # keys sharing one hash
])
def test_the_judge_decodes_only_safe_dict_keys(tree):
    with pytest.raises(WireError):
        decode(tree)


def test_a_frame_of_too_many_items_is_refused_before_json_builds_it():
    import os

    from descentlab.grade.wire import MAX_ELEMENTS, Channel, dumps

    read_fd, write_fd = os.pipe()
    body = dumps({"op": "return", "id": 1, "value": [[] for _ in range(MAX_ELEMENTS + 1)]})
    assert len(body) < 64 * 1024 * 1024
    writer = Channel(read_fd, write_fd)
    import threading

    threading.Thread(target=lambda: os.write(write_fd, body), daemon=True).start()
    with pytest.raises(WireError, match="items"):
        writer.recv(deadline=None)
    os.close(read_fd)
    os.close(write_fd)
