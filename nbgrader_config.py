"""nbgrader configuration for the descentlab course.

Run nbgrader commands from the repository root. solutions/ is nbgrader's source directory
(reference solutions and hidden tests), exercises/ its release directory, and autograder/
holds everything an instructor's grading round produces, including the sqlite gradebook.
"""
from pathlib import Path

_root = Path(__file__).resolve().parent
c = get_config()  # noqa: F821  (injected by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "descentlab"
c.CourseDirectory.root = str(_root)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "autograder/submitted"
c.CourseDirectory.autograded_directory = "autograder/autograded"
c.CourseDirectory.feedback_directory = "autograder/feedback"
c.CourseDirectory.db_url = "sqlite:///" + str(_root / "autograder" / "gradebook.db")

# Solution and hidden-test markers (nbgrader's defaults, spelled out because the course
# documents them).
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Exercises are generated without a gradebook entry for every regeneration; grading
# rounds add the assignment to the gradebook themselves.
c.GenerateAssignment.db_url = c.CourseDirectory.db_url

# Warnings that correct code prints to stderr must not cost points (see the module).
from descentlab.nbgrader_settings import EXECUTE_EXTRA_ARGUMENTS  # noqa: E402

c.Execute.extra_arguments = EXECUTE_EXTRA_ARGUMENTS

# nbgrader's feedback pages show the test cells: here without their hidden tests, like
# descentlab's own pages (a learner sees the message a failed test wrote, never the hidden
# checks). Named as strings, so loading this file does not import nbgrader.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Late work: deadlines are in autograder/deadlines.yml (descentlab grade puts them in the
# gradebook); each started day late costs 10 % of the score, at most 50 %. nbgrader
# autograde and descentlab grade both apply this plugin.
c.AssignLatePenalties.plugin_class = "descentlab.grade.penalty.PerDayPenalty"
c.PerDayPenalty.percent_per_day = 10.0
c.PerDayPenalty.max_percent = 50.0
