"""The outcome of grading one submission, why a submission is ungraded, and where outcomes live.

An ungraded submission carries a reason and never a score: it must not be
mistaken for a 0.  Outcomes of the latest run are stored per assignment in
``grading/outcomes/<assignment>.json`` so that ``export`` can mark them.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

from convkit.course.course import Course

# How a graded submission's note starts when its own cells go after the grader itself.
REVIEW_NOTE = "flagged for review"


class Status(StrEnum):
    """Whether a submission got a score."""

    GRADED = "graded"
    UNGRADED = "ungraded"
    NO_SUBMISSION = "no submission"


class Reason(StrEnum):
    """Why a submission is ungraded (the first words an instructor reads)."""

    INVALID_NOTEBOOK = "invalid notebook file"
    RENAMED_NOTEBOOK = "renamed notebook"
    MISSING_NOTEBOOK = "missing notebook"
    KERNEL_DIED = "kernel died"
    CHECKSUM_MISMATCH = "checksum mismatch"
    CORRUPTED_METADATA = "corrupted nbgrader metadata"
    KERNEL_UNRESPONSIVE = "kernel unresponsive"
    RUN_TIMEOUT = "timeout of the whole run"
    OUTPUT_LIMIT = "output too large"
    KERNEL_TAMPERED = "kernel tampered with"
    AUTOGRADE_ERROR = "autograde error"


@dataclass
class Outcome:
    """One student's result for one assignment.

    ``score`` is None unless ``status`` is GRADED; ``reason``/``detail`` say why
    otherwise.  ``notes`` lists things nbgrader repaired (restored test cells).
    """

    assignment: str
    student: str
    status: Status
    score: float | None = None
    max_score: float | None = None
    reason: Reason | None = None
    detail: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: str | None = None
    # True: student code ran in the grading sandbox; False: it ran with the
    # grader's permissions (--no-sandbox); None: no record (older runs).
    sandboxed: bool | None = None
    # SHA-256 of the assignment kit and the submission graded (jobs.GradingJob.fingerprint):
    # a re-run skips a graded submission whose fingerprint is unchanged.
    fingerprint: str | None = None
    # When this run graded the submission (ISO 8601, UTC); "" in older records.
    graded_at: str = ""
    # Set when this outcome replaced a recorded one of the same submission (a regrade,
    # after a fix or with --regrade): that outcome's ``previous_summary``, e.g. "7 / 10".
    regraded_from: str | None = None

    def __post_init__(self) -> None:
        self.detail = " ".join(self.detail.split())  # one line, for tables and CSV cells
        self.status = Status(self.status)
        self.reason = None if self.reason is None else Reason(self.reason)
        if self.status is Status.GRADED and self.score is None:
            raise ValueError("a graded outcome needs a score")
        if self.status is not Status.GRADED and self.score is not None:
            raise ValueError(f"a {self.status.value} outcome must not carry a score")
        if self.status is Status.UNGRADED and self.reason is None:
            raise ValueError("an ungraded outcome needs a reason")

    @property
    def summary(self) -> str:
        """One line for the terminal: ``7 / 10`` or ``UNGRADED: kernel died (detail)``."""
        if self.status is Status.GRADED:
            text = f"{self.score:g} / {self.max_score:g}"
            if self.notes:
                text += f"  ({'; '.join(self.notes)})"
            return text
        if self.status is Status.NO_SUBMISSION:
            return "no submission"
        assert self.reason is not None
        text = f"UNGRADED: {self.reason.value}" + (f" ({self.detail})" if self.detail else "")
        return text + (f"; log: {self.log}" if self.log else "")

    @property
    def previous_summary(self) -> str:
        """What a later regrade records of this outcome: ``7 / 10``, ``ungraded: <reason>``."""
        if self.status is Status.GRADED:
            return f"{self.score:g} / {self.max_score:g}"
        if self.status is Status.UNGRADED:
            assert self.reason is not None
            return f"ungraded: {self.reason.value}"
        return "no submission"

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (enums as their values)."""
        data = asdict(self)
        data["status"] = self.status.value
        data["reason"] = None if self.reason is None else self.reason.value
        return data


# Log lines that nbgrader (0.9.6) writes for each failure, most specific first.  The
# bounds this package enforces come first: passing one stops the kernel, and
# nbclient may then also log "Kernel died" for a kernel that was killed for it.
_FAILURE_PATTERNS: list[tuple[Reason, re.Pattern[str]]] = [
    (Reason.OUTPUT_LIMIT, re.compile(r"OutputLimitExceeded: (.*)")),
    (Reason.KERNEL_TAMPERED, re.compile(r"KernelTampered: (.*)")),
    (Reason.KERNEL_DIED, re.compile(r"DeadKernelError|Kernel died|kernel died", re.I)),
    (Reason.CHECKSUM_MISMATCH, re.compile(r"RuntimeError: Inconsistent checksums for cell (\S+)")),
    (
        Reason.CORRUPTED_METADATA,
        re.compile(
            r"nbgrader metadata may be corrupted|Cell with id '(\S+)' exists multiple times"
        ),
    ),
    (Reason.KERNEL_UNRESPONSIVE, re.compile(r"kernel became unresponsive|UnresponsiveKernelError")),
]


def classify_failure(log: str) -> tuple[Reason, str]:
    """The reason (and a one-line detail) for a failed ``nbgrader autograde`` run."""
    for reason, pattern in _FAILURE_PATTERNS:
        match = pattern.search(log)
        if match:
            found = next((g for g in match.groups() if g), None)
            if reason in (Reason.OUTPUT_LIMIT, Reason.KERNEL_TAMPERED):
                return reason, found or ""
            return reason, (f"cell {found}" if found else "")
    errors = [line.strip() for line in log.splitlines() if line.strip()]
    tracebacks = [line for line in errors if re.match(r"^[\w.]+(Error|Exception):", line)]
    return Reason.AUTOGRADE_ERROR, (
        tracebacks[-1] if tracebacks else (errors[-1] if errors else "")
    )


def outcomes_path(course: Course, assignment: str) -> Path:
    """``grading/outcomes/<assignment>.json``."""
    return course.grading_dir / "outcomes" / f"{assignment}.json"


def load_outcomes(course: Course, assignment: str) -> dict[str, Outcome]:
    """The recorded outcomes of an assignment, by student id (empty if none)."""
    path = outcomes_path(course, assignment)
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {student: Outcome(**data) for student, data in raw.items()}


def record_outcome(course: Course, outcome: Outcome) -> None:
    """Store ``outcome`` (replacing that student's previous one) atomically."""
    path = outcomes_path(course, outcome.assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    current = {s: o.to_json() for s, o in load_outcomes(course, outcome.assignment).items()}
    current[outcome.student] = outcome.to_json()
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def format_summary(outcomes: list[Outcome]) -> str:
    """A table: one line per student, then counts of graded and ungraded."""
    if not outcomes:
        return "no submissions"
    width = max(len(o.student) for o in outcomes)
    lines = [f"{o.student:<{width}}  {o.summary}" for o in outcomes]
    graded = sum(o.status is Status.GRADED for o in outcomes)
    ungraded = sum(o.status is Status.UNGRADED for o in outcomes)
    lines.append(
        f"{graded} graded, {ungraded} ungraded, {len(outcomes) - graded - ungraded} missing"
    )
    unsandboxed = [o.student for o in outcomes if o.sandboxed is False]
    if unsandboxed:
        lines.append(
            f"WARNING: {len(unsandboxed)} graded without the sandbox (--no-sandbox): "
            "their code ran with the grader's own permissions"
        )
    return "\n".join(lines)
