"""Autograde submissions: one job per student, run by workers, recorded here.

Three steps per submission (see ``jobs`` and ``record``):
:func:`prepare_job` reads the submission into a job (or decides it cannot be
graded); a worker runs it (``jobs.execute_job``: nbgrader in a throw-away
course, bounded, the student's code in the grading sandbox); :func:`finish_job`
records the result: gradebook, ``autograded/``, log, outcome.  Only this
process writes the course.  :func:`grade_assignment` does it for every student
with one progress bar, the workers being this process, ``jobs`` local worker
processes (``parallel``) or a Dask cluster (``cluster``).  Grades do not depend
on who ran the jobs.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from tqdm import tqdm

from convkit.course.course import Course, graded_test_sources
from convkit.course.jobs import (
    AssignmentKit,
    GradingJob,
    JobResult,
    build_kit,
    execute_job,
    read_submission,
)
from convkit.course.outcomes import (
    REVIEW_NOTE,
    Outcome,
    Reason,
    Status,
    classify_failure,
    load_outcomes,
    record_outcome,
)
from convkit.course.parallel import error_outcome, grade_in_pool, grade_safely
from convkit.course.record import (
    ResultMismatch,
    forget_grades,
    read_score,
    save_grades,
    write_log,
)
from convkit.grading.tamper_scan import scan_notebook

DEFAULT_RUN_TIMEOUT = 900.0  # seconds for one student's whole autograde run
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


def log_path_for(course: Course, assignment: str, student: str) -> Path:
    """Where the autograde log of one student's run is written."""
    return course.grading_dir / "logs" / assignment / f"{student}.log"


def prepare_job(
    course: Course, kit: AssignmentKit, assignment: str, student: str
) -> GradingJob | Outcome:
    """The grading job of one submission, or its outcome when there is nothing to run
    (no submission; a missing, renamed, unreadable or oversized notebook)."""
    problem = check_submission_files(course, assignment, student)
    if problem is not None:
        if problem.status is Status.UNGRADED:
            forget_grades(course, assignment, student)
        return problem
    try:
        files = read_submission(course.submitted_dir(student, assignment))
    except ValueError as exc:
        forget_grades(course, assignment, student)
        return Outcome(
            assignment, student, Status.UNGRADED, reason=Reason.INVALID_NOTEBOOK, detail=str(exc)
        )
    return GradingJob(assignment, student, files, kit.fingerprint)


def finish_job(
    course: Course, job: GradingJob, result: JobResult, gb: Gradebook | None = None
) -> Outcome:
    """Record a worker's result of ``job`` (grading side): the log, then the grades or,
    for a run that failed, the reason and no score at all.  ``gb``: the course's
    gradebook, open already (a run recording many results keeps one open: opening
    it costs more than recording one student's scores); else it is opened here."""
    assignment, student = job.assignment, job.student
    log_path = log_path_for(course, assignment, student)
    write_log(log_path, result)
    log_name = str(log_path.relative_to(course.root))

    def ungraded(reason: Reason, detail: str) -> Outcome:
        forget_grades(course, assignment, student)
        return Outcome(
            assignment,
            student,
            Status.UNGRADED,
            reason=reason,
            detail=detail,
            seconds=result.seconds,
            log=log_name,
            fingerprint=job.fingerprint,
        )

    if result.timed_out:
        return ungraded(Reason.RUN_TIMEOUT, f"stopped after {result.seconds:.0f} s")
    if not result.ok:
        return ungraded(*classify_failure(result.log))
    with contextlib.ExitStack() as stack:
        if gb is None:
            gb = stack.enter_context(Gradebook(course.db_url, course.course_id))
        try:
            save_grades(course, gb, job, result)
            score, max_score, unscored = read_score(gb, assignment, student)
        except BaseException as exc:
            gb.db.rollback()  # the connection stays usable for the run's next student
            if not isinstance(exc, ResultMismatch):
                forget_grades(course, assignment, student)  # no half-recorded result stays
                raise
            mismatch = str(exc)
        else:
            mismatch = ""
    if mismatch:
        return ungraded(Reason.AUTOGRADE_ERROR, f"graded notebook rejected: {mismatch}")
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
        seconds=result.seconds,
        log=log_name,
        fingerprint=job.fingerprint,
    )


def grade_submission(
    course: Course,
    assignment: str,
    student: str,
    *,
    run_timeout: float = DEFAULT_RUN_TIMEOUT,
    sandbox: bool = True,
    kit: AssignmentKit | None = None,
) -> Outcome:
    """Autograde ``submitted/<student>/<assignment>`` here and return what happened.

    The job (:func:`prepare_job`) runs in this process's worker code
    (``convkit.course.jobs.execute_job``: nbgrader in a throw-away course, killed
    with its kernel after ``run_timeout`` seconds, the kernel in the grading
    sandbox unless ``sandbox`` is False); :func:`finish_job` records it.  On any
    failure the student's stale grades and autograded/feedback files are
    removed, so an old score can never pass for the new one.
    """
    start = time.monotonic()
    kit = kit if kit is not None else build_kit(course, assignment)
    prepared = prepare_job(course, kit, assignment, student)
    if isinstance(prepared, Outcome):
        prepared.seconds = time.monotonic() - start
        return prepared
    result = execute_job(kit, prepared, run_timeout=run_timeout, sandbox=sandbox)
    outcome = finish_job(course, prepared, result)
    outcome.sandboxed = sandbox
    return outcome


def _still_in_gradebook(course: Course, outcome: Outcome) -> bool:
    """Whether the gradebook still holds ``outcome``'s graded submission and its score."""
    try:
        with Gradebook(course.db_url, course.course_id) as gb:
            score, _, _ = read_score(gb, outcome.assignment, outcome.student)
    except MissingEntry:
        return False
    folder = course.autograded_dir(outcome.student, outcome.assignment)
    return score == outcome.score and folder.is_dir()


def grade_assignment(
    course: Course,
    assignment: str,
    students: Iterable[str] | None = None,
    *,
    run_timeout: float = DEFAULT_RUN_TIMEOUT,
    progress: bool = True,
    jobs: int = 1,
    sandbox: bool = True,
    scheduler: str | None = None,
    regrade: bool = False,
    kit: AssignmentKit | None = None,
) -> list[Outcome]:
    """Grade every student (or the given ones) of ``assignment``; record each outcome.

    Each submission becomes a job (``convkit.course.jobs``) that a worker runs:
    ``jobs`` local worker processes (``jobs=1``: this process), or the workers
    of the Dask cluster at ``scheduler`` (``convkit.course.cluster``).  This
    process alone records the results, as they come; the grades are the same
    whoever ran the jobs.  One student's failure, including an unexpected error
    in this code or a worker that dies, never stops the others: it becomes an
    UNGRADED outcome with the reason.  A submission already graded from the same
    files with the same assignment is not graded again unless ``regrade``, so a
    run that was interrupted finishes the rest when started again.
    ``sandbox=False`` runs student code with this process's permissions
    (see ``convkit.course.sandbox``); every outcome then says so.  Returns the
    outcomes in student order.  ``kit``: the assignment's kit when already built
    (``jobs.build_kit``).
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    chosen = sorted(students) if students is not None else course.submitted_students(assignment)
    kit = kit if kit is not None else build_kit(course, assignment)
    recorded = load_outcomes(course, assignment)
    tqdm.monitor_interval = 0  # no monitor thread: grading forks child processes
    bar = tqdm(total=len(chosen), desc=f"autograde {assignment}", unit="sub", disable=not progress)
    running: set[str] = set()
    outcomes: dict[str, Outcome] = {}

    def started(student: str) -> None:
        running.add(student)
        bar.set_postfix_str(", ".join(sorted(running)), refresh=True)

    def finished(outcome: Outcome, *, unchanged: bool = False) -> None:
        if outcome.student in outcomes:  # a job that ran twice (a worker died): first wins
            return
        outcomes[outcome.student] = outcome
        if not unchanged:
            outcome.graded_at = datetime.now(UTC).isoformat(timespec="seconds")
            before = recorded.get(outcome.student)
            if before is not None and Status.NO_SUBMISSION not in (before.status, outcome.status):
                outcome.regraded_from = before.previous_summary
            record_outcome(course, outcome)
        running.discard(outcome.student)
        bar.update(1)
        bar.set_postfix_str(", ".join(sorted(running)))
        if progress:
            suffix = "  (unchanged since it was graded: not graded again)" if unchanged else ""
            bar.write(f"{outcome.student}: {outcome.summary}{suffix}")

    def finish(student: str, result: JobResult) -> Outcome:
        outcome = finish_job(course, to_run[student], result, gradebook)
        outcome.sandboxed = sandbox
        return outcome

    to_run: dict[str, GradingJob] = {}
    # One gradebook connection records every result of the run (workers never use it).
    with bar, Gradebook(course.db_url, course.course_id) as gradebook:
        for student in chosen:
            prepared = grade_safely(
                lambda s: prepare_job(course, kit, assignment, s), assignment, student
            )
            if isinstance(prepared, Outcome):
                finished(prepared)
                continue
            before = recorded.get(student)
            if (
                not regrade
                and before is not None
                and before.status is Status.GRADED
                and before.fingerprint == prepared.fingerprint
                and (before.sandboxed is not False or not sandbox)
                and _still_in_gradebook(course, before)
            ):
                finished(before, unchanged=True)
                continue
            to_run[student] = prepared
        pending = sorted(to_run)
        if scheduler is not None:
            from convkit.course.cluster import grade_on_cluster

            grade_on_cluster(
                scheduler,
                kit,
                [to_run[s] for s in pending],
                run_timeout=run_timeout,
                sandbox=sandbox,
                on_result=lambda s, r: finished(
                    grade_safely(lambda _: finish(s, r), assignment, s)
                ),
                on_error=lambda s, why: finished(error_outcome(assignment, s, why)),
            )
        elif jobs == 1 or len(pending) <= 1 or not hasattr(os, "fork"):

            def run_here(s: str) -> Outcome:
                result = execute_job(kit, to_run[s], run_timeout=run_timeout, sandbox=sandbox)
                return finish(s, result)

            for student in pending:
                started(student)
                finished(grade_safely(run_here, assignment, student))
        else:
            import nbgrader.apps.nbgraderapp  # noqa: F401  (the workers inherit it: warm starts)

            grade_in_pool(
                assignment,
                pending,
                lambda s: execute_job(kit, to_run[s], run_timeout=run_timeout, sandbox=sandbox),
                jobs=jobs,
                on_outcome=finished,
                on_start=started,
                finish=finish,
            )
    return [outcomes[s] for s in chosen]
