"""Students: nbgrader validate on exercises/, and release/fetch/submit/collect on one machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, copy_course, course_env, run_cli
from course_scenarios import SCENARIOS, build_submission

from convkit.course.autograde import grade_submission
from convkit.course.course import Course

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch01"


@pytest.fixture(scope="module")
def fresh_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_course(tmp_path_factory.mktemp("student-course"))
    result = run_cli(root, "generate", ASSIGNMENT)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def nbgrader(root: Path, *args: str, cwd: Path | None = None) -> str:
    env = course_env()
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd or root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_validate_release_and_completed_notebook(fresh_course: Path, tmp_path: Path) -> None:
    release = fresh_course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    solution = next(s for s in SCENARIOS if s.student == "s01-solution")
    build_submission(
        solution, fresh_course / "solutions" / ASSIGNMENT / release.name, release, tmp_path
    )
    done = tmp_path / release.name
    # In the course root, with the course's config (what `make lab`'s Validate button uses).
    result = run_cli(fresh_course, "validate", str(release), str(done))
    text = result.stdout
    assert result.returncode == 1  # the untouched release does not pass
    assert f"== {release}: NOT PASSED" in text
    assert f"== {done}: PASSED" in text
    assert "Success! Your notebook passes all the tests." in text


def test_validate_button_code_path(fresh_course: Path) -> None:
    """The JupyterLab Validate handler's path: Validator, config from the server's cwd."""
    code = (
        "from traitlets.config.loader import PyFileConfigLoader\n"
        "from nbgrader.validator import Validator\n"
        "config = PyFileConfigLoader('nbgrader_config.py', path='.').load_config()\n"
        f"result = Validator(config=config).validate('exercises/{ASSIGNMENT}/{ASSIGNMENT}.ipynb')\n"
        "print(sorted(result))\n"
        "print(len(result.get('failed', [])))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=fresh_course,
        env=course_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "failed" in lines[-2] and int(lines[-1]) > 0  # unfinished: the visible tests fail


def test_exchange_round_trip(fresh_course: Path, tmp_path: Path) -> None:
    """release -> fetch -> submit -> collect -> autograde, all on this machine.

    The exchange knows students by their OS user name (here: whoever runs the tests).
    """
    from nbgrader.utils import get_username

    student = get_username()
    nbgrader(fresh_course, "release_assignment", ASSIGNMENT, "--force")
    assert (fresh_course / "exchange" / "convnets" / "outbound" / ASSIGNMENT).is_dir()
    home = tmp_path / "home"
    home.mkdir()
    exchange = [
        f"--Exchange.root={fresh_course / 'exchange'}",
        "--CourseDirectory.course_id=convnets",
    ]
    nbgrader(fresh_course, "fetch_assignment", ASSIGNMENT, *exchange, cwd=home)
    fetched = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert fetched.is_file()
    # The student finishes the work in the fetched copy (the reference answers), then submits.
    solution = next(s for s in SCENARIOS if s.student == "s01-solution")
    work = tmp_path / "work"
    build_submission(
        solution, fresh_course / "solutions" / ASSIGNMENT / fetched.name, fetched, work
    )
    shutil.copy(work / fetched.name, fetched)
    nbgrader(fresh_course, "submit", ASSIGNMENT, *exchange, cwd=home)
    nbgrader(fresh_course, "collect", ASSIGNMENT)
    collected = fresh_course / "submitted" / student / ASSIGNMENT
    assert (collected / fetched.name).is_file() and (collected / "timestamp.txt").is_file()
    outcome = grade_submission(Course(fresh_course), ASSIGNMENT, student)
    assert outcome.status.value == "graded"
    auto_cells = nbformat.read(collected / fetched.name, as_version=4)
    assert auto_cells.cells
    assert outcome.score is not None and outcome.score > 0


def test_config_is_the_repository_config() -> None:
    """The tests run on the committed nbgrader_config.py (plus a shorter cell timeout)."""
    course = Course(REPO)
    cd = course.coursedir
    assert (cd.source_directory, cd.release_directory) == ("solutions", "exercises")
    assert course.db_url.endswith("gradebook.db?timeout=60")
    assert course.config.Execute.timeout > 0
    assert course.config.Execute.kernel_name == "convkit-grading"
    assert any(a.startswith("--memory-limit=") for a in course.config.Execute.extra_arguments)
    assert Path(course.config.Exchange.root) == REPO / "exchange"
    assert os.environ.get("JUPYTER_PATH")
