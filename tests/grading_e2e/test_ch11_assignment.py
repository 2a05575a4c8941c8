"""Chapter 11's assignment (random_crop and horizontal_flip graded by their properties,
inverted dropout and its backward pass, one AdamW step against torch.optim.AdamW, a
colour network within a budget trained with a fixed recipe and measured on the held-out
test tiles, and a predict-then-measure item on the padding in a random crop) graded for
real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch11 only: the reference answers (full automatic marks), the untouched
release (zero), the scenario's wrong answer (every function's result shifted: zero), a
dropout through F.dropout (no credit for dropout only: its backward pass, in the same
cell, keeps its points), a random_crop that calls convkit's (no credit for the crop,
nor for the predict item, which is measured with that crop), a random_crop with one
position for the whole batch (likewise, and the message names the mistake), a dropout
without the 1 / (1 - p) scaling and an AdamW step that adds the decay to the gradient
(each loses its part, the message naming the mistake), a network over the budget and
one under the accuracy threshold (no credit for the network only), and a wrong
prediction (no credit for the predict item only, the mistake named).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter, only_these_fail
from test_autograde_outcomes import GradedCourse, autograded_errors

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch11"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong")
TORCH_DROPOUT = "s80-dropout-through-torch"
CONVKIT_CROP = "s81-crop-calls-convkit"
ONE_OFFSET = "s82-one-crop-position-per-batch"
UNSCALED = "s83-dropout-without-scaling"
ADAM_L2 = "s84-adamw-with-l2-decay"
OVER_BUDGET = "s85-network-over-budget"
WEAK_NETWORK = "s86-network-under-threshold"
PREDICT_DOUBLE = "s87-prediction-counts-corners-twice"
AUTO_TOTAL = 17  # 19 points, 2 of them for the hand-graded answer
CROP = ("ch11-crop-visible", "ch11-crop-hidden")
FLIP = ("ch11-flip-visible", "ch11-flip-hidden")
DROPOUT = ("ch11-dropout-visible", "ch11-dropout-hidden")
BACKWARD = ("ch11-dropout-backward-visible", "ch11-dropout-backward-hidden")
ADAMW = ("ch11-adamw-visible", "ch11-adamw-hidden")
NETWORK = ("ch11-net-visible", "ch11-net-hidden")
PREDICT = ("ch11-predict-hidden",)  # measured with the student's own random_crop
ALL_CELLS = (*CROP, *FLIP, *DROPOUT, *BACKWARD, *ADAMW, *NETWORK, *PREDICT)

THROUGH_TORCH = """

import torch.nn.functional as F


def dropout(x, p=0.5, training=True, rng=None):
    return F.dropout(torch.from_numpy(np.asarray(x)), p, training).numpy()
"""
CALLS_CONVKIT = """
from convkit.training.augment import random_crop as _crop


def random_crop(x, size, padding, rng):
    return _crop(x, size, padding, rng)
"""
ONE_POSITION = """
def random_crop(x, size, padding, rng):
    height, width = (size, size) if np.ndim(size) == 0 else size
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    top = rng.integers(0, h + 2 * padding - height + 1)  # one position for the batch
    left = rng.integers(0, w + 2 * padding - width + 1)
    return padded[:, :, top:top + height, left:left + width].copy()
"""
OVER_BUDGET_NETWORK = """
def colour_net():
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 8 * 8, 10))
"""
# The tiles' mean colour alone: within the budget, far below the threshold (see the
# measurements in the hidden test of the network).
MEAN_COLOUR_NETWORK = """
def colour_net():
    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 10))
"""
SCALED_LINE = "return (x * keep / (1 - p)).astype(x.dtype)"
DECAY_LINE = "param *= 1 - lr * weight_decay  # decoupled: the decay never reaches the averages"


def _unscaled(source: str) -> str:
    """The reference dropout keeping its values as they are."""
    assert SCALED_LINE in source, "the reference dropout changed: update SCALED_LINE"
    return source.replace(SCALED_LINE, "return (x * keep).astype(x.dtype)")


def _l2_decay(source: str) -> str:
    """The reference AdamW step with the decay added to the gradient (Adam with L2)."""
    assert DECAY_LINE in source, "the reference adamw_step changed: update DECAY_LINE"
    return source.replace(DECAY_LINE, "grad = grad + weight_decay * param")


@pytest.fixture(scope="module")
def graded_ch11(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        TORCH_DROPOUT: {"ch11-dropout-solution": lambda source: source + THROUGH_TORCH},
        CONVKIT_CROP: {"ch11-crop-solution": CALLS_CONVKIT},
        ONE_OFFSET: {"ch11-crop-solution": ONE_POSITION},
        UNSCALED: {"ch11-dropout-solution": _unscaled},
        ADAM_L2: {"ch11-adamw-solution": _l2_decay},
        OVER_BUDGET: {"ch11-net-solution": OVER_BUDGET_NETWORK},
        WEAK_NETWORK: {"ch11-net-solution": MEAN_COLOUR_NETWORK},
        PREDICT_DOUBLE: {"ch11-predict-answer": "prediction = 2 * (20 / 9) / 32\n"},
    }
    return grade_chapter(tmp_path_factory.mktemp("course_ch11"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def test_reference_solution_gets_full_automatic_marks(graded_ch11: GradedCourse) -> None:
    auto = _auto(graded_ch11, "s01-solution")
    assert sum(top for _, top in auto.values()) == AUTO_TOTAL
    only_these_fail(auto, ALL_CELLS, ())


def test_untouched_release_gets_zero(graded_ch11: GradedCourse) -> None:
    auto = _auto(graded_ch11, "s02-untouched")
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_wrong_answers_get_nothing(graded_ch11: GradedCourse) -> None:
    auto = _auto(graded_ch11, "s03-wrong")
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_dropout_through_torch_gets_no_credit_for_dropout_only(graded_ch11: GradedCourse) -> None:
    only_these_fail(_auto(graded_ch11, TORCH_DROPOUT), ALL_CELLS, DROPOUT)
    errors = autograded_errors(graded_ch11, ASSIGNMENT, TORCH_DROPOUT)
    assert "torch.nn.functional.dropout (torch's own dropout)" in errors, errors


def test_a_crop_calling_convkit_gets_no_credit_for_the_crop(graded_ch11: GradedCourse) -> None:
    only_these_fail(_auto(graded_ch11, CONVKIT_CROP), ALL_CELLS, (*CROP, *PREDICT))
    errors = autograded_errors(graded_ch11, ASSIGNMENT, CONVKIT_CROP)
    assert "convkit's reference code (random_crop in convkit.training.augment)" in errors, errors


def test_one_crop_position_per_batch_fails_the_per_image_test(graded_ch11: GradedCourse) -> None:
    only_these_fail(_auto(graded_ch11, ONE_OFFSET), ALL_CELLS, (*CROP, *PREDICT))
    errors = autograded_errors(graded_ch11, ASSIGNMENT, ONE_OFFSET)
    assert "one window position for the whole batch" in errors, errors


def test_dropout_without_its_scaling_is_named(graded_ch11: GradedCourse) -> None:
    only_these_fail(_auto(graded_ch11, UNSCALED), ALL_CELLS, DROPOUT)
    errors = autograded_errors(graded_ch11, ASSIGNMENT, UNSCALED)
    assert "the kept values are not scaled: inverted dropout divides them by 1 - p" in errors


def test_adamw_with_the_decay_in_the_gradient_is_named(graded_ch11: GradedCourse) -> None:
    only_these_fail(_auto(graded_ch11, ADAM_L2), ALL_CELLS, ADAMW)
    errors = autograded_errors(graded_ch11, ASSIGNMENT, ADAM_L2)
    assert "your param equals Adam with an L2 penalty" in errors, errors


@pytest.mark.parametrize(
    ("student", "zero", "words"),
    [
        (OVER_BUDGET, NETWORK, "more than the budget"),
        (WEAK_NETWORK, ("ch11-net-hidden",), "on the held-out test tiles is below"),
    ],
)
def test_a_network_over_budget_or_under_threshold_loses_the_network_only(
    graded_ch11: GradedCourse, student: str, zero: tuple[str, ...], words: str
) -> None:
    only_these_fail(_auto(graded_ch11, student), ALL_CELLS, zero)
    assert words in autograded_errors(graded_ch11, ASSIGNMENT, student)


def test_a_wrong_prediction_loses_the_predict_item_only(graded_ch11: GradedCourse) -> None:
    only_these_fail(_auto(graded_ch11, PREDICT_DOUBLE), ALL_CELLS, PREDICT)
    errors = autograded_errors(graded_ch11, ASSIGNMENT, PREDICT_DOUBLE)
    assert "the corners where both are padding count twice" in errors, errors
