"""Chapter 6's assignment (predict digit_cnn's size, build it from torch.nn layers, a
training step that passes the tiny-batch check, a training loop that takes the network
past 95 % on held-out digits, a network within a parameter budget) graded for real.

A temporary copy of the course is generated and autograded with nbgrader for a few
students of ch06 only: the reference answers (full automatic marks), the untouched
release (zero), the scenario's wrong answer (garbage networks: no Part 1 credit), a
network that is convkit's own or a copy of one built before the call (no hidden
credit for Part 1), a network without padding in conv2 (Part 1 and its measured size
fail, the other parts still earn their points: partial credit), a train_model that
calls convkit's trainer (no hidden training credit), one that trains far too little
(the held-out accuracy test fails), a training step that never clears its gradients
(the tiny-batch check fails, naming the cause), a budget network far over the budget
with a prediction that leaves out the biases, and a linear classifier within the
budget (too inaccurate for the budget test).
"""

from __future__ import annotations

import pytest
from chapter_grading import auto_scores, grade_chapter
from test_autograde_outcomes import GradedCourse, autograded_errors

pytestmark = pytest.mark.slow

ASSIGNMENT = "ch06"
STUDENTS = ("s01-solution", "s02-untouched", "s03-wrong")
CONVKIT_NET = "s60-returns-convkit-network"
CACHED_NET = "s61-copies-a-prebuilt-network"
NO_PADDING = "s62-conv2-without-padding"
CALLS_FIT = "s63-train-calls-convkit-fit"
TOO_LITTLE = "s64-trains-too-little"
NO_ZERO_GRAD = "s65-step-never-clears-gradients"
OVER_BUDGET = "s66-over-budget-and-predicts-without-biases"
LINEAR = "s67-linear-model-within-budget"
AUTO_TOTAL = 16  # 18 points, 2 of them for the hand-graded answer
NET_CELLS = ("ch06-net-visible", "ch06-net-hidden-structure", "ch06-net-hidden-outputs")
NET_HIDDEN = ("ch06-net-hidden-structure", "ch06-net-hidden-outputs")
PREDICT = "ch06-predict-hidden"
STEP_CELLS = ("ch06-step-visible", "ch06-overfit-hidden")
TRAIN_CELLS = ("ch06-train-visible", "ch06-train-hidden")
BUDGET_CELLS = ("ch06-budget-visible", "ch06-budget-hidden")
ALL_CELLS = (*NET_CELLS, PREDICT, *STEP_CELLS, *TRAIN_CELLS, *BUDGET_CELLS)

CONVKIT_NET_SOLUTION = """
import convkit.nn.models as _ck


def digit_cnn():
    return _ck.digit_cnn()
"""
CACHED_NET_SOLUTION = """
import copy

import convkit.nn.models

_prebuilt = convkit.nn.models.digit_cnn()


def digit_cnn():
    return copy.deepcopy(_prebuilt)
"""
CALLS_FIT_SOLUTION = """
from convkit.data import Digits
from convkit.training import fit


def train_model(model, x_train, y_train):
    held = Digits(x_train, y_train, x_train[:100], y_train[:100])
    return fit(model, held, epochs=3, batch_size=32, progress=False).train_loss
"""
NO_ZERO_GRAD_STEP = """
def train_step(model, optimizer, images, labels):
    loss = nn.functional.cross_entropy(model(images), labels)
    loss.backward()  # the gradients of every earlier step are still in .grad
    optimizer.step()
    return loss.item()
"""
OVER_BUDGET_NET = """
def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))
"""
WITHOUT_BIASES = "prediction = 400 + 12_800 + 100_352 + 640  # weights only\n"
LINEAR_NET = """
def small_cnn():
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))
"""
PADDING_LINE = '("conv2", nn.Conv2d(16, 32, kernel_size=5, padding=2)),'
FC1_LINE = '("fc1", nn.Linear(32 * 7 * 7, 64)),'
SETTINGS_LINE = "epochs, batch_size, lr = 3, 32, 2e-3"


def _no_padding(source: str) -> str:
    """The reference network with an unpadded conv2 (and fc1 adjusted to fit it)."""
    assert PADDING_LINE in source and FC1_LINE in source, "the reference digit_cnn changed"
    return source.replace(PADDING_LINE, '("conv2", nn.Conv2d(16, 32, kernel_size=5)),').replace(
        FC1_LINE, '("fc1", nn.Linear(32 * 5 * 5, 64)),')


def _too_little(source: str) -> str:
    """The reference loop with one epoch at a tiny learning rate."""
    assert SETTINGS_LINE in source, "the reference train_model changed: update SETTINGS_LINE"
    return source.replace(SETTINGS_LINE, "epochs, batch_size, lr = 1, 32, 1e-5")


@pytest.fixture(scope="module")
def graded_ch06(tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    variants = {
        CONVKIT_NET: {"ch06-net-solution": CONVKIT_NET_SOLUTION},
        CACHED_NET: {"ch06-net-solution": CACHED_NET_SOLUTION},
        NO_PADDING: {"ch06-net-solution": _no_padding},
        CALLS_FIT: {"ch06-train-solution": CALLS_FIT_SOLUTION},
        TOO_LITTLE: {"ch06-train-solution": _too_little},
        NO_ZERO_GRAD: {"ch06-step-solution": NO_ZERO_GRAD_STEP},
        OVER_BUDGET: {"ch06-budget-solution": OVER_BUDGET_NET,
                      "ch06-predict-answer": WITHOUT_BIASES},
        LINEAR: {"ch06-budget-solution": LINEAR_NET},
    }
    return grade_chapter(tmp_path_factory.mktemp("course_ch06"), ASSIGNMENT, STUDENTS, variants)


def _auto(graded: GradedCourse, student: str) -> dict[str, tuple[float, float]]:
    return auto_scores(graded, ASSIGNMENT, student)


def _full(auto: dict[str, tuple[float, float]], cells: tuple[str, ...]) -> bool:
    return all(auto[c][0] == auto[c][1] for c in cells)


def _zero(auto: dict[str, tuple[float, float]], cells: tuple[str, ...]) -> bool:
    return all(auto[c][0] == 0 for c in cells)


def test_reference_solution_gets_full_automatic_marks(graded_ch06: GradedCourse) -> None:
    auto = _auto(graded_ch06, "s01-solution")
    assert set(auto) == set(ALL_CELLS)
    assert sum(top for _, top in auto.values()) == AUTO_TOTAL
    assert all(score == top for score, top in auto.values()), auto


def test_untouched_release_gets_zero(graded_ch06: GradedCourse) -> None:
    auto = _auto(graded_ch06, "s02-untouched")
    assert sum(score for score, _ in auto.values()) == 0, auto


def test_garbage_network_gets_no_network_credit(graded_ch06: GradedCourse) -> None:
    auto = _auto(graded_ch06, "s03-wrong")
    assert _zero(auto, NET_CELLS), auto
    assert _zero(auto, BUDGET_CELLS), auto  # small_cnn() + 1 is no network either
    assert sum(score for score, _ in auto.values()) < AUTO_TOTAL


@pytest.mark.parametrize("student", [CONVKIT_NET, CACHED_NET])
def test_convkit_network_gets_no_hidden_network_credit(
    graded_ch06: GradedCourse, student: str
) -> None:
    auto = _auto(graded_ch06, student)
    assert _zero(auto, NET_HIDDEN), auto
    assert _full(auto, (*TRAIN_CELLS, *BUDGET_CELLS)), auto  # they do not use digit_cnn
    if student == CONVKIT_NET:  # the tiny-batch check trains the student's network
        assert auto["ch06-overfit-hidden"][0] == 0, auto


def test_network_without_padding_gets_partial_credit(graded_ch06: GradedCourse) -> None:
    auto = _auto(graded_ch06, NO_PADDING)
    assert _zero(auto, (*NET_CELLS, PREDICT)), auto  # its measured size is not 114,314
    assert _full(auto, (*STEP_CELLS, *TRAIN_CELLS, *BUDGET_CELLS)), auto
    total = sum(score for score, _ in auto.values())
    assert 0 < total < AUTO_TOTAL


def test_training_with_convkit_fit_gets_no_hidden_training_credit(
    graded_ch06: GradedCourse,
) -> None:
    auto = _auto(graded_ch06, CALLS_FIT)
    assert auto["ch06-train-hidden"][0] == 0, auto
    assert _full(auto, NET_CELLS), auto


def test_too_little_training_fails_the_held_out_test(graded_ch06: GradedCourse) -> None:
    auto = _auto(graded_ch06, TOO_LITTLE)
    assert auto["ch06-train-hidden"][0] == 0, auto
    assert _full(auto, (*NET_CELLS, *STEP_CELLS)), auto


def test_a_step_that_never_clears_gradients_fails_the_tiny_batch_check(
    graded_ch06: GradedCourse,
) -> None:
    auto = _auto(graded_ch06, NO_ZERO_GRAD)
    assert auto["ch06-overfit-hidden"][0] == 0, auto
    assert _full(auto, ("ch06-step-visible", *NET_CELLS, PREDICT, *BUDGET_CELLS)), auto
    assert "zero_grad" in autograded_errors(graded_ch06, ASSIGNMENT, NO_ZERO_GRAD)


def test_an_over_budget_network_and_a_wrong_prediction_get_no_credit(
    graded_ch06: GradedCourse,
) -> None:
    auto = _auto(graded_ch06, OVER_BUDGET)
    assert _zero(auto, (*BUDGET_CELLS, PREDICT)), auto
    assert _full(auto, (*NET_CELLS, *STEP_CELLS, *TRAIN_CELLS)), auto
    errors = autograded_errors(graded_ch06, ASSIGNMENT, OVER_BUDGET)
    assert "more than the budget" in errors and "leaves out the biases" in errors


def test_a_linear_model_within_the_budget_is_not_accurate_enough(
    graded_ch06: GradedCourse,
) -> None:
    auto = _auto(graded_ch06, LINEAR)
    assert auto["ch06-budget-visible"][0] == 1, auto  # within the budget ...
    assert auto["ch06-budget-hidden"][0] == 0, auto  # ... but below 93 %
    assert _full(auto, (*NET_CELLS, PREDICT, *STEP_CELLS, *TRAIN_CELLS)), auto
