"""An instructor on a fresh clone runs ``autograde`` straight away, before ``generate``.

A fresh clone has no gradebook; autograde must record the assignment itself
(after its pre-flight) rather than report every student as ungraded.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_course, run_cli
from course_scenarios import SCENARIOS, build_submission

pytestmark = pytest.mark.slow


def test_autograde_without_prior_generate(tmp_path: Path) -> None:
    """The reference answers get full automatic marks in a course with no gradebook yet."""
    root = copy_course(tmp_path / "course")
    assert not (root / "gradebook.db").exists()
    solution = next(s for s in SCENARIOS if s.student == "s01-solution")
    build_submission(
        solution,
        root / "solutions" / "ch00" / "ch00.ipynb",
        root / "exercises" / "ch00" / "ch00.ipynb",
        root / "submitted" / "s01-solution" / "ch00",
    )
    run = run_cli(root, "autograde", "ch00", "--no-progress")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "recorded ch00 in the gradebook" in run.stdout
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("s01-solution"))
    assert "UNGRADED" not in line, line
    assert "9 / 10" in line, line  # everything but the hand-graded written answer
