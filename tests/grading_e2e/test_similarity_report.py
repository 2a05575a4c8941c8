"""The similarity report on a made-up ch01 cohort: copies are flagged, independent answers not.

Ten students wrote ch01 each in their own way; two handed in one of them with
the names changed and statements reordered (``similarity_cohort.py``).  Their
notebooks are the released ch01 with the answer cells filled in, submitted to
a copy of the course; then ``python -m convkit.course similarity ch01`` runs
as an instructor would run it.
"""

from __future__ import annotations

import csv
import itertools
import re
import shutil
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import REPO, copy_course, run_cli
from similarity_cohort import COHORT, COPIES, FUNCTIONS, INDEPENDENT, ORIGINAL

import convkit
from convkit.course.similarity import DEFAULT_THRESHOLD

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch01"
UNTOUCHED = "zoe-untouched"  # submitted the release as it was
CELLS = {
    "ch01-conv1d-solution": "conv1d",
    "ch01-correlate2d-solution": "correlate2d",
    "ch01-convolve2d-solution": "convolve2d",
    "ch01-conv2d-solution": "conv2d",
    "ch01-predict-prediction": "prediction",
    "ch01-predict-measurement": "measurement",
}
PLACEHOLDER = "# YOUR CODE HERE\n"


def fill_cell(released: str, part: str, answer: dict) -> str:
    """The released cell with the student's code in place of the placeholder."""
    head, _, _ = released.partition(PLACEHOLDER)
    head = head.rstrip(" ")  # the placeholder's indentation goes with it
    code = answer[part].strip("\n")
    if part in FUNCTIONS:
        code = code if code.startswith("    ") else "    " + code
    return answer.get("helpers", {}).get(part, "") + head + code + "\n"


def student_notebook(release: nbformat.NotebookNode, answer: dict) -> nbformat.NotebookNode:
    """The released notebook with every answer cell filled in from ``answer``."""
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in CELLS:
            assert PLACEHOLDER in cell.source, grade_id
            cell.source = fill_cell(cell.source, CELLS[grade_id], answer)
    return nb


def answer_namespace(nb: nbformat.NotebookNode) -> dict:
    """Run the notebook's answer cells (after the task's inputs) and return their names."""
    namespace = {
        "np": np,
        "x": np.ones((2, 3, 7, 6)),
        "weight": np.ones((4, 3, 3, 2)),
        "bias": np.array([0.0, 1.0, 2.0, 3.0]),
    }
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") in CELLS:
            exec(compile(cell.source, "<answer>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def cohort_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course copy with the cohort's ch01 submissions (and one untouched release)."""
    root = copy_course(tmp_path_factory.mktemp("similarity"), cell_timeout=None)
    if (REPO / "course.yml").is_file():  # the course's settings, when nbgrader_config reads them
        shutil.copy(REPO / "course.yml", root)
    release_path = root / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    release = nbformat.read(release_path, as_version=4)
    for student, answer in COHORT.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(student_notebook(release, answer), folder / release_path.name)
    untouched = root / "submitted" / UNTOUCHED / ASSIGNMENT
    untouched.mkdir(parents=True)
    nbformat.write(release, untouched / release_path.name)
    return root


@pytest.fixture(scope="module")
def pairs(cohort_course: Path) -> dict[frozenset[str], dict[str, str]]:
    """Run ``similarity ch01``; pairs.csv as {the two students: row}."""
    start = time.monotonic()
    result = run_cli(cohort_course, "similarity", ASSIGNMENT)
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stdout + result.stderr
    assert seconds < 60, f"similarity took {seconds:.0f} s"
    print(result.stdout)
    folder = cohort_course / "grading" / "similarity" / ASSIGNMENT
    with open(folder / "pairs.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {frozenset((r["student_a"], r["student_b"])): r for r in rows}


@pytest.mark.parametrize("student", sorted(COHORT))
def test_every_answer_is_correct(cohort_course: Path, student: str) -> None:
    # The cohort is made of correct answers: the copies must not stand out for being wrong.
    nb = nbformat.read(
        cohort_course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4
    )
    ns = answer_namespace(nb)
    rng = np.random.default_rng(17)
    x1, w1, b1 = rng.normal(size=(2, 3, 9)), rng.normal(size=(4, 3, 3)), rng.normal(size=4)
    np.testing.assert_allclose(ns["conv1d"](x1, w1), convkit.conv1d(x1, w1))
    np.testing.assert_allclose(ns["conv1d"](x1, w1, b1), convkit.conv1d(x1, w1, b1))
    image, kernel = rng.normal(size=(6, 7)), rng.normal(size=(3, 2))
    np.testing.assert_allclose(ns["correlate2d"](image, kernel), convkit.correlate2d(image, kernel))
    np.testing.assert_allclose(ns["convolve2d"](image, kernel), convkit.convolve2d(image, kernel))
    x2, w2 = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2))
    np.testing.assert_allclose(ns["conv2d"](x2, w2), convkit.conv2d(x2, w2))
    np.testing.assert_allclose(ns["conv2d"](x2, w2, b1), convkit.conv2d(x2, w2, b1))
    assert tuple(ns["predicted_shape"]) == ns["measured"].shape == (2, 4, 5, 5)
    assert ns["predicted_value"] == ns["measured"][1, 3, 0, 0] == 21.0


def test_every_pair_is_compared_once(pairs) -> None:
    expected = {frozenset(p) for p in itertools.combinations(COHORT, 2)}
    assert set(pairs) == expected


def test_the_copies_are_flagged(pairs) -> None:
    copied = [frozenset(p) for p in itertools.combinations([ORIGINAL, *COPIES], 2)]
    for pair in copied:
        row = pairs[pair]
        assert row["flagged"] == "yes", row
        assert max(float(row["similarity_a"]), float(row["similarity_b"])) > DEFAULT_THRESHOLD
        assert int(row["tokens_overlapped"]) > 0
    # Every other pair involving a copy stays below the threshold too.
    for copy in COPIES:
        for other in INDEPENDENT:
            if other != ORIGINAL:
                assert pairs[frozenset((copy, other))]["flagged"] == "no"


def test_independent_answers_are_not_flagged(pairs) -> None:
    scores = {}
    for pair in itertools.combinations(INDEPENDENT, 2):
        row = pairs[frozenset(pair)]
        scores[pair] = max(float(row["similarity_a"]), float(row["similarity_b"]))
        assert row["flagged"] == "no", row
    highest = max(scores, key=scores.get)
    print(f"highest independent pair: {highest} {scores[highest]:.3f}")
    assert scores[highest] < DEFAULT_THRESHOLD


def test_report_shows_the_flagged_pairs_side_by_side(cohort_course: Path, pairs) -> None:
    folder = cohort_course / "grading" / "similarity" / ASSIGNMENT
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "it judges nothing" in page and "innocent causes" in page
    # copydetect's "Matched Code" section: one entry per flagged pair, the two codes highlighted.
    matched = page.split("Matched Code", 1)[1]
    entries = re.findall(
        r"Test file: <i>([^<]+)</i>.*?Reference file: <i>([^<]+)</i>", matched, re.S
    )
    flagged = {pair for pair, row in pairs.items() if row["flagged"] == "yes"}
    assert {frozenset(e) for e in entries} == flagged
    assert matched.count("highlight-red'>") >= len(flagged)
    assert matched.count("highlight-green'>") >= len(flagged)
    assert "np.sum(seg * weight[k])" in matched  # kofi's own code, as he wrote it
    # The student who handed in the release untouched is listed, not dropped.
    assert UNTOUCHED in page.split("Matched Code", 1)[0]
    with open(folder / "skipped.csv", newline="", encoding="utf-8") as handle:
        assert {r["student"]: r["reason"] for r in csv.DictReader(handle)} == {
            UNTOUCHED: "no answer code (answer cells empty or as released)"
        }
    # It opens offline: nothing is fetched from the network, no temporary paths are shown.
    assert not re.search(r"<(link|script)\b", page, re.I)
    assert "convkit-similarity-" not in page
