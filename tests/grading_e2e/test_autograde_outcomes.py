"""Each scenario student's outcome after ``python -m convkit.course autograde`` (real nbgrader)."""

from __future__ import annotations

import json

import nbformat
import pytest
from conftest import ASSIGNMENTS, WHOLE_RUN_TIMEOUT, WHOLE_RUN_TIMEOUT_STUDENT, GradedCourse
from course_scenarios import SCENARIOS, WRONG_STUDENT, Expect, Scenario, hidden_test_functions
from nbgrader.api import Gradebook

from convkit.course.outcomes import REVIEW_NOTE

pytestmark = pytest.mark.slow


def outcomes(course: GradedCourse, assignment: str) -> dict[str, dict]:
    """The recorded outcomes (grading/outcomes/<assignment>.json)."""
    path = course.root / "grading" / "outcomes" / f"{assignment}.json"
    return json.loads(path.read_text())


def cell_scores(course: GradedCourse, assignment: str, student: str) -> dict[str, tuple]:
    """grade_id -> (auto_score, max_score, cell_type) from the copy's gradebook."""
    url = f"sqlite:///{course.root / 'gradebook.db'}?timeout=60"
    with Gradebook(url) as gb:
        submission = gb.find_submission(assignment, student)
        return {
            g.name: (g.auto_score, float(g.max_score), g.cell_type)
            for nb in submission.notebooks
            for g in nb.grades
        }


def autograded_errors(course: GradedCourse, assignment: str, student: str) -> str:
    """The errors (name: message) shown in the student's autograded notebook."""
    folder = course.root / "autograded" / student / assignment
    errors = []
    for path in folder.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    errors.append(f"{output['ename']}: {output['evalue']}")
    return "\n".join(errors)


CASES = [(s, a) for a in ASSIGNMENTS for s in SCENARIOS]


@pytest.mark.parametrize(
    ("scenario", "assignment"), CASES, ids=[f"{a}-{s.student}" for s, a in CASES]
)
def test_student_outcome(graded_course: GradedCourse, scenario: Scenario, assignment: str) -> None:
    outcome = outcomes(graded_course, assignment)[scenario.student]
    if scenario.expect is Expect.UNGRADED:
        assert outcome["status"] == "ungraded", outcome
        assert outcome["reason"] == scenario.reason, outcome
        assert outcome["score"] is None
        assert not (graded_course.root / "autograded" / scenario.student / assignment).exists()
        return

    assert outcome["status"] == "graded", outcome
    review = [note for note in outcome["notes"] if note.startswith(REVIEW_NOTE)]
    assert bool(review) == scenario.flagged, outcome["notes"]
    if scenario.flagged:  # the note quotes the line a reviewer should read
        assert "replaces a library function" in review[0] and "np.allclose" in review[0]
    scores = cell_scores(graded_course, assignment, scenario.student)
    auto = {cell: (score, top) for cell, (score, top, kind) in scores.items() if kind == "code"}
    assert auto and all(score is not None for score, _ in auto.values()), auto
    total = sum(score for score, _ in auto.values())
    full = sum(top for _, top in auto.values())
    if scenario.expect is Expect.FULL_MARKS:
        assert total == full > 0, auto
    elif scenario.expect is Expect.ZERO:
        assert total == 0, auto
    elif scenario.expect is Expect.NOT_FULL:
        assert total < full, auto
    elif scenario.expect is Expect.SAME_AS_WRONG:
        wrong = cell_scores(graded_course, assignment, WRONG_STUDENT)
        assert {c: s for c, (s, _, k) in wrong.items() if k == "code"} == {
            c: s for c, (s, _) in auto.items()
        }
        assert total < full
        assert outcome["notes"], "the repair of the test cells must be reported"
    elif scenario.expect is Expect.NO_HIDDEN_CREDIT:
        shortcuts = graded_course.shortcuts[(scenario.student, assignment)]
        assert shortcuts, "this assignment gives the scenario nothing to take a shortcut on"
        source = graded_course.root / "solutions" / assignment
        hidden = {}
        for path in source.glob("*.ipynb"):
            hidden.update(hidden_test_functions(nbformat.read(path, as_version=4)))
        checked = [cell for cell, fn in hidden.items() if fn in shortcuts]
        assert checked, f"no hidden tests cover {shortcuts}"
        assert all(auto[cell][0] == 0 for cell in checked), {c: auto[c] for c in checked}
    if scenario.output_marker:
        assert scenario.output_marker in autograded_errors(
            graded_course, assignment, scenario.student
        )


def test_every_submission_has_an_outcome(graded_course: GradedCourse) -> None:
    """No student's failure stopped the others: every submission got an outcome."""
    for assignment in ASSIGNMENTS:
        recorded = outcomes(graded_course, assignment)
        submitted = {
            p.name
            for p in (graded_course.root / "submitted").iterdir()
            if (p / assignment).is_dir()
        }
        assert submitted <= set(recorded)
        graded = [s for s, o in recorded.items() if o["status"] == "graded"]
        expected_graded = [s.student for s in SCENARIOS if s.expect is not Expect.UNGRADED]
        assert set(expected_graded) <= set(graded)


def test_summary_printed_per_student(graded_course: GradedCourse) -> None:
    for assignment in ASSIGNMENTS:
        out = graded_course.logs[f"autograde {assignment}"].stdout
        assert "[PASS] reference solutions get full marks" in out
        for scenario in SCENARIOS:
            line = next(
                line for line in out.splitlines() if line.startswith(scenario.student + " ")
            )
            if scenario.expect is Expect.UNGRADED:
                assert f"UNGRADED: {scenario.reason}" in line
            else:
                assert "/" in line and "UNGRADED" not in line


def test_whole_run_timeout(graded_course: GradedCourse) -> None:
    outcome = outcomes(graded_course, "ch01")[WHOLE_RUN_TIMEOUT_STUDENT]
    assert outcome["status"] == "ungraded"
    assert outcome["reason"] == "timeout of the whole run"
    assert outcome["seconds"] < WHOLE_RUN_TIMEOUT + 10


def test_bounded_runs(graded_course: GradedCourse) -> None:
    """The infinite loop and the 30 GiB allocation end quickly (timeout / memory cap)."""
    for assignment in ASSIGNMENTS:
        recorded = outcomes(graded_course, assignment)
        assert recorded["s05-infinite-loop"]["seconds"] < 120
        assert recorded["s14-memory-hog"]["seconds"] < 60
