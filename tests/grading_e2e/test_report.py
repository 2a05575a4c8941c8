"""The grading report of the graded course: numbers equal the gradebook's, page works offline.

``python -m convkit.course report`` runs on the session's graded copy (every
scenario student x ch00, ch01).  Each number the page shows is recomputed here
straight from the gradebook and the recorded outcomes, not from convkit's code.
"""

from __future__ import annotations

import base64
import csv
import json
import re
from html.parser import HTMLParser

import nbformat
import numpy as np
import pytest
from conftest import ASSIGNMENTS, WHOLE_RUN_TIMEOUT_STUDENT, GradedCourse, run_cli
from course_scenarios import SCENARIOS, Expect
from nbgrader.api import Gradebook

pytestmark = pytest.mark.slow

BINS = 10


class _Tables(HTMLParser):
    """Rows (lists of cell texts) of every table with an id, and every image source."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.images: list[dict[str, str | None]] = []
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def report(graded_course: GradedCourse) -> tuple[GradedCourse, str, _Tables]:
    result = run_cli(graded_course.root, "report")
    assert result.returncode == 0, result.stdout + result.stderr
    page = (graded_course.root / "grading" / "report" / "report.html").read_text()
    parser = _Tables()
    parser.feed(page)
    return graded_course, page, parser


def _outcomes(course: GradedCourse, assignment: str) -> dict[str, dict]:
    return json.loads((course.root / "grading" / "outcomes" / f"{assignment}.json").read_text())


def _gradebook(course: GradedCourse) -> Gradebook:
    return Gradebook(f"sqlite:///{course.root / 'gradebook.db'}?timeout=60")


def _body(rows: list[list[str]]) -> list[list[str]]:
    return rows[1:]  # without the header row


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_histogram_counts_equal_the_gradebook(report, assignment: str) -> None:
    course, _, tables = report
    graded = [s for s, o in _outcomes(course, assignment).items() if o["status"] == "graded"]
    with _gradebook(course) as gb:
        top = float(gb.find_assignment(assignment).max_score)
        scores = [float(gb.find_submission(assignment, s).score) for s in graded]
    expected, _ = np.histogram(scores, bins=np.linspace(0, top, BINS + 1))
    shown = [int(row[1]) for row in _body(tables.tables[f"histogram-{assignment}"])]
    assert shown == expected.tolist()
    assert sum(shown) == len(graded) > 0
    # A correct and an untouched notebook land in different bins.
    assert shown[0] >= 1 and shown[-1] + shown[-2] >= 1


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_pass_rates_equal_the_gradebook(report, assignment: str) -> None:
    course, _, tables = report
    graded = [s for s, o in _outcomes(course, assignment).items() if o["status"] == "graded"]
    passed: dict[str, int] = {}
    with _gradebook(course) as gb:
        for student in graded:
            for notebook in gb.find_submission(assignment, student).notebooks:
                for grade in notebook.grades:
                    if grade.cell_type == "code":
                        full = (grade.auto_score or 0) >= grade.max_score
                        passed[grade.name] = passed.get(grade.name, 0) + int(full)
    source = nbformat.read(course.root / "solutions" / assignment / f"{assignment}.ipynb", 4)
    hidden = {
        c.metadata["nbgrader"]["grade_id"]
        for c in source.cells
        if "BEGIN HIDDEN TESTS" in c.source and c.metadata.get("nbgrader", {}).get("grade")
    }
    rows = {row[0]: row for row in _body(tables.tables[f"tests-{assignment}"])}
    assert set(rows) == set(passed)
    for test, count in passed.items():
        row = rows[test]
        assert int(row[3]) == count, row
        assert sum(int(n) for n in row[3:6]) == len(graded), row
        assert row[6] == f"{100 * count / len(graded):.0f}%", row
        assert row[1] == ("hidden" if test in hidden else "visible"), row
    rates = [float(row[6].rstrip("%")) for row in _body(tables.tables[f"tests-{assignment}"])]
    assert rates == sorted(rates), "hardest tests first"
    assert any(rows[t][1] == "hidden" for t in rows)
    with open(course.root / "grading" / "report" / "tests.csv", newline="") as handle:
        csv_rows = [r for r in csv.DictReader(handle) if r["assignment"] == assignment]
    assert {r["test"]: int(r["passed"]) for r in csv_rows} == passed


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_ungraded_list_with_reasons(report, assignment: str) -> None:
    _, _, tables = report
    expected = {s.student: s.reason for s in SCENARIOS if s.expect is Expect.UNGRADED}
    if assignment == "ch01":
        expected[WHOLE_RUN_TIMEOUT_STUDENT] = "timeout of the whole run"
    shown = {row[0]: row[1] for row in _body(tables.tables[f"ungraded-{assignment}"])}
    assert shown == expected
    summary = {row[0]: row for row in _body(tables.tables["summary"])}
    assert int(summary[assignment][3]) == len(expected)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_flagged_list_names_the_students_whose_code_goes_after_the_grader(
    report, assignment: str
) -> None:
    course, _, tables = report
    rows = _body(tables.tables[f"flagged-{assignment}"])
    expected = {s.student for s in SCENARIOS if s.flagged and s.expect is not Expect.UNGRADED}
    assert expected and {row[0] for row in rows} == expected
    recorded = _outcomes(course, assignment)
    for student, score, found in rows:
        assert float(score) == recorded[student]["score"]
        assert found.startswith("flagged for review: replaces a library function")


def test_student_totals(report) -> None:
    course, _, tables = report
    rows = tables.tables["students"]
    header, body = rows[0], _body(rows)
    by_student = {row[0]: row for row in body}
    assert set(by_student) == {s.student for s in SCENARIOS} | {WHOLE_RUN_TIMEOUT_STUDENT}
    with _gradebook(course) as gb:
        for student, row in by_student.items():
            total = 0.0
            for column, assignment in enumerate(ASSIGNMENTS, start=1):
                assert header[column].startswith(assignment)
                outcome = _outcomes(course, assignment).get(student)
                if outcome is None:
                    assert row[column] == "no submission"
                elif outcome["status"] == "ungraded":
                    assert row[column] == f"ungraded: {outcome['reason']}"
                else:
                    score = float(gb.find_submission(assignment, student).score)
                    assert float(row[column]) == score
                    total += score
            assert float(row[-1]) == pytest.approx(total)


def test_page_is_self_contained(report) -> None:
    course, page, tables = report
    assert not re.search(r"https?://", page)
    assert not re.search(r"<(script|link|iframe)\b", page, re.I)
    assert len(tables.images) == 2 * len(ASSIGNMENTS)
    for image in tables.images:
        src = image["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert image.get("alt")
    # The report's CSV holds exactly the exported rows of the graded assignments.
    with open(course.root / "grading" / "report" / "grades.csv", newline="") as handle:
        ours = list(csv.DictReader(handle))
    assert ours == [r for r in course.csv_rows() if r["assignment"] in ASSIGNMENTS]


def test_page_renders_offline_in_chromium(report, browser) -> None:
    course, _, _ = report
    path = course.root / "grading" / "report" / "report.html"
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        heading = page.inner_text("h1")
    finally:
        page.close()
    assert heading.startswith("Grading report")
    assert len(widths) == 2 * len(ASSIGNMENTS) and all(w > 100 for w in widths)
    assert all(url.startswith(("file:", "data:")) for url in requests), requests


def test_links_to_the_similarity_report(report) -> None:
    # Before `similarity` has run, no link; after it, ch01's section links to its report.
    course, page, _ = report
    assert "similarity" not in page.lower()
    result = run_cli(course.root, "similarity", "ch01")
    assert result.returncode == 0, result.stdout + result.stderr
    out = course.root / "grading" / "report-with-similarity"
    result = run_cli(course.root, "report", "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    links = re.findall(r'href="([^"#]+)"', (out / "report.html").read_text(encoding="utf-8"))
    assert links == ["../similarity/ch01/report.html"]
    assert (out / links[0]).resolve() == (
        course.root / "grading" / "similarity" / "ch01" / "report.html"
    ).resolve()
