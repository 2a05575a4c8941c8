"""Chapter 12's assignment (conv2d with groups, conv_transpose2d, a cost counter
layer_costs, mask_iou, and a predict-then-measure item on the overlaps of a strided
transposed convolution) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch12 only: the reference answers (full automatic marks), the untouched
release (zero), the scenario's wrong answer (every function's result shifted: zero), a
transposed convolution built on the student's own conv2d (full marks: allowed), and
students who each take one shortcut or make one known mistake: each loses exactly the
cells of that part (the predict item too when its measurement rests on a wrong or
refused conv_transpose2d), and the autograded notebook names the refused call or the
mistake. The committed release is what nbgrader generates from the source, with no
solution or hidden test left in it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from chapter_grading import auto_scores, grade_chapter, only_these_fail
from conftest import REPO
from test_autograde_outcomes import GradedCourse, autograded_errors

from convkit.course.course import Course
from convkit.course.generate import release_differences

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch12"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong")
ON_OWN_CONV2D = "s80-transpose-on-own-conv2d"
TORCH_TRANSPOSE = "s81-transpose-through-torch"
CONVKIT_TRANSPOSE = "s82-transpose-calls-convkit"
FLOP_COUNTER = "s83-costs-with-flop-counter"
CONVKIT_IOU = "s84-iou-calls-convkit"
GROUPS_DEALT = "s85-conv-groups-dealt-in-turn"
KERNEL_FLIPPED = "s86-transpose-kernel-flipped"
NO_OUTPUT_PADDING = "s87-transpose-without-output-padding"
COUNTS_FLOPS = "s88-costs-count-flops"
IGNORES_GROUPS = "s89-costs-ignore-groups"
COUNTS_BIAS = "s90-costs-count-bias"
IOU_RECALL = "s91-iou-divides-by-target"
IOU_EMPTY_ZERO = "s92-iou-empty-is-zero"
PREDICT_ONE_AXIS = "s93-prediction-one-axis"
AUTO_TOTAL = 13  # 15 points, 2 of them for the hand-graded answer
CONV = ("ch12-conv-visible", "ch12-conv-hidden")
TRANSPOSE = ("ch12-transpose-visible", "ch12-transpose-hidden", "ch12-transpose-groups-hidden")
COSTS = ("ch12-costs-visible", "ch12-costs-hidden")
IOU = ("ch12-iou-visible", "ch12-iou-hidden")
PREDICT = ("ch12-predict-hidden",)  # measured with the student's own conv_transpose2d
ALL_CELLS = (*CONV, *TRANSPOSE, *COSTS, *IOU, *PREDICT)

OWN_CONV2D = '''
def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Zeros between the input pixels, a border, and my conv2d with the kernels rotated."""
    def pair(value):
        return (value, value) if np.ndim(value) == 0 else tuple(value)

    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    (oh, ow), (dh, dw) = pair(output_padding), pair(dilation)
    x, weight = np.asarray(x, dtype=float), np.asarray(weight, dtype=float)
    n, c_in, h, w = x.shape
    _, per_out, kh, kw = weight.shape
    per_in = c_in // groups
    spread = np.zeros((n, c_in, (h - 1) * sh + 1, (w - 1) * sw + 1))
    spread[:, :, ::sh, ::sw] = x
    bh, bw = dh * (kh - 1), dw * (kw - 1)
    spread = np.pad(spread, ((0, 0), (0, 0), (bh, bh + oh), (bw, bw + ow)))
    spread = spread[:, :, ph:spread.shape[2] - ph, pw:spread.shape[3] - pw]
    kernels = weight.reshape(groups, per_in, per_out, kh, kw).swapaxes(1, 2)
    kernels = kernels.reshape(groups * per_out, per_in, kh, kw)[:, :, ::-1, ::-1]
    return conv2d(spread, kernels, bias, dilation=dilation, groups=groups)
'''
THROUGH_TORCH = """

def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    def t(a):
        return None if a is None else torch.as_tensor(np.asarray(a, dtype=float))

    return F.conv_transpose2d(t(x), t(weight), t(bias), stride, padding, output_padding,
                              groups, dilation).numpy()
"""
CALLS_CONVKIT_TRANSPOSE = """
from convkit import conv_transpose2d as _reference


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _reference(x, weight, bias, stride, padding, output_padding, groups, dilation)
"""
WITH_FLOP_COUNTER = """

from torch.utils.flop_counter import FlopCounterMode


def layer_costs(model, input_shape):
    rows, x = [], torch.zeros((1, *input_shape))
    with torch.no_grad():
        for layer in model.eval():
            with FlopCounterMode(display=False) as counter:
                y = layer(x)
            rows.append((tuple(y.shape[1:]), counter.get_total_flops() // 2))
            x = y
    return rows
"""
CALLS_CONVKIT_IOU = """
import convkit


def mask_iou(pred, target, per_image=False):
    return convkit.mask_iou(pred, target, per_image)
"""
# lines of the reference answers that the mistaken students change
GROUP_SLICE = "inputs = padded[:, g * per_in:(g + 1) * per_in]  # this group's channels ..."
TAP = '"nchw,co->nohw", inputs, kernels[:, :, m, k])'  # the transposed convolution's tap
UNPACK_OUTPUT_PADDING = "(oh, ow), (dh, dw) = pair(output_padding), pair(dilation)"
ROW = "rows.append((tuple(y.shape[1:]), int(macs)))"
PER_OUTPUT = "per_output = (layer.in_channels // layer.groups) * kh * kw"
UNION = "union = np.sum(pred | target, axis=axes)"
EMPTY_IS_ONE = "iou = np.where(union == 0, 1.0, inter / np.maximum(union, 1))"


def _changed(old: str, new: str):
    """A replacement of one line (or lines) of a reference answer."""

    def change(source: str) -> str:
        assert old in source, f"the reference answer changed: update {old!r}"
        return source.replace(old, new)

    return change


@pytest.fixture(scope="module")
def graded_ch12(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        ON_OWN_CONV2D: {"ch12-transpose-solution": OWN_CONV2D},
        TORCH_TRANSPOSE: {"ch12-transpose-solution": lambda source: source + THROUGH_TORCH},
        CONVKIT_TRANSPOSE: {"ch12-transpose-solution": CALLS_CONVKIT_TRANSPOSE},
        FLOP_COUNTER: {"ch12-costs-solution": lambda source: source + WITH_FLOP_COUNTER},
        CONVKIT_IOU: {"ch12-iou-solution": CALLS_CONVKIT_IOU},
        GROUPS_DEALT: {"ch12-conv-solution": _changed(
            GROUP_SLICE, "inputs = padded[:, g::groups]  # every groups-th channel")},
        KERNEL_FLIPPED: {"ch12-transpose-solution": _changed(
            TAP, TAP.replace("kernels[:, :, m, k]", "kernels[:, :, kh - 1 - m, kw - 1 - k]"))},
        NO_OUTPUT_PADDING: {"ch12-transpose-solution": _changed(
            UNPACK_OUTPUT_PADDING, "(oh, ow), (dh, dw) = (0, 0), pair(dilation)")},
        COUNTS_FLOPS: {"ch12-costs-solution": _changed(
            ROW, "rows.append((tuple(y.shape[1:]), 2 * int(macs)))")},
        IGNORES_GROUPS: {"ch12-costs-solution": _changed(
            PER_OUTPUT, "per_output = layer.in_channels * kh * kw")},
        COUNTS_BIAS: {"ch12-costs-solution": _changed(
            ROW, "if getattr(layer, 'bias', None) is not None:\n"
                 "                    macs += y[0].numel()\n                " + ROW)},
        IOU_RECALL: {"ch12-iou-solution": _changed(
            UNION, "union = np.sum(target, axis=axes)  # the target's area")},
        IOU_EMPTY_ZERO: {"ch12-iou-solution": _changed(
            EMPTY_IS_ONE, EMPTY_IS_ONE.replace("1.0", "0.0"))},
        PREDICT_ONE_AXIS: {"ch12-predict-answer": "prediction = 2.0\n"},
    }  # fmt: skip
    return grade_chapter(tmp_path_factory.mktemp("course_ch12"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def test_reference_solution_gets_full_automatic_marks(graded_ch12: GradedCourse) -> None:
    auto = _auto(graded_ch12, "s01-solution")
    assert sum(top for _, top in auto.values()) == AUTO_TOTAL
    only_these_fail(auto, ALL_CELLS, ())


@pytest.mark.parametrize("student", ["s02-untouched", "s03-wrong"])
def test_untouched_and_wrong_answers_get_nothing(graded_ch12: GradedCourse, student: str) -> None:
    auto = _auto(graded_ch12, student)
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_a_transposed_convolution_on_the_students_own_conv2d_gets_full_marks(
    graded_ch12: GradedCourse,
) -> None:
    only_these_fail(_auto(graded_ch12, ON_OWN_CONV2D), ALL_CELLS, ())


@pytest.mark.parametrize(
    ("student", "zero", "words"),
    [
        (TORCH_TRANSPOSE, (*TRANSPOSE, *PREDICT), "conv_transpose2d (torch's own operator)"),
        (CONVKIT_TRANSPOSE, (*TRANSPOSE, *PREDICT),
         "convkit's reference code (conv_transpose2d in convkit.ops.conv_transpose)"),
        (FLOP_COUNTER, COSTS,
         "torch's own cost counters (torch/utils/flop_counter.py: FlopCounterMode.__init__"),
        (CONVKIT_IOU, IOU, "convkit's reference code (mask_iou in convkit.ops.masks)"),
    ],
)  # fmt: skip
def test_each_shortcut_loses_its_part_only(
    graded_ch12: GradedCourse, student: str, zero: tuple[str, ...], words: str
) -> None:
    only_these_fail(_auto(graded_ch12, student), ALL_CELLS, zero)
    errors = autograded_errors(graded_ch12, ASSIGNMENT, student)
    assert "ShortcutError" in errors and words in errors, errors


@pytest.mark.parametrize(
    ("student", "zero", "words"),
    [
        (GROUPS_DEALT, CONV, "your result equals conv2d with the input channels dealt to the "
                             "groups in turn"),
        (KERNEL_FLIPPED, (*TRANSPOSE, *PREDICT),
         "your result equals conv_transpose2d with every kernel flipped"),
        (NO_OUTPUT_PADDING, (*TRANSPOSE, *PREDICT),
         "your result equals conv_transpose2d without the output_padding"),
        (COUNTS_FLOPS, COSTS, "your count equals FLOPs (a multiply and an add each)"),
        (IGNORES_GROUPS, ("ch12-costs-visible", "ch12-costs-hidden"),
         "your count equals the count with the groups ignored"),
        (COUNTS_BIAS, COSTS, "your count equals a count with the bias in it"),
        (IOU_RECALL, IOU, "your result equals the intersection divided by the target's area"),
        (IOU_EMPTY_ZERO, IOU, "your result equals the IoU with 0 where both masks are empty"),
        (PREDICT_ONE_AXIS, PREDICT, "that is the overlap along one axis"),
    ],
)  # fmt: skip
def test_each_named_mistake_loses_its_part_and_is_named(
    graded_ch12: GradedCourse, student: str, zero: tuple[str, ...], words: str
) -> None:
    only_these_fail(_auto(graded_ch12, student), ALL_CELLS, zero)
    assert words in autograded_errors(graded_ch12, ASSIGNMENT, student)


def test_the_committed_release_is_generated_and_hides_the_answers(tmp_path: Path) -> None:
    course = Course(REPO)
    differences = release_differences(course, ASSIGNMENT, tmp_path)
    assert not differences, "\n".join(differences) + "\nrun: python -m convkit.course generate"
    release = nbformat.read(REPO / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    for cell in release.cells:
        assert "SOLUTION" not in cell.source and "HIDDEN TESTS" not in cell.source
        assert "check_layer_costs(layer_costs)" not in cell.source  # a hidden test's call
