"""Grade many submissions at once: a pool of local worker processes.

Design
------
Where the time goes (profiled on ch01, this 2-core machine): a submission costs
about 2 s of CPU, about 0.6 s in nbgrader (sanitising, checksums, its
throw-away gradebook) and 1.4 s in the kernel (starting IPython, running the
cells); the grading side's recording adds about 0.1 s (one gradebook connection
for the run, ``autograde.grade_assignment``); a fresh Python that imports
nbgrader would cost 2.5 s more.  The wait for a quiet IOPub that
jupyter_client adds to every kernel start is gone (``prompt_kernel``).  The
per-student overhead worth cutting is therefore process start-up, so the pool

- forks its ``jobs`` workers from the parent after nbgrader is imported: every
  worker starts warm, and so does every per-student run forked from a worker
  (with the garbage collector's objects frozen, so the fork copies few pages);
- hands out one student at a time over a pipe per worker: the next student
  goes to whichever worker is free, so one slow submission never holds up a
  queue of others, and a worker gets its next student before the parent
  records its last one;
- keeps the sequential design's isolation: a worker runs the student's job
  (:func:`convkit.course.jobs.execute_job`: nbgrader in a child process of its
  own, under OS-enforced limits, in a throw-away course); a hung or killed
  submission costs that student a grade, never another student's;
- survives its own workers: if a worker dies (the OOM killer, a bug), the
  student it was grading is recorded as ungraded (autograde error, with the
  exit status), a replacement worker starts, and grading carries on.

The parent is the only process that records outcomes, writes the course's
gradebook (``convkit.course.record``) and drives the progress bar; results come
back as they finish and are returned in the given order.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from convkit.course.kernel_launcher import die_with_parent
from convkit.course.outcomes import Outcome, Reason, Status

GradeOne = Callable[[str], Any]  # runs in a worker; returns an Outcome or a picklable result
Finish = Callable[[str, Any], Outcome]  # runs in the parent: a worker's result -> Outcome
_WAIT_SECONDS = 1.0


def default_jobs() -> int:
    """One worker per CPU this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def error_outcome(assignment: str, student: str, detail: str) -> Outcome:
    """An UNGRADED outcome for a failure of the grading machinery itself."""
    return Outcome(
        assignment, student, Status.UNGRADED, reason=Reason.AUTOGRADE_ERROR, detail=detail
    )


def grade_safely(grade: GradeOne, assignment: str, student: str) -> Outcome:
    """``grade(student)``, with any exception turned into an UNGRADED outcome."""
    try:
        return grade(student)
    except Exception as exc:  # a bug or an environment problem: report it, go on
        return error_outcome(assignment, student, f"{type(exc).__name__}: {exc}")


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    student: str | None = None  # the student being graded, None when idle


def grade_in_pool(
    assignment: str,
    students: list[str],
    grade: GradeOne,
    *,
    jobs: int,
    on_outcome: Callable[[Outcome], None],
    on_start: Callable[[str], None] | None = None,
    finish: Finish | None = None,
) -> list[Outcome]:
    """Grade ``students`` with ``grade`` in ``jobs`` worker processes (fork; POSIX).

    ``grade`` runs in a worker and returns an Outcome, or any picklable result
    that ``finish(student, result)`` turns into one in this process (where the
    gradebook is written).  ``on_start(student)`` and ``on_outcome(outcome)``
    are called in this process as grading of a student starts and ends.
    Returns the outcomes in the order of ``students``; every student gets one,
    whatever happens to the workers.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    context = multiprocessing.get_context("fork")
    pending = deque(students)
    results: dict[str, Outcome] = {}
    workers: list[_Worker] = []

    def start_worker() -> _Worker:
        mine, theirs = context.Pipe()
        process = context.Process(
            target=_worker_main,
            args=(theirs, [mine, *(w.conn for w in workers)], grade, assignment, os.getpid()),
            name=f"autograde-{assignment}-worker",
        )
        process.start()
        theirs.close()
        worker = _Worker(process, mine)
        workers.append(worker)
        return worker

    def hand_out(worker: _Worker) -> None:
        if pending:
            worker.student = pending.popleft()
            if on_start is not None:
                on_start(worker.student)
            worker.conn.send(worker.student)
        else:
            worker.student = None
            _say_goodbye(worker)

    def done(worker: _Worker, received: Any) -> None:
        student = worker.student
        assert student is not None
        hand_out(worker)  # first: the worker grades the next student while we record this one
        if finish is not None and not isinstance(received, Outcome):
            outcome = grade_safely(lambda s: finish(s, received), assignment, student)
        else:
            outcome = received
        results[student] = outcome
        on_outcome(outcome)

    try:
        for _ in range(min(jobs, len(students))):
            hand_out(start_worker())
        while any(w.student is not None for w in workers):
            busy = [w for w in workers if w.student is not None]
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy], _WAIT_SECONDS)
            for worker in busy:
                received = _receive(worker)
                if received is not None:
                    done(worker, received)
                elif not worker.process.is_alive():
                    worker.process.join()
                    lost = worker.student
                    assert lost is not None
                    workers.remove(worker)
                    worker.conn.close()
                    detail = f"the grading worker died (exit status {worker.process.exitcode})"
                    results[lost] = error_outcome(assignment, lost, detail)
                    on_outcome(results[lost])
                    if pending:
                        hand_out(start_worker())
    finally:
        _stop(workers)
    return [results[s] for s in students]


def _receive(worker: _Worker) -> Any:
    """The worker's finished result if one is waiting, else None (also when the pipe broke)."""
    try:
        if not worker.conn.poll():
            return None
        return worker.conn.recv()
    except (EOFError, OSError):
        return None


def _say_goodbye(worker: _Worker) -> None:
    try:
        worker.conn.send(None)
    except OSError:
        pass


def _stop(workers: list[_Worker]) -> None:
    """Let idle workers exit; SIGTERM busy ones (they kill their nbgrader runs first)."""
    for worker in workers:
        if worker.student is not None and worker.process.is_alive():
            worker.process.terminate()
        else:
            _say_goodbye(worker)
    for worker in workers:
        worker.process.join(timeout=30)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _worker_main(
    conn: Connection,
    parents_ends: list[Connection],
    grade: GradeOne,
    assignment: str,
    parent: int,
) -> None:
    """A worker: grade each student the parent sends until it sends None (or dies)."""
    for other in parents_ends:  # the parent's ends of this and earlier workers' pipes
        other.close()
    die_with_parent(parent)
    # Ctrl-C reaches the whole terminal group: the parent decides and SIGTERMs
    # busy workers, which then unwind through the run's kill-everything path.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    while True:
        try:
            student = conn.recv()
        except (EOFError, OSError):
            return
        if student is None:
            return
        conn.send(grade_safely(grade, assignment, student))
