"""The course's late-penalty rule, as an nbgrader late-submission plugin.

nbgrader_config.py names it (``c.AssignLatePenalties.plugin_class``), so `nbgrader
autograde` and `descentlab grade` apply the same rule. Its own module because it imports
nbgrader, which the grading workers never need.
"""
from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float

SECONDS_PER_DAY = 86400.0


class PerDayPenalty(LateSubmissionPlugin):
    """A share of the notebook's score per started day late, capped.

    With ``percent_per_day = 10`` and ``max_percent = 50``: 1 second to 24 hours late costs
    10 % of the score, 24 h + 1 s costs 20 %, ..., 5 days or more cost 50 %."""

    percent_per_day = Float(10.0, help="percent of the score lost per started day late").tag(config=True)
    max_percent = Float(100.0, help="the most a late submission can lose, in percent").tag(config=True)

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
        if total_seconds_late <= 0:
            return None
        days = math.ceil(total_seconds_late / SECONDS_PER_DAY)
        percent = min(self.max_percent, self.percent_per_day * days)
        return round(score * percent / 100.0, 6)
