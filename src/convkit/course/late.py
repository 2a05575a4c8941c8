"""Deadlines, extensions and late penalties: course.yml's policy through nbgrader's own plugin.

nbgrader already has the pieces: an assignment's due date and a student's extension live
in the gradebook (``Assignment.duedate``, ``Submission.extension``), a submission's time
is recorded when it is collected (``timestamp.txt``, ``Submission.timestamp``), nbgrader
computes ``Submission.total_seconds_late`` from them, and the ``AssignLatePenalties``
preprocessor asks a ``LateSubmissionPlugin`` for each late notebook's penalty.  This module
fills those pieces from ``course.yml``:

- :func:`sync_deadlines` writes the due dates and extensions into the gradebook;
- :class:`CourseLatePolicy` is the plugin (``nbgrader_config.py`` selects it and passes
  ``late_policy`` to it), so plain ``nbgrader autograde`` applies the course's rule too;
- :func:`apply_late_policy` runs the configured plugin over recorded submissions, the way
  ``AssignLatePenalties`` does at autograde time, so that an export reflects the current
  ``course.yml`` (an extension granted after grading) without grading again;
- :class:`LateStatus` says what happened, for the report: on time, or late by how much
  and at what cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from nbgrader.api import Gradebook
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import AssignLatePenalties
from traitlets import Enum, Float, Int
from traitlets.config import Config

from convkit.settings import LATE_POLICY_KINDS, LatePolicy, Settings

SECONDS_PER_DAY = 86_400


def penalty_percent(policy: LatePolicy, seconds_late: float) -> float:
    """The share of the score (0..100 %) a submission ``seconds_late`` late loses.

    ``per_day``: ``percent_per_day`` for every started day (one second late is one
    day), at most ``cap_percent``.  ``cutoff``: nothing up to ``cutoff_days`` days
    late, everything after.  ``none``: nothing.
    """
    if seconds_late < 0:
        raise ValueError(f"seconds_late must not be negative, got {seconds_late}")
    if seconds_late == 0 or policy.kind == "none":
        return 0.0
    if policy.kind == "per_day":
        days = math.ceil(seconds_late / SECONDS_PER_DAY)
        return min(policy.cap_percent, policy.percent_per_day * days)
    if policy.kind == "cutoff":
        return 100.0 if seconds_late > policy.cutoff_days * SECONDS_PER_DAY else 0.0
    raise ValueError(f"unknown late policy {policy.kind!r} (known: {', '.join(LATE_POLICY_KINDS)})")


class CourseLatePolicy(LateSubmissionPlugin):
    """nbgrader's late-submission plugin applying ``course.yml``'s ``late_policy``.

    Set ``c.AssignLatePenalties.plugin_class`` to this class and its four traits from
    the settings (``nbgrader_config.py`` does).  The penalty is ``score`` times
    :func:`penalty_percent`; None when nothing is taken.
    """

    kind = Enum(LATE_POLICY_KINDS, default_value="none", help="none, per_day or cutoff").tag(
        config=True
    )
    percent_per_day = Float(0.0, help="per_day: percent lost per started day").tag(config=True)
    cap_percent = Float(100.0, help="per_day: the most that can be lost").tag(config=True)
    cutoff_days = Int(0, help="cutoff: later than this many days scores 0").tag(config=True)

    @property
    def policy(self) -> LatePolicy:
        """The traits as the settings' :class:`~convkit.settings.LatePolicy`."""
        return LatePolicy(self.kind, self.percent_per_day, self.cap_percent, self.cutoff_days)

    def late_submission_penalty(
        self, student_id: str, score: float, total_seconds_late: float
    ) -> float | None:
        """Points taken from ``score`` (a notebook's) for being ``total_seconds_late`` late."""
        percent = penalty_percent(self.policy, total_seconds_late)
        if percent == 0:
            return None
        penalty = score * percent / 100.0
        self.log.info(
            "%s: %.0f s late, %g%% of %g taken (%s)",
            student_id,
            total_seconds_late,
            percent,
            score,
            self.kind,
        )
        return penalty


def _utc_naive(moment: datetime) -> datetime:
    """An aware datetime as nbgrader stores times: naive, in UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def due_date(settings: Settings, assignment: str, student: str) -> tuple[datetime | None, bool]:
    """(the student's deadline for ``assignment``, whether it is an extension); (None,
    False) when the assignment has no deadline."""
    base = settings.deadlines.get(assignment)
    extended = settings.extensions.get(student, {}).get(assignment)
    if extended is not None:
        return extended, True
    return base, False


def sync_deadlines(
    gb: Gradebook, settings: Settings, assignment: str, students: list[str] | None = None
) -> None:
    """Write ``assignment``'s due date and the extensions of its submissions (all, or
    ``students``') from ``settings`` into the gradebook ``gb`` (committed).

    An extension is stored as nbgrader stores one: the time added to the due date.
    Removing a deadline or an extension from ``course.yml`` removes it here too.
    """
    record = gb.find_assignment(assignment)
    deadline = settings.deadlines.get(assignment)
    record.duedate = None if deadline is None else _utc_naive(deadline)
    submissions = (
        record.submissions
        if students is None
        else [s for s in record.submissions if s.student_id in students]
    )
    for submission in submissions:
        due, extended = due_date(settings, assignment, submission.student_id)
        if extended and deadline is not None and due is not None:
            submission.extension = _utc_naive(due) - _utc_naive(deadline)
        else:
            submission.extension = None
    gb.db.commit()


@dataclass(frozen=True)
class LateStatus:
    """When one submission came in against its deadline, and what that cost."""

    assignment: str
    student: str
    due: datetime | None  # aware; the extension's when ``extended``
    extended: bool
    submitted: datetime | None  # aware (UTC); None when nbgrader recorded no time
    seconds_late: float
    penalty_percent: float
    penalty_points: float

    @property
    def on_time(self) -> bool:
        """Not late (also true when there is no deadline or no recorded time)."""
        return self.seconds_late <= 0

    def describe(self) -> str:
        """One phrase for the report: ``on time``, ``late by 2 d 3 h: -20% (1.4 points)``."""
        if self.due is None:
            return "no deadline"
        if self.submitted is None:
            return "no submission time recorded"
        deadline = "extension" if self.extended else "deadline"
        if self.on_time:
            return f"on time ({deadline} {self.due:%Y-%m-%d %H:%M %Z})"
        text = f"late by {format_duration(self.seconds_late)}"
        if self.extended:
            text += " (after an extension)"
        if self.penalty_percent > 0:
            return f"{text}: -{self.penalty_percent:g}% ({self.penalty_points:g} points)"
        return f"{text}: no penalty"


def format_duration(seconds: float) -> str:
    """``93784`` -> ``1 d 2 h 3 min`` (rounded up to the minute)."""
    minutes = math.ceil(seconds / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def apply_late_policy(
    gb: Gradebook, config: Config, settings: Settings, assignment: str
) -> dict[str, LateStatus]:
    """Bring ``assignment``'s late penalties in the gradebook ``gb`` up to date with
    ``settings`` (deadlines, extensions) and the plugin that ``config`` (the course's
    nbgrader configuration) gives ``AssignLatePenalties``; returns each submission's
    :class:`LateStatus`, by student.

    For every recorded submission it does what ``AssignLatePenalties`` does for a
    notebook at autograde time: reset the penalty, and when the submission is late ask
    the plugin, clipped to 0..the notebook's score.  Manual grades are not touched.
    """
    sync_deadlines(gb, settings, assignment)
    assigner = AssignLatePenalties(config=config)
    assigner.init_plugin()
    plugin = assigner.plugin_inst
    statuses: dict[str, LateStatus] = {}
    for submission in gb.find_assignment(assignment).submissions:
        student = submission.student.id
        seconds_late = float(submission.total_seconds_late)
        percent_taken = 0.0
        points = 0.0
        for notebook in submission.notebooks:
            notebook.late_submission_penalty = None
            if seconds_late > 0:
                penalty = plugin.late_submission_penalty(student, notebook.score, seconds_late)
                if penalty is not None:
                    penalty = min(max(float(penalty), 0.0), float(notebook.score))
                    notebook.late_submission_penalty = penalty
                    points += penalty
        if seconds_late > 0 and isinstance(plugin, CourseLatePolicy):
            percent_taken = penalty_percent(plugin.policy, seconds_late)
        elif seconds_late > 0 and submission.score:  # another plugin: the share it took
            percent_taken = 100.0 * points / float(submission.score)
        due, extended = due_date(settings, assignment, student)
        submitted = submission.timestamp
        statuses[student] = LateStatus(
            assignment=assignment,
            student=student,
            due=due,
            extended=extended,
            submitted=None if submitted is None else submitted.replace(tzinfo=UTC),
            seconds_late=seconds_late,
            penalty_percent=percent_taken,
            penalty_points=round(points, 6),
        )
    gb.db.commit()
    return statuses
