"""Chapter 2's assignment (filter bank, predict-then-measure, diagonal-edge kernel,
learn_kernel) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch02 only (the big scenario fixture of conftest stays on ch00/ch01):
the reference answers (full marks), the untouched release (zero), a wrong answer
(zero), answers that call convkit's references (no hidden-test credit), a
learn_kernel solved by least squares instead of gradient descent (partial credit:
it recovers the kernel but does not follow the descent), and a wrong prediction
(everything but the predict item).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter
from test_autograde_outcomes import GradedCourse

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch02"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong")
CALLS_REFERENCE = "s21-calls-convkit-filters"
LEAST_SQUARES = "s22-learn-kernel-least-squares"
WRONG_PREDICTION = "s23-wrong-prediction"

REFERENCE_ANSWERS = {
    "ch02-bank-solution": (
        "import convkit.lessons.filters as _f\n"
        "def apply_filter_bank(image, kernels):\n"
        "    return _f.apply_filter_bank(image, kernels)\n"
    ),
    "ch02-edge-solution": (
        "import convkit.lessons.filters as _f\n"
        "def diagonal_edge_kernel():\n"
        "    return _f.named_kernel('sobel_x') - _f.named_kernel('sobel_y')\n"
    ),
    "ch02-learn-solution": (
        "import convkit.lessons.filters as _f\n"
        "def learn_kernel(inputs, outputs, kernel_size, steps, lr):\n"
        "    return _f.learn_kernel(inputs, outputs, kernel_size, steps, lr)\n"
    ),
}
LEAST_SQUARES_ANSWER = {
    "ch02-learn-solution": (
        "def learn_kernel(inputs, outputs, kernel_size, steps, lr):\n"
        "    kh, kw = (kernel_size, kernel_size) if np.isscalar(kernel_size) else kernel_size\n"
        "    x, y = np.asarray(inputs, float), np.asarray(outputs, float)\n"
        "    oh, ow = y.shape[1:]\n"
        "    columns = [x[:, m:m + oh, n:n + ow].ravel() for m in range(kh) for n in range(kw)]\n"
        "    solution = np.linalg.lstsq(np.stack(columns, 1), y.ravel(), rcond=None)[0]\n"
        "    return solution.reshape(kh, kw)\n"
    ),
}
# One straddling window's response only: forgets that two windows per row straddle
# the step and that the map has 8 rows.
WRONG_PREDICTION_ANSWER = {"ch02-predict-answer": "prediction = 4 * (0.7 - 0.1)\n"}


@pytest.fixture(scope="module")
def graded_ch02(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {CALLS_REFERENCE: REFERENCE_ANSWERS, LEAST_SQUARES: LEAST_SQUARES_ANSWER,
                WRONG_PREDICTION: WRONG_PREDICTION_ANSWER}
    return grade_chapter(tmp_path_factory.mktemp("course_ch02"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def test_reference_solution_gets_full_marks(graded_ch02: GradedCourse) -> None:
    auto = _auto(graded_ch02, "s01-solution")
    assert sum(top for _, top in auto.values()) == 9  # + 1 point graded by hand
    assert all(score == top for score, top in auto.values()), auto


@pytest.mark.parametrize("student", ["s02-untouched", "s03-wrong"])
def test_release_and_wrong_answer_get_zero(graded_ch02: GradedCourse, student: str) -> None:
    auto = _auto(graded_ch02, student)
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_calling_the_references_gets_no_hidden_credit(graded_ch02: GradedCourse) -> None:
    auto = _auto(graded_ch02, CALLS_REFERENCE)
    hidden = {c: s for c, (s, _) in auto.items() if "hidden" in c}
    assert len(hidden) == 5 and all(s == 0 for s in hidden.values()), hidden


def test_least_squares_recovers_but_does_not_descend(graded_ch02: GradedCourse) -> None:
    auto = _auto(graded_ch02, LEAST_SQUARES)
    assert auto["ch02-learn-hidden-recover"][0] == auto["ch02-learn-hidden-recover"][1] > 0
    assert auto["ch02-learn-hidden-path"][0] == 0
    assert auto["ch02-learn-visible"][0] == 0
    for cell in ("ch02-bank-visible", "ch02-bank-hidden", "ch02-predict-hidden",
                 "ch02-edge-visible", "ch02-edge-hidden"):
        assert auto[cell][0] == auto[cell][1] > 0, cell
    total, full = sum(s for s, _ in auto.values()), sum(t for _, t in auto.values())
    assert 0 < total < full


def test_wrong_prediction_loses_only_the_predict_item(graded_ch02: GradedCourse) -> None:
    auto = _auto(graded_ch02, WRONG_PREDICTION)
    assert auto["ch02-predict-hidden"] == (0, 1)
    others = {c: v for c, v in auto.items() if c != "ch02-predict-hidden"}
    assert all(score == top for score, top in others.values()), others
