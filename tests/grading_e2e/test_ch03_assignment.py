"""Chapter 3's assignment (pad2d, conv2d with stride and padding, predict-then-measure)
graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch03 only (the big scenario fixture of conftest stays on ch00/ch01):
the reference answers (full marks), the untouched release (zero), a wrong answer
(zero), a conv2d that handles int but not pair stride/padding (partial credit),
one that calls convkit's reference (no hidden-test credit), a pad2d that
calls np.pad (no pad2d credit: that exercise denies library padding), and a wrong
prediction of the output size (everything but the predict item).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter
from test_autograde_outcomes import GradedCourse

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch03"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong", "s06-calls-reference")
INT_ONLY = "s20-int-stride-only"
NP_PAD = "s21-pad2d-calls-np-pad"
WRONG_PREDICTION = "s22-wrong-prediction"
# The floor without the + 1 (the number of jumps, not of windows) on both axes.
WRONG_PREDICTION_ANSWER = "prediction = ((15 + 4 - 5) // 2, (10 + 4 - 5) // 2)\n"
NP_PAD_SOLUTION = """
def pad2d(x, padding, value=0.0):
    if isinstance(padding, int):
        left = right = top = bottom = padding
    elif len(padding) == 2:
        top = bottom = padding[0]
        left = right = padding[1]
    else:
        left, right, top, bottom = padding
    widths = [(0, 0)] * (np.ndim(x) - 2) + [(top, bottom), (left, right)]
    return np.pad(np.asarray(x, dtype=float), widths, constant_values=value)
"""
PAIR_LINES = {  # the reference's pair handling -> a version that drops the column value
    "sh, sw = (stride, stride) if isinstance(stride, int) else stride":
        "sh = sw = stride if isinstance(stride, int) else stride[0]",
    "ph, pw = (padding, padding) if isinstance(padding, int) else padding":
        "ph = pw = padding if isinstance(padding, int) else padding[0]",
}


def _int_only(source: str) -> str:
    """The reference conv2d reading only the first entry of a stride/padding pair."""
    for old, new in PAIR_LINES.items():
        assert old in source, "the reference conv2d changed: update PAIR_LINES"
        source = source.replace(old, new)
    return source


@pytest.fixture(scope="module")
def graded_ch03(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        INT_ONLY: {"ch03-conv2d-solution": _int_only},
        NP_PAD: {"ch03-pad2d-solution": NP_PAD_SOLUTION},
        WRONG_PREDICTION: {"ch03-predict-answer": WRONG_PREDICTION_ANSWER},
    }
    return grade_chapter(tmp_path_factory.mktemp("course_ch03"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def test_reference_solution_gets_full_marks(graded_ch03: GradedCourse) -> None:
    auto = _auto(graded_ch03, "s01-solution")
    assert sum(top for _, top in auto.values()) == 10
    assert all(score == top for score, top in auto.values()), auto


@pytest.mark.parametrize("student", ["s02-untouched", "s03-wrong"])
def test_release_and_wrong_answer_get_zero(graded_ch03: GradedCourse, student: str) -> None:
    auto = _auto(graded_ch03, student)
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_int_only_conv2d_gets_partial_credit(graded_ch03: GradedCourse) -> None:
    auto = _auto(graded_ch03, INT_ONLY)
    assert auto["ch03-conv2d-hidden-int"][0] == auto["ch03-conv2d-hidden-int"][1] > 0
    assert auto["ch03-conv2d-hidden-pairs"][0] == 0
    assert auto["ch03-conv2d-visible"][0] == 0  # its last example uses pairs
    pad_cells = [c for c in auto if c.startswith("ch03-pad2d")]
    assert pad_cells and all(auto[c][0] == auto[c][1] for c in pad_cells)
    assert auto["ch03-predict-hidden"][0] == 1  # int stride and padding: measured right
    total, full = sum(s for s, _ in auto.values()), sum(t for _, t in auto.values())
    assert 0 < total < full


def test_calling_the_reference_gets_no_hidden_credit(graded_ch03: GradedCourse) -> None:
    auto = _auto(graded_ch03, "s06-calls-reference")
    hidden = {c: s for c, (s, _) in auto.items() if "hidden" in c}
    assert len(hidden) == 5 and all(s == 0 for s in hidden.values()), hidden


def test_pad2d_calling_np_pad_gets_no_pad2d_credit(graded_ch03: GradedCourse) -> None:
    """np.pad gives the right numbers, but pad2d is the exercise: its tests give 0."""
    auto = _auto(graded_ch03, NP_PAD)
    pad_cells = [c for c in auto if c.startswith("ch03-pad2d")]
    assert len(pad_cells) == 3 and all(auto[c][0] == 0 for c in pad_cells), auto
    conv_cells = [c for c in auto if c.startswith("ch03-conv2d")]
    assert conv_cells and all(auto[c][0] == auto[c][1] for c in conv_cells), auto


def test_wrong_prediction_loses_only_the_predict_item(graded_ch03: GradedCourse) -> None:
    auto = _auto(graded_ch03, WRONG_PREDICTION)
    assert auto["ch03-predict-hidden"] == (0, 1)
    others = {c: v for c, v in auto.items() if c != "ch03-predict-hidden"}
    assert all(score == top for score, top in others.values()), others
