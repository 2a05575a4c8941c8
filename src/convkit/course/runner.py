"""Run one nbgrader command in a child process with a wall-clock limit and a log file.

On Linux/macOS the child is forked from this process, which has imported
nbgrader once (that import costs seconds, every student would pay it with a
fresh interpreter); elsewhere it is a fresh ``python -m nbgrader``.  Either way
the child leads its own process group, so a run that exceeds its time limit is
killed together with what it started, and the grading kernel dies with it
(see ``kernel_launcher``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from convkit.course.course import Course, nbgrader_env
from convkit.course.sandbox import SANDBOX_ENV, enter_private_network

_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class NbgraderRun:
    """What one nbgrader command did: exit status, whether it ran out of time, its log."""

    args: tuple[str, ...]
    returncode: int | None  # None when it was killed for running out of time
    timed_out: bool
    seconds: float
    log: str
    log_path: Path | None

    @classmethod
    def finished(
        cls, args: list[str], returncode: int | None, start: float, out: IO[bytes],
        log_path: Path | None,
    ) -> NbgraderRun:
        """The record of a run that began at ``start`` (monotonic) and logged to ``out``."""
        out.seek(0)
        return cls(
            args=tuple(args),
            returncode=returncode,
            timed_out=returncode is None,
            seconds=time.monotonic() - start,
            log=out.read().decode("utf-8", "replace"),
            log_path=log_path,
        )

    @property
    def ok(self) -> bool:
        """True when nbgrader finished in time with exit status 0."""
        return not self.timed_out and self.returncode == 0


def run_nbgrader(
    course: Course,
    args: list[str],
    *,
    timeout: float | None = None,
    log_path: Path | None = None,
    sandbox: bool = False,
) -> NbgraderRun:
    """Run ``nbgrader ARGS`` in the course root; kill it (and its kernel) after ``timeout`` s.

    The combined output goes to ``log_path`` (if given) and is returned in
    ``NbgraderRun.log``.  With ``sandbox``, the run gets a private network and its
    kernels start in the grading sandbox (``convkit.course.sandbox``; POSIX only).
    """
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    out = open(log_path, "w+b") if log_path else tempfile.TemporaryFile()
    with out:
        if hasattr(os, "fork"):
            returncode = _run_forked(course, args, out, timeout, sandbox)
        elif sandbox:
            raise RuntimeError("the grading sandbox needs Linux")
        else:
            returncode = _run_subprocess(course, args, out, timeout)
        return NbgraderRun.finished(args, returncode, start, out, log_path)


def _run_forked(
    course: Course, args: list[str], out: IO[bytes], timeout: float | None, sandbox: bool
) -> int | None:
    """Fork, run nbgrader's app in the child, wait; None if it was killed for time."""
    import nbgrader.apps.nbgraderapp  # noqa: F401  (imported once, before forking)

    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        child_main(course, args, out.fileno(), sandbox)
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            if deadline is not None and time.monotonic() > deadline:
                _kill_group(pid)
                return None
            time.sleep(_POLL_SECONDS)
    except BaseException:  # e.g. KeyboardInterrupt: leave nothing running
        _kill_group(pid)
        raise


def child_main(course: Course, args: list[str], log_fd: int, sandbox: bool = False) -> None:
    """Body of the forked child: run ``nbgrader ARGS`` and exit with its status.

    With ``sandbox``: a private network first, and ``CONVKIT_SANDBOX=1`` for the
    kernel launcher (see ``convkit.course.sandbox``).
    """
    code = 1
    try:
        os.setsid()
        # nbgrader logs to sys.stderr: make that the log file even when the parent
        # had replaced sys.stdout/sys.stderr (pytest's capture, a Jupyter kernel).
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        os.chdir(course.root)
        os.environ["PATH"] = nbgrader_env()["PATH"]
        if sandbox:
            enter_private_network()
            os.environ[SANDBOX_ENV] = "1"
        else:
            os.environ.pop(SANDBOX_ENV, None)
        from nbgrader.apps.nbgraderapp import NbGraderApp

        sys.argv = ["nbgrader", *args]
        try:
            NbGraderApp.launch_instance(argv=list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _run_subprocess(
    course: Course, args: list[str], out: IO[bytes], timeout: float | None
) -> int | None:
    """``python -m nbgrader ARGS`` in a new process group; None if it was killed for time."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course.root,
        env=nbgrader_env(),
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.wait()
        return None
    except BaseException:
        _kill_group(proc.pid)
        proc.wait()
        raise


def _kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` and reap ``pid`` if it is our child."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
