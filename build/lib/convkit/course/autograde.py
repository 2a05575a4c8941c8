"""Autograde submissions: each student in its own bounded nbgrader process, several at once.

:func:`grade_submission` grades one student's submission and returns an
:class:`Outcome`; it never raises for a bad submission.  Its nbgrader run is a
child process under OS-enforced limits (wall clock, CPU time, memory: see
``bounded``).  :func:`grade_assignment` runs it for every student, in ``jobs``
worker processes at once (see ``parallel`` for the design), with one progress
bar, and records each outcome.  Grades do not depend on ``jobs``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, InvalidEntry, MissingEntry
from tqdm import tqdm

from convkit.course.bounded import run_bounded
from convkit.course.course import Course, graded_test_sources
from convkit.course.outcomes import (
    REVIEW_NOTE,
    Outcome,
    Reason,
    Status,
    classify_failure,
    record_outcome,
)
from convkit.course.parallel import grade_in_pool, grade_safely
from convkit.course.runner import NbgraderRun, run_nbgrader
from convkit.grading.tamper_scan import scan_notebook

DEFAULT_RUN_TIMEOUT = 900.0  # seconds for one student's whole autograde run
# A run that failed only because sqlite stayed locked beyond the URL's timeout
# is the environment's fault, not the student's: it is run again.
DB_LOCKED = "database is locked"
DB_LOCKED_ATTEMPTS = 3
REVIEW_SHOWN = 3  # findings quoted in the note


def check_submission_files(course: Course, assignment: str, student: str) -> Outcome | None:
    """An UNGRADED/NO_SUBMISSION outcome if the files cannot be graded, else None.

    Checks that every notebook of the assignment is there under its own name
    (nbgrader would score a renamed notebook 0) and is a valid notebook file.
    """
    folder = course.submitted_dir(student, assignment)
    if not folder.is_dir():
        return Outcome(assignment, student, Status.NO_SUBMISSION)
    expected = course.notebook_names(assignment)
    present = sorted(p.name for p in folder.glob("*.ipynb"))
    missing = [name for name in expected if name not in present]
    if missing:
        extra = [name for name in present if name not in expected]
        reason = Reason.RENAMED_NOTEBOOK if extra else Reason.MISSING_NOTEBOOK
        detail = f"expected {', '.join(missing)}" + (f"; found {', '.join(extra)}" if extra else "")
        return Outcome(assignment, student, Status.UNGRADED, reason=reason, detail=detail)
    for name in expected:
        try:
            nb = nbformat.read(folder / name, as_version=nbformat.NO_CONVERT)
            nbformat.validate(nb)
        except Exception as exc:  # any parse or schema error makes the file ungradable
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            detail = f"{name}: {first_line[:200]}"
            return Outcome(
                assignment, student, Status.UNGRADED, reason=Reason.INVALID_NOTEBOOK, detail=detail
            )
    return None


def tampering_notes(course: Course, assignment: str, student: str) -> list[str]:
    """Test cells of the release that the submission deleted or edited (nbgrader restores them)."""
    deleted: list[str] = []
    edited: list[str] = []
    for name in course.notebook_names(assignment):
        release_path = course.release_dir(assignment) / name
        if not release_path.is_file():
            continue
        released = graded_test_sources(nbformat.read(release_path, as_version=4))
        submitted = graded_test_sources(
            nbformat.read(course.submitted_dir(student, assignment) / name, as_version=4)
        )
        for cell_id, source in released.items():
            if cell_id not in submitted:
                deleted.append(cell_id)
            elif submitted[cell_id] != source:
                edited.append(cell_id)
    notes = []
    if deleted:
        notes.append(f"{len(deleted)} deleted test cell(s) put back: {', '.join(deleted)}")
    if edited:
        notes.append(f"{len(edited)} edited test cell(s) restored: {', '.join(edited)}")
    return notes


def review_notes(course: Course, assignment: str, student: str) -> list[str]:
    """One note, or none, naming the lines of the student's own cells that go after the
    grader rather than the exercise (:func:`convkit.grading.scan_notebook`): rebinding
    the grading helpers, swapping modules, profiling hooks, threads.  The score stands;
    the note asks a human to look."""
    findings = []
    for name in course.notebook_names(assignment):
        path = course.submitted_dir(student, assignment) / name
        if path.is_file():
            findings.extend(scan_notebook(nbformat.read(path, as_version=4)))
    if not findings:
        return []
    quoted = "; ".join(
        f"{f.reason} ({f.cell}, line {f.line}: {f.text[:60]})" for f in findings[:REVIEW_SHOWN]
    )
    more = len(findings) - REVIEW_SHOWN
    return [f"{REVIEW_NOTE}: {quoted}" + (f"; and {more} more line(s)" if more > 0 else "")]


def register_student(course: Course, student: str, attempts: int = 5) -> None:
    """Make sure ``student`` is in the gradebook, even while other runs add students.

    nbgrader's own ``update_or_create_student`` looks the student up and then
    inserts, so two autograde runs sharing a gradebook (two assignments graded
    at once, or parallel workers) can both miss the student and one insert
    fails with ``UNIQUE constraint failed: student.id``.  Registering first,
    and treating a lost race as success once the row is visible, removes that.
    """
    for _ in range(attempts):
        with Gradebook(course.db_url, course.course_id) as gb:
            try:
                gb.find_student(student)
                return
            except MissingEntry:
                pass
            try:
                gb.add_student(student)
                return
            except InvalidEntry:  # another run inserted it first: look again
                time.sleep(0.05)
    raise RuntimeError(f"could not register student {student!r} in the gradebook")


def log_path_for(course: Course, assignment: str, student: str) -> Path:
    """Where the autograde log of one student's run is written."""
    return course.grading_dir / "logs" / assignment / f"{student}.log"


def grade_submission(
    course: Course,
    assignment: str,
    student: str,
    *,
    run_timeout: float = DEFAULT_RUN_TIMEOUT,
) -> Outcome:
    """Autograde ``submitted/<student>/<assignment>`` and return what happened.

    Runs ``nbgrader autograde ASSIGNMENT --student STUDENT --force`` in a child
    process killed (with its kernel) after ``run_timeout`` seconds.  On any
    failure the student's stale grades and autograded/feedback files are
    removed, so an old score can never pass for the new one.
    """
    start = time.monotonic()
    problem = check_submission_files(course, assignment, student)
    if problem is not None:
        if problem.status is Status.UNGRADED:
            _forget_grades(course, assignment, student)
        problem.seconds = time.monotonic() - start
        return problem

    register_student(course, student)
    log_path = log_path_for(course, assignment, student)
    run = _autograde_run(course, assignment, student, run_timeout, log_path)
    log_name = str(log_path.relative_to(course.root))
    if run.timed_out:
        _forget_grades(course, assignment, student)
        return Outcome(
            assignment,
            student,
            Status.UNGRADED,
            reason=Reason.RUN_TIMEOUT,
            detail=f"stopped after {run_timeout:g} s",
            seconds=run.seconds,
            log=log_name,
        )
    if not run.ok:
        reason, detail = classify_failure(run.log)
        _forget_grades(course, assignment, student)
        return Outcome(
            assignment,
            student,
            Status.UNGRADED,
            reason=reason,
            detail=detail,
            seconds=run.seconds,
            log=log_name,
        )
    score, max_score, unscored = _read_score(course, assignment, student)
    notes = tampering_notes(course, assignment, student)
    notes.extend(review_notes(course, assignment, student))
    if unscored:
        notes.append(f"needs manual grading: {', '.join(unscored)}")
    return Outcome(
        assignment,
        student,
        Status.GRADED,
        score=score,
        max_score=max_score,
        notes=notes,
        seconds=run.seconds,
        log=log_name,
    )


def _autograde_run(
    course: Course, assignment: str, student: str, run_timeout: float, log_path: Path
) -> NbgraderRun:
    """One bounded ``nbgrader autograde`` of one student, run again if sqlite stayed locked."""
    args = ["autograde", assignment, "--student", student, "--force"]
    for attempt in range(1, DB_LOCKED_ATTEMPTS + 1):
        if hasattr(os, "fork"):
            run = run_bounded(course, args, timeout=run_timeout, log_path=log_path)
        else:  # no fork: a fresh interpreter, still killed after run_timeout
            run = run_nbgrader(course, args, timeout=run_timeout, log_path=log_path)
        if run.ok or run.timed_out or DB_LOCKED not in run.log or attempt == DB_LOCKED_ATTEMPTS:
            return run
        time.sleep(attempt)
    raise AssertionError("unreachable")


def _read_score(course: Course, assignment: str, student: str) -> tuple[float, float, list[str]]:
    """(score, max score, ids of grade cells without any score) from the gradebook."""
    with Gradebook(course.db_url, course.course_id) as gb:
        submission = gb.find_submission(assignment, student)
        unscored = [
            grade.name
            for notebook in submission.notebooks
            for grade in notebook.grades
            if grade.auto_score is None and grade.manual_score is None
        ]
        return float(submission.score), float(submission.max_score), unscored


def _forget_grades(course: Course, assignment: str, student: str) -> None:
    """Clear this submission's automatic scores and its autograded/feedback folders."""
    for folder in (
        course.autograded_dir(student, assignment),
        course.feedback_dir(student, assignment),
    ):
        if folder.is_dir():
            shutil.rmtree(folder)
    try:
        with Gradebook(course.db_url, course.course_id) as gb:
            submission = gb.find_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = None
                    grade.needs_manual_grade = True
            gb.db.commit()
    except MissingEntry:
        pass


def grade_assignment(
    course: Course,
    assignment: str,
    students: Iterable[str] | None = None,
    *,
    run_timeout: float = DEFAULT_RUN_TIMEOUT,
    progress: bool = True,
    jobs: int = 1,
) -> list[Outcome]:
    """Grade every student (or the given ones) of ``assignment``; record each outcome.

    ``jobs`` students are graded at once, each by a worker process (``jobs=1``:
    one after another in this process); the grades are the same either way.
    One student's failure, including an unexpected error in this code or a
    worker that dies, never stops the others: it becomes an UNGRADED outcome
    with the reason.  Returns the outcomes in student order.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    chosen = sorted(students) if students is not None else course.submitted_students(assignment)
    tqdm.monitor_interval = 0  # no monitor thread: grading forks child processes
    bar = tqdm(total=len(chosen), desc=f"autograde {assignment}", unit="sub", disable=not progress)
    running: set[str] = set()

    def started(student: str) -> None:
        running.add(student)
        bar.set_postfix_str(", ".join(sorted(running)), refresh=True)

    def finished(outcome: Outcome) -> None:
        record_outcome(course, outcome)
        running.discard(outcome.student)
        bar.update(1)
        bar.set_postfix_str(", ".join(sorted(running)))
        if progress:
            bar.write(f"{outcome.student}: {outcome.summary}")

    def grade(student: str) -> Outcome:
        return grade_submission(course, assignment, student, run_timeout=run_timeout)

    with bar:
        if jobs == 1 or len(chosen) <= 1 or not hasattr(os, "fork"):
            outcomes = []
            for student in chosen:
                started(student)
                outcome = grade_safely(grade, assignment, student)
                finished(outcome)
                outcomes.append(outcome)
            return outcomes
        import nbgrader.apps.nbgraderapp  # noqa: F401  (the workers inherit it: warm starts)

        return grade_in_pool(
            assignment, chosen, grade, jobs=jobs, on_outcome=finished, on_start=started
        )
