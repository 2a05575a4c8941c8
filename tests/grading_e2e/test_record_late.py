"""The grading side applies nbgrader's late-submission rules when it records a result."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from conftest import copy_course
from course_scenarios import SCENARIOS, build_submission
from nbgrader.api import Gradebook

from convkit.course.autograde import grade_assignment
from convkit.course.course import Course, nbgrader_env
from convkit.course.generate import generate_assignment

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch00"
DUE = datetime.datetime(2026, 11, 20, 12, 0, 0)
LATE = "2026-11-21 12:00:00.000000 UTC"  # a day after the due date
ON_TIME = "2026-11-20 11:00:00.000000 UTC"


def penalties(course: Course, student: str) -> tuple[float, list[float | None]]:
    with Gradebook(course.db_url, course.course_id) as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return float(submission.score), [nb.late_submission_penalty for nb in submission.notebooks]


def test_a_late_submission_gets_the_courses_penalty_and_loses_it_when_on_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])
    root = copy_course(tmp_path / "course")
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write("c.LateSubmissionPlugin.penalty_method = 'zero'  # added by the test\n")
    course = Course(root)
    assert generate_assignment(course, ASSIGNMENT).ok
    with Gradebook(course.db_url, course.course_id) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=DUE)
    solution = next(s for s in SCENARIOS if s.student == "s01-solution")
    folder = root / "submitted" / "ann" / ASSIGNMENT
    name = f"{ASSIGNMENT}.ipynb"
    build_submission(
        solution, root / "solutions" / ASSIGNMENT / name, root / "exercises" / ASSIGNMENT / name,
        folder,
    )

    (folder / "timestamp.txt").write_text(LATE)
    [outcome] = grade_assignment(course, ASSIGNMENT, ["ann"], progress=False)
    score, late = penalties(course, "ann")
    assert outcome.score == score > 0
    assert late == [score]  # 'zero': the penalty is the whole score

    (folder / "timestamp.txt").write_text(ON_TIME)
    grade_assignment(course, ASSIGNMENT, ["ann"], progress=False, regrade=True)
    assert penalties(course, "ann") == (score, [None])  # the old penalty is gone
