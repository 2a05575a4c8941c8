"""Run one student's ``nbgrader autograde`` under limits that the operating system enforces.

The run is a child process forked from a process that has already imported
nbgrader (so it starts in milliseconds, not seconds) and that never runs student
code itself.  Student code runs further down, in the grading kernel, which
nbgrader starts in a session of its own.  The limits, none of which relies on
the student's kernel cooperating:

- **wall clock**: the parent polls the child and, ``timeout`` seconds after the
  start, SIGKILLs every process of the run: the process group of each
  descendant (the kernel's group holds whatever the student's code started),
  then the child's own group.  :func:`kill_process_tree`.
- **CPU time**: ``RLIMIT_CPU`` set in the child before nbgrader starts, and
  inherited by the kernel: ``timeout`` seconds for each CPU of the machine (a
  process cannot use more than that within the wall-clock limit).  It is the
  backstop that still holds if the parent dies and nobody watches the clock.
- **parent death**: ``PR_SET_PDEATHSIG`` in the child, so a grading worker that
  is killed takes its nbgrader run with it (and the kernel follows, see
  ``kernel_launcher``).
- **memory**: the kernel's address space is capped with ``RLIMIT_AS`` by
  ``kernel_launcher`` (``--memory-limit`` in ``nbgrader_config.py``); the
  per-cell timeout is nbgrader's ``Execute.timeout``.
"""

from __future__ import annotations

import gc
import math
import os
import resource
import select
import signal
import sys
import time
import traceback
from pathlib import Path

from convkit.course.course import Course
from convkit.course.kernel_launcher import die_with_parent
from convkit.course.runner import NbgraderRun, child_main

_POLL_SECONDS = 0.02
_KILL_ROUNDS = 5


def cpu_seconds_limit(timeout: float) -> int:
    """The ``RLIMIT_CPU`` soft limit for a run of at most ``timeout`` wall-clock seconds."""
    return math.ceil(timeout * (os.cpu_count() or 1)) + 1


def run_bounded(
    course: Course, args: list[str], *, timeout: float, log_path: Path, sandbox: bool = False
) -> NbgraderRun:
    """Run ``nbgrader ARGS`` in the course root under the limits above; log to ``log_path``.

    Returns the run (``timed_out`` when the wall-clock limit killed it).  POSIX only.
    With ``sandbox``, the kernels run in the grading sandbox (``convkit.course.sandbox``).
    """
    import nbgrader.apps.nbgraderapp  # noqa: F401  (imported once, before forking)

    if timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(log_path, "w+b") as out:
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            # Frozen objects are skipped by the child's garbage collector, so it does
            # not touch (and copy) every page it shares with this process.  Frozen in
            # the child only: this process's garbage stays collectable.
            gc.freeze()
            _bounded_child(course, args, out.fileno(), timeout, parent, sandbox)
        returncode = _watch(pid, start + timeout)
        return NbgraderRun.finished(args, returncode, start, out, log_path)


def _bounded_child(
    course: Course, args: list[str], log_fd: int, timeout: float, parent: int, sandbox: bool
) -> None:
    """Set the child's limits, then run nbgrader (``runner.child_main`` never returns)."""
    try:
        soft = cpu_seconds_limit(timeout)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 5))
        die_with_parent(parent)
    except BaseException:
        os.dup2(log_fd, 2)
        traceback.print_exc()
        os._exit(1)
    child_main(course, args, log_fd, sandbox)


def _watch(pid: int, deadline: float) -> int | None:
    """Wait for ``pid``; kill its whole tree at ``deadline``.  Exit code, or None if killed.

    Sleeps on a pidfd (Linux) until the child exits or the deadline comes;
    elsewhere it polls.
    """
    try:
        exit_fd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        exit_fd = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kill_process_tree(pid)
                return None
            if exit_fd is not None:
                select.select([exit_fd], [], [], remaining)
            else:
                time.sleep(min(_POLL_SECONDS, remaining))
    except BaseException:  # e.g. KeyboardInterrupt or SIGTERM: leave nothing running
        kill_process_tree(pid)
        raise
    finally:
        if exit_fd is not None:
            os.close(exit_fd)


def descendants(pid: int) -> list[int]:
    """Process ids of every descendant of ``pid`` (children first), read from ``/proc``."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:  # the process ended meanwhile
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def kill_process_tree(pid: int) -> None:
    """SIGKILL the process groups of ``pid``'s descendants, then ``pid``'s group; reap ``pid``.

    ``pid`` must be our child and not yet reaped (so its number cannot have been
    reused).  The descendants are killed first, while they are still linked to
    ``pid``, and again until none is left, so a process forked meanwhile is
    caught too.  Never signals this process's own group.
    """
    own_group = os.getpgrp()
    for _ in range(_KILL_ROUNDS):
        found = descendants(pid)
        if not found:
            break
        for child in found:
            _kill_group_of(child, own_group)
            _kill(child)
        time.sleep(_POLL_SECONDS)
    _kill_group_of(pid, own_group)
    _kill(pid)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _kill_group_of(pid: int, own_group: int) -> None:
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return
    if group != own_group:
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
