"""Grading one chapter's assignment for real, for the per-chapter end-to-end tests.

Each chapter's test grades a handful of students of its own assignment in a
temporary course copy (the big scenario fixture of conftest stays on ch00/ch01):
scenario students from ``course_scenarios`` plus variants of the reference
submission with some answer cells replaced.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import nbformat
from conftest import copy_course, run_cli
from course_scenarios import SCENARIOS, build_submission, nbgrader_meta
from test_autograde_outcomes import GradedCourse, cell_scores, outcomes

# An answer cell's replacement: new source, or a function of the reference source.
Replacement = str | Callable[[str], str]


def variant_submission(
    root: Path, assignment: str, student: str, replacements: Mapping[str, Replacement]
) -> None:
    """``student`` submits the reference submission with the answer cells named by
    grade id in ``replacements`` rewritten (needs ``s01-solution`` built first)."""
    source = root / "submitted" / "s01-solution" / assignment
    target = root / "submitted" / student / assignment
    target.mkdir(parents=True)
    (target / "timestamp.txt").write_text((source / "timestamp.txt").read_text())
    nb = copy.deepcopy(nbformat.read(source / f"{assignment}.ipynb", as_version=4))
    replaced = set()
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in replacements:
            new = replacements[grade_id]
            cell.source = new(cell.source) if callable(new) else new
            replaced.add(grade_id)
    assert replaced == set(replacements), "the assignment's answer cells changed"
    nbformat.write(nb, target / f"{assignment}.ipynb")


def grade_chapter(
    root: Path,
    assignment: str,
    students: Iterable[str],
    variants: Mapping[str, Mapping[str, Replacement]] | None = None,
) -> GradedCourse:
    """Copy the course into ``root``, generate ``assignment``, submit the scenario
    ``students`` and the ``variants`` (student -> replacements), then autograde."""
    # The course's own 60 s per cell: ch06's hidden test trains a network, which takes
    # about 10 s single-threaded, too close to the scenario course's 10 s limit.
    copy_course(root, cell_timeout=None)
    graded = GradedCourse(root)
    result = run_cli(root, "generate", assignment)
    assert result.returncode == 0, result.stdout + result.stderr
    wanted = set(students) | {"s01-solution"}
    for scenario in (s for s in SCENARIOS if s.student in wanted):
        graded.shortcuts[(scenario.student, assignment)] = build_submission(
            scenario,
            root / "solutions" / assignment / f"{assignment}.ipynb",
            root / "exercises" / assignment / f"{assignment}.ipynb",
            root / "submitted" / scenario.student / assignment,
        )
    for student, replacements in (variants or {}).items():
        variant_submission(root, assignment, student, replacements)
    result = run_cli(root, "autograde", assignment, "--no-progress")
    graded.logs["autograde"] = result
    assert result.returncode == 0, result.stdout + result.stderr
    return graded


def auto_scores(
    graded: GradedCourse, assignment: str, student: str
) -> dict[str, tuple[float, float]]:
    """grade id -> (score, max score) of the automatically graded cells of a graded
    student (fails when the student was not graded or a cell has no score)."""
    assert outcomes(graded, assignment)[student]["status"] == "graded"
    scores = cell_scores(graded, assignment, student)
    auto = {c: (s, top) for c, (s, top, kind) in scores.items() if kind == "code"}
    assert auto and all(s is not None for s, _ in auto.values()), auto
    return auto


def only_these_fail(
    auto: dict[str, tuple[float, float]], all_cells: Iterable[str], zero: Iterable[str]
) -> None:
    """``auto`` (grade id -> (score, points), from :func:`auto_scores`) has exactly the
    graded cells ``all_cells``; those in ``zero`` score 0, every other one full marks."""
    zero = set(zero)
    assert set(auto) == set(all_cells), auto
    for cell, (score, top) in auto.items():
        assert score == (0 if cell in zero else top), (cell, auto)
