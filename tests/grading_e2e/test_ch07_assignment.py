"""Chapter 7's assignment (im2col and a prediction about it, conv2d as one matrix product,
the UnfoldConv2d layer, the backward pass of conv2d, a centred-difference gradient checker
and a gradient check of a backward pass) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch07 only: the reference answers (full marks), the untouched release
(zero), a wrong answer (no credit for the wrong functions), one that calls convkit's
reference (no hidden-test credit), a layer whose forward pass calls F.conv2d (no
credit for the layer), a correct conv2d that loops over output positions (no credit
for "no loops"), a layer that forgets its bias (partial credit), a gradient checker
that uses the one-sided (forward) difference (no credit for the checker, and the
message names the mistake), and a prediction far from the measurement (no credit for
the predict item).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter
from test_autograde_outcomes import GradedCourse, autograded_errors

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch07"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong", "s06-calls-reference")
CALLS_CONV = "s32-layer-calls-conv2d"
LOOPS = "s33-conv2d-loops-over-positions"
NO_BIAS = "s34-layer-forgets-bias"
FORWARD_DIFFERENCE = "s35-checker-forward-difference"
BAD_PREDICTION = "s36-prediction-off"
MODULE_CELLS = ("ch07-module-visible", "ch07-module-hidden-forward", "ch07-module-hidden-gradients")
FORWARD_CONV = """
import math


class UnfoldConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.stride, self.padding = stride, padding
        k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, *k) * 0.1)
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)
"""
LOOP_CONV = """
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = np.asarray(x, dtype=float)
    weight = np.asarray(weight, dtype=float)
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, height, width = xpad.shape
    c_out, _, kh, kw = weight.shape
    out = np.zeros((n, c_out, (height - kh) // sh + 1, (width - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = xpad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.tensordot(window, weight, axes=([1, 2, 3], [1, 2, 3]))
    if bias is not None:
        out += np.asarray(bias, dtype=float)[None, :, None, None]
    return out
"""
BIAS_LINE = "            out = out + self.bias[:, None]"
ONE_SIDED = """
def numerical_gradient(f, a, eps=1e-6):
    grad = np.zeros(a.shape)
    f0 = f()
    for idx in np.ndindex(a.shape):
        keep = a[idx]
        a[idx] = keep + eps
        grad[idx] = (f() - f0) / eps
        a[idx] = keep
    return grad
"""
CHECKER_CELLS = ("ch07-numgrad-visible", "ch07-numgrad-hidden")
FAR_PREDICTION = "prediction = 0.36  # the share of zeros in the padded image itself\n"


def _forget_bias(source: str) -> str:
    """The reference layer with its bias never added (outputs wrong, bias gradient None)."""
    assert BIAS_LINE in source, "the reference UnfoldConv2d changed: update BIAS_LINE"
    return source.replace(BIAS_LINE, "            out = out + 0.0")


@pytest.fixture(scope="module")
def graded_ch07(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        CALLS_CONV: {"ch07-module-solution": FORWARD_CONV},
        LOOPS: {"ch07-conv-solution": LOOP_CONV},
        NO_BIAS: {"ch07-module-solution": _forget_bias},
        FORWARD_DIFFERENCE: {"ch07-numgrad-solution": ONE_SIDED},
        BAD_PREDICTION: {"ch07-predict-solution": FAR_PREDICTION},
    }
    return grade_chapter(tmp_path_factory.mktemp("course_ch07"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def _full_except(auto: dict[str, tuple[float, float]], zero: tuple[str, ...]) -> None:
    """The cells in ``zero`` score 0 and every other cell full marks."""
    assert set(zero) <= set(auto), auto
    for cell, (score, top) in auto.items():
        assert score == (0 if cell in zero else top), (cell, auto)


def test_reference_solution_gets_full_marks(graded_ch07: GradedCourse) -> None:
    auto = _auto(graded_ch07, "s01-solution")
    assert sum(top for _, top in auto.values()) == 19
    assert all(score == top for score, top in auto.values()), auto


def test_release_gets_zero(graded_ch07: GradedCourse) -> None:
    auto = _auto(graded_ch07, "s02-untouched")
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_wrong_functions_get_no_credit(graded_ch07: GradedCourse) -> None:
    # s03 adds 1 to each function's result; the class is left as the reference wrote it.
    auto = _auto(graded_ch07, "s03-wrong")
    _full_except(auto, tuple(c for c in auto if c not in MODULE_CELLS))


def test_calling_the_reference_gets_no_hidden_credit(graded_ch07: GradedCourse) -> None:
    auto = _auto(graded_ch07, "s06-calls-reference")
    hidden = {c: s for c, (s, _) in auto.items() if "hidden" in c and c not in MODULE_CELLS}
    assert len(hidden) == 7 and all(s == 0 for s in hidden.values()), hidden


def test_layer_calling_conv2d_gets_no_credit_for_the_layer(graded_ch07: GradedCourse) -> None:
    _full_except(_auto(graded_ch07, CALLS_CONV), MODULE_CELLS)


def test_conv2d_looping_over_positions_loses_the_loop_test(graded_ch07: GradedCourse) -> None:
    # correct values (the random-settings test passes), but Python loops over positions
    _full_except(_auto(graded_ch07, LOOPS), ("ch07-conv-visible", "ch07-conv-hidden-loops"))


def test_layer_without_bias_gets_partial_credit(graded_ch07: GradedCourse) -> None:
    auto = _auto(graded_ch07, NO_BIAS)
    _full_except(auto, MODULE_CELLS)
    assert 0 < sum(s for s, _ in auto.values()) < 19


def test_forward_difference_checker_loses_the_checker_points(graded_ch07: GradedCourse) -> None:
    # on the linear loss of the gradient check a one-sided difference is exact up to
    # rounding, so Part 6 keeps its points; the checker's own tests use curved losses
    _full_except(_auto(graded_ch07, FORWARD_DIFFERENCE), CHECKER_CELLS)
    errors = autograded_errors(graded_ch07, ASSIGNMENT, FORWARD_DIFFERENCE)
    assert "one-sided (forward) difference" in errors, errors


def test_prediction_far_from_the_measurement_loses_the_predict_item(
    graded_ch07: GradedCourse,
) -> None:
    _full_except(_auto(graded_ch07, BAD_PREDICTION), ("ch07-predict-hidden",))
    errors = autograded_errors(graded_ch07, ASSIGNMENT, BAD_PREDICTION)
    assert "but your prediction 0.36 does not agree with it within 0.005" in errors, errors
