"""Deadlines and late penalties, applied the way `nbgrader autograde` applies them.

The deadline of each assignment is written in ``autograder/deadlines.yml``
(``01_objective_functions: 2027-01-15 23:59:00 UTC``) and becomes the gradebook
assignment's ``duedate``, where nbgrader keeps it: formgrader shows it and nbgrader's own
autograde reads it. The rule is nbgrader's late-submission plugin named in
``nbgrader_config.py`` (``c.AssignLatePenalties.plugin_class``); the course uses
:class:`descentlab.grade.penalty.PerDayPenalty`. After each submission's grades are written, each notebook's
``late_submission_penalty`` is set exactly as nbgrader's AssignLatePenalties does: reset,
then, if the submission is late, the plugin's penalty clamped to [0, the notebook's score].
nbgrader's CSV export subtracts it (``score = raw_score - late_submission_penalty``).
"""
from __future__ import annotations

from datetime import datetime, timezone

import yaml

from ..course import Course, CourseError

DEADLINES_FILE = "deadlines.yml"


def read_deadlines(course: Course) -> dict[str, datetime]:
    """assignment id -> deadline (naive UTC, as nbgrader stores it); errors name the file and entry."""
    from nbgrader.utils import parse_utc

    path = course.autograder / DEADLINES_FILE
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CourseError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CourseError(f"{path}: expected 'assignment id: deadline' lines")
    deadlines = {}
    for assignment, value in data.items():
        try:
            if isinstance(value, datetime):
                moment = value if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)
            else:
                moment = parse_utc(str(value))
        except (ValueError, OverflowError) as exc:
            raise CourseError(f"{path}: {assignment}: cannot read the deadline {value!r} ({exc}); "
                              "write it like 2027-01-15 23:59:00 UTC") from None
        deadlines[str(assignment)] = moment
    return deadlines


def load_plugin(course: Course):
    """The late-submission plugin nbgrader_config.py names (nbgrader's default: no penalty)."""
    from traitlets.config.loader import PyFileConfigLoader
    from traitlets.utils.importstring import import_item

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course.root)).load_config()
    name = config.get("AssignLatePenalties", {}).get("plugin_class", None)
    if name is None:
        from nbgrader.plugins import LateSubmissionPlugin as plugin_class
    else:
        plugin_class = import_item(name) if isinstance(name, str) else name
    return plugin_class(config=config)


def apply_late_penalty(gradebook, course: Course, assignment_id: str, submission) -> str | None:
    """Set the deadline (once per round) and the late penalties of ``submission`` (nbgrader's
    SubmittedAssignment, just recorded; the caller commits); returns a note for the
    instructor when the submission is late."""
    cache = gradebook.__dict__.setdefault("_descentlab_late", {})
    if assignment_id not in cache:
        deadline = read_deadlines(course).get(assignment_id)
        assignment = gradebook.find_assignment(assignment_id)
        if deadline is not None and assignment.duedate != deadline:
            assignment.duedate = deadline
            gradebook.db.commit()
        cache[assignment_id] = load_plugin(course)
    plugin = cache[assignment_id]
    seconds_late = float(submission.total_seconds_late or 0)
    penalties = 0.0
    for notebook in submission.notebooks:
        if seconds_late <= 0:
            if notebook.late_submission_penalty is not None:
                notebook.late_submission_penalty = None
            continue
        gradebook.db.flush()  # the grades just staged, summed by the database
        gradebook.db.expire(notebook, ["score"])
        penalty = plugin.late_submission_penalty(submission.student_id, notebook.score, seconds_late)
        if penalty is not None:
            penalty = min(max(float(penalty), 0.0), float(notebook.score))
            penalties += penalty
        notebook.late_submission_penalty = penalty
    if seconds_late > 0:
        return f"submitted {seconds_late / 3600:.1f} h after the deadline: late penalty {penalties:g} point(s)"
    return None
