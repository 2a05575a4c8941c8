"""Chapter 10's assignment (batch_norm forward with its running statistics, its backward
pass, group_norm, the Kaiming standard deviation, and a 20-layer plain batch-normalised
network trained past 90 % on validation digits, and a predict-then-measure item on the
running variance) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch10 only: the reference answers (full automatic marks), the untouched
release (zero), the scenario's wrong answer (every function's result shifted: zero,
except the running statistics, which its batch_norm still updates in place, and the
predict item measured with them), a batch_norm and a kaiming_std that go through torch
(F.batch_norm, torch.nn.init: no credit for those two parts, nor for the predict item
measured with that batch_norm), a batch_norm that calls convkit's (likewise), a
batch_norm whose running variance is the biased one (it loses the running-statistics
points and the predict item only, and the message says so), a prediction made with the
biased variance (no credit for the predict item only, and the message names the
mistake), a backward pass that treats
the batch's statistics as constants (it fails the gradient check, which names the
mistake), and networks without batch norm or too shallow (no credit for the network).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter, only_these_fail
from test_autograde_outcomes import GradedCourse, autograded_errors

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch10"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong")
THROUGH_TORCH = "s70-batch-norm-and-kaiming-through-torch"
CALLS_CONVKIT = "s71-batch-norm-calls-convkit"
BIASED_RUNNING = "s72-running-var-biased"
CONSTANT_STATS = "s73-backward-with-constant-statistics"
NO_BATCH_NORM = "s74-network-without-batch-norm"
SHALLOW = "s75-shallow-network"
PREDICT_BIASED = "s76-prediction-with-the-biased-variance"
AUTO_TOTAL = 17  # 19 points, 2 of them for the hand-graded answer
RUNNING = ("ch10-bn-running-visible", "ch10-bn-running-hidden")
BATCH_NORM = ("ch10-bn-visible", "ch10-bn-hidden", *RUNNING)
BACKWARD = ("ch10-backward-visible", "ch10-backward-hidden", "ch10-backward-hidden-gradcheck")
GROUP_NORM = ("ch10-group-visible", "ch10-group-hidden")
KAIMING = ("ch10-kaiming-visible", "ch10-kaiming-hidden")
NETWORK = ("ch10-deep-visible", "ch10-deep-hidden")
PREDICT = ("ch10-predict-hidden",)  # measured with the student's own batch_norm
ALL_CELLS = (*BATCH_NORM, *BACKWARD, *GROUP_NORM, *KAIMING, *NETWORK, *PREDICT)

TORCH_BATCH_NORM = """
import torch
import torch.nn.functional as F


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    def t(a):
        return None if a is None else torch.from_numpy(np.asarray(a, dtype=float))

    # from_numpy shares memory: torch's in-place update reaches the caller's arrays
    return F.batch_norm(t(x), t(running_mean), t(running_var), t(weight), t(bias),
                        training, momentum, eps).numpy()
"""
TORCH_KAIMING = """
import torch


def kaiming_std(shape, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    fan = torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)
    return torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
"""
CONVKIT_BATCH_NORM = """
import convkit.ops.normalization as _norm


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    return _norm.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
"""
SHALLOW_NETWORK = """
def plain_net(batch_norm=True):
    def unit(c_in, c_out):
        norm = [nn.BatchNorm2d(c_out)] if batch_norm else []
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm), *norm, nn.ReLU()]

    return nn.Sequential(*unit(1, 16), nn.MaxPool2d(2), *unit(16, 32), nn.MaxPool2d(2),
                         *unit(32, 32), nn.Flatten(), nn.Linear(32 * 7 * 7, 10))
"""
UNBIASED_LINE = "running_var += momentum * var * m / (m - 1)"
EVAL_BRANCH = "    if not training:\n        return scale * g, grad_weight, grad_bias"
BATCH_NORM_FLAG = "def plain_net(batch_norm=True):"


def _biased(source: str) -> str:
    """The reference batch_norm updating running_var with the biased variance."""
    assert UNBIASED_LINE in source, "the reference batch_norm changed: update UNBIASED_LINE"
    return source.replace(UNBIASED_LINE, "running_var += momentum * var")


def _constant_statistics(source: str) -> str:
    """The reference backward pass with the eval-mode formula in both modes."""
    assert EVAL_BRANCH in source, "the reference backward changed: update EVAL_BRANCH"
    return source.replace(EVAL_BRANCH, EVAL_BRANCH.replace("if not training", "if True"))


def _without_batch_norm(source: str) -> str:
    """The reference network built without batch norm whatever the argument."""
    assert BATCH_NORM_FLAG in source, "the reference plain_net changed: update BATCH_NORM_FLAG"
    return source.replace(BATCH_NORM_FLAG, BATCH_NORM_FLAG + "\n    batch_norm = False")


@pytest.fixture(scope="module")
def graded_ch10(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        THROUGH_TORCH: {
            "ch10-bn-solution": TORCH_BATCH_NORM,
            "ch10-kaiming-solution": TORCH_KAIMING,
        },
        CALLS_CONVKIT: {"ch10-bn-solution": CONVKIT_BATCH_NORM},
        BIASED_RUNNING: {"ch10-bn-solution": _biased},
        CONSTANT_STATS: {"ch10-backward-solution": _constant_statistics},
        NO_BATCH_NORM: {"ch10-deep-solution": _without_batch_norm},
        SHALLOW: {"ch10-deep-solution": SHALLOW_NETWORK},
        PREDICT_BIASED: {"ch10-predict-answer": "prediction = 1.0\n"},
    }
    return grade_chapter(tmp_path_factory.mktemp("course_ch10"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def test_reference_solution_gets_full_automatic_marks(graded_ch10: GradedCourse) -> None:
    auto = _auto(graded_ch10, "s01-solution")
    assert sum(top for _, top in auto.values()) == AUTO_TOTAL
    only_these_fail(auto, ALL_CELLS, ())


def test_untouched_release_gets_zero(graded_ch10: GradedCourse) -> None:
    auto = _auto(graded_ch10, "s02-untouched")
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_wrong_answers_get_nothing_but_the_running_statistics(graded_ch10: GradedCourse) -> None:
    # s03 shifts what each function returns; its batch_norm still calls the reference
    # answer, which updates the running statistics in place: those are graded apart
    kept = (*RUNNING, *PREDICT)
    only_these_fail(
        _auto(graded_ch10, "s03-wrong"), ALL_CELLS, tuple(c for c in ALL_CELLS if c not in kept)
    )


def test_torch_normalisation_and_init_get_no_credit_for_those_parts(
    graded_ch10: GradedCourse,
) -> None:
    only_these_fail(_auto(graded_ch10, THROUGH_TORCH), ALL_CELLS, (*BATCH_NORM, *KAIMING, *PREDICT))
    errors = autograded_errors(graded_ch10, ASSIGNMENT, THROUGH_TORCH)
    assert "torch.nn.functional.batch_norm (torch's own normalisation)" in errors, errors
    assert "it calls torch.nn.init (" in errors, errors


def test_calling_convkit_gets_no_credit_for_batch_norm(graded_ch10: GradedCourse) -> None:
    only_these_fail(_auto(graded_ch10, CALLS_CONVKIT), ALL_CELLS, (*BATCH_NORM, *PREDICT))
    assert "convkit's reference code" in autograded_errors(graded_ch10, ASSIGNMENT, CALLS_CONVKIT)


def test_a_biased_running_variance_loses_the_running_points_only(
    graded_ch10: GradedCourse,
) -> None:
    auto = _auto(graded_ch10, BIASED_RUNNING)
    only_these_fail(auto, ALL_CELLS, (*RUNNING, *PREDICT))
    assert sum(score for score, _ in auto.values()) == AUTO_TOTAL - 2.5
    errors = autograded_errors(graded_ch10, ASSIGNMENT, BIASED_RUNNING)
    assert (
        "running_var looks like the biased variance: torch updates it with the unbiased "
        "one" in errors
    ), errors


def test_a_backward_with_constant_statistics_fails_the_gradient_check(
    graded_ch10: GradedCourse,
) -> None:
    only_these_fail(_auto(graded_ch10, CONSTANT_STATS), ALL_CELLS, BACKWARD)
    errors = autograded_errors(graded_ch10, ASSIGNMENT, CONSTANT_STATS)
    assert "fails the gradient check against centred differences" in errors, errors
    assert "your grad_x equals the eval-mode gradient" in errors, errors


@pytest.mark.parametrize(
    ("student", "words"),
    [
        (NO_BATCH_NORM, "without a batch norm in between"),
        (SHALLOW, "weight layers (convolutions and dense layers"),
    ],
)
def test_a_network_without_batch_norm_or_depth_gets_no_network_credit(
    graded_ch10: GradedCourse, student: str, words: str
) -> None:
    only_these_fail(_auto(graded_ch10, student), ALL_CELLS, NETWORK)
    assert words in autograded_errors(graded_ch10, ASSIGNMENT, student)


def test_a_prediction_with_the_biased_variance_loses_the_predict_item_only(
    graded_ch10: GradedCourse,
) -> None:
    only_these_fail(_auto(graded_ch10, PREDICT_BIASED), ALL_CELLS, PREDICT)
    errors = autograded_errors(graded_ch10, ASSIGNMENT, PREDICT_BIASED)
    assert "torch's running variance uses the unbiased one" in errors, errors
