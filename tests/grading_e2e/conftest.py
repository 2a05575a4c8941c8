"""Session fixtures: a temporary copy of the course, graded once for all the tests.

The copy gets every scenario student's submission of every assignment, then
the real commands run on it: ``generate``, ``autograde`` (with its pre-flight),
``feedback`` and ``export``.  Tests only read the results.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from course_scenarios import SCENARIOS, build_submission

from convkit.course.autograde import grade_assignment
from convkit.course.course import Course

# The course under test: this repository (GRADING_E2E_COURSE may point at another checkout).
REPO = Path(os.environ.get("GRADING_E2E_COURSE") or Path(__file__).resolve().parents[2])
ASSIGNMENTS = ("ch00", "ch01")
# The scenario course bounds each cell at 10 s instead of the course's 60 s, to keep
# the infinite-loop student quick; everything else is the course's own config.
TEST_CELL_TIMEOUT = 10
WHOLE_RUN_TIMEOUT_STUDENT = "s16-too-slow"
WHOLE_RUN_TIMEOUT = 8


def course_env() -> dict[str, str]:
    """Environment for the CLI: the venv's bin first on PATH (nbgrader runs alembic)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_cli(root: Path, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    """``python -m convkit.course ARGS`` in ``root`` (at low CPU priority)."""
    return subprocess.run(
        ["nice", "-n", "10", sys.executable, "-m", "convkit.course", *args],
        cwd=root,
        env=course_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def copy_course(destination: Path, cell_timeout: int | None = TEST_CELL_TIMEOUT) -> Path:
    """A fresh copy of the course's nbgrader files (config, solutions, exercises);
    ``cell_timeout`` replaces the course's per-cell limit (None keeps the course's own)."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", destination)
    shutil.copy(REPO / "course.yml", destination)  # nbgrader_config.py reads it
    for folder in ("solutions", "exercises"):
        shutil.copytree(REPO / folder, destination / folder)
    if cell_timeout is not None:
        with open(destination / "nbgrader_config.py", "a", encoding="utf-8") as config:
            config.write(f"\nc.Execute.timeout = {cell_timeout}  # added by the tests\n")
    return destination


def assert_bar_and_summary(
    result: subprocess.CompletedProcess[str], assignment: str, students: list[str]
) -> None:
    """An autograde run showed one progress bar to 100 % and one summary line per student."""
    total = len(students)
    assert f"autograde {assignment}: 100%" in result.stderr
    assert f"{total}/{total}" in result.stderr
    lines = result.stdout.splitlines()
    for student in students:
        assert any(line.startswith(student + " ") for line in lines), student
    assert any(line.endswith("ungraded, 0 missing") for line in lines), result.stdout


@dataclass
class GradedCourse:
    """The graded copy: where it is, and what each command printed."""

    root: Path
    shortcuts: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    logs: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def csv_rows(self) -> list[dict[str, str]]:
        """The exported grades.csv."""
        with open(self.root / "grades.csv", newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        raise AssertionError(
            f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GradedCourse]:
    """Generate, submit (every scenario x assignment), autograde, feedback, export: once."""
    root = copy_course(tmp_path_factory.mktemp("course"))
    graded = GradedCourse(root)
    start = time.monotonic()
    _check(run_cli(root, "generate"), "generate")
    for assignment in ASSIGNMENTS:
        for name in sorted(p.name for p in (root / "solutions" / assignment).glob("*.ipynb")):
            for scenario in SCENARIOS:
                folder = root / "submitted" / scenario.student / assignment
                graded.shortcuts[(scenario.student, assignment)] = build_submission(
                    scenario,
                    root / "solutions" / assignment / name,
                    root / "exercises" / assignment / name,
                    folder,
                )
    # The two assignments are graded at the same time (same gradebook, as an
    # instructor might): the sqlite timeout must absorb the contention.
    procs = {
        a: subprocess.Popen(
            [
                "nice",
                "-n",
                "10",
                sys.executable,
                "-m",
                "convkit.course",
                "autograde",
                a,
                "--no-progress",
            ],
            cwd=root,
            env=course_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a in ASSIGNMENTS
    }
    for assignment, proc in procs.items():
        out, err = proc.communicate(timeout=1800)
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        graded.logs[f"autograde {assignment}"] = result
        _check(result, f"autograde {assignment}")
    graded.seconds["autograde"] = time.monotonic() - start

    # One more student, whose whole run outlasts a short per-student limit:
    # graded through the same function the CLI uses, without another pre-flight.
    slow = root / "submitted" / WHOLE_RUN_TIMEOUT_STUDENT / "ch01"
    shutil.copytree(root / "submitted" / "s01-solution" / "ch01", slow)
    _make_slow(slow / "ch01.ipynb")
    grade_assignment(
        Course(root),
        "ch01",
        [WHOLE_RUN_TIMEOUT_STUDENT],
        run_timeout=WHOLE_RUN_TIMEOUT,
        progress=False,
    )

    for assignment in ASSIGNMENTS:
        result = run_cli(root, "feedback", assignment)
        graded.logs[f"feedback {assignment}"] = result
        _check(result, f"feedback {assignment}")
    result = run_cli(root, "export", "--to", "grades.csv")
    graded.logs["export"] = result
    _check(result, "export")
    graded.seconds["total"] = time.monotonic() - start
    yield graded


def _make_slow(path: Path) -> None:
    """Make every answer cell of a notebook sleep just under the per-cell timeout."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if (
            cell.get("metadata", {}).get("nbgrader", {}).get("solution")
            and cell.cell_type == "code"
        ):
            cell.source = f"import time\ntime.sleep({TEST_CELL_TIMEOUT - 3})\n" + cell.source
    nbformat.write(nb, path)
