"""Chapter 5's assignment (output_size, conv2d_params, shape_trace, receptive_field, a
predict-then-measure item) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch05 only: the reference answers (full marks), the untouched release
(zero), a wrong answer (every result off by one: zero except the test that a window
which does not fit raises ValueError, since the wrong answer still raises there), an
output_size that ignores dilation (partial), one that returns 0 instead of raising
for a window that does not fit (no credit for the error test only), a shape_trace
that calls convkit's reference (no shape_trace credit, and none for the measurement
made with it), and a prediction, or a measurement, that leaves the pooling layer out
of the receptive field (each loses only the predict item).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter
from test_autograde_outcomes import GradedCourse

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch05"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong")
NO_DILATION = "s30-output-size-ignores-dilation"
NO_ERROR = "s31-output-size-returns-zero"
CALLS_REF = "s32-shape-trace-calls-reference"
WRONG_PREDICTION = "s33-predicts-without-the-pooling"
WRONG_MEASUREMENT = "s34-measures-without-the-pooling"
ERROR_CELL = "ch05-output-size-hidden-error"
PREDICT_CELL = "ch05-predict-hidden"
# the receptive field of the convolutions alone: 1 + 6 + 4 * 2 * 2 = 23, not 43
WRONG_PREDICTION_SOLUTION = "prediction = (23, 56)\n"
FIELD_LINE = 'field_layers = [spec[2:4] if spec[0] == "conv" else spec[1:3] for spec in stem]'

SPAN_LINE = "span = dilation * (kernel_size - 1) + 1"
RAISE_BLOCK = """    if span > padded:
        raise ValueError(
            f"the window does not fit: it spans {span} entries but the padded input has {padded}"
        )
    return (padded - span) // stride + 1"""
CALLS_REF_SOLUTION = """
import convkit.shapes.trace as _ck_trace

def shape_trace(input_shape, layers):
    return _ck_trace.shape_trace(input_shape, layers)
"""


def _field_without_pooling(source: str) -> str:
    assert FIELD_LINE in source, "the reference measurement changed: update FIELD_LINE"
    return source.replace(
        FIELD_LINE, 'field_layers = [spec[2:4] for spec in stem if spec[0] == "conv"]')


def _ignore_dilation(source: str) -> str:
    assert SPAN_LINE in source, "the reference output_size changed: update SPAN_LINE"
    return source.replace(SPAN_LINE, "span = kernel_size")


def _no_error(source: str) -> str:
    assert RAISE_BLOCK in source, "the reference output_size changed: update RAISE_BLOCK"
    return source.replace(RAISE_BLOCK, "    return max(0, (padded - span) // stride + 1)")


@pytest.fixture(scope="module")
def graded_ch05(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        NO_DILATION: {"ch05-output-size-solution": _ignore_dilation},
        NO_ERROR: {"ch05-output-size-solution": _no_error},
        CALLS_REF: {"ch05-shape-trace-solution": CALLS_REF_SOLUTION},
        WRONG_PREDICTION: {"ch05-predict-solution": WRONG_PREDICTION_SOLUTION},
        WRONG_MEASUREMENT: {"ch05-measure-solution": _field_without_pooling},
    }
    return grade_chapter(tmp_path_factory.mktemp("course_ch05"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def _full(auto: dict[str, tuple[float, float]], cell: str) -> bool:
    return auto[cell][0] == auto[cell][1] > 0


def test_reference_solution_gets_full_marks(graded_ch05: GradedCourse) -> None:
    auto = _auto(graded_ch05, "s01-solution")
    assert sum(top for _, top in auto.values()) == 14
    assert auto[PREDICT_CELL] == (2, 2)
    assert all(score == top for score, top in auto.values()), auto


def test_untouched_release_gets_zero(graded_ch05: GradedCourse) -> None:
    auto = _auto(graded_ch05, "s02-untouched")
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_wrong_answer_gets_only_the_error_test(graded_ch05: GradedCourse) -> None:
    """Results off by one fail every value test; the wrapped reference still raises."""
    auto = _auto(graded_ch05, "s03-wrong")
    assert _full(auto, ERROR_CELL), auto
    others = {c: s for c, (s, _) in auto.items() if c != ERROR_CELL}
    assert all(s == 0 for s in others.values()), auto


def test_output_size_without_dilation_gets_partial_credit(graded_ch05: GradedCourse) -> None:
    auto = _auto(graded_ch05, NO_DILATION)
    assert _full(auto, "ch05-output-size-hidden")
    assert auto["ch05-output-size-hidden-dilation"][0] == 0
    assert auto["ch05-output-size-visible"][0] == 0  # its examples use dilation
    total, full = sum(s for s, _ in auto.values()), sum(t for _, t in auto.values())
    assert 0 < total < full


def test_no_error_for_a_window_that_does_not_fit(graded_ch05: GradedCourse) -> None:
    """Returning 0 instead of raising loses exactly the error test (and the visible one,
    which checks the error too); every value test still passes."""
    auto = _auto(graded_ch05, NO_ERROR)
    assert auto[ERROR_CELL][0] == 0 and auto["ch05-output-size-visible"][0] == 0, auto
    rest = [c for c in auto if c not in (ERROR_CELL, "ch05-output-size-visible")]
    assert all(_full(auto, c) for c in rest), auto


def test_shape_trace_calling_the_reference_gets_no_credit(graded_ch05: GradedCourse) -> None:
    """No credit for shape_trace, nor for the measurement made with it."""
    auto = _auto(graded_ch05, CALLS_REF)
    trace_cells = [c for c in auto if c.startswith("ch05-shape-trace")] + [PREDICT_CELL]
    assert len(trace_cells) == 4 and all(auto[c][0] == 0 for c in trace_cells), auto
    rest = [c for c in auto if c not in trace_cells]
    assert all(_full(auto, c) for c in rest), auto


@pytest.mark.parametrize("student", [WRONG_PREDICTION, WRONG_MEASUREMENT])
def test_predict_item_rejects_a_wrong_prediction_or_measurement(
    graded_ch05: GradedCourse, student: str
) -> None:
    """Leaving the pooling layer out of the receptive field, in the prediction or in the
    measurement, loses exactly the predict item."""
    auto = _auto(graded_ch05, student)
    assert auto[PREDICT_CELL] == (0, 2), auto
    rest = [c for c in auto if c != PREDICT_CELL]
    assert all(_full(auto, c) for c in rest), auto
