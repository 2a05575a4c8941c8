"""The grading report: one self-contained HTML page (and CSV files) after autograding.

Per assignment: the distribution of scores (a histogram and its counts), the
pass rate of every autograded test, hardest first (which hidden tests students
fail most: a map of their misconceptions), every graded submission against its
deadline (on time, or late by how much and the penalty), the submissions graded
again with their result before, and the submissions that could not be graded,
with the reason.  Then every student's totals.  The plots are PNG
images embedded in the page (base64), so it opens offline and requests nothing.

Scores and statuses are exactly the exported ones (:func:`export.grade_rows`):
an ungraded submission is listed with its reason, never counted as 0.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import os
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from nbgrader.api import Gradebook

from convkit.course.course import Course, hidden_test_ids
from convkit.course.export import GradeRow, grade_rows, write_grade_rows
from convkit.course.outcomes import REVIEW_NOTE, Status, load_outcomes

HISTOGRAM_BINS = 10
TEST_COLUMNS = [
    "assignment",
    "test",
    "hidden",
    "points",
    "passed",
    "partial",
    "failed",
    "pass_rate",
]


@dataclass(frozen=True)
class CellStats:
    """How the graded submissions did on one autograded test cell."""

    assignment: str
    test: str  # the cell's grade_id
    hidden: bool
    points: float
    passed: int  # full points
    partial: int  # some but not all points
    failed: int  # no points

    @property
    def graded(self) -> int:
        """Graded submissions that ran this test."""
        return self.passed + self.partial + self.failed

    @property
    def pass_rate(self) -> float:
        """Fraction of graded submissions with full points on this test (0..1)."""
        return self.passed / self.graded if self.graded else 0.0


@dataclass
class AssignmentReport:
    """One assignment: every student's row, the score histogram and the tests' pass rates."""

    name: str
    max_score: float
    rows: list[GradeRow]
    tests: list[CellStats] = field(default_factory=list)

    @property
    def graded(self) -> list[GradeRow]:
        """Rows of graded submissions."""
        return [r for r in self.rows if r.status == Status.GRADED.value]

    @property
    def ungraded(self) -> list[GradeRow]:
        """Rows of submissions that could not be graded (they carry a reason)."""
        return [r for r in self.rows if r.status == Status.UNGRADED.value]

    @property
    def flagged(self) -> list[GradeRow]:
        """Graded rows whose submission has lines that go after the grader (for a human)."""
        return [r for r in self.graded if REVIEW_NOTE in r.detail]

    @property
    def missing(self) -> list[GradeRow]:
        """Rows of students without a submission."""
        return [r for r in self.rows if r.status == Status.NO_SUBMISSION.value]

    @property
    def scores(self) -> list[float]:
        """Scores of the graded submissions (after any late penalty)."""
        return [float(r.score) for r in self.graded if r.score is not None]

    def histogram(self) -> tuple[np.ndarray, np.ndarray]:
        """(counts (HISTOGRAM_BINS,), edges (HISTOGRAM_BINS + 1,)) over 0..max_score.

        Bins are closed on the left; the last one also holds full marks.
        """
        top = self.max_score if self.max_score > 0 else 1.0
        edges = np.linspace(0.0, top, HISTOGRAM_BINS + 1)
        counts, _ = np.histogram(np.clip(self.scores, 0.0, top), bins=edges)
        return counts, edges


def cell_stats(course: Course, assignment: str, students: list[str]) -> list[CellStats]:
    """Pass counts of every autograded test of ``assignment`` over ``students``' submissions.

    Ordered hardest first (lowest pass rate), then by cell id.
    """
    hidden = hidden_test_ids(course, assignment)
    tallies: dict[str, list[float]] = {}
    points: dict[str, float] = {}
    with Gradebook(course.db_url, course.course_id) as gb:
        for student in students:
            submission = gb.find_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.cell_type != "code":  # written answers are graded by hand
                        continue
                    points[grade.name] = float(grade.max_score)
                    tallies.setdefault(grade.name, []).append(float(grade.auto_score or 0.0))
    stats = []
    for test, scores in tallies.items():
        top = points[test]
        passed = sum(s >= top for s in scores)
        failed = sum(s <= 0 for s in scores) if top > 0 else 0
        stats.append(
            CellStats(
                assignment,
                test,
                test in hidden,
                top,
                passed,
                len(scores) - passed - failed,
                failed,
            )
        )
    return sorted(stats, key=lambda t: (t.pass_rate, t.test))


def build_report(course: Course, assignments: list[str] | None = None) -> list[AssignmentReport]:
    """The report of the given assignments (default: every one with a submission or outcome)."""
    rows = grade_rows(course, assignments)
    names = assignments or sorted(
        {r.assignment for r in rows if r.status != Status.NO_SUBMISSION.value}
    )
    reports = []
    for name in names:
        mine = [r for r in rows if r.assignment == name]
        max_score = mine[0].max_score if mine else 0.0
        report = AssignmentReport(name, max_score, mine)
        report.tests = cell_stats(course, name, [r.student_id for r in report.graded])
        reports.append(report)
    return reports


# --- plots ----------------------------------------------------------------------------


def _png(fig) -> str:
    """A matplotlib figure as a ``data:`` URL (PNG, base64); closes the figure."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def histogram_png(report: AssignmentReport) -> str:
    """The score histogram of one assignment as a PNG data URL."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts, edges = report.histogram()
    fig, ax = plt.subplots(figsize=(5.6, 2.8))
    ax.bar(
        edges[:-1], counts, width=np.diff(edges), align="edge", color="#4c72b0", edgecolor="white"
    )
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(f"score (out of {report.max_score:g})")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{report.name}: {len(report.scores)} graded submissions")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def pass_rate_png(report: AssignmentReport) -> str:
    """Horizontal bars: each autograded test's pass rate, hardest at the top."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tests = report.tests
    fig, ax = plt.subplots(figsize=(5.6, 0.6 + 0.32 * max(1, len(tests))))
    labels = [t.test + (" (hidden)" if t.hidden else "") for t in tests]
    rates = [100 * t.pass_rate for t in tests]
    colors = ["#c44e52" if t.hidden else "#55a868" for t in tests]
    bars = ax.barh(range(len(tests)), rates, color=colors)
    ax.bar_label(bars, labels=[f"{r:.0f}%" for r in rates], padding=3, fontsize=8)
    ax.set_yticks(range(len(tests)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions with full points (%)")
    ax.set_title(f"{report.name}: pass rate per test (hidden tests in red)")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


# --- HTML ----------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222;
       padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.55rem; text-align: left; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.ungraded td { background: #fff3f3; } .muted { color: #777; }
tr.flagged td { background: #fffbe6; } tr.late td { background: #f3f6ff; }
img { max-width: 100%; display: block; margin: 0.5rem 0; }
.plots { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _table(
    header: list[str],
    rows: list[list[str]],
    classes: list[str] | None = None,
    table_id: str = "",
) -> str:
    """An HTML table; cells are already-escaped HTML strings."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        css = f' class="{classes[i]}"' if classes and classes[i] else ""
        cells = "".join(
            f'<td class="num">{c}</td>' if _is_number(c) else f"<td>{c}</td>" for c in row
        )
        body.append(f"<tr{css}>{cells}</tr>")
    ident = f' id="{_e(table_id)}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("%"))
    except ValueError:
        return False
    return True


def _summary_table(reports: list[AssignmentReport]) -> str:
    rows = []
    for r in reports:
        scores = r.scores
        rows.append(
            [
                f'<a href="#{_e(r.name)}">{_e(r.name)}</a>',
                f"{r.max_score:g}",
                str(len(r.graded)),
                str(len(r.ungraded)),
                str(len(r.missing)),
                f"{statistics.mean(scores):.2f}" if scores else "",
                f"{statistics.median(scores):g}" if scores else "",
            ]
        )
    header = ["assignment", "max", "graded", "ungraded", "no submission", "mean", "median"]
    return _table(header, rows, table_id="summary")


def similarity_links(course: Course, folder: Path, assignments: list[str]) -> dict[str, str]:
    """assignment -> link (relative to ``folder``) to its similarity report, where one exists.

    The reports are ``grading/similarity/<assignment>/report.html``, written by
    ``python -m convkit.course similarity``; an assignment without one gets no link.
    """
    links = {}
    for name in assignments:
        page = course.grading_dir / "similarity" / name / "report.html"
        if page.is_file():
            links[name] = Path(os.path.relpath(page, folder.resolve())).as_posix()
    return links


def _similarity_paragraph(name: str, link: str | None) -> str:
    if link is None:
        return ""
    return (
        f'<p class="similarity"><a href="{_e(link)}">Similarity report of {_e(name)}</a>: '
        "pairs of submissions with alike answer code, flagged for a human to read "
        "(it judges nothing).</p>"
    )


def _assignment_section(
    report: AssignmentReport, logs: dict[str, str], similarity: str | None = None
) -> str:
    counts, edges = report.histogram()
    bins = [
        [
            f"{lo:g} – {hi:g}" + (" (incl.)" if i == len(counts) - 1 else ""),
            str(int(n)),
        ]
        for i, (lo, hi, n) in enumerate(zip(edges[:-1], edges[1:], counts, strict=True))
    ]
    parts = [f'<h2 id="{_e(report.name)}">{_e(report.name)}</h2>']
    manual = sum(r.needs_manual_grading == "yes" for r in report.graded)
    parts.append(
        f"<p>{len(report.graded)} graded, {len(report.ungraded)} ungraded, "
        f"{len(report.missing)} without a submission; maximum {report.max_score:g} points."
        + (
            f' <span class="muted">{manual} graded submission(s) still need manual grading'
            " (their scores do not include the written answers yet).</span>"
            if manual
            else ""
        )
        + "</p>"
    )
    unsandboxed = [r for r in [*report.graded, *report.ungraded] if r.sandboxed == "no"]
    if unsandboxed:
        parts.append(
            f'<p class="warning"><strong>{len(unsandboxed)} submission(s) graded without the '
            "sandbox</strong> (<code>--no-sandbox</code>): their code ran with the grader's "
            "own permissions.</p>"
        )
    parts.append(_similarity_paragraph(report.name, similarity))
    parts.append("<h3>Score distribution</h3>")
    if report.scores:
        alt = f"Histogram of the {len(report.scores)} graded scores of {report.name}"
        parts.append('<div class="plots">')
        parts.append(f'<img src="{histogram_png(report)}" alt="{_e(alt)}">')
        parts.append(_table(["score", "submissions"], bins, table_id=f"histogram-{report.name}"))
        parts.append("</div>")
    else:
        parts.append("<p>No graded submission yet.</p>")
    parts.append("<h3>Pass rate of every autograded test (hardest first)</h3>")
    if report.tests:
        alt = f"Pass rate of each autograded test of {report.name}, hardest first"
        parts.append(f'<img src="{pass_rate_png(report)}" alt="{_e(alt)}">')
        rows = [
            [
                _e(t.test),
                "hidden" if t.hidden else "visible",
                f"{t.points:g}",
                str(t.passed),
                str(t.partial),
                str(t.failed),
                f"{100 * t.pass_rate:.0f}%",
            ]
            for t in report.tests
        ]
        header = ["test", "kind", "points", "passed", "partial", "failed", "pass rate"]
        parts.append(_table(header, rows, table_id=f"tests-{report.name}"))
    else:
        parts.append("<p>No graded submission yet.</p>")
    parts.append(_deadline_part(report))
    parts.append(_regraded_part(report))
    if report.flagged:
        parts.append("<h3>Flagged for review</h3>")
        parts.append(
            "<p>Graded, but the student's own cells contain code that goes after the grader "
            "rather than the exercise. The score stands until someone has looked.</p>"
        )
        rows = [
            [_e(r.student_id), f"{float(r.score or 0.0):g}", _e(r.detail)] for r in report.flagged
        ]
        header = ["student", "score", "what was found"]
        classes = ["flagged"] * len(rows)
        parts.append(_table(header, rows, classes, table_id=f"flagged-{report.name}"))
    parts.append("<h3>Ungraded submissions</h3>")
    if report.ungraded:
        rows = [
            [_e(r.student_id), _e(r.reason), _e(r.detail), _e(logs.get(r.student_id, ""))]
            for r in report.ungraded
        ]
        header = ["student", "reason", "detail", "log"]
        classes = ["ungraded"] * len(rows)
        parts.append(_table(header, rows, classes, table_id=f"ungraded-{report.name}"))
    else:
        parts.append("<p>None: every submission was graded.</p>")
    return "\n".join(parts)


def _deadline_part(report: AssignmentReport) -> str:
    """Every graded submission against its deadline: on time, or late by how much and
    the penalty (course.yml's late_policy, applied by nbgrader's late-submission plugin)."""
    parts = ["<h3>Deadline and late submissions</h3>"]
    if not any(r.due for r in report.rows):
        parts.append("<p>No deadline for this assignment in course.yml.</p>")
        return "\n".join(parts)
    late = [r for r in report.graded if r.late.startswith("late")]
    parts.append(
        f"<p>{len(report.graded) - len(late)} graded submission(s) on time, {len(late)} late. "
        "Scores are after the penalty; the submission time is the one nbgrader recorded "
        "when it collected the work.</p>"
    )
    rows, classes = [], []
    for r in report.graded:
        penalty = float(r.late_submission_penalty or 0.0)
        rows.append(
            [
                _e(r.student_id),
                _e(r.timestamp),
                _e(_moment(r.due)),
                _e(r.late),
                f"{float(r.raw_score or 0.0):g}",
                f"{penalty:g}",
                f"{float(r.score or 0.0):g}",
            ]
        )
        classes.append("late" if r in late else "")
    header = ["student", "submitted (UTC)", "deadline", "on time?", "raw", "penalty", "score"]
    parts.append(_table(header, rows, classes, table_id=f"late-{report.name}"))
    return "\n".join(parts)


def _moment(iso: str) -> str:
    """``2027-01-15T23:59:00+00:00`` -> ``2027-01-15 23:59 UTC+00:00`` ("" stays "")."""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M %Z") if iso else ""


def _regraded_part(report: AssignmentReport) -> str:
    """The submissions the latest runs graded again, with what they had before."""
    again = [r for r in report.rows if r.regraded_from]
    if not again:
        return ""
    rows = []
    for r in again:
        now = f"{float(r.score):g} / {r.max_score:g}" if r.score is not None else r.status
        rows.append([_e(r.student_id), _e(r.regraded_from), _e(now)])
    return "\n".join(
        [
            "<h3>Graded again</h3>",
            "<p>These submissions were graded again (after a fix to the assignment, or "
            "with <code>--regrade</code>). Hand-given grades and comments were kept, as "
            "nbgrader keeps them; their cells are marked for a second look in formgrader.</p>",
            _table(["student", "before", "now"], rows, table_id=f"regraded-{report.name}"),
        ]
    )


def _students_table(reports: list[AssignmentReport]) -> str:
    students = sorted({r.student_id for rep in reports for r in rep.rows})
    by_key = {(r.assignment, r.student_id): r for rep in reports for r in rep.rows}
    rows, classes = [], []
    for student in students:
        cells = [_e(student)]
        total = 0.0
        flagged = False
        for rep in reports:
            row = by_key.get((rep.name, student))
            if row is None or row.status == Status.NO_SUBMISSION.value:
                cells.append('<span class="muted">no submission</span>')
            elif row.status == Status.UNGRADED.value:
                cells.append(f"<strong>ungraded</strong>: {_e(row.reason)}")
                flagged = True
            else:
                total += float(row.score or 0.0)
                cells.append(f"{float(row.score or 0.0):g}")
        cells.append(f"{total:g}")
        rows.append(cells)
        classes.append("ungraded" if flagged else "")
    top = sum(rep.max_score for rep in reports)
    header = ["student", *(_e(f"{rep.name} (/{rep.max_score:g})") for rep in reports)]
    header.append(f"total (/{top:g})")
    return _table(header, rows, classes, table_id="students")


def render_html(
    course: Course,
    reports: list[AssignmentReport],
    similarity: dict[str, str] | None = None,
) -> str:
    """The whole report page: self-contained HTML (inline CSS, PNGs as data URLs).

    ``similarity`` maps an assignment to the link of its similarity report
    (:func:`similarity_links`); the page links to each one there is.
    """
    similarity = similarity or {}
    logs = {
        rep.name: {s: o.log or "" for s, o in load_outcomes(course, rep.name).items()}
        for rep in reports
    }
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    body = [
        f"<h1>Grading report: {_e(course.course_id)}</h1>",
        f'<p class="muted">Generated {_e(stamp)} from the gradebook and the recorded '
        "autograde outcomes. Ungraded submissions are listed with their reason and "
        "never counted as 0.</p>",
        _summary_table(reports),
        *(_assignment_section(rep, logs[rep.name], similarity.get(rep.name)) for rep in reports),
        "<h2 id='students'>Per-student totals</h2>",
        "<p>Scores of graded submissions; the total adds graded scores only.</p>",
        _students_table(reports),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>Grading report: {_e(course.course_id)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


@dataclass(frozen=True)
class ReportFiles:
    """Where :func:`write_report` put the page and the CSV files."""

    html: Path
    grades_csv: Path
    tests_csv: Path


def write_report(
    course: Course, folder: Path, assignments: list[str] | None = None
) -> tuple[ReportFiles, list[AssignmentReport]]:
    """Write ``report.html``, ``grades.csv`` (per student and assignment) and ``tests.csv``.

    ``tests.csv`` has one row per autograded test with its pass counts.  Each
    assignment's section links to its similarity report when there is one.
    """
    reports = build_report(course, assignments)
    folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(folder / "report.html", folder / "grades.csv", folder / "tests.csv")
    links = similarity_links(course, folder, [rep.name for rep in reports])
    files.html.write_text(render_html(course, reports, links), encoding="utf-8")
    write_grade_rows(files.grades_csv, [row for rep in reports for row in rep.rows])
    with open(files.tests_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TEST_COLUMNS)
        for rep in reports:
            for t in rep.tests:
                writer.writerow(
                    [
                        t.assignment,
                        t.test,
                        "yes" if t.hidden else "no",
                        f"{t.points:g}",
                        t.passed,
                        t.partial,
                        t.failed,
                        f"{t.pass_rate:.4f}",
                    ]
                )
    return files, reports
