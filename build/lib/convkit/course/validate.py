"""Validate notebooks the way a student's Validate button does (nbgrader validate)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from convkit.course.course import Course
from convkit.course.runner import run_nbgrader


@dataclass(frozen=True)
class Validation:
    """nbgrader's verdict on one notebook: passed, and its report."""

    path: Path
    passed: bool
    report: str


def validate_notebook(course: Course, path: Path, *, timeout: float = 900.0) -> Validation:
    """Run ``nbgrader validate PATH`` (grading kernel, caps and timeouts included)."""
    run = run_nbgrader(course, ["validate", str(path.resolve())], timeout=timeout)
    # nbgrader's report without the kernel's and the app's own log lines.
    lines = [
        line
        for line in run.log.splitlines()
        if not line.startswith(("[IPKernelApp]", "[ValidateApp | INFO]"))
    ]
    report = "\n".join(lines).strip()
    passed = run.ok and "Success! Your notebook passes all the tests." in report
    return Validation(path, passed, report)


def exercise_notebooks(course: Course) -> list[Path]:
    """Every notebook in the release folders (``exercises/chNN/*.ipynb``)."""
    return [
        course.release_dir(a) / name
        for a in course.assignments()
        for name in course.notebook_names(a)
        if (course.release_dir(a) / name).is_file()
    ]
