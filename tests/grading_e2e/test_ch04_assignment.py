"""Chapter 4's assignment (max, average and global average pooling, the gradient of max
pooling, a predict-then-measure item) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch04 only (the big scenario fixture of conftest stays on ch00/ch01):
the reference answers (full marks), the untouched release (zero), a wrong answer
(zero), one that calls convkit's reference (no hidden-test credit), a backward pass
that gives a tied gradient to the LAST maximum (partial credit: only the tie-heavy
tests fail), a max_pool2d calling torch's pooling (no max_pool2d credit, and none for
the measurement made with it), a wrong prediction with a right measurement and a
right prediction with a wrong measurement (each loses only the predict item).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter
from test_autograde_outcomes import GradedCourse

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch04"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong", "s06-calls-reference")
LAST_TIE = "s30-backward-last-maximum"
TORCH_MAX = "s31-max-pool-calls-torch"
WRONG_PREDICTION = "s32-predicts-the-2x2-share"
WRONG_MEASUREMENT = "s33-measures-a-two-pixel-shift"
PREDICT_CELL = "ch04-predict-hidden"
# the chapter's share for 2 x 2 windows, not the one for the 3 x 3 windows asked for
WRONG_PREDICTION_SOLUTION = "prediction = 1 / 3\n"
SHIFT_LINE = "shifted[..., 1:] = maps[..., :-1]"
ARGMAX_LINE = "m, q = divmod(int(np.argmax(window)), kw)  # first maximum, row-major"
# the last maximum in row-major order: argmax of the reversed flattened window
LAST_ARGMAX_LINE = "m, q = divmod(window.size - 1 - int(np.argmax(window.ravel()[::-1])), kw)"
TORCH_MAX_SOLUTION = """
import torch
import torch.nn.functional as F


def max_pool2d(x, kernel_size, stride=None, padding=0):
    out = F.max_pool2d(torch.tensor(np.asarray(x, dtype=float)), kernel_size, stride, padding)
    return out.numpy()
"""


def _two_pixel_shift(source: str) -> str:
    """The reference measurement, with the maps shifted by two pixels instead of one."""
    assert SHIFT_LINE in source, "the reference measurement changed: update SHIFT_LINE"
    return source.replace(SHIFT_LINE, "shifted[..., 2:] = maps[..., :-2]")


def _last_tie(source: str) -> str:
    """The reference backward pass sending a tied gradient to the last maximum."""
    assert ARGMAX_LINE in source, "the reference max_pool2d_backward changed: update ARGMAX_LINE"
    return source.replace(ARGMAX_LINE, LAST_ARGMAX_LINE)


@pytest.fixture(scope="module")
def graded_ch04(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        LAST_TIE: {"ch04-backward-solution": _last_tie},
        TORCH_MAX: {"ch04-max-solution": TORCH_MAX_SOLUTION},
        WRONG_PREDICTION: {"ch04-predict-solution": WRONG_PREDICTION_SOLUTION},
        WRONG_MEASUREMENT: {"ch04-measure-solution": _two_pixel_shift},
    }
    return grade_chapter(tmp_path_factory.mktemp("course_ch04"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def test_reference_solution_gets_full_marks(graded_ch04: GradedCourse) -> None:
    auto = _auto(graded_ch04, "s01-solution")
    assert sum(top for _, top in auto.values()) == 12
    assert auto[PREDICT_CELL] == (2, 2)
    assert all(score == top for score, top in auto.values()), auto


@pytest.mark.parametrize("student", ["s02-untouched", "s03-wrong"])
def test_release_and_wrong_answer_get_zero(graded_ch04: GradedCourse, student: str) -> None:
    auto = _auto(graded_ch04, student)
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_calling_the_reference_gets_no_hidden_credit(graded_ch04: GradedCourse) -> None:
    auto = _auto(graded_ch04, "s06-calls-reference")
    hidden = {c: s for c, (s, _) in auto.items() if "hidden" in c}
    assert len(hidden) == 7 and all(s == 0 for s in hidden.values()), hidden
    assert PREDICT_CELL in hidden


def test_last_maximum_on_ties_gets_partial_credit(graded_ch04: GradedCourse) -> None:
    auto = _auto(graded_ch04, LAST_TIE)
    assert auto["ch04-backward-hidden-overlap"][0] == 0  # full of ties
    assert auto["ch04-backward-visible"][0] == 0  # its worked tie example
    others = [c for c in auto if not c.startswith("ch04-backward")]
    assert others and all(auto[c][0] == auto[c][1] for c in others), auto
    total, full = sum(s for s, _ in auto.values()), sum(t for _, t in auto.values())
    assert 0 < total < full


def test_max_pool2d_calling_torch_gets_no_max_pool_credit(graded_ch04: GradedCourse) -> None:
    """No credit for max_pool2d, nor for the measurement made with it."""
    auto = _auto(graded_ch04, TORCH_MAX)
    max_cells = [c for c in auto if c.startswith("ch04-max")] + [PREDICT_CELL]
    assert len(max_cells) == 4 and all(auto[c][0] == 0 for c in max_cells), auto
    others = [c for c in auto if c not in max_cells]
    assert others and all(auto[c][0] == auto[c][1] for c in others), auto


@pytest.mark.parametrize("student", [WRONG_PREDICTION, WRONG_MEASUREMENT])
def test_predict_item_rejects_a_wrong_prediction_or_measurement(
    graded_ch04: GradedCourse, student: str
) -> None:
    """A prediction off by more than 0.02, or a measurement of the wrong shift, loses
    exactly the predict item."""
    auto = _auto(graded_ch04, student)
    assert auto[PREDICT_CELL] == (0, 2), auto
    others = [c for c in auto if c != PREDICT_CELL]
    assert all(auto[c][0] == auto[c][1] for c in others), auto
