"""The grading side's recording: nbgrader's late-submission rules, and a run's shared
gradebook connection surviving one student's failure."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import copy_course
from course_scenarios import SCENARIOS, build_submission
from nbgrader.api import Gradebook

from convkit.course.autograde import grade_assignment
from convkit.course.course import Course, nbgrader_env
from convkit.course.generate import generate_assignment
from convkit.course.outcomes import Status

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch00"
LATE = "2026-11-21 12:00:00.000000 UTC"  # a day after the due date
ON_TIME = "2026-11-20 11:00:00.000000 UTC"


def penalties(course: Course, student: str) -> tuple[float, list[float | None]]:
    with Gradebook(course.db_url, course.course_id) as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return float(submission.score), [nb.late_submission_penalty for nb in submission.notebooks]


def course_with(tmp_path: Path, students: list[str], settings: dict | None = None) -> Course:
    """A fresh course with ch00 generated and the solution submitted by ``students``;
    ``settings`` replaces keys of its course.yml."""
    root = copy_course(tmp_path / "course")
    path = root / "course.yml"
    path.write_text(yaml.safe_dump(yaml.safe_load(path.read_text()) | (settings or {})))
    course = Course(root)
    assert generate_assignment(course, ASSIGNMENT).ok
    solution = next(s for s in SCENARIOS if s.student == "s01-solution")
    name = f"{ASSIGNMENT}.ipynb"
    for student in students:
        build_submission(
            solution,
            root / "solutions" / ASSIGNMENT / name,
            root / "exercises" / ASSIGNMENT / name,
            root / "submitted" / student / ASSIGNMENT,
        )
    return course


def test_a_late_submission_gets_the_courses_penalty_and_loses_it_when_on_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])
    # course.yml: the deadline, and a cutoff of 0 days (late work scores 0), applied at
    # autograde through nbgrader's AssignLatePenalties and the course's plugin.
    settings = {
        "deadlines": {ASSIGNMENT: "2026-11-20 12:00 UTC"},
        "late_policy": {"kind": "cutoff", "cutoff_days": 0},
    }
    course = course_with(tmp_path, ["ann"], settings)
    stamp = course.submitted_dir("ann", ASSIGNMENT) / "timestamp.txt"

    stamp.write_text(LATE)
    [outcome] = grade_assignment(course, ASSIGNMENT, ["ann"], progress=False)
    score, late = penalties(course, "ann")
    assert outcome.score == score > 0
    assert late == [score]  # 'zero': the penalty is the whole score

    stamp.write_text(ON_TIME)
    grade_assignment(course, ASSIGNMENT, ["ann"], progress=False, regrade=True)
    assert penalties(course, "ann") == (score, [None])  # the old penalty is gone


def test_a_database_error_recording_one_student_leaves_the_next_one_graded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run records every student through one gradebook connection: a failed flush
    # for one student must not leave that connection unusable for the others.
    from nbgrader.api import Student

    from convkit.course import record

    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])
    course = course_with(tmp_path, ["ann", "bob"])
    save = record.SaveAutoGradesThrough.preprocess

    def failing_for_ann(self, nb, resources):
        if resources["nbgrader"]["student"] == "ann":
            self._open_gradebook.db.add(Student(id="ann"))  # a duplicate: the flush fails
            self._open_gradebook.db.flush()
        return save(self, nb, resources)

    monkeypatch.setattr(record.SaveAutoGradesThrough, "preprocess", failing_for_ann)
    ann, bob = grade_assignment(course, ASSIGNMENT, ["ann", "bob"], progress=False)
    assert ann.status is Status.UNGRADED and "IntegrityError" in ann.detail
    assert not course.autograded_dir("ann", ASSIGNMENT).exists()  # nothing half-recorded
    assert bob.status is Status.GRADED, bob.summary
    monkeypatch.undo()
    [again] = grade_assignment(course, ASSIGNMENT, ["ann"], progress=False)
    assert again.status is Status.GRADED and again.score == bob.score > 0  # the same solution
