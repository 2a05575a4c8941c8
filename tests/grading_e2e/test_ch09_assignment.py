"""Chapter 9's assignment (patchify, patch_embed, depthwise_separable_params and a
predict-then-measure item) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch09 only: the reference answers (full automatic marks), the untouched
release (zero), a wrong answer (zero), a depthwise_separable_params that calls
convkit's reference (no credit for that part, nor for the predict item that measures
with it), a patch_embed that calls torch's
strided convolution (no credit for that part only), a count that forgets the
depthwise biases (partial credit), a prediction that forgets the 1x1 part of the
separable layer (no credit for the predict item only) and a measurement taken upside
down (no credit for the predict item only).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter
from test_autograde_outcomes import GradedCourse

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch09"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong")
DWS_CALLS_REF = "s30-dws-calls-reference"
EMBED_TORCH = "s31-patch-embed-calls-torch-conv"
NO_DW_BIAS = "s32-dws-forgets-depthwise-bias"
PREDICT_K2 = "s33-prediction-forgets-the-1x1-part"
MEASURE_FLIPPED = "s34-measured-ratio-upside-down"

DWS_CALLS_REF_SOLUTION = """
import convkit.nn.models.modern as _ck_modern


def depthwise_separable_params(in_channels, out_channels, kernel_size, bias=True):
    return _ck_modern.depthwise_separable_params(in_channels, out_channels, kernel_size, bias)
"""
EMBED_TORCH_SOLUTION = """
import torch
import torch.nn.functional as F


def patch_embed(x, weight, bias=None):
    w = torch.tensor(np.asarray(weight, dtype=float))
    b = None if bias is None else torch.tensor(np.asarray(bias, dtype=float))
    out = F.conv2d(torch.tensor(np.asarray(x, dtype=float)), w, b, stride=tuple(w.shape[2:]))
    return out.flatten(2).transpose(1, 2).numpy()
"""
DW_BIAS_LINE = "depthwise = in_channels * kh * kw + (in_channels if bias else 0)"
# k^2 = 49: the saving of the spatial part alone; the true ratio is 1 / (1/96 + 1/49) = 32.4
PREDICT_K2_ANSWER = "prediction = 49\n"
MEASURE_FLIPPED_ANSWER = """
import convkit

measured = (depthwise_separable_params(96, 96, 7, bias=False)
            / convkit.conv2d_params(96, 96, 7, bias=False))
"""


def _no_depthwise_bias(source: str) -> str:
    assert DW_BIAS_LINE in source, "the reference count changed: update DW_BIAS_LINE"
    return source.replace(DW_BIAS_LINE, "depthwise = in_channels * kh * kw")


@pytest.fixture(scope="module")
def graded_ch09(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        DWS_CALLS_REF: {"ch09-dws-solution": DWS_CALLS_REF_SOLUTION},
        EMBED_TORCH: {"ch09-embed-solution": EMBED_TORCH_SOLUTION},
        NO_DW_BIAS: {"ch09-dws-solution": _no_depthwise_bias},
        PREDICT_K2: {"ch09-predict-answer": PREDICT_K2_ANSWER},
        MEASURE_FLIPPED: {"ch09-measure-answer": MEASURE_FLIPPED_ANSWER},
    }
    return grade_chapter(tmp_path_factory.mktemp("course_ch09"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def _only_part_fails(auto: dict[str, tuple[float, float]], prefix: str, cells: int) -> None:
    failed = [c for c in auto if c.startswith(prefix)]
    assert len(failed) == cells and all(auto[c][0] == 0 for c in failed), auto
    others = [c for c in auto if not c.startswith(prefix)]
    assert others and all(auto[c][0] == auto[c][1] for c in others), auto


def test_reference_solution_gets_full_marks(graded_ch09: GradedCourse) -> None:
    auto = _auto(graded_ch09, "s01-solution")
    assert sum(top for _, top in auto.values()) == 9  # + 2 points for the written answer
    assert all(score == top for score, top in auto.values()), auto


@pytest.mark.parametrize("student", ["s02-untouched", "s03-wrong"])
def test_release_and_wrong_answer_get_zero(graded_ch09: GradedCourse, student: str) -> None:
    auto = _auto(graded_ch09, student)
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_calling_the_reference_gets_no_credit_for_that_part(graded_ch09: GradedCourse) -> None:
    auto = _auto(graded_ch09, DWS_CALLS_REF)
    assert auto["ch09-predict-hidden"] == (0, 1), auto  # it measures with that function
    _only_part_fails({c: v for c, v in auto.items() if c != "ch09-predict-hidden"}, "ch09-dws", 2)


def test_patch_embed_through_torch_conv_gets_no_credit(graded_ch09: GradedCourse) -> None:
    _only_part_fails(_auto(graded_ch09, EMBED_TORCH), "ch09-embed", 2)


def test_forgetting_the_depthwise_bias_gets_partial_credit(graded_ch09: GradedCourse) -> None:
    auto = _auto(graded_ch09, NO_DW_BIAS)
    _only_part_fails(auto, "ch09-dws", 2)
    total, full = sum(s for s, _ in auto.values()), sum(t for _, t in auto.values())
    assert 0 < total < full


@pytest.mark.parametrize("student", [PREDICT_K2, MEASURE_FLIPPED])
def test_a_wrong_prediction_or_measurement_loses_the_predict_item(
    graded_ch09: GradedCourse, student: str
) -> None:
    auto = _auto(graded_ch09, student)
    _only_part_fails(auto, "ch09-predict", 1)
    assert auto["ch09-predict-hidden"] == (0, 1)
