"""The progress file (atomic, shared, forgiving), FSRS scheduling, and `descentlab progress`."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fsrs import State

from descentlab import atomicfile, progress_store
from descentlab.check import CheckReport, FunctionResult
from descentlab.cli import main
from descentlab.course import CourseError, find_course
from descentlab.card_schedule import CardState, describe, due_today, next_due, review, study_order
from descentlab.progress import format_summary, summarize
from descentlab.progress_store import ProgressStore
from descentlab.start import sync_workspace

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
EXERCISE_01 = "exercises/01_objective_functions/01_objective_functions_exercise.ipynb"
SOLUTION_01 = REPO / "solutions/01_objective_functions/01_objective_functions_exercise.ipynb"


# ------------------------------------------------------------------------------ the store

def test_missing_file_reads_as_empty_progress_and_creates_nothing(tmp_path):
    store = ProgressStore(tmp_path / "none" / "progress.json")
    assert store.load() == {"version": 1, "cards": {}, "quizzes": {}, "checks": {}}
    assert store.notes == [] and not (tmp_path / "none").exists()


def test_update_writes_atomically_and_leaves_no_temporary_files(tmp_path):
    path = tmp_path / ".descentlab" / "progress.json"
    store = ProgressStore(path)
    store.update(lambda d: d["cards"].update(a={"box": 1}))
    store.update(lambda d: d["cards"].update(b={"box": 2}))
    assert json.loads(path.read_text())["cards"] == {"a": {"box": 1}, "b": {"box": 2}}
    assert sorted(p.name for p in path.parent.iterdir()) == ["progress.json", "progress.json.lock"]


def test_a_failed_write_keeps_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    store = ProgressStore(path)
    store.update(lambda d: d["cards"].update(a={"box": 1}))
    before = path.read_text()

    def broken_fsync(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(atomicfile.os, "fsync", broken_fsync)  # fails mid-write, after the temp file exists
    data = store.update(lambda d: d["cards"].update(b={"box": 2}))
    assert data["cards"]["b"] == {"box": 2}  # kept in memory
    assert path.read_text() == before
    assert any("Could not save" in n and "disk full" in n for n in store.notes)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_corrupt_file_is_backed_up_once_and_progress_starts_fresh(tmp_path):
    path = tmp_path / "progress.json"
    path.write_text("{broken")
    store = ProgressStore(path, clock=lambda: T0)
    assert store.load()["cards"] == {}
    backup = tmp_path / "progress.json.corrupt-20250301-090000"
    assert backup.read_text() == "{broken" and not path.exists()
    assert len(store.notes) == 1 and "kept as progress.json.corrupt-20250301-090000" in store.notes[0]
    store.update(lambda d: d["cards"].update(a={"box": 1}))
    assert json.loads(path.read_text())["cards"] == {"a": {"box": 1}}
    assert len(store.notes) == 1


WRITER = textwrap.dedent("""
    import sys, time
    from descentlab.progress_store import ProgressStore
    path, name, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    while time.time() < start:
        time.sleep(0.001)
    store = ProgressStore(path)
    for i in range(count):
        store.update(lambda d, i=i: d["cards"].__setitem__(f"{name}-{i}", {"box": 1, "reviews": 1}))
""")


def test_two_processes_saving_at_once_lose_nothing(tmp_path):
    path = tmp_path / ".descentlab" / "progress.json"
    start = time.time() + 1.5  # both start writing at the same moment
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "150", str(start)])
             for name in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    cards = json.loads(path.read_text())["cards"]
    assert len(cards) == 300
    assert {f"a-{i}" for i in range(150)} | {f"b-{i}" for i in range(150)} == set(cards)


WIDGET_WRITER = textwrap.dedent("""
    import sys, time
    from descentlab import Flashcards
    glossary, progress, topic, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    cards = Flashcards(path=glossary, topic=topic, progress_path=progress)
    while time.time() < start:
        time.sleep(0.001)
    for _ in range(len(cards.cards)):
        cards.flip_button.click()
        cards.knew_button.click()
""")


def test_two_flashcard_widgets_in_two_kernels_lose_nothing(tmp_path):
    entries = [f"- term: term {i}\n  definition: Definition {i}.\n  topic: {'01_objective_functions' if i % 2 else '02_gradient_descent'}\n"
               for i in range(80)]
    glossary = tmp_path / "glossary.yml"
    glossary.write_text("".join(entries))
    progress = tmp_path / "ws" / ".descentlab" / "progress.json"
    start = time.time() + 3
    procs = [subprocess.Popen([sys.executable, "-c", WIDGET_WRITER, str(glossary), str(progress), topic, str(start)])
             for topic in ("01", "02")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    cards = json.loads(progress.read_text())["cards"]
    assert set(cards) == {f"term {i}" for i in range(80)}
    assert all(record["reviews"] == 1 for record in cards.values())


HOLDER = textwrap.dedent("""
    import fcntl, sys, time
    handle = open(sys.argv[1], "a+b")
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(60)
""")


@pytest.mark.skipif(os.name == "nt", reason="uses fcntl and SIGKILL")
def test_a_killed_process_never_leaves_the_lock_stuck(tmp_path):
    path = tmp_path / "progress.json"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path) + ".lock"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    started = time.monotonic()
    ProgressStore(path).update(lambda d: d["cards"].update(a={"box": 1}))
    assert time.monotonic() - started < 1.0
    assert json.loads(path.read_text())["cards"] == {"a": {"box": 1}}


@pytest.mark.skipif(os.name == "nt", reason="uses fcntl")
def test_a_lock_held_too_long_is_reported_and_the_save_still_happens(tmp_path, monkeypatch):
    import fcntl

    path = tmp_path / "progress.json"
    monkeypatch.setattr(progress_store, "LOCK_TIMEOUT", 0.2)
    with open(str(path) + ".lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        store = ProgressStore(path)
        store.update(lambda d: d["cards"].update(a={"box": 1}))
    assert json.loads(path.read_text())["cards"] == {"a": {"box": 1}}
    assert any("saved without waiting" in n for n in store.notes)


# ------------------------------------------------------------------------- FSRS schedule

def test_fsrs_knew_it_every_time_spaces_reviews_further_and_a_miss_relearns():
    state = CardState()
    assert state.is_new and state.is_due(T0)
    now, gaps = T0, []
    for _ in range(5):
        state = review(state, True, now)
        assert state.due > now and not state.is_due(state.due - timedelta(seconds=1))
        gaps.append(state.due - now)
        now = state.due
    assert gaps[0] == timedelta(days=2)  # a new card known: straight to days
    assert all(b > a for a, b in zip(gaps, gaps[1:])) and gaps[-1] > timedelta(days=30)
    assert state.mastered and state.reviews == 5 and state.state == State.Review
    state = review(state, False, now)
    assert (state.lapses, state.state) == (1, State.Relearning) and not state.mastered
    assert state.due == now + timedelta(minutes=10)


def test_a_first_miss_is_not_a_lapse():
    assert review(CardState(), False, T0).lapses == 0


def test_card_state_json_round_trip_and_bad_records():
    state = review(review(CardState(), True, T0), True, T0 + timedelta(days=1))
    assert CardState.from_json(json.loads(json.dumps(state.to_json()))) == state
    for bad in (None, [], {"box": -1, "reviews": 1}, {"box": 1}, {"box": 1.5, "reviews": 2},
                {"scheduler": "fsrs", "state": 7, "reviews": 1},
                {"scheduler": "fsrs", "state": 2, "stability": -1, "difficulty": 5, "reviews": 1},
                {"scheduler": "fsrs", "state": 2, "stability": None, "difficulty": 5, "reviews": 1}):
        assert CardState.from_json(bad).is_new, bad


@pytest.mark.parametrize("box,days", [(1, 1), (2, 2), (3, 4), (4, 8), (5, 16)])
def test_leitner_progress_migrates_keeping_its_due_date(box, days):
    last = T0 - timedelta(days=days - 1)
    record = {"box": box, "due": (last + timedelta(days=days)).isoformat(), "last": last.isoformat(),
              "reviews": box + 2, "lapses": 1}
    state = CardState.from_json(record)
    assert state.due == last + timedelta(days=days) and state.last == last
    assert (state.reviews, state.lapses, state.state) == (box + 2, 1, State.Review)
    assert state.mastered == (box >= 4)  # the Leitner deck's own mastery count is kept
    assert not state.is_due(T0) and state.is_due(state.due)
    after = review(state, True, state.due)  # the next right answer goes on from the box's interval
    assert after.due - state.due > timedelta(days=days)
    assert CardState.from_json(after.to_json()) == after and after.to_json()["scheduler"] == "fsrs"


def test_leitner_box_zero_is_relearning_due_as_it_was():
    record = {"box": 0, "due": T0.isoformat(), "last": T0.isoformat(), "reviews": 3, "lapses": 1}
    state = CardState.from_json(record)
    assert state.state == State.Relearning and state.due == T0 and state.is_due(T0)
    assert CardState.from_json({"box": 0, "due": None, "last": None, "reviews": 0, "lapses": 0}).is_new


def test_naive_clock_times_are_taken_as_utc():
    state = review(CardState(), True, datetime(2025, 3, 1, 9, 0))
    assert state.due == T0 + timedelta(days=2)


def test_describe_uses_plain_words():
    assert describe(CardState(), T0) == "new"
    state = review(CardState(), False, T0)
    assert describe(state, T0) == "learning · back in 10 min"
    state = review(state, True, state.due)
    assert describe(state, state.last) == "review · back in 1 day"
    state = review(CardState(), True, T0)
    assert describe(state, state.last) == "review · back in 2 days"
    assert describe(state, state.last + timedelta(hours=44)) == "review · back in 4 h"
    assert describe(state, state.last + timedelta(days=3)) == "review · due now"


def test_due_today_and_next_due():
    soon = review(CardState(), False, T0)                              # learning: due in 10 min
    later = review(CardState(), True, T0)                              # review: due in 2 days
    assert due_today([CardState(), soon, later], T0) == 2
    assert next_due([CardState(), soon, later], T0) == soon.due
    assert next_due([CardState()], T0) is None


def test_study_order_reviews_first_then_new_then_later():
    later = review(CardState(), True, T0)                              # due in 2 days
    overdue = review(CardState(), True, T0 - timedelta(days=5))         # due 5 days ago
    missed = review(CardState(), False, T0 - timedelta(hours=1))        # due 59 minutes ago
    states = [later, CardState(), missed, overdue, CardState()]
    assert study_order(states, T0) == [3, 2, 1, 4, 0]


# ------------------------------------------------------------------- `descentlab progress`

@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "course"
    sync_workspace(find_course(REPO), ws)
    return ws


class FakeRunner:
    def __init__(self, passed: int = 2, total: int = 3):
        self.calls: list[Path] = []
        self.passed, self.total = passed, total

    def __call__(self, path: Path) -> CheckReport:
        self.calls.append(path)
        results = [FunctionResult(f"f{i}", f"test_f{i}", 2.0, 2.0 if i < self.passed else 0.0, "")
                   for i in range(self.total)]
        return CheckReport(notebook=str(path), results=results)


def edit(notebook: Path, text: str) -> None:
    """The learner adds a code cell of their own: that is work."""
    nb = json.loads(notebook.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": [f"# {text}"],
                        "outputs": [], "execution_count": None})
    notebook.write_text(json.dumps(nb))


def test_an_exercise_that_was_only_run_is_still_not_started(workspace):
    nb = json.loads((workspace / EXERCISE_01).read_text())
    for number, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        cell["execution_count"] = number + 1
        cell["outputs"] = [{"output_type": "error", "ename": "NotImplementedError", "evalue": "", "traceback": []}]
    (workspace / EXERCISE_01).write_text(json.dumps(nb))
    runner = FakeRunner()
    ex = next(e for e in summarize(workspace, runner=runner).exercises if e.lesson == "01_objective_functions")
    assert ex.state == "not started" and runner.calls == []


def test_untouched_exercises_are_not_started_and_never_run(workspace):
    runner = FakeRunner()
    summary = summarize(workspace, runner=runner)
    assert runner.calls == []
    states = {e.lesson: e.state for e in summary.exercises}
    assert states["01_objective_functions"] == "not started"
    assert set(states) == {p.parent.name for p in (workspace / "exercises").glob("*/*.ipynb")}


def test_changed_exercise_is_checked_once_and_cached_by_content(workspace):
    runner = FakeRunner(passed=2, total=3)
    edit(workspace / EXERCISE_01, "my notes")
    first = summarize(workspace, runner=runner, clock=lambda: T0)
    ex = next(e for e in first.exercises if e.lesson == "01_objective_functions")
    assert (ex.state, ex.passed, ex.total, ex.score, ex.max_score) == ("checked", 2, 3, 4.0, 6.0)
    assert runner.calls == [workspace / EXERCISE_01]
    summarize(workspace, runner=runner)
    assert len(runner.calls) == 1  # same content: the cached result is reused
    edit(workspace / EXERCISE_01, "more notes")
    stale = summarize(workspace, runner=runner, run=False)
    ex = next(e for e in stale.exercises if e.lesson == "01_objective_functions")
    assert (ex.state, ex.passed) == ("changed since last check", 2)
    assert len(runner.calls) == 1
    summarize(workspace, runner=runner)
    assert len(runner.calls) == 2


def test_a_notebook_that_cannot_be_checked_is_reported_not_raised(workspace):
    def broken(path):
        raise CourseError(f"{path}: not a valid notebook")

    (workspace / EXERCISE_01).write_text("{ not json")
    summary = summarize(workspace, runner=broken)
    ex = next(e for e in summary.exercises if e.lesson == "01_objective_functions")
    assert ex.state == "checked" and ex.total == 0 and "not a valid notebook" in ex.problems[0]
    assert "could not be checked" in format_summary(summary)


def test_deleted_exercise_is_reported_missing(workspace):
    (workspace / EXERCISE_01).unlink()
    summary = summarize(workspace, runner=FakeRunner())
    ex = next(e for e in summary.exercises if e.lesson == "01_objective_functions")
    assert ex.state.startswith("missing")


def test_quiz_scores_and_cards_mastered_and_due(workspace):
    from descentlab import Flashcards, Quiz

    progress = workspace / ".descentlab" / "progress.json"
    now = [T0]
    clock = lambda: now[0]  # noqa: E731
    quiz = Quiz("01_objective_functions", progress_path=progress, clock=clock)
    quiz.answer("objective-vs-machinery", [0])
    quiz.answer("mse-by-hand", 5 / 3)
    quiz.answer("mae-outlier", [1])
    for _ in range(4):  # four right answers on schedule: stability past a month, mastered
        cards = Flashcards(progress_path=progress, clock=clock, search="objective function")
        cards.flip_button.click()
        cards.knew_button.click()
        now[0] = cards.state("objective function").due
    now[0] -= timedelta(days=1)  # a day before it is due again
    summary = summarize(workspace, runner=FakeRunner(), clock=clock)
    q01 = next(q for q in summary.quizzes if q.lesson == "01_objective_functions")
    assert (q01.questions, q01.answered, q01.correct, q01.first_try) == (9, 3, 2, 2)
    total = summary.cards.total
    assert summary.cards.mastered == 1 and summary.cards.new == total - 1 and summary.cards.due == total - 1
    text = format_summary(summary)
    assert "2/9 right · 3 answered · 2 at the first try" in text
    assert f"{total} cards · 1 mastered · {total - 1} due now ({total - 1} never studied)" in text


def test_cli_progress_text_and_json(workspace, capsys, monkeypatch):
    monkeypatch.chdir(workspace / "lessons")  # the workspace is found from inside it
    assert main(["progress", "--no-run"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"descentlab progress: workspace {workspace}"
    assert "01 Objective functions" in out and "not started" in out
    assert "not started (9 questions)" in out and "Flashcards" in out
    assert main(["progress", "--no-run", "--json", "--workspace", str(workspace)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["workspace"] == str(workspace)
    assert {q["lesson"] for q in data["quizzes"]} >= {"01_objective_functions", "07_overfitting_regularization"}


def test_cli_progress_rejects_a_missing_workspace(tmp_path, capsys):
    assert main(["progress", "--workspace", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_progress_runs_the_real_visible_tests_of_a_solved_exercise(workspace):
    shutil.copy(SOLUTION_01, workspace / EXERCISE_01)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([sys.executable, "-m", "descentlab", "progress", "--workspace", str(workspace)],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if "01 Objective functions" in l)
    assert "7/7 functions pass (14/14 points)" in line
    cached = json.loads((workspace / ".descentlab" / "progress.json").read_text())["checks"]
    assert cached[EXERCISE_01]["passed"] == 7
