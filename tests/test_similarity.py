"""The similarity report's parts: answer code extraction, boilerplate, skipped students, errors.

Each test builds a tiny course (one assignment, ``hw``) in a temporary folder;
the end-to-end run on a realistic cohort is ``tests/grading_e2e/test_similarity_report.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from convkit.course.__main__ import main
from convkit.course.course import Course
from convkit.course.report import similarity_links
from convkit.course.similarity import (
    answer_cells,
    collect_answers,
    compare,
    joined,
    solution_code,
    template_cells,
    write_similarity_report,
)

CONFIG = """
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "tiny"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
"""
SIGNATURE = (
    "def smooth_rows(image, kernel_size=3, boundary='reflect', weights=None, "
    "normalise=True, clip_low=0.0, clip_high=1.0):\n"
    '    """image: (H, W) -> (H, W): every row averaged over a sliding window, then clipped '
    'to [clip_low, clip_high]; weights: (kernel_size,) or None for a flat window."""\n'
)
TEMPLATE = SIGNATURE + "    # YOUR CODE HERE\n    raise NotImplementedError()\n"
# Two short answers that share nothing but the template's signature.
ANSWER_A = SIGNATURE + "    return image\n"
ANSWER_B = SIGNATURE + "    out = [row for row in image]\n    return out\n"
COPIED = (
    "def smooth(values, size):\n"
    "    total = []\n"
    "    for start in range(len(values) - size + 1):\n"
    "        window = values[start:start + size]\n"
    "        total.append(sum(window) / float(size))\n"
    "    return total\n"
)


def cell(source: str, grade_id: str, solution: bool = False, grade: bool = False, code=True):
    """A notebook cell with nbgrader metadata."""
    make = new_code_cell if code else new_markdown_cell
    meta = {"grade_id": grade_id, "solution": solution, "grade": grade, "locked": not solution}
    return make(source, metadata={"nbgrader": meta})


def notebook(answer: str, extra: str = "") -> nbformat.NotebookNode:
    """The assignment's notebook with ``answer`` (and ``extra``) in its answer cells."""
    return new_notebook(
        cells=[
            new_code_cell("import numpy as np"),  # a plain cell
            cell(answer, "smooth", solution=True),
            cell("Because the window is flat.", "why", solution=True, grade=True, code=False),
            cell("assert smooth_rows([[1.0]]) is not None", "test-smooth", grade=True),
            cell(extra or "# YOUR CODE HERE\nraise NotImplementedError()", "more", solution=True),
        ]
    )


def make_course(root: Path) -> Course:
    """A course with assignment ``hw``: its source, its release (the template), no submission."""
    (root / "nbgrader_config.py").write_text(CONFIG)
    for folder, answer in (("solutions", ANSWER_A), ("exercises", TEMPLATE)):
        (root / folder / "hw").mkdir(parents=True)
        nbformat.write(notebook(answer), root / folder / "hw" / "hw.ipynb")
    return Course(root)


def submit(course: Course, student: str, nb: nbformat.NotebookNode | str) -> Path:
    """``submitted/<student>/hw/hw.ipynb`` holding ``nb`` (a notebook or raw text)."""
    folder = course.submitted_dir(student, "hw")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hw.ipynb"
    if isinstance(nb, str):
        path.write_text(nb)
    else:
        nbformat.write(nb, path)
    return path


def test_extraction_keeps_only_solution_code_cells(tmp_path: Path) -> None:
    course = make_course(tmp_path)
    path = submit(course, "ann", notebook(ANSWER_A, extra="value = 3 * 4"))
    nb = nbformat.read(path, as_version=4)
    # Not the plain import, not the written (markdown) answer, not the test cell.
    assert solution_code(nb) == [ANSWER_A, "value = 3 * 4"]
    assert answer_cells([path, path]) == [ANSWER_A, "value = 3 * 4"] * 2
    assert joined(answer_cells([path])) == ANSWER_A + "\nvalue = 3 * 4\n"
    assert joined([]) == ""
    assert template_cells(course, "hw") == [
        TEMPLATE,
        "# YOUR CODE HERE\nraise NotImplementedError()",
    ]


def test_boilerplate_removes_the_templates_code() -> None:
    answers = {"ann": ANSWER_A, "bob": ANSWER_B}
    without, _ = compare(answers, boilerplate="", threshold=0.5)
    with_template, page = compare(answers, boilerplate=TEMPLATE, threshold=0.5)
    # Without the template, the shared signature and docstring make them look alike ...
    assert without[0].score > 0.5 and without[0].flagged
    # ... with it, what is left of the two answers has nothing in common.
    assert with_template[0].score == 0.0 and not with_template[0].flagged
    assert "Matched Code" in page


def test_a_copy_is_flagged_and_named_by_student(tmp_path: Path) -> None:
    answers = {"ann": COPIED, "bob": COPIED.replace("values", "xs"), "cy": ANSWER_B}
    pairs, page = compare(answers, boilerplate=TEMPLATE, threshold=0.5)
    assert [(p.student_a, p.student_b) for p in pairs if p.flagged] == [("ann", "bob")]
    assert pairs[0].similarity_a == pairs[0].similarity_b == 1.0
    assert pairs[0].tokens_overlapped > 0
    assert "Test file: <i>ann</i>" in page or "Test file: <i>bob</i>" in page
    assert "convkit-similarity-" not in page  # no temporary paths


def test_skipped_students_are_reported(tmp_path: Path) -> None:
    course = make_course(tmp_path)
    submit(course, "ann", notebook(COPIED))
    submit(course, "bob", notebook(COPIED.replace("total", "acc")))
    submit(course, "cy-untouched", nbformat.read(tmp_path / "exercises/hw/hw.ipynb", 4))
    submit(course, "dee-blank", notebook("   \n", extra="\n"))
    submit(course, "eve-broken", '{"cells": [')  # a half-saved file
    course.submitted_dir("fay-empty", "hw").mkdir(parents=True)
    course.submitted_dir("gus-other", "hw2").mkdir(parents=True)  # submitted another assignment
    answers, skipped = collect_answers(course, "hw")
    assert sorted(answers) == ["ann", "bob"]
    assert skipped == {
        "cy-untouched": "no answer code (answer cells empty or as released)",
        "dee-blank": "no answer code (answer cells empty or as released)",
        "eve-broken": skipped["eve-broken"],
        "fay-empty": "no notebook in the submission",
        "gus-other": "no submission",
    }
    assert skipped["eve-broken"].startswith("unreadable notebook")

    result = write_similarity_report(course, "hw", threshold=0.5)
    assert [(p.student_a, p.student_b) for p in result.flagged] == [("ann", "bob")]
    page = result.html.read_text()
    assert "it judges nothing" in page
    for student in skipped:
        assert student in page
    with open(result.skipped_csv, newline="") as handle:
        assert {r["student"]: r["reason"] for r in csv.DictReader(handle)} == skipped
    with open(result.pairs_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["student_a"], r["student_b"], r["flagged"]) for r in rows] == [("ann", "bob", "yes")]


def test_fewer_than_two_answers_still_writes_the_report(tmp_path: Path) -> None:
    course = make_course(tmp_path)
    submit(course, "ann", notebook(COPIED))
    submit(course, "bob", nbformat.read(tmp_path / "exercises/hw/hw.ipynb", 4))
    result = write_similarity_report(course, "hw")
    assert result.pairs == [] and result.skipped == {
        "bob": "no answer code (answer cells empty or as released)"
    }
    assert "nothing to compare" in result.html.read_text()
    assert result.pairs_csv.read_text().splitlines() == [
        "student_a,student_b,similarity_a,similarity_b,tokens_overlapped,flagged"
    ]


def test_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = make_course(tmp_path)
    with pytest.raises(ValueError, match="unknown assignment 'nope'"):
        write_similarity_report(course, "nope")
    with pytest.raises(ValueError, match="no submissions of hw"):
        write_similarity_report(course, "hw")
    submit(course, "ann", notebook(COPIED))
    with pytest.raises(ValueError, match=r"0\.\.1"):
        write_similarity_report(course, "hw", threshold=1.5)
    assert main(["--course", str(tmp_path), "similarity", "nope"]) == 1
    assert "similarity: unknown assignment 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--course", str(tmp_path), "similarity", "hw", "--threshold", "2"])
    assert main(["--course", str(tmp_path), "similarity", "hw"]) == 0
    assert "compared 1 students' answer code" in capsys.readouterr().out


def test_grading_report_links_to_the_similarity_report(tmp_path: Path) -> None:
    course = make_course(tmp_path)
    folder = tmp_path / "grading" / "report"
    assert similarity_links(course, folder, ["hw"]) == {}
    page = course.grading_dir / "similarity" / "hw" / "report.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html></html>")
    links = similarity_links(course, folder, ["hw", "other"])
    assert links == {"hw": "../similarity/hw/report.html"}
    assert (folder / links["hw"]).resolve() == page.resolve()
    elsewhere = similarity_links(course, tmp_path / "out", ["hw"])
    assert (tmp_path / "out" / elsewhere["hw"]).resolve() == page.resolve()
    # the report page itself links it: tests/grading_e2e/test_report.py, on a graded course
