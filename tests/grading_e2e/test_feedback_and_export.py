"""Feedback shows no hidden test; grades.csv marks ungraded submissions instead of scoring 0."""

from __future__ import annotations

import html
import re

import nbformat
import pytest
from conftest import ASSIGNMENTS, WHOLE_RUN_TIMEOUT_STUDENT, GradedCourse
from course_scenarios import SCENARIOS, WRONG_STUDENT, Expect, is_test_cell

pytestmark = pytest.mark.slow


def hidden_lines(notebook: nbformat.NotebookNode) -> set[str]:
    """Source lines inside hidden-test regions that appear nowhere else in the notebook."""
    hidden, shown = set(), []
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside:
                hidden.add(line.strip())
            else:
                shown.append(line)
    shown_text = "\n".join(shown)
    return {line for line in hidden if len(line) >= 8 and line not in shown_text}


def page_text(path) -> str:
    raw = path.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", "", raw, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_leaks_no_hidden_test(graded_course: GradedCourse, assignment: str) -> None:
    source = nbformat.read(graded_course.root / "solutions" / assignment / f"{assignment}.ipynb", 4)
    secret = hidden_lines(source)
    assert secret, "the assignment should have hidden tests"
    # The autograded notebooks do hold the hidden tests (so the check below can fail).
    autograded = (
        graded_course.root / "autograded" / WRONG_STUDENT / assignment / f"{assignment}.ipynb"
    )
    assert any(line in autograded.read_text() for line in secret)
    pages = list((graded_course.root / "feedback").glob(f"*/{assignment}/*.html"))
    graded = [s.student for s in SCENARIOS if s.expect is not Expect.UNGRADED]
    assert {p.parts[-3] for p in pages} == set(graded)
    for page in pages:
        text = page_text(page)
        leaked = sorted(line for line in secret if line in text)
        assert not leaked, f"{page} shows hidden test lines: {leaked}"
        assert "HIDDEN TESTS" not in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_visible_failures_in_full(
    graded_course: GradedCourse, assignment: str
) -> None:
    source = nbformat.read(graded_course.root / "solutions" / assignment / f"{assignment}.ipynb", 4)
    visible = next(c for c in source.cells if is_test_cell(c) and "HIDDEN" not in c.source)
    text = page_text(
        graded_course.root / "feedback" / WRONG_STUDENT / assignment / f"{assignment}.html"
    )
    for line in visible.source.splitlines():
        if line.strip():
            assert line.strip() in text, f"visible test line missing from feedback: {line!r}"
    assert "Traceback" in text and "GradingFailure" in text


def test_csv_marks_ungraded(graded_course: GradedCourse) -> None:
    rows = graded_course.csv_rows()
    by_key = {(r["assignment"], r["student_id"]): r for r in rows}
    for assignment in ASSIGNMENTS:
        for scenario in SCENARIOS:
            row = by_key[(assignment, scenario.student)]
            if scenario.expect is Expect.UNGRADED:
                assert row["status"] == "ungraded"
                assert row["reason"] == scenario.reason
                assert row["score"] == "" and row["raw_score"] == ""
            else:
                assert row["status"] == "graded"
                assert row["reason"] == ""
                assert float(row["score"]) <= float(row["max_score"])
                assert row["timestamp"].startswith("2026-11-20 10:00:00")
        solution = by_key[(assignment, "s01-solution")]
        assert solution["needs_manual_grading"] in {"yes", "no"}
        untouched = by_key[(assignment, "s02-untouched")]
        assert float(untouched["score"]) == 0.0
    slow = by_key[("ch01", WHOLE_RUN_TIMEOUT_STUDENT)]
    assert (slow["status"], slow["reason"], slow["score"]) == (
        "ungraded",
        "timeout of the whole run",
        "",
    )
    # A student with no ch00 submission is listed as such, not as 0.
    missing = by_key[("ch00", WHOLE_RUN_TIMEOUT_STUDENT)]
    assert (missing["status"], missing["score"]) == ("no submission", "")


def test_csv_scores_match_gradebook_outcomes(graded_course: GradedCourse) -> None:
    import json

    rows = {(r["assignment"], r["student_id"]): r for r in graded_course.csv_rows()}
    for assignment in ASSIGNMENTS:
        recorded = json.loads(
            (graded_course.root / "grading" / "outcomes" / f"{assignment}.json").read_text()
        )
        for student, outcome in recorded.items():
            if outcome["status"] == "graded":
                assert float(rows[(assignment, student)]["score"]) == pytest.approx(
                    outcome["score"]
                )


def test_plain_nbgrader_export_marks_ungraded_too(graded_course: GradedCourse) -> None:
    """nbgrader_config.py routes `nbgrader export` through the same outcome-aware CSV."""
    import subprocess
    import sys

    from conftest import course_env

    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", "raw.csv"],
        cwd=graded_course.root,
        env=course_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert (graded_course.root / "raw.csv").read_text() == (
        graded_course.root / "grades.csv"
    ).read_text()
