"""`autograde --no-sandbox`: same grades, and said in the summary, grades.csv and report."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import copy_course, run_cli
from course_scenarios import SCENARIOS, build_submission

ASSIGNMENT = "ch01"


@pytest.mark.slow
def test_no_sandbox_is_marked_everywhere(tmp_path: Path) -> None:
    root = copy_course(tmp_path / "course")
    assert run_cli(root, "generate", ASSIGNMENT).returncode == 0
    scenario = next(s for s in SCENARIOS if s.student == "s01-solution")
    notebook = f"{ASSIGNMENT}.ipynb"
    build_submission(
        scenario,
        root / "solutions" / ASSIGNMENT / notebook,
        root / "exercises" / ASSIGNMENT / notebook,
        root / "submitted" / scenario.student / ASSIGNMENT,
    )
    result = run_cli(root, "autograde", ASSIGNMENT, "--no-sandbox", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "--no-sandbox: student code runs with your permissions" in result.stderr
    assert "[PASS] the grading sandbox starts" not in result.stdout
    assert "1 graded without the sandbox (--no-sandbox)" in result.stdout

    assert run_cli(root, "export", "--to", "grades.csv").returncode == 0
    with open(root / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["student_id"], r["status"], r["sandboxed"]) for r in rows] == [
        ("s01-solution", "graded", "no")
    ]
    assert run_cli(root, "report").returncode == 0
    html = (root / "grading" / "report" / "report.html").read_text(encoding="utf-8")
    assert "1 submission(s) graded without the sandbox" in html

    # Graded again with the sandbox: the unsandboxed grade is not kept as "unchanged".
    result = run_cli(root, "autograde", ASSIGNMENT)
    assert result.returncode == 0, result.stderr
    assert "not graded again" not in result.stdout
    assert "without the sandbox" not in result.stdout
    assert run_cli(root, "export", "--to", "grades.csv").returncode == 0
    with open(root / "grades.csv", newline="", encoding="utf-8") as handle:
        assert [r["sandboxed"] for r in csv.DictReader(handle)] == ["yes"]
