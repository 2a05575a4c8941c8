"""One submission's grading as a self-contained job: what goes in, what comes out.

A worker that grades a submission shares nothing with the grading side but the
job: :class:`GradingJob` carries the submission's files and an
:class:`AssignmentKit` (the course's nbgrader configuration and a gradebook
that knows only the assignment: its cells, points and checksums, no student).
:func:`execute_job` rebuilds a throw-away course from that in a temporary
folder, runs ``nbgrader autograde`` there (bounded, the kernel sandboxed), and
returns a :class:`JobResult`: the graded notebooks and the log.  It never
touches the real course; the grading side alone records the result
(``convkit.course.record``).  The same job runs in a local worker process or on
a Dask worker elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from convkit.settings import SETTINGS_FILE, settings_for_assignment, settings_path

if TYPE_CHECKING:
    from convkit.course.course import Course

# This module imports nothing of nbgrader at load time: a Dask scheduler unpickles
# jobs (their classes are defined here) and should not pay seconds for nbgrader.

MAX_SUBMISSION_BYTES = 64 * 2**20  # a bigger submission folder is refused (ungraded)
MAX_LOG_CHARS = 2 * 2**20  # a longer nbgrader log keeps its first and last MiB


# Appended to the course's configuration in a worker's throw-away course: the
# worker's gradebook is thrown away, and the grading side saves the scores and
# late penalties itself (``convkit.course.record``), so the worker skips both.
WORKER_CONFIG = """
# --- convkit worker: scores are saved by the grading side, not here; no idle timers
_convkit_saved_by_grading_side = ("SaveAutoGrades", "AssignLatePenalties")
if isinstance(c.Autograde.autograde_preprocessors, list):
    c.Autograde.autograde_preprocessors = [
        p for p in c.Autograde.autograde_preprocessors
        if str(getattr(p, "__name__", p)).rsplit(".", 1)[-1] not in _convkit_saved_by_grading_side
    ]
# No fixed timers between the kernel's start, its cells and its exit (see prompt_kernel).
c.Execute.kernel_manager_class = "convkit.course.prompt_kernel.PromptKernelManager"
"""


class KitError(RuntimeError):
    """The assignment could not be prepared for grading (generation failed)."""


@dataclass(frozen=True)
class AssignmentKit:
    """Everything a worker needs to grade any submission of one assignment.

    ``source_files``: the assignment's source folder minus its notebooks (nbgrader
    copies such files over the submission's); never the notebooks, which hold
    the solutions.  ``settings``: the course's ``course.yml`` (deadlines and extensions
    of this assignment only, since the worker's course holds no other), which
    ``config`` (``nbgrader_config.py``) reads.
    """

    assignment: str
    config: str
    gradebook: bytes
    source_files: dict[str, bytes] = field(default_factory=dict)
    source_digest: str = ""  # SHA-256 of the whole source folder, notebooks included
    settings: str = ""

    @property
    def fingerprint(self) -> str:
        """SHA-256 of what decides the grades: the source folder and the configuration.

        (Not of the gradebook's bytes, which carry the time it was generated.)
        """
        digest = hashlib.sha256()
        for part in (self.assignment, self.config, self.settings, self.source_digest):
            digest.update(hashlib.sha256(part.encode()).digest())
        return digest.hexdigest()


@dataclass(frozen=True)
class GradingJob:
    """One student's submission of one assignment, as files (relative path -> bytes)."""

    assignment: str
    student: str
    files: dict[str, bytes]
    kit_fingerprint: str

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the kit and the submission: equal fingerprints grade the same."""
        return hashlib.sha256(
            (self.kit_fingerprint + files_digest(self.files)).encode()
        ).hexdigest()


@dataclass(frozen=True)
class JobResult:
    """What a worker sends back: nbgrader's exit, its log, the graded files."""

    student: str
    returncode: int | None  # None: killed at the time limit
    timed_out: bool
    seconds: float
    log: str
    files: dict[str, bytes]  # autograded/<student>/<assignment>/..., relative paths
    worker: str = ""

    @property
    def ok(self) -> bool:
        """True when nbgrader finished in time with exit status 0."""
        return not self.timed_out and self.returncode == 0


def build_kit(course: Course, assignment: str, gradebook: bytes | None = None) -> AssignmentKit:
    """The kit of ``assignment``: its source generated once in a scratch course, whose
    gradebook it keeps (``gradebook``: such a gradebook made already, by the pre-flight)."""
    from convkit.course.course import CONFIG_FILE
    from convkit.course.generate import regenerate_into, scratch_gradebook

    if gradebook is None:
        with tempfile.TemporaryDirectory(prefix=f"kit-{assignment}-") as tmp:
            run = regenerate_into(course, assignment, Path(tmp))
            if not run.ok:
                log = run.log[-2000:]
                raise KitError(f"nbgrader generate_assignment {assignment} failed:\n{log}")
            gradebook = scratch_gradebook(Path(tmp)).read_bytes()
    source = course.source_dir(assignment)
    everything = {
        str(p.relative_to(source)): p.read_bytes()
        for p in sorted(source.rglob("*"))
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    }
    files = {name: data for name, data in everything.items() if not name.endswith(".ipynb")}
    config = (course.root / CONFIG_FILE).read_text(encoding="utf-8")
    settings = settings_for_assignment(settings_path(course.root), assignment)
    return AssignmentKit(
        assignment, config, gradebook, files, files_digest(everything), settings
    )


def files_digest(files: dict[str, bytes]) -> str:
    """SHA-256 of a set of files (relative path -> bytes), independent of their order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def read_submission(folder: Path) -> dict[str, bytes]:
    """The regular files of a submission folder (relative path -> bytes).

    Symbolic links and other special files are left out: a link could point at
    any file of the grading machine.  Raises ``ValueError`` past
    :data:`MAX_SUBMISSION_BYTES`.
    """
    files: dict[str, bytes] = {}
    total = 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if ".ipynb_checkpoints" in path.relative_to(folder).parts:
            continue
        total += path.stat().st_size
        if total > MAX_SUBMISSION_BYTES:
            raise ValueError(f"the submission is larger than {MAX_SUBMISSION_BYTES} bytes")
        files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def safe_write(folder: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative path -> bytes) under ``folder``; refuse paths leaving it."""
    base = folder.resolve()
    for name, data in files.items():
        target = (base / name).resolve()
        if not target.is_relative_to(base) or target == base:
            raise ValueError(f"refusing to write outside {folder}: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def bounded_log(log: str, limit: int = MAX_LOG_CHARS) -> str:
    """``log``, or its first and last ``limit / 2`` characters with a note between."""
    if len(log) <= limit:
        return log
    half = limit // 2
    return f"{log[:half]}\n[... {len(log) - 2 * half} characters left out ...]\n{log[-half:]}"


def execute_job(
    kit: AssignmentKit, job: GradingJob, *, run_timeout: float, sandbox: bool = True
) -> JobResult:
    """Grade ``job`` in a throw-away course built from ``kit``; return what nbgrader made.

    Runs on a worker (POSIX, with fork): ``nbgrader autograde`` in a child
    process under the limits of ``convkit.course.bounded``, its kernel in the
    grading sandbox unless ``sandbox`` is False.  Never raises for a bad
    submission: a failed or killed run comes back with its log.
    """
    from convkit.course.bounded import run_bounded
    from convkit.course.course import CONFIG_FILE, Course
    from convkit.course.generate import scratch_gradebook, temp_course_overrides

    if job.assignment != kit.assignment or job.kit_fingerprint != kit.fingerprint:
        raise ValueError(f"job {job.student}/{job.assignment} was made for another kit")
    with tempfile.TemporaryDirectory(prefix=f"grade-{job.assignment}-") as tmp:
        root = Path(tmp)
        (root / CONFIG_FILE).write_text(kit.config + WORKER_CONFIG, encoding="utf-8")
        (root / SETTINGS_FILE).write_text(kit.settings, encoding="utf-8")
        scratch_gradebook(root).write_bytes(kit.gradebook)
        course = Course(root)
        source = course.source_dir(job.assignment)
        source.mkdir(parents=True)
        safe_write(source, kit.source_files)
        safe_write(course.submitted_dir(job.student, job.assignment), job.files)
        args = ["autograde", job.assignment, "--student", job.student, "--force"]
        args += temp_course_overrides(root)
        run = run_bounded(
            course, args, timeout=run_timeout, log_path=root / "autograde.log", sandbox=sandbox
        )
        graded = course.autograded_dir(job.student, job.assignment)
        files = (
            {str(p.relative_to(graded)): p.read_bytes() for p in graded.rglob("*") if p.is_file()}
            if run.ok and graded.is_dir()
            else {}
        )
        return JobResult(
            student=job.student,
            returncode=run.returncode,
            timed_out=run.timed_out,
            seconds=run.seconds,
            log=bounded_log(run.log),
            files=files,
            worker=os.uname().nodename,
        )
