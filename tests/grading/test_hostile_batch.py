"""Round two of attacks on the grader, each run through `descentlab grade` in ONE batch with
honest work: hidden-test feedback (class 3), hostile names, text and files (classes 4, 7),
what is stored per submission (class 5), and names a test cell owns.

Every attacker's exact score is checked (its honest score, or what its honest part earns),
every honest neighbour must get full marks, the CSV must list them, the summary must be
free of terminal control characters, and nothing outside a copy may be read.
"""
from __future__ import annotations

import ast
import csv
import html
import json
import os

import pytest
from grading_support import REPO, make_course
from gradehelp import EX01, FULL, NB01, grade, learner_notebook, reference_sources, scores_of, stored_result, submit, \
    submit_raw

from descentlab.notebook import Role, cell_role, cell_source, grade_id, read_notebook, strip_hidden_tests



def _visible_calls(function: str, test_id: str) -> int:
    """How many times ``function`` is called before ``test_id``'s hidden part runs: in the
    course cells before that test cell (answer cells aside) and in its visible part, read from
    the exercise's source notebook. Straight-line code only: a loop would make the count depend
    on data, so the test says so instead of guessing."""
    nb = read_notebook(REPO / "solutions" / EX01 / f"{NB01}.ipynb")
    sources = []
    for cell in nb.cells:
        if cell.cell_type != "code" or cell_role(cell) is Role.ANSWER:
            continue
        if grade_id(cell) == test_id:
            sources.append(strip_hidden_tests(cell_source(cell)))
            break
        sources.append(cell_source(cell))
    else:
        raise AssertionError(f"{NB01} has no test cell {test_id}")
    calls = 0
    for source in sources:
        tree = ast.parse(source)
        here = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == function]
        loops = [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While, ast.comprehension, ast.FunctionDef))]
        assert not (here and loops), f"{function} is called inside a loop or function before {test_id}'s hidden part"
        calls += len(here)
    assert calls, f"the visible part of {test_id} never calls {function}"
    return calls


MSE_VISIBLE_CALLS = _visible_calls("mse", "test_mse")

# mse answers that pass the visible checks of test_mse, then misbehave in its hidden part.
_COUNTED = ("import numpy as np\n_calls = [0]\n"
            "def mse(y_pred, y_true):\n"
            "    _calls[0] += 1\n"
            f"    if _calls[0] > {MSE_VISIBLE_CALLS}:\n"
            "{attack}\n"
            "    return float(np.mean((np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)) ** 2))\n")
ECHO_HIDDEN = _COUNTED.format(attack="        print('LEAKED', repr(y_pred), repr(y_true))\n"
                                     "        raise ValueError('LEAKED ' + repr(y_pred) + repr(y_true))")
ECHO_BY_CLASS_NAME = _COUNTED.format(attack="        raise type('LEAKED_' + str(len(y_pred)), (ValueError,), {})('x')")
HARVEST_EXPECTED = _COUNTED.format(attack="        return 123.456")
ALWAYS_HALF = "def mse(y_pred, y_true):\n    return 0.5\n"
# Keep what the hidden tests pass, and say it later where messages are shown in full.
STASH = ("import numpy as np\n_seen = []\n"
         "def mse(y_pred, y_true):\n"
         "    _seen.append(repr(np.asarray(y_pred).tolist()))\n"
         "    return float(np.mean((np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)) ** 2))\n")
TELL = "'STASH ' + ';'.join(_seen)"

TERMINAL_NAME = "eve\x1b]0;owned\x07\x1b[2J"
LONG_NAME = "x" * 200
BAD_BYTES_NAME = os.fsdecode(b"mal\xff\xfe")
TERMINAL_TEXT = "\x1b[2J\x1b]0;owned\x07\r\u202e"


def _notebook_with(root, replacements: dict) -> dict:
    nb = learner_notebook(root)
    references = reference_sources(root, EX01)[NB01]
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in references:  # code answers; a written answer keeps its stub
            cell["source"] = replacements.get(gid, references[gid])
    return nb


def _owned_test_cells(root) -> None:
    """The course copy's test_mse cell first defines a public helper that test_mae uses."""
    import nbformat

    path = root / "solutions" / EX01 / f"{NB01}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "test_mse":
            cell.source = ("def reference_mae(a, b):\n"
                           "    return float(np.mean(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))\n\n"
                           + cell.source)
        if gid == "test_mae":
            cell.source = ('expect_close("mae", mae(np.array([1.0, 2.0]), np.array([0.0, 0.0])), '
                           'reference_mae(np.array([1.0, 2.0]), np.array([0.0, 0.0])), inputs="[1, 2] and [0, 0]")\n')
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("hostile"), EX01)
    _owned_test_cells(root)
    submitted = root / "autograder" / "submitted"
    honest = ["honest", "honest_b"]
    for student in honest:
        submit(root, student)
    # class 3: hidden tests
    submit(root, "echo_hidden", {"mse": ECHO_HIDDEN})
    submit(root, "echo_by_class_name", {"mse": ECHO_BY_CLASS_NAME})
    submit(root, "harvest_expected", {"mse": HARVEST_EXPECTED})
    submit(root, "visible_failure", {"mse": ALWAYS_HALF})
    submit(root, "crasher", {"mae": "import os, signal\ndef mae(y_pred, y_true):\n    os.kill(os.getpid(), signal.SIGKILL)\n"})
    submit(root, "stash_in_visible_test", {"mse": STASH, "mae": f"def mae(y_pred, y_true):\n    raise ValueError({TELL})\n"})
    submit(root, "stash_in_answer_cell", {
        "mse": STASH, "mae": reference_sources(root, EX01)[NB01]["mae"] + f"\nraise ValueError({TELL})\n"})
    # names a test cell owns: learner data first, then a learner function of the same name
    submit(root, "replace_owned_name", {
        "mse": reference_sources(root, EX01)[NB01]["mse"] + "\nreference_mae = 0.0\n",
        "mae": "def mae(y_pred, y_true):\n    return 0.0\n\ndef reference_mae(a, b):\n    return 0.0\n"})
    submit(root, "delete_owned_name", {
        "mse": reference_sources(root, EX01)[NB01]["mse"] + "\nreference_mae = 0.0\n",
        "mae": "def mae(y_pred, y_true):\n    return 0.0\n\ndel reference_mae\n"})
    # class 4: names and text
    for name in (TERMINAL_NAME, LONG_NAME, BAD_BYTES_NAME):
        submit(root, name)
    surrogate = _notebook_with(root, {"mse": reference_sources(root, EX01)[NB01]["mse"]
                                      + "\n_s = '\\ud800'\nprint(_s, '" + TERMINAL_TEXT.encode("unicode_escape").decode() + "')\n"
                                      + "raise ValueError('\\udfff" + TERMINAL_TEXT.encode("unicode_escape").decode() + "')\n"})
    surrogate["cells"][0]["source"] = "lone \ud800 surrogate " + TERMINAL_TEXT
    surrogate["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                               "source": "# a lone \udc80 surrogate in code\n"})
    text = json.dumps(surrogate)  # ensure_ascii: the lone surrogates become \ud800 escapes
    assert "\\ud800" in text
    submit_raw(root, "surrogates", text)
    # class 5: what is stored per submission
    flood = _notebook_with(root, {})
    for i in range(3000):
        flood["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                               "source": f"raise ValueError('{i}' + 'z' * 3900)"})
    submit_raw(root, "stored_flood", json.dumps(flood))
    # class 7: files that are not what they seem
    (submitted / "copycat").symlink_to(submitted / "honest", target_is_directory=True)
    linked = submitted / "linked_notebook" / EX01
    linked.mkdir(parents=True)
    (linked / f"{NB01}.ipynb").symlink_to(submitted / "honest" / EX01 / f"{NB01}.ipynb")
    hard = submitted / "hard_linked" / EX01
    hard.mkdir(parents=True)
    os.link(root / "solutions" / EX01 / f"{NB01}.ipynb", hard / f"{NB01}.ipynb")
    submit(root, "linked_data")
    (submitted / "linked_data" / EX01 / "data.csv").symlink_to("/etc/hostname")
    os.mkfifo(submitted / "linked_data" / EX01 / "pipe")
    (submitted / "linked_data" / EX01 / "elsewhere").symlink_to(root / "solutions", target_is_directory=True)
    summary = grade(root, timeout=60.0, call_timeout=10.0)
    return root, summary, honest


def _page(root, student: str) -> str:
    return (root / "autograder" / "feedback" / student / EX01 / f"{NB01}.html").read_text(encoding="utf-8")


def _message(root, student: str, test: str) -> str:
    result = stored_result(root, student)
    return next(t["error"] for t in result["notebooks"][NB01]["tests"] if t["grade_id"] == test)


def test_the_batch_finishes_with_every_honest_learner_graded(batch, bwrap_available):
    root, summary, honest = batch
    assert summary.exit_code == 0
    outcomes = summary.by_student()
    rows = {r["student_id"]: r for r in csv.DictReader(open(root / "autograder" / "grades.csv", encoding="utf-8"))}
    for student in honest:
        assert outcomes[student].score == FULL and outcomes[student].status == "graded", outcomes[student]
        assert float(rows[student]["raw_score"]) == FULL


@pytest.mark.parametrize("student", ["echo_hidden", "echo_by_class_name", "harvest_expected"])
def test_hidden_test_feedback_names_the_function_in_course_words_only(batch, student, bwrap_available):
    root, summary, _ = batch
    outcome = summary.by_student()[student]
    assert outcome.score == FULL - 2 and outcome.status == "graded", outcome  # test_mse's hidden part fails
    message = _message(root, student, "test_mse")
    assert message.startswith("a hidden test of mse failed"), message
    stored = (root / "autograder" / ".descentlab" / EX01 / f"{student}.json").read_text()
    page = _page(root, student)
    for text in (stored, page):
        assert "LEAKED" not in text
        assert "123.456" not in text and "expected" not in message and "got" not in message
    if student == "harvest_expected":
        assert "wrong value from mse for random inputs of shape (7,)" in message  # the course's own words


def test_visible_tests_keep_their_full_message(batch, bwrap_available):
    root, summary, _ = batch
    assert summary.by_student()["visible_failure"].score == FULL - 2
    assert "got 0.5, expected 0.25" in _message(root, "visible_failure", "test_mse")


def test_hidden_inputs_kept_by_the_learner_never_reach_a_visible_message(batch, bwrap_available):
    root, summary, _ = batch
    outcomes = summary.by_student()
    assert outcomes["stash_in_visible_test"].score == FULL - 2 and outcomes["stash_in_answer_cell"].score == FULL
    told = [_message(root, "stash_in_visible_test", "test_mae"),
            "\n".join(stored_result(root, "stash_in_answer_cell")["notebooks"][NB01]["answer_errors"])]
    for text in told:
        assert "ValueError: STASH" in text, text  # the learner's own message, in full
        # test_mse's hidden inputs ([1, 2, 3], [0, 0], random arrays) were seen, but not by
        # the fresh process whose message is shown
        assert "[1, 2, 3]" not in text and "[0, 0]" not in text and "[1.0, 2.0]" not in text, text


def test_the_learner_reads_learner_words_and_the_instructor_the_detail(batch, bwrap_available):
    root, summary, _ = batch
    outcome = summary.by_student()["crasher"]
    assert outcome.status == "crashed" and outcome.score == FULL - 2, outcome
    assert any("the learner's process was killed by SIGKILL" in m for m in outcome.messages), outcome.messages
    page = html.unescape(_page(root, "crasher"))
    assert "your code's process was killed by SIGKILL" in page
    assert "learner's process" not in page and "SandboxLost" not in page and "--force" not in page


@pytest.mark.parametrize("student", ["replace_owned_name", "delete_owned_name"])
def test_a_learner_cannot_replace_or_delete_a_name_a_test_cell_defined(batch, student, bwrap_available):
    root, summary, _ = batch
    scores = scores_of(stored_result(root, student))
    assert scores["test_mae"] == 0.0 and summary.by_student()[student].score == FULL - 2, scores


def test_unsafe_folder_names_are_refused_and_the_summary_is_escaped(batch, bwrap_available):
    root, summary, _ = batch
    outcomes = summary.by_student()
    for name in (TERMINAL_NAME, LONG_NAME, BAD_BYTES_NAME):
        assert outcomes[name].status == "not graded" and outcomes[name].score == 0.0, outcomes[name]
        assert "rename it" in outcomes[name].messages[0]
    text = summary.format()
    assert not any(ch in text for ch in "\x1b\x07\r\u202e"), repr(text)
    assert "\\x1b]0;owned\\x07" in text
    text.encode("utf-8")  # no lone surrogate reaches the terminal
    rows = {r["student_id"] for r in csv.DictReader(open(root / "autograder" / "grades.csv", encoding="utf-8"))}
    assert not rows & {TERMINAL_NAME, LONG_NAME, BAD_BYTES_NAME}


def test_lone_surrogates_and_escapes_in_a_notebook_cost_nothing(batch, bwrap_available):
    root, summary, _ = batch
    outcome = summary.by_student()["surrogates"]
    assert outcome.status == "graded" and outcome.score == FULL, outcome
    stored = stored_result(root, "surrogates")
    errors = "\n".join(stored["notebooks"][NB01]["answer_errors"])
    assert "ValueError" in errors and "\ufffd" in errors
    assert "\x1b[2J" not in _page(root, "surrogates")  # html-escaped text holds no raw escape
    assert not any(ch in summary.format() for ch in "\x1b\x07")


def test_what_is_stored_per_submission_is_bounded(batch, bwrap_available):
    root, summary, _ = batch
    outcome = summary.by_student()["stored_flood"]
    assert outcome.score == FULL and outcome.status == "graded", outcome
    stored = root / "autograder" / ".descentlab" / EX01 / "stored_flood.json"
    page = root / "autograder" / "feedback" / "stored_flood" / EX01 / f"{NB01}.html"
    assert stored.stat().st_size < 600_000 and page.stat().st_size < 600_000, (stored.stat().st_size, page.stat().st_size)
    errors = stored_result(root, "stored_flood")["notebooks"][NB01]["answer_errors"]
    assert any("more messages" in e for e in errors), errors[-1]


def test_links_are_reported_and_never_read(batch, bwrap_available):
    root, summary, _ = batch
    outcomes = summary.by_student()
    copycat = outcomes["copycat"]
    assert copycat.score == 0.0 and copycat.status == "invalid notebook", copycat
    assert "symbolic link" in copycat.messages[0]
    assert "symbolic link" in _page(root, "copycat")
    for student in ("linked_notebook", "hard_linked"):
        outcome = outcomes[student]
        assert outcome.score == 0.0 and outcome.status == "invalid notebook", outcome
        assert any(("symbolic link" if student == "linked_notebook" else "hard link") in m for m in outcome.messages)
        assert any("link" in n for n in stored_result(root, student)["notebooks"][NB01]["notes"])
    data = outcomes["linked_data"]
    assert data.score == FULL and data.status == "graded", data
    skipped = "\n".join(data.messages)
    assert "data.csv is a symbolic link" in skipped and "pipe is a named pipe" in skipped
    assert "elsewhere is a symbolic link to a folder" in skipped
    assert "data.csv" in _page(root, "linked_data")
