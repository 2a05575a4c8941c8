"""Export grades to CSV, marking ungraded submissions explicitly.

nbgrader's own ``nbgrader export`` writes 0 for a student with no submission
and for a submission whose autograding failed; this export writes an empty
score with a status and a reason instead.  Late penalties are brought up to date
with ``course.yml`` first (:func:`convkit.course.late.apply_late_policy`), so the
scores are after the current deadlines, extensions and late policy; each row says
how late the submission was and whether it was graded again.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

from convkit.course.course import Course
from convkit.course.late import apply_late_policy, due_date
from convkit.course.outcomes import Status, load_outcomes

COLUMNS = [
    "assignment",
    "student_id",
    "status",
    "reason",
    "score",
    "max_score",
    "raw_score",
    "late_submission_penalty",
    "needs_manual_grading",
    "timestamp",
    "due",
    "late",
    "regraded_from",
    "detail",
    "sandboxed",
]


@dataclass(frozen=True)
class GradeRow:
    """One CSV row: a student's result for one assignment (score is None unless graded)."""

    assignment: str
    student_id: str
    status: str
    reason: str
    score: float | None
    max_score: float
    raw_score: float | None
    late_submission_penalty: float | None
    needs_manual_grading: str
    timestamp: str
    detail: str
    sandboxed: str = ""  # "yes", "no" (graded with --no-sandbox) or "" (no record)
    due: str = ""  # the student's deadline (ISO 8601), "" without one
    late: str = ""  # LateStatus.describe(): "on time (...)", "late by 1 d 2 h: -10% (...)"
    regraded_from: str = ""  # when the latest run graded it again: the result before ("7 / 10")

    def as_csv(self) -> dict[str, str]:
        """The row as strings (an empty cell for None)."""
        return {
            name: "" if getattr(self, name) is None else f"{getattr(self, name)}"
            for name in COLUMNS
        }


def grade_rows(course: Course, assignments: list[str] | None = None) -> list[GradeRow]:
    """A row for every (assignment, student) known to the gradebook or the outcome records."""
    rows: list[GradeRow] = []
    with Gradebook(course.db_url, course.course_id) as gb:
        names = [a.name for a in gb.assignments]
        for name in assignments or []:
            if name not in names:
                raise ValueError(
                    f"assignment {name!r} is not in the gradebook (run generate first)"
                )
        outcomes = {name: load_outcomes(course, name) for name in names}
        # Everyone the gradebook knows, and everyone we tried to grade (a student
        # whose only submission was unreadable never reached the gradebook).
        students = sorted({s.id for s in gb.students}.union(*outcomes.values()))
        for name in assignments or names:
            late = apply_late_policy(gb, course.config, course.settings, name)
            assignment = gb.find_assignment(name)
            for student in students:
                row = _row(gb, assignment, student, outcomes[name].get(student))
                due, _ = due_date(course.settings, name, student)
                status = late.get(student)
                outcome = outcomes[name].get(student)
                rows.append(
                    replace(
                        row,
                        due="" if due is None else due.isoformat(),
                        late="" if status is None or row.status != "graded" else status.describe(),
                        regraded_from=(outcome.regraded_from or "") if outcome else "",
                    )
                )
    return rows


def _row(gb: Gradebook, assignment, student: str, outcome) -> GradeRow:
    """The CSV row of one student (see ``grade_rows``), without the late and regrade
    columns."""
    max_score = float(assignment.max_score)
    try:
        submission = gb.find_submission(assignment.name, student)
    except MissingEntry:
        submission = None
    if outcome is not None and outcome.status is Status.UNGRADED:
        return GradeRow(
            assignment.name,
            student,
            Status.UNGRADED.value,
            outcome.reason.value,
            None,
            max_score,
            None,
            None,
            "",
            _timestamp(submission),
            outcome.detail,
            _sandboxed(outcome),
        )
    if submission is None:
        return GradeRow(
            assignment.name,
            student,
            Status.NO_SUBMISSION.value,
            "",
            None,
            max_score,
            None,
            None,
            "",
            "",
            "",
        )
    raw = float(submission.score)
    penalty = float(submission.late_submission_penalty or 0.0)
    detail = "; ".join(outcome.notes) if outcome is not None else "graded outside convkit.course"
    return GradeRow(
        assignment.name,
        student,
        Status.GRADED.value,
        "",
        max(0.0, raw - penalty),
        max_score,
        raw,
        penalty,
        "yes" if submission.needs_manual_grade else "no",
        _timestamp(submission),
        detail,
        _sandboxed(outcome),
    )


def _sandboxed(outcome) -> str:
    if outcome is None or outcome.sandboxed is None:
        return ""
    return "yes" if outcome.sandboxed else "no"


def _timestamp(submission) -> str:
    return "" if submission is None or submission.timestamp is None else str(submission.timestamp)


def export_csv(course: Course, path: Path, assignments: list[str] | None = None) -> list[GradeRow]:
    """Write ``grade_rows`` to ``path`` (CSV with a header) and return them."""
    rows = grade_rows(course, assignments)
    write_grade_rows(path, rows)
    return rows


def write_grade_rows(path: Path, rows: list[GradeRow]) -> None:
    """The rows as CSV with a header line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(row.as_csv() for row in rows)


class OutcomeAwareCsvExport(ExportPlugin):
    """``nbgrader export`` plugin writing :func:`grade_rows` (set in ``nbgrader_config.py``).

    So even a plain ``nbgrader export`` marks ungraded submissions instead of
    writing 0.  ``--assignment`` and ``--student`` filter the rows.
    """

    def export(self, gradebook: Gradebook) -> None:
        """Write the CSV to ``--to`` (default ``grades.csv``)."""
        coursedir = getattr(self.parent, "coursedir", None)
        root = Path(coursedir.root if coursedir is not None else ".").resolve()
        rows = grade_rows(Course(root), [str(a) for a in self.assignment] or None)
        if self.student:
            wanted = {str(s) for s in self.student}
            rows = [row for row in rows if row.student_id in wanted]
        dest = Path(self.to or "grades.csv")
        write_grade_rows(dest, rows)
        self.log.info("Exported %d rows to %s (ungraded submissions marked)", len(rows), dest)
