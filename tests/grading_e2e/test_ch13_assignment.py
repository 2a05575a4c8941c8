"""Chapter 13's assignment (saliency, Grad-CAM, occlusion and the effective receptive field
against convkit.explain, a predict-then-measure item on the 95 % square of a deep stack's
ERF and a written answer) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch13 only: the reference answers (full automatic marks), the untouched release
(zero), the scenario's wrong answer (every function's result shifted: zero), each function
calling its convkit.explain reference (no credit for that function; the ERF's shortcut
costs the predict item too, which is measured with it), a saliency that calls the
grader's own map (no credit for it), four named mistakes (a signed saliency, Grad-CAM
weights summed, the occlusion drop with its sign flipped, the ERF of one output channel:
each loses its part, the message naming the mistake), a saliency through .backward()
that leaves gradients in the parameters (no credit for it, the message says why), and a
prediction of the theoretical field (no credit for the predict item only, the mistake
named).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter, only_these_fail
from test_autograde_outcomes import GradedCourse, autograded_errors

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch13"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong")
AUTO_TOTAL = 13  # 15 points, 2 of them for the hand-graded answer
SALIENCY = ("ch13-saliency-visible", "ch13-saliency-hidden")
GRAD_CAM = ("ch13-gradcam-visible", "ch13-gradcam-hidden")
OCCLUSION = ("ch13-occlusion-visible", "ch13-occlusion-hidden")
ERF = ("ch13-erf-visible", "ch13-erf-hidden")
PREDICT = ("ch13-predict-hidden",)  # measured with the student's own ERF
ALL_CELLS = (*SALIENCY, *GRAD_CAM, *OCCLUSION, *ERF, *PREDICT)

# Each function handing its work to convkit.explain: (student, answer cell, code, lost cells).
SHORTCUTS = {
    "s90-saliency-calls-convkit": (
        "ch13-saliency-solution",
        "import convkit.explain\n\n\ndef saliency(model, x, target):\n"
        "    return convkit.explain.saliency(model, x, target)\n",
        SALIENCY,
        "saliency in convkit.explain.gradients",
    ),
    "s91-grad-cam-calls-convkit": (
        "ch13-gradcam-solution",
        "from convkit.explain import grad_cam as _reference\n\n\n"
        "def grad_cam(model, layer, x, target):\n"
        "    return _reference(model, layer, x, target)\n",
        GRAD_CAM,
        "grad_cam in convkit.explain.cam",
    ),
    "s92-occlusion-calls-convkit": (
        "ch13-occlusion-solution",
        "import convkit.explain as ex\n\n\n"
        "def occlusion_map(model, x, target, window, stride, fill=0.0):\n"
        "    return ex.occlusion_map(model, x, target, window, stride, fill=fill)\n",
        OCCLUSION,
        "occlusion_map in convkit.explain.occlusion",
    ),
    "s93-erf-calls-convkit": (
        "ch13-erf-solution",
        "from convkit.explain import effective_receptive_field as _reference\n\n\n"
        "def effective_receptive_field(model, x):\n"
        "    return _reference(model, x)\n",
        (*ERF, *PREDICT),
        "effective_receptive_field in convkit.explain.receptive",
    ),
}
GRADER_MAP = "s94-saliency-calls-the-grader"
CALLS_THE_GRADER = (
    "from convkit.grading.explanations import saliency_variant\n\n\n"
    "def saliency(model, x, target):\n"
    "    return saliency_variant(model, x, target)\n"
)
# Named mistakes, each one line of the reference changed: (student, cell, line, new line,
# lost cells, words of the message).
MISTAKES = {
    "s95-saliency-signed": (
        "ch13-saliency-solution",
        "return gradient.abs().amax(dim=1).numpy()",
        "return gradient.amax(dim=1).numpy()",
        SALIENCY,
        "your result equals the largest signed gradient over the channels",
    ),
    "s96-grad-cam-weights-summed": (
        "ch13-gradcam-solution",
        "weights = gradient.mean(dim=(2, 3), keepdim=True)",
        "weights = gradient.sum(dim=(2, 3), keepdim=True)",
        GRAD_CAM,
        "your result equals Grad-CAM with the gradient summed over the positions",
    ),
    "s97-occlusion-sign-flipped": (
        "ch13-occlusion-solution",
        "drop = original - class_scores(model(covered), target)",
        "drop = class_scores(model(covered), target) - original",
        OCCLUSION,
        "your result equals score(occluded) - score(original)",
    ),
    "s98-erf-one-output-channel": (
        "ch13-erf-solution",
        "centre = out[:, :, h // 2, w // 2].sum()",
        "centre = out[:, 0, h // 2, w // 2].sum()",
        (*ERF, *PREDICT),
        "your result equals the ERF of output channel 0 only",
    ),
    "s99-saliency-through-backward": (
        "ch13-saliency-solution",
        "(gradient,) = torch.autograd.grad(scores.sum(), images)",
        "scores.sum().backward()\n        gradient = images.grad",
        SALIENCY,
        "a gradient was left in the model's",
    ),
}
PREDICT_THEORETICAL = "s100-predicts-the-theoretical-field"


def _changed(line: str, new: str):
    def change(source: str) -> str:
        assert line in source, f"the reference answer changed: update {line!r}"
        return source.replace(line, new)

    return change


@pytest.fixture(scope="module")
def graded_ch13(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {student: {cell: code} for student, (cell, code, _, _) in SHORTCUTS.items()}
    variants[GRADER_MAP] = {"ch13-saliency-solution": CALLS_THE_GRADER}
    for student, (cell, line, new, _, _) in MISTAKES.items():
        variants[student] = {cell: _changed(line, new)}
    variants[PREDICT_THEORETICAL] = {"ch13-predict-answer": "prediction = 17\n"}
    return grade_chapter(tmp_path_factory.mktemp("course_ch13"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def test_reference_solution_gets_full_automatic_marks(graded_ch13: GradedCourse) -> None:
    auto = _auto(graded_ch13, "s01-solution")
    assert sum(top for _, top in auto.values()) == AUTO_TOTAL
    only_these_fail(auto, ALL_CELLS, ())


def test_untouched_release_gets_zero(graded_ch13: GradedCourse) -> None:
    auto = _auto(graded_ch13, "s02-untouched")
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_wrong_answers_get_nothing(graded_ch13: GradedCourse) -> None:
    auto = _auto(graded_ch13, "s03-wrong")
    assert sum(score for score, _ in auto.values()) == 0, auto


@pytest.mark.parametrize("student", sorted(SHORTCUTS))
def test_calling_convkit_explain_earns_nothing_for_that_function(
    graded_ch13: GradedCourse, student: str
) -> None:
    _, _, lost, where = SHORTCUTS[student]
    only_these_fail(_auto(graded_ch13, student), ALL_CELLS, lost)
    errors = autograded_errors(graded_ch13, ASSIGNMENT, student)
    assert f"convkit's reference code ({where})" in errors, errors


def test_calling_the_graders_own_map_earns_nothing(graded_ch13: GradedCourse) -> None:
    only_these_fail(_auto(graded_ch13, GRADER_MAP), ALL_CELLS, SALIENCY)
    errors = autograded_errors(graded_ch13, ASSIGNMENT, GRADER_MAP)
    assert "it calls convkit.grading.explanations.saliency_variant" in errors, errors


@pytest.mark.parametrize("student", sorted(MISTAKES))
def test_each_mistake_loses_its_part_and_is_named(graded_ch13: GradedCourse, student: str) -> None:
    _, _, _, lost, words = MISTAKES[student]
    only_these_fail(_auto(graded_ch13, student), ALL_CELLS, lost)
    errors = autograded_errors(graded_ch13, ASSIGNMENT, student)
    assert words in errors, errors


def test_a_prediction_of_the_theoretical_field_loses_the_predict_item_only(
    graded_ch13: GradedCourse,
) -> None:
    only_these_fail(_auto(graded_ch13, PREDICT_THEORETICAL), ALL_CELLS, PREDICT)
    errors = autograded_errors(graded_ch13, ASSIGNMENT, PREDICT_THEORETICAL)
    assert "that is (about) the theoretical receptive field" in errors, errors
