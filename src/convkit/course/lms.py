"""Grades in the layouts learning-management systems import: Canvas, Moodle, and a long CSV.

Every layout starts from :func:`convkit.course.export.grade_rows` (scores after the
current late policy; ungraded submissions carry a status and no score) and, for Canvas
and Moodle, the course roster (``roster:`` in ``course.yml``), which says who each
nbgrader student id is in the institution's systems.

- **Canvas** (its gradebook import, which reads the layout of its own gradebook
  export): ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
  assignment; the second line is ``Points Possible`` with each assignment's points.
  Canvas matches a line to a student on ``ID`` (its own user id: the roster's optional
  ``canvas_id`` column), else ``SIS User ID`` or ``SIS Login ID``.
- **Moodle** (its CSV grade import, which reads the layout of its own export):
  ``First name, Surname, ID number, Institution, Department, Email address``, then one
  column per assignment.  Moodle asks which column identifies the user: map
  ``Email address`` to the user's email, or ``ID number`` to their ID number.
- **long**: one line per test of every submission, for any other tool:
  ``student, assignment, test, points, max_points, hidden, status, reason``; a late
  penalty is a line of its own (``late penalty``, negative points), so a submission's
  points add up to its score.

A submission without a score (ungraded, or no submission) leaves its cell **empty** in
the Canvas and Moodle files: both systems import an empty cell as "no grade", never as
0.  Each such cell is listed, with the reason, in the export's attention file
(``<name>.attention.csv``) and on the terminal; so is a score still missing its
hand-graded part, and every graded student of the gradebook the roster does not know
(their grades cannot be placed).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from convkit.course.course import Course, hidden_test_ids
from convkit.course.export import GradeRow, grade_rows
from convkit.course.outcomes import Status
from convkit.settings import LMS_EXPORTS, ROSTER_COLUMNS

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_POSSIBLE = "    Points Possible"  # as Canvas's own export writes it
MOODLE_IDENTITY = [
    "First name",
    "Surname",
    "ID number",
    "Institution",
    "Department",
    "Email address",
]
LONG_COLUMNS = [
    "student",
    "assignment",
    "test",
    "points",
    "max_points",
    "hidden",
    "status",
    "reason",
]
ATTENTION_COLUMNS = ["student", "assignment", "status", "reason", "in_file"]
LATE_PENALTY_TEST = "late penalty"


class RosterError(ValueError):
    """The roster file is missing, unreadable or inconsistent; the message says where."""


@dataclass(frozen=True)
class RosterEntry:
    """One student as the institution knows them (a line of the roster CSV)."""

    student_id: str  # the nbgrader id: the folder name under submitted/
    name: str
    email: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    canvas_id: str = ""  # optional column: Canvas's own user id

    @property
    def first_and_last(self) -> tuple[str, str]:
        """``name`` split at its last space: ``("Ada", "Lovelace")``; one word is a first name."""
        first, _, last = self.name.strip().rpartition(" ")
        return (first, last) if first else (last, "")


def read_roster(path: Path) -> list[RosterEntry]:
    """The roster CSV at ``path``: columns ``student_id, name, email, sis_user_id,
    sis_login_id, section`` (optional: ``canvas_id``), one line per student, in order.

    Raises :class:`RosterError` naming the line for an empty or repeated student_id.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            lines = list(csv.DictReader(handle))
    except OSError as err:
        raise RosterError(f"roster {path}: cannot read it ({err.strerror})") from err
    if lines:
        missing = [c for c in ROSTER_COLUMNS if c not in lines[0]]
        if missing:
            raise RosterError(f"roster {path}: lacks the column(s) {', '.join(missing)}")
    entries: list[RosterEntry] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=2):  # line 1 is the header
        values = {k.strip(): (v or "").strip() for k, v in line.items() if k is not None}
        student = values.get("student_id", "")
        if not student:
            raise RosterError(f"roster {path}, line {number}: empty student_id")
        if student in seen:
            raise RosterError(
                f"roster {path}, line {number}: student_id {student!r} again "
                f"(first on line {seen[student]})"
            )
        seen[student] = number
        entries.append(
            RosterEntry(**{k: values.get(k, "") for k in (*ROSTER_COLUMNS, "canvas_id")})
        )
    return entries


@dataclass(frozen=True)
class Attention:
    """A cell of the export that holds no score, or a student it could not place."""

    student: str
    assignment: str
    status: str  # ungraded, no submission, not in roster, no grades
    reason: str
    in_file: str  # what the LMS file holds for it: "empty cell", "not written", ...


@dataclass
class LmsExport:
    """What :func:`export_lms` wrote."""

    layout: str
    path: Path
    attention_path: Path | None
    assignments: list[str]
    points: dict[str, float]
    students_written: int
    attention: list[Attention] = field(default_factory=list)


def _points(value: float) -> str:
    """A score as the LMS reads it: ``7``, ``6.5``, ``2.3333`` (at most 4 decimals)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _cell(row: GradeRow | None) -> str:
    """The score cell: the score when graded, else empty (never 0)."""
    if row is None or row.status != Status.GRADED.value or row.score is None:
        return ""
    return _points(float(row.score))


def _placement(
    rows: list[GradeRow], roster: list[RosterEntry], assignments: list[str]
) -> tuple[dict[tuple[str, str], GradeRow], list[Attention]]:
    """``rows`` by (student, assignment), and every cell or student needing attention:
    a roster student's assignment without a score (its cell stays empty), a score that
    still lacks the hand-graded part, and a student with submissions the roster lacks."""
    by_key = {(r.student_id, r.assignment): r for r in rows if r.assignment in assignments}
    attention = []
    for entry in roster:
        for name in assignments:
            row = by_key.get((entry.student_id, name))
            if row is None:
                attention.append(
                    Attention(
                        entry.student_id,
                        name,
                        "no submission",
                        "not in the gradebook",
                        "empty cell",
                    )
                )
            elif row.status != Status.GRADED.value:
                attention.append(
                    Attention(entry.student_id, name, row.status, row.reason, "empty cell")
                )
            elif row.needs_manual_grading == "yes":
                attention.append(
                    Attention(
                        entry.student_id,
                        name,
                        "needs manual grading",
                        "written answers not graded by hand yet",
                        "the automatic part of the score",
                    )
                )
    known = {e.student_id for e in roster}
    for student in sorted({s for s, _ in by_key} - known):
        submitted = [
            r.assignment
            for r in rows
            if r.student_id == student and r.status != Status.NO_SUBMISSION.value
        ]
        if submitted:
            attention.append(
                Attention(
                    student,
                    ", ".join(submitted),
                    "not in roster",
                    "add them to the roster to export their grades",
                    "not written",
                )
            )
    return by_key, attention


def canvas_lines(
    rows: list[GradeRow],
    roster: list[RosterEntry],
    assignments: list[str],
    points: dict[str, float],
) -> tuple[list[list[str]], list[Attention]]:
    """The Canvas gradebook import file as lines of cells, and what needs attention.

    One line per roster student in roster order; ``rows`` of students not in the roster
    are left out (listed in the attention list).
    """
    by_key, attention = _placement(rows, roster, assignments)
    lines = [CANVAS_IDENTITY + assignments]
    blank = [""] * (len(CANVAS_IDENTITY) - 1)
    lines.append([CANVAS_POINTS_POSSIBLE, *blank, *(_points(points[a]) for a in assignments)])
    for e in roster:
        identity = [e.name, e.canvas_id, e.sis_user_id, e.sis_login_id, e.section]
        lines.append(identity + [_cell(by_key.get((e.student_id, a))) for a in assignments])
    return lines, attention


def moodle_lines(
    rows: list[GradeRow], roster: list[RosterEntry], assignments: list[str]
) -> tuple[list[list[str]], list[Attention]]:
    """The Moodle CSV grade import file as lines of cells, and what needs attention.

    One line per roster student in roster order (Moodle's import maps a line to a user
    by ``Email address`` or ``ID number``, the roster's ``email`` and ``sis_user_id``).
    """
    by_key, attention = _placement(rows, roster, assignments)
    lines = [MOODLE_IDENTITY + assignments]
    for e in roster:
        first, last = e.first_and_last
        identity = [first, last, e.sis_user_id, "", e.section, e.email]
        lines.append(identity + [_cell(by_key.get((e.student_id, a))) for a in assignments])
    return lines, attention


def long_lines(course: Course, rows: list[GradeRow]) -> list[dict[str, str]]:
    """One line per test of every graded submission (``LONG_COLUMNS``); one line with
    an empty test for a submission without a score, with its status and reason.

    ``points`` is the cell's score (a hand-given score wins over the automatic one, as
    in nbgrader), empty while a written answer awaits grading; a late penalty is its own
    line with negative points.
    """
    lines: list[dict[str, str]] = []
    hidden = {a: hidden_test_ids(course, a) for a in sorted({r.assignment for r in rows})}
    with Gradebook(course.db_url, course.course_id) as gb:
        for row in rows:
            base = {"student": row.student_id, "assignment": row.assignment}
            if row.status != Status.GRADED.value:
                lines.append(
                    base
                    | {
                        "test": "",
                        "points": "",
                        "max_points": _points(row.max_score),
                        "hidden": "",
                        "status": row.status,
                        "reason": row.reason,
                    }
                )
                continue
            try:
                submission = gb.find_submission(row.assignment, row.student_id)
            except MissingEntry:  # graded outside the gradebook: nothing per test
                continue
            for notebook in submission.notebooks:
                for grade in sorted(notebook.grades, key=lambda g: g.name):
                    scored = (
                        grade.score
                        if (grade.manual_score is not None or grade.auto_score is not None)
                        else None
                    )
                    lines.append(
                        base
                        | {
                            "test": grade.name,
                            "points": "" if scored is None else _points(float(scored)),
                            "max_points": _points(float(grade.max_score)),
                            "hidden": "yes" if grade.name in hidden[row.assignment] else "no",
                            "status": "graded" if scored is not None else "needs manual grading",
                            "reason": "",
                        }
                    )
            penalty = float(row.late_submission_penalty or 0.0)
            if penalty > 0:
                lines.append(
                    base
                    | {
                        "test": LATE_PENALTY_TEST,
                        "points": _points(-penalty),
                        "max_points": "0",
                        "hidden": "no",
                        "status": "graded",
                        "reason": row.late,
                    }
                )
    return lines


def attention_path_for(path: Path) -> Path:
    """``grades/canvas.csv`` -> ``grades/canvas.attention.csv``."""
    return path.with_name(f"{path.stem}.attention.csv")


def export_lms(
    course: Course, layout: str, path: Path, assignments: list[str] | None = None
) -> LmsExport:
    """Write the grades in ``layout`` (canvas, moodle or long) to ``path``; for Canvas and
    Moodle also the attention file beside it (:func:`attention_path_for`).

    ``assignments``: the columns (default: every assignment in the gradebook, in order).
    Canvas and Moodle need the roster of ``course.yml``; raises :class:`RosterError`
    without one, ``ValueError`` for an unknown layout or assignment.
    """
    if layout not in LMS_EXPORTS:
        raise ValueError(f"unknown layout {layout!r} (known: {', '.join(LMS_EXPORTS)})")
    roster: list[RosterEntry] = []
    if layout != "long":
        if course.settings.roster is None:
            raise RosterError(
                f"the {layout} export matches students through the roster: set roster: in "
                f"{course.settings.path or 'course.yml'} to a CSV with the columns "
                f"{', '.join(ROSTER_COLUMNS)}"
            )
        roster = read_roster(course.settings.roster)
    rows = grade_rows(course, assignments)
    names = assignments or sorted({r.assignment for r in rows}, key=_assignment_order(rows))
    points = {r.assignment: float(r.max_score) for r in rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    if layout == "long":
        lines = long_lines(course, rows)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=LONG_COLUMNS)
            writer.writeheader()
            writer.writerows(lines)
        return LmsExport(layout, path, None, names, points, len({r.student_id for r in rows}))
    if layout == "canvas":
        table, attention = canvas_lines(rows, roster, names, points)
    else:
        table, attention = moodle_lines(rows, roster, names)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(table)
    extra = attention_path_for(path)
    with open(extra, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ATTENTION_COLUMNS)
        for item in attention:
            writer.writerow([item.student, item.assignment, item.status, item.reason, item.in_file])
    return LmsExport(layout, path, extra, names, points, len(roster), attention)


def _assignment_order(rows: list[GradeRow]):
    """Sort key keeping the gradebook's order of assignments (the order ``rows`` has)."""
    order: dict[str, int] = {}
    for row in rows:
        order.setdefault(row.assignment, len(order))
    return lambda name: order[name]
