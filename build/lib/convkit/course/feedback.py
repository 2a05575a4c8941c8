"""Generate feedback HTML for graded students and check it shows no hidden test."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from convkit.course.course import Course
from convkit.course.feedback_filter import split_hidden
from convkit.course.outcomes import Status, load_outcomes
from convkit.course.runner import run_nbgrader

# Hidden lines shorter than this (e.g. ")" or "x = 1") are too common to be evidence of a leak.
MIN_EVIDENCE_LENGTH = 8


@dataclass(frozen=True)
class FeedbackFile:
    """One student's feedback file and any hidden-test lines found in it (then it is deleted)."""

    student: str
    path: Path
    leaks: tuple[str, ...] = ()


def hidden_test_lines(course: Course, assignment: str) -> set[str]:
    """Lines of the assignment's hidden tests that appear nowhere else in its notebooks."""
    hidden: set[str] = set()
    shown_text: list[str] = []
    for name in course.notebook_names(assignment):
        nb = nbformat.read(course.source_dir(assignment) / name, as_version=4)
        for cell in nb.cells:
            shown, lines = split_hidden(cell.source)
            shown_text.append(shown)
            hidden.update(line.strip() for line in lines)
    everything_shown = "\n".join(shown_text)
    return {
        line
        for line in hidden
        if len(line) >= MIN_EVIDENCE_LENGTH
        and line not in everything_shown
        and "HIDDEN TESTS" not in line
    }


def html_text(page: str) -> str:
    """The visible text of an HTML page (tags removed, entities decoded)."""
    without_code = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", "", without_code))


def find_leaks(page: str, hidden: set[str]) -> list[str]:
    """The hidden-test lines that an HTML page shows."""
    text = html_text(page)
    return sorted(line for line in hidden if line in text)


def generate_feedback(
    course: Course, assignment: str, students: list[str] | None = None
) -> list[FeedbackFile]:
    """Run ``nbgrader generate_feedback`` for graded students and verify every file.

    Students whose latest outcome is not GRADED get no feedback file.  A file
    that still shows a hidden-test line is deleted and reported in ``leaks``.
    """
    outcomes = load_outcomes(course, assignment)
    graded = sorted(s for s, o in outcomes.items() if o.status is Status.GRADED)
    chosen = graded if students is None else [s for s in students if s in graded]
    hidden = hidden_test_lines(course, assignment)
    if students is None:  # one nbgrader run for everyone with an autograded notebook
        runs = [run_nbgrader(course, ["generate_feedback", assignment, "--force"])]
    else:
        runs = [
            run_nbgrader(course, ["generate_feedback", assignment, "--student", s, "--force"])
            for s in chosen
        ]
    for run in runs:
        if not run.ok:
            raise RuntimeError(f"nbgrader generate_feedback failed:\n{run.log[-3000:]}")
    files: list[FeedbackFile] = []
    for student in chosen:
        for page in sorted(course.feedback_dir(student, assignment).glob("*.html")):
            leaks = find_leaks(page.read_text(encoding="utf-8"), hidden)
            if leaks:
                page.unlink()
            files.append(FeedbackFile(student, page, tuple(leaks)))
    return files
