"""The nbgrader user interfaces, driven in Chromium against a real JupyterLab.

* A student opens ``exercises/ch01/ch01.ipynb`` (Lab started the way ``make lab``
  starts it), runs every cell and sees the visible tests fail, pastes the
  reference answers into the answer cells, runs again and sees them pass; the
  toolbar's Validate button then reports success (and failure before answering).
* An instructor, after an autograde, opens the formgrader and sees the
  assignment and each submission with the score the gradebook holds.

Screenshots of every step go to ``_build/screenshots/nbgrader/`` for people to
look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from book_site import ROOT, SCREENSHOT_DIR
from jupyterlab_session import TOKEN, lab_server
from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.slow

SHOTS = SCREENSHOT_DIR / "nbgrader"
ASSIGNMENT = "ch01"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _course_copy(destination: Path) -> Path:
    """The course's nbgrader files (config, solutions, exercises) in ``destination``."""
    destination.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", destination)
    shutil.copy(ROOT / "course.yml", destination)  # nbgrader_config.py reads it
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder / ASSIGNMENT, destination / folder / ASSIGNMENT)
    return destination


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        ["nice", "-n", "10", sys.executable, "-m", "convkit.course", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _answers(solution: Path) -> dict[str, tuple[str, str]]:
    """grade_id -> (cell type, what a student would paste: the solution without markers)."""
    nb = nbformat.read(solution, as_version=4)
    answers = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = [line for line in cell.source.splitlines()
                     if line.strip() not in SOLUTION_MARKERS]
            answers[meta["grade_id"]] = (cell.cell_type, "\n".join(lines))
    return answers


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def _run_all(page: Page) -> None:
    """Run > Run All Cells, then wait until the kernel is idle again."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_timeout(1_000)
    page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(timeout=120_000)


def _validate(page: Page) -> str:
    """Click the toolbar's Validate button; return the text of the results dialog."""
    page.locator(".validate-button").first.click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=180_000)
    body = dialog.locator(".jp-Dialog-body")
    page.wait_for_timeout(300)
    return body.inner_text()


def _close_dialog(page: Page) -> None:
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached", timeout=10_000)


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return _course_copy(tmp_path / "course")


def test_student_runs_answers_and_validates(browser: Browser, course: Path) -> None:
    notebook = course / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    answers = _answers(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    release = nbformat.read(notebook, as_version=4)
    answer_cells = [
        (index, answers[cell.metadata["nbgrader"]["grade_id"]])
        for index, cell in enumerate(release.cells)
        if cell.metadata.get("nbgrader", {}).get("grade_id") in answers
    ]
    assert len(answer_cells) == len(answers) >= 3

    # `make lab`: Lab on exercises/, started from the course root
    with lab_server(course / "exercises", cwd=course) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{base}lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb?token={TOKEN}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            page.locator(".jp-StatusBar-Widget", has_text="Idle").first.wait_for(
                timeout=90_000
            )
            cells = page.locator(".jp-Notebook .jp-Cell")
            _shot(page, "01-student-opens-exercise")

            # before answering, the first visible test fails with the placeholder's error
            _run_all(page)
            failing = page.locator(".jp-OutputArea-output", has_text="NotImplementedError")
            failing.first.wait_for(timeout=30_000)
            failing.first.scroll_into_view_if_needed()
            _shot(page, "02-visible-test-fails-before-answering")
            text = _validate(page)
            assert "Success!" not in text and "NotImplementedError" in text, text
            _shot(page, "03-validate-reports-failure")
            _close_dialog(page)

            # paste each answer into its cell, the way a person would (a written
            # answer: double-click the rendered markdown to edit it, then render)
            for index, (kind, code) in answer_cells:
                cell = cells.nth(index)
                cell.scroll_into_view_if_needed()
                if kind == "markdown":
                    cell.locator(".jp-MarkdownOutput").dblclick()
                editor = cell.locator(".cm-content")
                editor.click()
                page.keyboard.press("Control+A")
                page.keyboard.insert_text(code)
                if kind == "markdown":
                    page.keyboard.press("Shift+Enter")
            page.keyboard.press("Escape")
            page.keyboard.press("Control+S")
            page.wait_for_timeout(1_000)
            saved = nbformat.read(notebook, as_version=4)
            for index, (_, code) in answer_cells:
                assert saved.cells[index].source.strip() == code.strip(), (
                    f"cell {index} was not pasted as typed"
                )

            _run_all(page)
            outputs = page.locator(".jp-OutputArea-output")
            all_output = "\n".join(outputs.all_inner_texts())
            assert "Error" not in all_output and "Traceback" not in all_output, all_output
            # every code cell ran, without an error (read back from the saved notebook)
            page.locator(".jp-Notebook").first.click()
            page.keyboard.press("Control+S")
            page.wait_for_timeout(1_000)
            ran = nbformat.read(notebook, as_version=4)
            for index, cell in enumerate(ran.cells):
                if cell.cell_type == "code":
                    assert cell.execution_count, f"cell {index} did not run"
                    assert all(o.output_type != "error" for o in cell.outputs), index
            _shot(page, "04-visible-tests-pass-after-answering")

            text = _validate(page)
            assert "Success! Your notebook passes all the tests." in text, text
            _shot(page, "05-validate-reports-success")
            _close_dialog(page)
            assert errors == []
        finally:
            page.close()


@pytest.fixture
def graded_course(course: Path) -> Iterator[tuple[Path, dict[str, float]]]:
    """Generate, submit the reference (alice) and the untouched release (bob), autograde."""
    from nbgrader.api import Gradebook

    from convkit.course.course import Course

    _cli(course, "generate", ASSIGNMENT)
    name = f"{ASSIGNMENT}.ipynb"
    for student, source in (("alice", "solutions"), ("bob", "exercises")):
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        shutil.copy(course / source / ASSIGNMENT / name, folder / name)
    _cli(course, "autograde", ASSIGNMENT, "--no-progress")
    info = Course(course)
    with Gradebook(info.db_url, info.course_id) as gb:
        scores = {s: gb.find_submission(ASSIGNMENT, s).score for s in ("alice", "bob")}
        max_score = gb.find_assignment(ASSIGNMENT).max_score
    assert scores["bob"] == 0 < scores["alice"] < max_score  # the written answer awaits a person
    yield course, {**scores, "max": max_score}


def test_instructor_sees_scores_in_formgrader(
    browser: Browser, graded_course: tuple[Path, dict[str, float]]
) -> None:
    course, scores = graded_course
    with lab_server(course, cwd=course) as base:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto(f"{base}formgrader?token={TOKEN}")
            page.goto(f"{base}formgrader/manage_assignments")
            row = page.locator("tr", has_text=ASSIGNMENT).first
            row.wait_for(timeout=60_000)
            _shot(page, "06-formgrader-assignments")

            page.goto(f"{base}formgrader/manage_submissions/{ASSIGNMENT}")
            for student in ("alice", "bob"):
                row = page.locator("tr", has_text=student).first
                row.wait_for(timeout=60_000)
                text = row.inner_text()
                expected = f"{scores[student]:g} / {scores['max']:g}"
                assert expected in re.sub(r"\s+", " ", text), (student, expected, text)
            _shot(page, "07-formgrader-submissions-with-scores")
            assert errors == []
        finally:
            page.close()
