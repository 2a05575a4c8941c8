"""Parallel autograde: ``--jobs 2`` gives exactly the grades and outcomes of ``--jobs 1``.

Two copies of one course get the same 14 submissions (7 scenario students x
ch00, ch01: correct, unfinished, wrong, raising, looping, unreadable, killing
its kernel).  One is graded with ``--jobs 1``, the other with ``--jobs 2`` and
then graded again (a re-run must change nothing).  The gradebooks are compared
grade cell by grade cell.  Fast tests of the worker pool and of the process-tree
kill come first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ASSIGNMENTS, assert_bar_and_summary, copy_course, run_cli
from course_scenarios import SCENARIOS, build_submission
from nbgrader.api import Grade, Gradebook, SubmittedAssignment

from convkit.course.autograde import grade_assignment
from convkit.course.bounded import descendants, kill_process_tree
from convkit.course.course import Course
from convkit.course.outcomes import Outcome, Reason, Status
from convkit.course.parallel import grade_in_pool

STUDENTS = [
    "s01-solution",
    "s02-untouched",
    "s03-wrong",
    "s04-raises",
    "s05-infinite-loop",
    "s11-invalid-file",
    "s13-kills-kernel",
]
# Outcome fields that must not depend on how many jobs graded (not timings or log paths).
COMPARED = ("assignment", "student", "status", "score", "max_score", "reason", "detail", "notes")


# --- the worker pool, with a stand-in grading function (fast) --------------------------


def _fake_grade(student: str) -> Outcome:
    if student == "dies":
        os._exit(3)  # the worker process itself goes away mid-student
    if student == "raises":
        raise RuntimeError("a bug in the grading code")
    time.sleep(0.05)
    return Outcome("hw", student, Status.GRADED, score=float(len(student)), max_score=10.0)


def test_pool_survives_a_dying_worker_and_a_raising_grade() -> None:
    students = ["ann", "dies", "bob", "raises", "carla", "dan", "eve"]
    seen: list[str] = []
    outcomes = grade_in_pool(
        "hw", students, _fake_grade, jobs=2, on_outcome=lambda o: seen.append(o.student)
    )
    assert [o.student for o in outcomes] == students  # the given order, everyone once
    assert sorted(seen) == sorted(students)
    by_student = {o.student: o for o in outcomes}
    for name in ("ann", "bob", "carla", "dan", "eve"):
        assert by_student[name].status is Status.GRADED
        assert by_student[name].score == len(name)
    died = by_student["dies"]
    assert (died.status, died.reason) == (Status.UNGRADED, Reason.AUTOGRADE_ERROR)
    assert "worker died (exit status 3)" in died.detail
    raised = by_student["raises"]
    assert raised.reason is Reason.AUTOGRADE_ERROR and "RuntimeError" in raised.detail


def _picklable_result(student: str) -> str:
    time.sleep(0.05)
    return f"result of {student}"


def test_pool_gives_a_worker_its_next_student_before_recording_its_last() -> None:
    # Recording (finish) runs here while the worker already grades the next
    # student: a worker never waits for the grading side.
    students = ["ann", "bob", "carla", "dan"]
    started: list[str] = []
    started_when_finishing: dict[str, list[str]] = {}

    def finish(student: str, result: str) -> Outcome:
        started_when_finishing[student] = list(started)
        assert result == f"result of {student}"
        return Outcome("hw", student, Status.GRADED, score=1.0, max_score=1.0)

    outcomes = grade_in_pool(
        "hw", students, _picklable_result, jobs=1, on_outcome=lambda o: None,
        on_start=started.append, finish=finish,
    )
    assert [o.status for o in outcomes] == [Status.GRADED] * 4
    for i, student in enumerate(students[:-1]):
        assert students[i + 1] in started_when_finishing[student], started_when_finishing


def test_pool_rejects_zero_jobs() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        grade_in_pool("hw", ["ann"], _fake_grade, jobs=0, on_outcome=print)


def test_kill_process_tree_reaches_other_sessions() -> None:
    """The watchdog kills what the run started even in a new session (like the kernel)."""
    proc = subprocess.Popen(
        ["bash", "-c", "setsid sleep 600 & sleep 600"], stdin=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while len(descendants(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        found = descendants(proc.pid)
        assert len(found) >= 2, found
        sessions = {os.getsid(pid) for pid in found}
        assert len(sessions) == 2  # one child escaped into its own session
    finally:
        kill_process_tree(proc.pid)
    time.sleep(0.2)
    alive = [pid for pid in found if Path(f"/proc/{pid}").exists() and not _zombie(pid)]
    assert alive == []


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# --- the real thing: nbgrader on 14 submissions, 1 job against 2 ---------------------


@dataclass
class Snapshot:
    """What a grading run left: every grade cell's scores, the outcomes, row counts."""

    cells: dict[tuple[str, str, str, str], tuple]
    outcomes: dict[tuple[str, str], dict]
    submissions: int
    grades: int


def snapshot(root: Path) -> Snapshot:
    url = f"sqlite:///{root / 'gradebook.db'}?timeout=60"
    cells = {}
    with Gradebook(url) as gb:
        for assignment in ASSIGNMENTS:
            for student in STUDENTS:
                try:
                    submission = gb.find_submission(assignment, student)
                except Exception:  # never reached the gradebook (unreadable file)
                    continue
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        key = (assignment, student, notebook.name, grade.name)
                        cells[key] = (
                            grade.auto_score,
                            grade.manual_score,
                            grade.max_score,
                            grade.cell_type,
                        )
        submissions = gb.db.query(SubmittedAssignment).count()
        grades = gb.db.query(Grade).count()
    outcomes = {}
    for assignment in ASSIGNMENTS:
        path = root / "grading" / "outcomes" / f"{assignment}.json"
        for student, data in json.loads(path.read_text()).items():
            outcomes[(assignment, student)] = {k: data[k] for k in COMPARED}
    return Snapshot(cells, outcomes, submissions, grades)


@dataclass
class ParallelRuns:
    sequential: Snapshot
    parallel: Snapshot
    rerun: Snapshot
    parallel_logs: dict[str, subprocess.CompletedProcess[str]]


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> ParallelRuns:
    sequential = copy_course(tmp_path_factory.mktemp("sequential"))
    _ok(run_cli(sequential, "generate", *ASSIGNMENTS))
    chosen = [s for s in SCENARIOS if s.student in STUDENTS]
    assert len(chosen) == len(STUDENTS)
    for assignment in ASSIGNMENTS:
        notebook = f"{assignment}.ipynb"
        for scenario in chosen:
            build_submission(
                scenario,
                sequential / "solutions" / assignment / notebook,
                sequential / "exercises" / assignment / notebook,
                sequential / "submitted" / scenario.student / assignment,
            )
    parallel = tmp_path_factory.mktemp("parallel") / "course"
    shutil.copytree(sequential, parallel)  # same gradebook, same submissions

    for assignment in ASSIGNMENTS:
        _ok(run_cli(sequential, "autograde", assignment, "--jobs", "1", "--no-progress"))
    logs = {a: _ok(run_cli(parallel, "autograde", a, "--jobs", "2")) for a in ASSIGNMENTS}
    first = snapshot(parallel)
    for assignment in ASSIGNMENTS:  # the re-run (pre-flight already passed above)
        grade_assignment(Course(parallel), assignment, jobs=2, progress=False)
    return ParallelRuns(snapshot(sequential), first, snapshot(parallel), logs)


@pytest.mark.slow
def test_same_grades_with_two_jobs(runs: ParallelRuns) -> None:
    assert len(runs.sequential.outcomes) == len(STUDENTS) * len(ASSIGNMENTS) >= 12
    assert runs.parallel.cells == runs.sequential.cells
    assert runs.parallel.outcomes == runs.sequential.outcomes
    assert (runs.parallel.submissions, runs.parallel.grades) == (
        runs.sequential.submissions,
        runs.sequential.grades,
    )


@pytest.mark.slow
def test_the_scenarios_come_out_right_in_parallel(runs: ParallelRuns) -> None:
    """Not just equal: right (a wrong or unfinished one loses points, failures are reasons)."""
    for assignment in ASSIGNMENTS:
        got = {s: runs.parallel.outcomes[(assignment, s)] for s in STUDENTS}
        full = got["s01-solution"]
        assert full["status"] == "graded"
        for student in ("s02-untouched", "s03-wrong", "s04-raises", "s05-infinite-loop"):
            assert got[student]["status"] == "graded", got[student]
            assert got[student]["score"] < full["score"], got[student]
        assert got["s02-untouched"]["score"] == 0
        assert (got["s11-invalid-file"]["status"], got["s11-invalid-file"]["reason"]) == (
            "ungraded",
            "invalid notebook file",
        )
        assert (got["s13-kills-kernel"]["status"], got["s13-kills-kernel"]["reason"]) == (
            "ungraded",
            "kernel died",
        )


@pytest.mark.slow
def test_rerun_is_idempotent(runs: ParallelRuns) -> None:
    assert runs.rerun.cells == runs.parallel.cells
    assert runs.rerun.outcomes == runs.parallel.outcomes
    assert (runs.rerun.submissions, runs.rerun.grades) == (
        runs.parallel.submissions,
        runs.parallel.grades,
    )
    # Every cell of every graded submission was scored: nothing lost on the way.
    graded = {(a, s) for (a, s), o in runs.rerun.outcomes.items() if o["status"] == "graded"}
    assert graded
    for (assignment, student, _, cell), (auto, _, _, kind) in runs.rerun.cells.items():
        if (assignment, student) in graded and kind == "code":
            assert auto is not None, (assignment, student, cell)


@pytest.mark.slow
def test_one_progress_bar_and_a_summary(runs: ParallelRuns) -> None:
    for assignment, result in runs.parallel_logs.items():
        assert_bar_and_summary(result, assignment, STUDENTS)
